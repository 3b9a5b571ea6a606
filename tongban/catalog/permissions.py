"""Who may manage which catalogue items: pages, the API and the admin ask here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tongban.org.models import Role
from tongban.org.permissions import assignments_of

from .models import ServiceItem

MANAGE_ROLES = (Role.CATALOGUE_ADMIN, Role.SYSADMIN)


def items_manageable_by(user: Any) -> QuerySet[ServiceItem]:
    """Items in the region subtrees where the user holds a managing role (not their other roles')."""
    scope = Q(pk__in=[])
    for assignment in assignments_of(user):
        if assignment.role in MANAGE_ROLES:
            scope |= Q(department__region__code__startswith=assignment.region.code)
    return ServiceItem.objects.filter(scope).select_related("entry", "department", "region")


def can_manage_item(user: Any, item: ServiceItem) -> bool:
    return items_manageable_by(user).filter(pk=item.pk).exists()
