"""Who may see and act on which case: predicates and the queryset that scopes an actor.

- An applicant sees the cases of the applicants their portal account holds.
- A window clerk sees and answers the cases of the regions their hall accepts for (its own region's
  subtree and the regions above it, as for departments).
- Approvers and department heads see the cases of their department and the cases in which their
  department holds a step (parallel approvals), and a bundle's parent through its children.
- Supervisors and sysadmins see their region's subtree; they read, they do not answer.
A case outside the scope is a 404 for the caller, never a 403 that admits it exists.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from tongban.org.models import AccountKind, Region, Role
from tongban.org.permissions import REGION_WIDE_ROLES, assignments_of, clerk_service_area

from .models import Case, Step
from .workflow import CaseStatus, StepStatus


def _department_ids(user: Any, *roles: str) -> set[int]:
    return {
        a.department_id
        for a in assignments_of(user)
        if a.department_id is not None and (not roles or a.role in roles)
    }


def _clerk_region_condition(user: Any) -> Q | None:
    conditions = [
        clerk_service_area(a) for a in assignments_of(user) if a.role == Role.WINDOW_CLERK
    ]
    return reduce(or_, conditions) if conditions else None


def case_scope(user: Any) -> Q | None:
    """The condition on Case rows this user may see, or None for nothing."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.kind == AccountKind.APPLICANT:
        return Q(applicant__account=user)
    scope = _staff_scope(user)
    # A draft is the applicant's alone until it is submitted: staff never see it or its files.
    return None if scope is None else scope & ~Q(status=CaseStatus.DRAFT)


def _staff_scope(user: Any) -> Q | None:
    conditions: list[Q] = []
    clerk = _clerk_region_condition(user)
    if clerk is not None:
        conditions.append(clerk)
    departments = _department_ids(user)
    if departments:
        has_step = Exists(Step.objects.filter(case=OuterRef("pk"), department_id__in=departments))
        child = Exists(Case.objects.filter(parent=OuterRef("pk"), department_id__in=departments))
        conditions.append(Q(department_id__in=departments) | Q(has_step) | Q(child))
    for a in assignments_of(user):
        if a.role in REGION_WIDE_ROLES:
            conditions.append(Q(region__code__startswith=a.region.code))
    return reduce(or_, conditions) if conditions else None


def cases_visible_to(user: Any) -> QuerySet[Case]:
    scope = case_scope(user)
    if scope is None:
        return Case.objects.none()
    return Case.objects.filter(scope)


def can_view_case(user: Any, case: Case) -> bool:
    return cases_visible_to(user).filter(pk=case.pk).exists()


def can_answer(user: Any, case: Case) -> bool:
    """Accept, refuse or ask for a supplement: a clerk of a hall that accepts for the case's region,
    or, for an online application, the implementing department's approvers (网上预审)."""
    clerk = _clerk_region_condition(user)
    if clerk is not None and Case.objects.filter(clerk, pk=case.pk).exists():
        return True
    if case.channel == "online":
        departments = _department_ids(user, Role.APPROVER, Role.DEPARTMENT_HEAD)
        if case.department_id in departments:
            return True
        if case.is_bundle:
            return case.children.filter(department_id__in=departments).exists()
    return False


def hall_accepts_for(hall: Any, region: Region) -> bool:
    """A hall accepts for its own region's subtree and for the regions above it (a town centre
    takes county items), as department_scope reads it for clerks."""
    code = hall.region.code
    return region.code.startswith(code) or region.code in Region.lineage_codes(code)


def can_start_online_for(user: Any, region: Region, department_ids: set[int]) -> bool:
    if _department_ids(user, Role.APPROVER, Role.DEPARTMENT_HEAD) & department_ids:
        return True
    return any(
        a.role == Role.WINDOW_CLERK and a.hall is not None and hall_accepts_for(a.hall, region)
        for a in assignments_of(user)
    )


def can_handle_step(user: Any, step: Step) -> bool:
    """An active step is worked by its department, in the role the catalogue gave it."""
    if step.status != StepStatus.ACTIVE:
        return False
    if step.role == Role.WINDOW_CLERK:
        return can_answer(user, step.case)
    allowed = (
        {Role.DEPARTMENT_HEAD}
        if step.role == Role.DEPARTMENT_HEAD
        else {Role.APPROVER, Role.DEPARTMENT_HEAD}
    )
    return step.department_id in _department_ids(user, *allowed)


def can_request_extension(user: Any, case: Case) -> bool:
    return bool(
        _department_ids(user, Role.APPROVER, Role.DEPARTMENT_HEAD) & _case_departments(case)
    )


def can_grant_extension(user: Any, case: Case) -> bool:
    return bool(_department_ids(user, Role.DEPARTMENT_HEAD) & _case_departments(case))


def can_suspend(user: Any, case: Case) -> bool:
    return can_request_extension(user, case)


def can_conclude(user: Any, case: Case) -> bool:
    """Deliver, terminate, record the post-check: the case's department or a clerk of its halls."""
    return can_answer(user, case) or bool(_department_ids(user) & _case_departments(case))


def _case_departments(case: Case) -> set[int]:
    ids = set(case.steps.values_list("department_id", flat=True))
    if case.department_id:
        ids.add(case.department_id)
    return ids


def can_withdraw(user: Any, case: Case) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.kind == AccountKind.APPLICANT
        and case.applicant.account_id == user.pk
    )
