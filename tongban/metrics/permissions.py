"""Who may see which figures.

Supervisors, system administrators and catalogue administrators see their region's subtree;
approvers and department heads see their department; window clerks see their hall. A requested
scope is granted only when it lies inside one of these; an unrequested one defaults to the
broadest grant. API, pages and exports use the same function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tongban.catalog.models import ServiceItem
from tongban.org.models import Department, Hall, Role
from tongban.org.permissions import assignments_of

from .selectors import Scope

REGION_VIEWERS = frozenset({Role.SUPERVISOR, Role.SYSADMIN, Role.CATALOGUE_ADMIN})
DEPARTMENT_VIEWERS = frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD})
HALL_VIEWERS = frozenset({Role.WINDOW_CLERK})


@dataclass(frozen=True)
class Grants:
    everything: bool
    region_codes: tuple[str, ...]
    department_ids: tuple[int, ...]
    hall_ids: tuple[int, ...]

    @property
    def any(self) -> bool:
        return self.everything or bool(self.region_codes or self.department_ids or self.hall_ids)

    def covers_region(self, code: str) -> bool:
        return self.everything or any(code.startswith(c) for c in self.region_codes)


def grants_of(user: Any) -> Grants:
    if getattr(user, "is_superuser", False):
        return Grants(True, (), (), ())
    regions, departments, halls = set(), set(), set()
    for a in assignments_of(user):
        if a.role in REGION_VIEWERS:
            regions.add(a.region.code)
        elif a.role in DEPARTMENT_VIEWERS and a.department_id is not None:
            departments.add(a.department_id)
        elif a.role in HALL_VIEWERS and a.hall_id is not None:
            halls.add(a.hall_id)
    # A code inside another granted code adds nothing.
    broadest = sorted(c for c in regions if not any(c != o and c.startswith(o) for o in regions))
    return Grants(False, tuple(broadest), tuple(sorted(departments)), tuple(sorted(halls)))


def can_view_metrics(user: Any) -> bool:
    return grants_of(user).any


def _department_allowed(grants: Grants, department: Department) -> bool:
    return department.pk in grants.department_ids or grants.covers_region(department.region.code)


def scope_for(user: Any, requested: Scope) -> Scope | None:
    """The scope the user may see for what was asked, or None when it is outside their view
    (or names a department, item or hall that does not exist)."""
    grants = grants_of(user)
    if not grants.any:
        return None
    scope = requested
    checks: list[bool] = []
    if scope.department_id is not None:
        department = (
            Department.objects.select_related("region").filter(pk=scope.department_id).first()
        )
        checks.append(department is not None and _department_allowed(grants, department))
    if scope.item_id is not None:
        item = (
            ServiceItem.objects.select_related("region", "department__region")
            .filter(pk=scope.item_id)
            .first()
        )
        checks.append(item is not None and _department_allowed(grants, item.department))
    if scope.hall_id is not None:
        hall = Hall.objects.select_related("region").filter(pk=scope.hall_id).first()
        checks.append(
            hall is not None
            and (hall.pk in grants.hall_ids or grants.covers_region(hall.region.code))
        )
    narrowed = bool(checks)  # a department, item or hall, each inside the user's view
    if scope.region_code:
        # Region AND an allowed department (item, hall) is inside that department's view.
        checks.append(narrowed or grants.covers_region(scope.region_code))
    if not all(checks):
        return None
    if grants.everything or checks:
        return scope
    return _default(grants, scope)


def _default(grants: Grants, scope: Scope) -> Scope:
    if grants.region_codes:
        return replace(scope, region_code=grants.region_codes[0])
    if grants.department_ids:
        return replace(scope, department_id=grants.department_ids[0])
    return replace(scope, hall_id=grants.hall_ids[0])
