"""Who may watch which departments' cards, and who issues, answers and closes directives.

- Supervisors and sysadmins watch every department of their region's subtree; a department head
  watches their own department. Nobody else sees the board.
- A supervisor issues and closes directives to departments of their subtree.
- A department's approvers and head answer its directives; its head also sees escalations.
A directive outside the caller's view is a 404, never a 403 that admits it exists.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from tongban.org.models import Department, Region, Role
from tongban.org.permissions import assignments_of

from .models import Directive

WATCHER_ROLES = frozenset({Role.SUPERVISOR, Role.SYSADMIN})
ANSWERING_ROLES = frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD})


def _any(conditions: list[Q]) -> Q | None:
    return reduce(or_, conditions) if conditions else None


def board_department_scope(user: Any) -> Q | None:
    """The condition on Department rows whose cards the user watches, or None for none."""
    conditions = []
    for a in assignments_of(user):
        if a.role in WATCHER_ROLES:
            conditions.append(Q(region__code__startswith=a.region.code))
        elif a.role == Role.DEPARTMENT_HEAD and a.department_id is not None:
            conditions.append(Q(pk=a.department_id))
    return _any(conditions)


def board_departments(user: Any) -> QuerySet[Department]:
    scope = board_department_scope(user)
    if scope is None:
        return Department.objects.none()
    return Department.objects.filter(scope).select_related("region")


def can_view_board(user: Any) -> bool:
    return board_department_scope(user) is not None


def board_region_prefixes(user: Any) -> list[str]:
    """The region codes whose subtrees hold the watched cases (for the working-day calendars)."""
    codes = set()
    for a in assignments_of(user):
        if a.role in WATCHER_ROLES:
            codes.add(a.region.code)
        elif a.role == Role.DEPARTMENT_HEAD and a.department is not None:
            codes.add(a.department.region.code)
    return sorted(codes)


def _supervised_prefixes(user: Any) -> list[str]:
    return [a.region.code for a in assignments_of(user) if a.role == Role.SUPERVISOR]


def can_issue_directive(user: Any, department: Department) -> bool:
    return any(department.region.code.startswith(code) for code in _supervised_prefixes(user))


def can_view_grades(user: Any) -> bool:
    return any(a.role in WATCHER_ROLES for a in assignments_of(user))


def _answering_departments(user: Any) -> set[int]:
    return {
        a.department_id
        for a in assignments_of(user)
        if a.role in ANSWERING_ROLES and a.department_id is not None
    }


def directive_scope(user: Any) -> Q | None:
    conditions = [Q(department__region__code__startswith=c) for c in _supervised_prefixes(user)]
    departments = _answering_departments(user)
    if departments:
        conditions.append(Q(department_id__in=departments))
    return _any(conditions)


def directives_visible_to(user: Any) -> QuerySet[Directive]:
    scope = directive_scope(user)
    if scope is None:
        return Directive.objects.none()
    return Directive.objects.filter(scope)


def can_reply(user: Any, directive: Directive) -> bool:
    return directive.department_id in _answering_departments(user)


def can_close(user: Any, directive: Directive) -> bool:
    return can_issue_directive(user, directive.department)


def supervisor_region_codes_over(region: Region) -> list[str]:
    """The region codes whose supervisors watch `region`: its own and every one above it."""
    return Region.lineage_codes(region.code)
