"""Who may rate, handle and decide: predicates, and the querysets that scope what an actor sees.

- Only the applicant rates: their portal account, or whoever holds the case's query code or a
  signed link (the applicant's own phone); a hotline agent of the case's region records the
  applicant's answer on a callback. Any other staff member is refused (and the attempt recorded).
- A department's approvers and head see and work on its rectifications (tongban.org.permissions
  scopes the departments); only the head appeals.
- Supervisors see the rectifications of their region's subtree and decide appeals there.
A rectification outside the scope is a 404 for the caller, never a 403 that admits it exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tongban.cases.models import Case
from tongban.org.models import AccountKind, Role
from tongban.org.permissions import assignments_of

from .models import Appeal, Rectification


def is_staff_account(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and actor.kind == AccountKind.STAFF


def is_case_applicant(actor: Any, case: Case) -> bool:
    return (
        bool(getattr(actor, "is_authenticated", False))
        and actor.kind == AccountKind.APPLICANT
        and case.applicant.account_id == actor.pk
    )


def _region_roles(actor: Any, *roles: str) -> list[str]:
    return [a.region.code for a in assignments_of(actor) if a.role in roles]


def can_record_hotline(actor: Any, case: Case) -> bool:
    """A hotline agent whose region holds the case records the applicant's answer."""
    code = case.region.code
    return any(code.startswith(prefix) for prefix in _region_roles(actor, Role.HOTLINE_AGENT))


def _department_ids(actor: Any, *roles: str) -> set[int]:
    return {
        a.department_id
        for a in assignments_of(actor)
        if a.department_id is not None and a.role in roles
    }


def rectification_scope(actor: Any) -> Q | None:
    conditions = []
    departments = _department_ids(actor, Role.APPROVER, Role.DEPARTMENT_HEAD)
    if departments:
        conditions.append(Q(department_id__in=departments))
    for code in _region_roles(actor, Role.SUPERVISOR, Role.SYSADMIN):
        conditions.append(Q(region__code__startswith=code))
    if not conditions:
        return None
    scope = conditions[0]
    for condition in conditions[1:]:
        scope |= condition
    return scope


def rectifications_visible_to(actor: Any) -> QuerySet[Rectification]:
    scope = rectification_scope(actor)
    if scope is None:
        return Rectification.objects.none()
    return Rectification.objects.filter(scope)


def can_handle(actor: Any, rectification: Rectification) -> bool:
    """Verify with the applicant and reply: the department's approvers and head."""
    return rectification.department_id in _department_ids(
        actor, Role.APPROVER, Role.DEPARTMENT_HEAD
    )


def can_appeal(actor: Any, rectification: Rectification) -> bool:
    return rectification.department_id in _department_ids(actor, Role.DEPARTMENT_HEAD)


def can_decide_appeal(actor: Any, appeal: Appeal) -> bool:
    code = appeal.rectification.region.code
    return any(code.startswith(prefix) for prefix in _region_roles(actor, Role.SUPERVISOR))


def is_supervisor(actor: Any) -> bool:
    return bool(_region_roles(actor, Role.SUPERVISOR))


def supervisor_region_codes(actor: Any) -> list[str]:
    return _region_roles(actor, Role.SUPERVISOR)
