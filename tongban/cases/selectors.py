"""Every read of cases that pages, the API, supervision and metrics need.

Lists are keyset-paginated (`after` = the last row's sort key), never counted: a department inbox
at a million cases reads one index range. Other apps read cases only through this module.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.core.models import Event
from tongban.core.selectors import event_list_for
from tongban.timelimits.clock import Card
from tongban.timelimits.selectors import calendar_for

from .models import Case, Step
from .permissions import _department_ids, cases_visible_to
from .workflow import IN_PROGRESS_STATUSES, OPEN_STATUSES, CaseStatus, StepStatus

PAGE_SIZE = 50


def card_of(
    due: datetime | None, *, region: Any = None, at: datetime | None = None, yellow_days: int = 1
) -> Card | None:
    """Green / yellow / red from a stored due date (DESIGN §4): red past it, yellow on its last
    working day(s), green before. None when there is no running clock."""
    if due is None:
        return None
    at = at or timezone.now()
    if at > due:
        return Card.RED
    calendar = calendar_for(region)
    left = calendar.working_days_between(timezone.localdate(at), timezone.localtime(due).date())
    return Card.YELLOW if left < yellow_days else Card.GREEN


def case_get_visible(*, actor: Any, case_id: int) -> Case | None:
    return (
        cases_visible_to(actor)
        .select_related("applicant", "version__item", "department", "region", "hall", "bundle")
        .filter(pk=case_id)
        .first()
    )


def case_get_by_number_visible(*, actor: Any, number: str) -> Case | None:
    return (
        cases_visible_to(actor)
        .select_related("applicant", "version__item", "department", "region", "hall", "bundle")
        .filter(number=number)
        .first()
    )


def case_for_tracking(*, number: str, query_code: str) -> Case | None:
    """A case found by its number and query code, for the public tracking page (no sign-in).

    Both wrong and unknown answer the same (None), and the code is compared in constant time.
    """
    case = (
        Case.objects.select_related("department", "region", "hall", "bundle")
        .filter(number=number.strip(), parent__isnull=True)
        .exclude(status=CaseStatus.DRAFT)
        .first()
    )
    given = query_code.strip().upper().encode()
    if case is None:
        hmac.compare_digest(given, b"--------")
        return None
    return case if hmac.compare_digest(given, case.query_code.encode()) else None


@dataclass(frozen=True)
class Holder:
    """Who holds the case now: a department and the step it works on (never a person)."""

    department: str
    step: str
    due: datetime | None


def case_holders(*, case: Case) -> list[Holder]:
    cases = [case, *case.children.all()] if case.is_bundle else [case]
    holders = []
    for one in cases:
        for step in one.steps.filter(status=StepStatus.ACTIVE).select_related("department"):
            holders.append(Holder(step.department.name, step.name, step.due))
    if not holders and case.status in (CaseStatus.SUBMITTED,):
        name = case.department.name if case.department else (case.hall.name if case.hall else "")
        holders.append(Holder(name, "受理审查", case.prereview_due))
    return holders


def case_timeline(*, case: Case) -> list[Event]:
    """The case's events, and for a bundle its children's, in the order they happened."""
    if not case.is_bundle:
        return list(event_list_for(subject=case))
    subjects = [case, *case.children.order_by("id")]
    ids = [str(c.pk) for c in subjects]
    return list(
        Event.objects.filter(subject_type="cases.case", subject_id__in=ids).order_by(
            "occurred_at", "id"
        )
    )


def case_list_visible_to(
    *,
    actor: Any,
    status: str | None = None,
    department_id: int | None = None,
    overdue: bool | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[Case]:
    """Newest first, keyset by id: `after` is the last id of the previous page."""
    rows = (
        cases_visible_to(actor).filter(parent__isnull=True)
        if department_id is None
        else cases_visible_to(actor)
    )
    if status:
        rows = rows.filter(status=status)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    if overdue:
        rows = rows.filter(status__in=IN_PROGRESS_STATUSES, promised_due__lt=timezone.now())
    if after is not None:
        rows = rows.filter(pk__lt=after)
    return list(rows.select_related("applicant", "department", "version").order_by("-pk")[:limit])


def case_list_of_applicant(*, actor: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(applicant__account=actor, parent__isnull=True)
        .select_related("department", "bundle")
        .order_by("-created_at")
    )


def inbox_for(
    *,
    actor: Any,
    department_id: int | None = None,
    after: tuple[str, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[Step]:
    """The active steps of the actor's departments, soonest due first (keyset on (due, id)).

    A suspended case's steps have no due date and come last.
    """
    departments = _department_ids(actor)
    if department_id is not None:
        departments &= {department_id}
    rows = Step.objects.filter(department_id__in=departments, status=StepStatus.ACTIVE)
    if after is not None:
        due_text, last_id = after
        if due_text:
            due = datetime.fromisoformat(due_text)
            rows = rows.filter(Q(due__gt=due) | Q(due=due, pk__gt=last_id) | Q(due__isnull=True))
        else:
            rows = rows.filter(due__isnull=True, pk__gt=last_id)
    return list(
        rows.select_related("case__applicant", "case__region", "department").order_by("due", "pk")[
            :limit
        ]
    )


def answer_queue_for(*, actor: Any, limit: int = PAGE_SIZE) -> list[Case]:
    """Applications waiting for their one answer (online pre-review), the most urgent first."""
    return list(
        cases_visible_to(actor)
        .filter(status=CaseStatus.SUBMITTED, parent__isnull=True)
        .select_related("applicant", "department", "version")
        .order_by("prereview_due", "pk")[:limit]
    )


def concluded_waiting_delivery_for(*, actor: Any, limit: int = PAGE_SIZE) -> list[Case]:
    return list(
        cases_visible_to(actor)
        .filter(status=CaseStatus.COMPLETED, parent__isnull=True)
        .select_related("applicant", "department")
        .order_by("completed_at", "pk")[:limit]
    )


def case_department_ids(case: Case) -> set[int]:
    """Every department that works on the case (its own and its steps'), for webhooks."""
    ids = {case.department_id} if case.department_id else set()
    ids |= set(Step.objects.filter(case_id=case.pk).values_list("department_id", flat=True))
    return ids


def case_webhook_body(*, case: Case, event: Event) -> dict[str, Any]:
    return {
        "event": event.kind,
        "event_id": event.pk,
        "occurred_at": event.occurred_at.isoformat(),
        "case": {
            "id": case.pk,
            "number": case.number,
            "status": case.status,
            "item": case.title,
            "department_id": case.department_id,
            "promised_due": case.promised_due.isoformat() if case.promised_due else None,
            "legal_due": case.legal_due.isoformat() if case.legal_due else None,
        },
        "payload": event.payload,
    }


def open_statuses() -> frozenset[str]:
    return OPEN_STATUSES
