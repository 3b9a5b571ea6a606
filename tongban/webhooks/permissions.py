"""Who sees and manages webhooks.

A system administrator manages the endpoints of every department in their region's subtree; a
department head sees their own department's endpoints and deliveries and may replay its failed
deliveries (it is their system that missed them). Nobody else sees webhooks at all.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from tongban.org import permissions as org_permissions
from tongban.org.models import Department, Role

from .models import WebhookDelivery, WebhookEndpoint


def _endpoint_scope(user: Any, prefix: str = "") -> Q | None:
    conditions = []
    for a in org_permissions.assignments_of(user):
        if a.role == Role.SYSADMIN:
            conditions.append(Q(**{f"{prefix}department__region__code__startswith": a.region.code}))
        elif a.role == Role.DEPARTMENT_HEAD and a.department_id is not None:
            conditions.append(Q(**{f"{prefix}department_id": a.department_id}))
    return reduce(or_, conditions) if conditions else None


def endpoints_visible_to(user: Any) -> QuerySet[WebhookEndpoint]:
    scope = _endpoint_scope(user)
    if scope is None:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(scope).select_related("department__region")


def deliveries_visible_to(user: Any) -> QuerySet[WebhookDelivery]:
    scope = _endpoint_scope(user, prefix="endpoint__")
    if scope is None:
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.filter(scope).select_related("endpoint__department")


def departments_manageable_by(user: Any) -> QuerySet[Department]:
    scope = [Q(region__code__startswith=r.code) for r in org_permissions.admin_regions_of(user)]
    if not scope:
        return Department.objects.none()
    return Department.objects.filter(reduce(or_, scope)).select_related("region")


def can_manage_endpoints(user: Any, department: Department) -> bool:
    return org_permissions.can_edit_department(user, department)


def can_replay(user: Any, delivery: WebhookDelivery) -> bool:
    return deliveries_visible_to(user).filter(pk=delivery.pk).exists()
