"""`{% review_box case %}`: the evaluation box the portal's case page and the tracking page show.

On the portal case page it links to the signed-in rating page; on the tracking page (`code=` the
query code just entered) to the public rating page, which asks for the code again by its link.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from tongban.reviews import selectors

register = template.Library()


@register.inclusion_tag("reviews/_review_box.html")
def review_box(case: Any, code: str = "") -> dict[str, Any]:
    if case is None or case.parent_id is not None:
        return {"show": False}
    options = selectors.occasions_to_rate(case=case)
    evaluations = selectors.evaluations_of_case(case=case)
    if code:
        url = reverse("reviews:rate") + "?" + urlencode({"number": case.number, "code": code})
    else:
        url = reverse("reviews:portal_rate", args=[case.pk])
    return {
        "show": bool(options or evaluations),
        "options": options,
        "rerate": any(o.rerate for o in options),
        "evaluations": evaluations,
        "url": url,
        # The tracking page is public: the applicant's own words stay on the signed-in pages.
        "public": bool(code),
    }


@register.filter
def percent(value: float | None) -> str:
    """0.6667 → 66.7%; no figure (nothing rated, nothing due) → —."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
