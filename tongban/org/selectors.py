"""Reads of the organisation that other modules need, always scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from . import permissions
from .models import AccountKind, Applicant, Department, Hall, Region, Role, User


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str


# The home page of each role, in the order the navigation shows them.
ROLE_HOMES: list[tuple[tuple[str, ...], str, str]] = [
    ((Role.WINDOW_CLERK,), "web:workbench", "窗口工作台"),
    ((Role.APPROVER, Role.DEPARTMENT_HEAD), "web:inbox", "审批待办"),
    ((Role.SUPERVISOR,), "web:supervision", "电子监察"),
    ((Role.CATALOGUE_ADMIN,), "web:catalogue", "事项管理"),
    ((Role.HOTLINE_AGENT,), "web:hotline_desk", "12345坐席"),
    ((Role.HOTLINE_HANDLER,), "web:hotline_handling", "工单承办"),
    ((Role.SYSADMIN,), "org:overview", "组织机构"),
]

# Roles whose work is cases: they find any case in their scope through the case list.
CASE_READER_ROLES = frozenset(
    {Role.WINDOW_CLERK, Role.APPROVER, Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.SYSADMIN}
)

# Roles that see figures (tongban.metrics.permissions grants each of them a scope).
METRICS_ROLES = CASE_READER_ROLES | {Role.CATALOGUE_ADMIN}


def navigation_for(*, user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    if user.kind == AccountKind.APPLICANT:
        return [NavItem(_("我的办事"), reverse("web:portal_home"))]
    roles = permissions.roles_of(user)
    items = [
        NavItem(_(label), reverse(url_name))
        for role_group, url_name, label in ROLE_HOMES
        if roles & set(role_group)
    ]
    if roles & CASE_READER_ROLES:
        items.append(NavItem(_("办件查询"), reverse("cases:staff_list")))
    if roles & {Role.APPROVER, Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.SYSADMIN}:
        items.append(NavItem(_("差评整改"), reverse("reviews:department")))
    if Role.SUPERVISOR in roles:
        items.append(NavItem(_("申诉复核"), reverse("reviews:appeals")))
        items.append(NavItem(_("差评溯源"), reverse("reviews:tracing")))
    if roles & {Role.CATALOGUE_ADMIN, Role.SUPERVISOR, Role.SYSADMIN}:
        items.append(NavItem(_("目录审查"), reverse("catalog:audit")))
    if roles & METRICS_ROLES:
        items.append(NavItem(_("统计分析"), reverse("metrics:dashboard")))
    if roles & {Role.SYSADMIN, Role.DEPARTMENT_HEAD}:
        items.append(NavItem(_("对外推送"), reverse("webhooks:index")))
    items.append(NavItem(_("工作日历"), reverse("timelimits:calendar")))
    return items


def home_url_for(*, user: Any) -> str:
    items = navigation_for(user=user)
    return items[0].url if items else reverse("web:sign_in")


def department_list_visible_to(*, actor: Any) -> QuerySet[Department]:
    return permissions.departments_visible_to(actor).order_by("region__code", "code")


def hall_list_visible_to(*, actor: Any) -> QuerySet[Hall]:
    return permissions.halls_visible_to(actor).prefetch_related("windows__department")


def staff_list_visible_to(*, actor: Any) -> QuerySet[User]:
    return (
        permissions.staff_visible_to(actor)
        .prefetch_related("roles__region", "roles__department", "roles__hall")
        .order_by("username")
    )


def region_children(*, code: str | None = None) -> QuerySet[Region]:
    if code is None:
        return Region.objects.filter(parent__isnull=True)
    return Region.objects.filter(parent__code=code)


def region_get(*, code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def applicant_list_for_account(*, account: User) -> QuerySet[Applicant]:
    return Applicant.objects.filter(account=account).order_by("created_at")
