"""Who may see and do what in the organisation: predicates and the querysets that scope an actor.

A role holds in its region's subtree (every region whose code starts with the assignment's region
code), narrowed to one department for approvers, department heads and hotline handlers, and to one
hall for window clerks. Pages, API, admin and tasks all ask these functions; nothing else decides.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from .models import AccountKind, Department, Hall, Region, Role, RoleAssignment, User

# Roles that look across every department of their region subtree.
REGION_WIDE_ROLES = frozenset(
    {Role.SUPERVISOR, Role.CATALOGUE_ADMIN, Role.HOTLINE_AGENT, Role.SYSADMIN}
)


def assignments_of(user: Any) -> list[RoleAssignment]:
    """The user's role assignments, read once per user object."""
    if not getattr(user, "is_authenticated", False) or user.kind != AccountKind.STAFF:
        return []
    cached = getattr(user, "_role_assignments", None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.filter(user=user).select_related(
                "region", "department", "hall__region"
            )
        )
        user._role_assignments = cached
    return cached


def roles_of(user: Any) -> set[str]:
    return {a.role for a in assignments_of(user)}


def has_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def _any(conditions: list[Q]) -> Q | None:
    return reduce(or_, conditions) if conditions else None


def _subtree(prefix: str, field: str = "region__code") -> Q:
    return Q(**{f"{field}__startswith": prefix})


def clerk_service_area(assignment: RoleAssignment) -> Q:
    """The regions a window clerk's hall accepts for, on any model with a `region`: its own
    subtree and the regions above it (a town centre takes county items)."""
    hall_code = assignment.hall.region.code if assignment.hall else assignment.region.code
    return _subtree(hall_code) | Q(region__code__in=Region.lineage_codes(hall_code))


def department_scope(user: Any) -> Q | None:
    conditions = []
    for a in assignments_of(user):
        if a.role == Role.WINDOW_CLERK:
            conditions.append(clerk_service_area(a))
        elif a.role in REGION_WIDE_ROLES:
            conditions.append(_subtree(a.region.code))
        elif a.department_id is not None:
            conditions.append(Q(pk=a.department_id))
    return _any(conditions)


def hall_scope(user: Any) -> Q | None:
    conditions = []
    for a in assignments_of(user):
        if a.role == Role.WINDOW_CLERK:
            conditions.append(Q(pk=a.hall_id))
        elif a.role in REGION_WIDE_ROLES:
            conditions.append(_subtree(a.region.code))
    return _any(conditions)


def staff_scope(user: Any) -> Q:
    """Sysadmins see staff assigned in their subtree, department heads their department's staff."""
    conditions = [Q(pk=user.pk)] if getattr(user, "is_authenticated", False) else []
    for a in assignments_of(user):
        if a.role == Role.SYSADMIN:
            conditions.append(_subtree(a.region.code, "roles__region__code"))
        elif a.role == Role.DEPARTMENT_HEAD:
            conditions.append(Q(roles__department_id=a.department_id))
    return _any(conditions) or Q(pk__in=[])


def departments_visible_to(user: Any) -> QuerySet[Department]:
    scope = department_scope(user)
    if scope is None:
        return Department.objects.none()
    return Department.objects.filter(scope).select_related("region")


def halls_visible_to(user: Any) -> QuerySet[Hall]:
    scope = hall_scope(user)
    if scope is None:
        return Hall.objects.none()
    return Hall.objects.filter(scope).select_related("region")


def staff_visible_to(user: Any) -> QuerySet[User]:
    return User.objects.filter(kind=AccountKind.STAFF).filter(staff_scope(user)).distinct()


def admin_regions_of(user: Any) -> list[Region]:
    return [a.region for a in assignments_of(user) if a.role == Role.SYSADMIN]


def _in_admin_subtree(user: Any, region: Region) -> bool:
    return any(region.code.startswith(r.code) for r in admin_regions_of(user))


def can_view_department(user: Any, department: Department) -> bool:
    return departments_visible_to(user).filter(pk=department.pk).exists()


def can_edit_department(user: Any, department: Department) -> bool:
    return _in_admin_subtree(user, department.region)


def can_manage_hall(user: Any, hall: Hall) -> bool:
    return _in_admin_subtree(user, hall.region)


def can_manage_staff(user: Any, region: Region | None = None) -> bool:
    """Sysadmins manage staff; with a region, only within their own subtree."""
    if region is None:
        return bool(admin_regions_of(user))
    return _in_admin_subtree(user, region)


def can_assign_role(user: Any, assignment: RoleAssignment) -> bool:
    return _in_admin_subtree(user, assignment.region)


def regions_manageable_by(user: Any) -> QuerySet[Region]:
    scope = _any([Q(code__startswith=r.code) for r in admin_regions_of(user)])
    return Region.objects.filter(scope) if scope is not None else Region.objects.none()
