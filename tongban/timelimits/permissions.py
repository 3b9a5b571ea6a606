"""Who may see and change the working-day calendar.

- Every staff member sees the calendar, national or of any region in their scope.
- A system administrator imports the State Council's notice: it applies to the whole country, and
  the national rows it writes are the same for everyone. The same rule holds for national days
  entered by hand.
- A region's own days (a local festival, a day off for a disaster) are set by a system administrator
  whose region subtree holds that region; they apply to it and every region below it.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from tongban.org.models import AccountKind, Region, RegionLevel, Role
from tongban.org.permissions import assignments_of, has_role, regions_manageable_by


def can_view_calendar(user: Any) -> bool:
    return getattr(user, "is_authenticated", False) and user.kind == AccountKind.STAFF


def can_import_notice(user: Any) -> bool:
    return has_role(user, Role.SYSADMIN)


def can_edit_region_days(user: Any, region: Region | None) -> bool:
    """National days (region None) follow the notice rule; a region's, the sysadmin's subtree."""
    if region is None:
        return can_import_notice(user)
    return regions_manageable_by(user).filter(pk=region.pk).exists()


def can_edit_any_days(user: Any) -> bool:
    """May set some days: national ones, or those of a region in the user's subtree."""
    return can_import_notice(user) or calendar_regions_editable_by(user).exists()


def calendar_regions_visible_to(user: Any) -> QuerySet[Region]:
    """The regions whose calendar a staff member may choose: those above each of their assignments,
    and their assignment's subtree down to towns (villages keep their town's calendar)."""
    conditions = []
    for assignment in assignments_of(user):
        code = assignment.region.code
        conditions.append(Q(code__in=region_lineage_codes(code)) | Q(code__startswith=code))
    if not conditions:
        return Region.objects.none()
    return (
        Region.objects.filter(reduce(or_, conditions))
        .exclude(level=RegionLevel.VILLAGE)
        .order_by("code")
    )


def calendar_regions_editable_by(user: Any) -> QuerySet[Region]:
    return regions_manageable_by(user).exclude(level=RegionLevel.VILLAGE).order_by("code")


def region_lineage_codes(code: str) -> list[str]:
    return Region.lineage_codes(code)
