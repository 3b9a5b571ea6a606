"""The written notices (文书) of a case, rendered as PDFs the applicant keeps.

Which notices a case has follows from its history, not only from its status: a case that was
accepted keeps its 受理通知书 after it is decided, each supplement request keeps its own 一次性告知书,
each special procedure its own 告知书. Every notice carries the case number, the applicant, the item,
the department, the dates and a QR code of the public tracking page.

Reads only: this module never writes a case, and it never renders inside a transaction that holds
locks (the views call it after their reads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.catalog.selectors import bundle_merged_form
from tongban.core.pdf import render_pdf, static_stylesheet
from tongban.core.qrcode import qr_svg_data_uri
from tongban.org.models import Region, RegionLevel
from tongban.timelimits.calendar import DayUnit
from tongban.timelimits.selectors import calendar_for

from .models import Case, Decision, DeliveryMethod, MaterialStatus, SupplementRequest, Suspension
from .workflow import CaseStatus

PRINT_STYLESHEET = "cases/notice-print.css"


class NoticeType(TextChoices):
    """The notices a case can produce; the value is the name used in the document's address."""

    ACCEPTANCE = "acceptance", gettext_lazy("受理通知书")
    SUPPLEMENT = "supplement", gettext_lazy("补正材料通知书")
    REFUSAL = "refusal", gettext_lazy("不予受理决定书")
    SPECIAL_PROCEDURE = "special-procedure", gettext_lazy("特别程序告知书")
    EXTENSION = "extension", gettext_lazy("延期告知书")
    APPROVAL = "approval", gettext_lazy("准予许可决定书")
    DENIAL = "denial", gettext_lazy("不予许可决定书")
    SERVICE_RECEIPT = "service-receipt", gettext_lazy("送达回证")


# A case can have several of these, told apart by their index (1, 2, …); the others exist once.
INDEXED_TYPES = frozenset({NoticeType.SUPPLEMENT, NoticeType.SPECIAL_PROCEDURE})


@dataclass(frozen=True)
class NoticeKind:
    """One notice that exists for a case: its type, its index among its kind, when it was issued."""

    kind: str
    index: int | None
    issued_at: dt.datetime | None

    @property
    def title(self) -> str:
        base = str(NoticeType(self.kind).label)
        if self.kind == NoticeType.SUPPLEMENT and self.index is not None:
            return _("%(title)s（第%(n)s次）") % {"title": base, "n": self.index}
        if self.kind == NoticeType.SPECIAL_PROCEDURE and self.index is not None and self.index > 1:
            return _("%(title)s（第%(n)s次）") % {"title": base, "n": self.index}
        return base

    def filenames(self, case: Case) -> tuple[str, str]:
        """The PDF's name in Chinese (受理通知书-<number>.pdf) and an ASCII fallback."""
        suffix = f"-{self.index}" if self.index is not None else ""
        return f"{self.title}-{case.number}.pdf", f"{self.kind}{suffix}-{case.number}.pdf"

    def path(self, case: Case) -> str:
        if self.index is None:
            return reverse("cases:notice_pdf", kwargs={"case_id": case.pk, "kind": self.kind})
        return reverse(
            "cases:notice_pdf",
            kwargs={"case_id": case.pk, "kind": self.kind, "index": self.index},
        )


def notice_kinds_for(case: Case) -> list[NoticeKind]:
    """The notices that exist for the case now, in the order they were issued."""
    kinds: list[NoticeKind] = []
    for request in case.supplements.order_by("sequence"):
        kinds.append(NoticeKind(NoticeType.SUPPLEMENT, request.sequence, request.requested_at))
    if case.status == CaseStatus.REFUSED:
        kinds.append(NoticeKind(NoticeType.REFUSAL, None, case.closed_at))
    if case.accepted_at is not None and case.status != CaseStatus.REFUSED:
        kinds.append(NoticeKind(NoticeType.ACCEPTANCE, None, case.accepted_at))
    for index, suspension in enumerate(_suspensions(case), start=1):
        kinds.append(NoticeKind(NoticeType.SPECIAL_PROCEDURE, index, suspension.started_at))
    extension = case.extensions.filter(granted=True).first()
    if extension is not None:
        kinds.append(NoticeKind(NoticeType.EXTENSION, None, extension.decided_at))
    # A decision counts once the case is concluded (办结): an approval at the decision step may
    # still be followed by steps such as 制证 before the result exists.
    if case.completed_at is not None and case.decision == Decision.APPROVED:
        kinds.append(NoticeKind(NoticeType.APPROVAL, None, case.decided_at or case.completed_at))
    if case.completed_at is not None and case.decision == Decision.DENIED:
        kinds.append(NoticeKind(NoticeType.DENIAL, None, case.decided_at or case.completed_at))
    if case.completed_at is not None:
        kinds.append(
            NoticeKind(NoticeType.SERVICE_RECEIPT, None, case.delivered_at or case.completed_at)
        )
    return sorted(kinds, key=lambda k: k.issued_at or timezone.now())


def notice_find(*, case: Case, kind: str, index: int | None = None) -> NoticeKind | None:
    """The notice of that kind and index if the case has it, else None (the page answers 404)."""
    for notice in notice_kinds_for(case):
        if notice.kind == kind and notice.index == index:
            return notice
    return None


def _suspensions(case: Case) -> list[Suspension]:
    return list(case.suspensions.order_by("started_at", "pk"))


# --- remedies (救济途径) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Remedy:
    """One way to challenge a refusal or a denial, as the law sets it."""

    kind: str  # "administrative_review" | "administrative_litigation"
    name: str
    body: str
    time_limit: str
    basis: str
    text: str


def _government_region(region: Region) -> Region:
    # A town or village has no working departments of its own: decisions are reviewed by the
    # county-level government above it.
    node = region
    while node.level in (RegionLevel.TOWN, RegionLevel.VILLAGE) and node.parent is not None:
        node = node.parent
    return node


def remedies_for(case: Case) -> list[Remedy]:
    """行政复议 within sixty days to the people's government at the same level as the deciding
    department (行政复议法 2023 第二十条、第二十四条), or 行政诉讼 within six months
    (行政诉讼法 第四十六条). The same text feeds the notices and the API."""
    region = case.department.region if case.department_id else case.region  # type: ignore[union-attr]
    government = _("%(region)s人民政府") % {"region": _government_region(region).name}
    review_basis = _("《中华人民共和国行政复议法》第二十条")
    litigation_basis = _("《中华人民共和国行政诉讼法》第四十六条")
    return [
        Remedy(
            kind="administrative_review",
            name=_("行政复议"),
            body=government,
            time_limit=_("六十日"),
            basis=review_basis,
            text=_(
                "如不服本决定，可以自收到本决定书之日起六十日内向%(body)s申请行政复议"
                "（%(basis)s）；"
            )
            % {"body": government, "basis": review_basis},
        ),
        Remedy(
            kind="administrative_litigation",
            name=_("行政诉讼"),
            body=_("人民法院"),
            time_limit=_("六个月"),
            basis=litigation_basis,
            text=_(
                "也可以自收到本决定书之日起六个月内依法向有管辖权的人民法院提起行政诉讼（%(basis)s）。"
            )
            % {"basis": litigation_basis},
        ),
    ]


# --- what a notice shows --------------------------------------------------------------------------


def date_text(moment: dt.datetime | dt.date | None) -> str:
    """2026年12月08日, in the local time zone: the date as the applicant reads it."""
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment).date()
    return moment.strftime("%Y年%m月%d日")


def limit_text(days: int | None, unit: str) -> str:
    """ "10个工作日", "30个自然日", "即办"; None: the law sets no limit."""
    if days is None:
        return _("法律未规定")
    if days == 0:
        return _("即办（当场办结）")
    unit_label = _("工作日") if unit == DayUnit.WORKING.value else _("自然日")
    return _("%(days)s个%(unit)s") % {"days": days, "unit": unit_label}


def _due_text(case: Case, due: dt.datetime | None, limit: int | None) -> str:
    if limit is None:
        return _("法律未规定")
    if due is None:
        if case.status == CaseStatus.SUSPENDED:
            return _("%(limit)s（特别程序期间暂停计时）") % {
                "limit": limit_text(limit, case.limit_unit)
            }
        return limit_text(limit, case.limit_unit)
    limit_shown = limit_text(limit, case.limit_unit)
    if case.extended_days:
        limit_shown = _("%(limit)s，依法延长%(days)s") % {
            "limit": limit_shown,
            "days": limit_text(case.extended_days, case.limit_unit),
        }
    return _("%(limit)s，至%(date)s") % {"limit": limit_shown, "date": date_text(due)}


def _calendar_warning(case: Case) -> str:
    """Said on the notice when a due date lies in a year whose holidays are not published yet
    (DESIGN §4: such dates are counted Monday–Friday, and never silently)."""
    dues = [d for d in (case.promised_due, case.legal_due) if d is not None]
    # Once the case is decided its due dates are history: nothing is left to recompute.
    if not dues or case.completed_at is not None:
        return ""
    start = timezone.localtime(case.accepted_at or case.submitted_at or timezone.now()).date()
    end = timezone.localtime(max(dues)).date()
    years = sorted(calendar_for(case.region).uncovered_years_between(start, end))
    if not years:
        return ""
    return _(
        "%(years)s年的法定节假日安排尚未公布，上述期限暂按周一至周五为工作日计算；"
        "节假日安排公布后以重新计算的期限为准。"
    ) % {"years": "、".join(str(y) for y in years)}


def _masked_identifier(identifier: str) -> str:
    # A personal ID number is printed masked (the notice may lie on a counter); a credit code is
    # public and printed whole.
    if len(identifier) == 18 and identifier[:17].isdigit():
        return f"{identifier[:6]}********{identifier[-4:]}"
    return identifier


@dataclass(frozen=True)
class ChildRow:
    """One item of a bundle (一件事) on the combined notice."""

    title: str
    department: str
    status: str
    due: str
    reason: str


@dataclass(frozen=True)
class NoticeContext:
    notice: NoticeKind
    case: Case
    title: str
    applicant: str
    applicant_identifier: str
    item: str
    department: str
    hall: str
    submitted_on: str
    accepted_on: str
    promised: str
    legal: str
    issued_on: str
    calendar_warning: str
    issuer: str
    tracking_url: str
    qr_data_uri: str
    children: list[ChildRow] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _children_rows(case: Case) -> list[ChildRow]:
    rows = []
    for child in case.children.select_related("department").order_by("id"):
        reason = child.decision_reason if child.decision == Decision.DENIED else child.close_reason
        rows.append(
            ChildRow(
                title=child.title,
                department=child.department.name if child.department else "",
                status=child.get_status_display(),
                due=(
                    _("前置事项办结后起算")
                    if child.status == CaseStatus.WAITING
                    else date_text(child.promised_due)
                ),
                reason=reason,
            )
        )
    return rows


def _field_labels(case: Case) -> dict[str, str]:
    """What the applicant saw as each form field's label (a bundle shows its merged form)."""
    if case.bundle is not None:
        return {spec.key: spec.label for spec in bundle_merged_form(bundle=case.bundle)}
    if case.version is not None:
        return {f.key: f.label for f in case.version.form_fields.all()}
    return {}


def _supplement_details(case: Case, request: SupplementRequest) -> dict[str, Any]:
    materials = list(case.materials.all())
    by_key = {str(m.pk): m.name for m in materials}
    by_key.update({m.material_type: m.name for m in materials})
    labels = _field_labels(case)
    items = []
    for item in request.items:
        is_material = item.get("kind", "material") == "material"
        known = by_key if is_material else labels
        items.append(
            {
                "kind": _("材料") if is_material else _("填报内容"),
                "name": item.get("name") or known.get(item.get("key", ""), item.get("key", "")),
                "problem": item.get("problem", ""),
            }
        )
    return {"request": request, "items": items, "breach": request.breaches_one_time_notice}


def _details(case: Case, notice: NoticeKind) -> dict[str, Any]:
    kind = notice.kind
    if kind == NoticeType.SUPPLEMENT:
        assert notice.index is not None
        request = case.supplements.get(sequence=notice.index)
        return _supplement_details(case, request)
    if kind == NoticeType.SPECIAL_PROCEDURE:
        assert notice.index is not None
        suspension = _suspensions(case)[notice.index - 1]
        return {
            "suspension": suspension,
            "procedure": suspension.get_kind_display(),
            "expected": limit_text(suspension.expected_days, DayUnit.WORKING.value),
            "started_on": date_text(suspension.started_at),
            "ended_on": date_text(suspension.ended_at),
        }
    if kind == NoticeType.EXTENSION:
        extension = case.extensions.get(granted=True)
        return {
            "extension": extension,
            "days": limit_text(extension.days, case.limit_unit),
            "decided_on": date_text(extension.decided_at),
        }
    if kind in (NoticeType.REFUSAL, NoticeType.DENIAL):
        return {"remedies": remedies_for(case)}
    if kind == NoticeType.ACCEPTANCE:
        tolerated = case.materials.filter(status=MaterialStatus.TOLERATED)
        return {
            "tolerated": [
                {"name": m.name, "owed_by": date_text(m.owed_by)} for m in tolerated.order_by("id")
            ],
            "commitment": case.commitment,
        }
    if kind == NoticeType.SERVICE_RECEIPT:
        decision = NoticeType.APPROVAL if case.decision == Decision.APPROVED else NoticeType.DENIAL
        method = DeliveryMethod(case.delivery_method).label if case.delivery_method else ""
        return {
            "served": str(decision.label),
            "method": method,
            "place": case.delivery_detail or (case.hall.name if case.hall_id else ""),  # type: ignore[union-attr]
            "delivered_on": date_text(case.delivered_at),
        }
    return {}


def _limit_before_acceptance(case: Case, limit: int | None) -> str:
    if limit is None:
        return _("法律未规定")
    return _("%(limit)s（自受理之日起计算）") % {"limit": limit_text(limit, case.limit_unit)}


def notice_context(*, case: Case, notice: NoticeKind, tracking_url: str) -> NoticeContext:
    applicant = case.applicant
    department = case.department.name if case.department_id else ""  # type: ignore[union-attr]
    # A notice issued before acceptance (补正, 不予受理) says how long the case will take once
    # accepted, not the due dates a later acceptance gave it.
    accepted = case.accepted_at is not None and (
        notice.issued_at is None or notice.issued_at >= case.accepted_at
    )
    return NoticeContext(
        notice=notice,
        case=case,
        title=notice.title,
        applicant=applicant.name,
        applicant_identifier=_masked_identifier(applicant.identifier),
        item=case.version.name if case.version_id else case.title,  # type: ignore[union-attr]
        department=department,
        hall=case.hall.name if case.hall_id else _("网上申请"),  # type: ignore[union-attr]
        submitted_on=date_text(case.submitted_at),
        accepted_on=date_text(case.accepted_at) if accepted else "",
        promised=(
            _due_text(case, case.promised_due, case.promised_limit)
            if accepted
            else _limit_before_acceptance(case, case.promised_limit)
        ),
        legal=(
            _due_text(case, case.legal_due, case.legal_limit)
            if accepted
            else _limit_before_acceptance(case, case.legal_limit)
        ),
        issued_on=date_text(notice.issued_at or timezone.now()),
        calendar_warning=_calendar_warning(case) if accepted else "",
        issuer=department or (case.hall.name if case.hall_id else case.title),  # type: ignore[union-attr]
        tracking_url=tracking_url,
        qr_data_uri=qr_svg_data_uri(tracking_url),
        children=_children_rows(case) if case.is_bundle else [],
        details=_details(case, notice),
    )


def tracking_path(case: Case) -> str:
    """The public tracking page of the case, with its number and query code filled in.

    A bundle's item is tracked through its parent, the one case the applicant knows."""
    tracked = case.parent if case.parent_id else case
    assert tracked is not None
    query = urlencode({"number": tracked.number, "code": tracked.query_code})
    return f"{reverse('cases:track')}?{query}"


def notice_pdf(*, case: Case, kind: str, index: int | None = None, tracking_url: str) -> bytes:
    """The notice as an A4 PDF with the QR code of `tracking_url`; Noto CJK fonts embedded.

    Raises LookupError when the case has no such notice (yet)."""
    notice = notice_find(case=case, kind=kind, index=index)
    if notice is None:
        raise LookupError(f"case {case.pk} has no notice {kind!r} #{index}")
    context = notice_context(case=case, notice=notice, tracking_url=tracking_url)
    html = render_to_string(
        f"cases/notices/{kind.replace('-', '_')}.html", {"n": context, "case": case}
    )
    return render_pdf(
        html=html, stylesheets=[static_stylesheet(PRINT_STYLESHEET)], base_url=tracking_url
    )
