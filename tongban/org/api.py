"""Organisation endpoints: translate JSON in and out, scoped by the caller's roles."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError

from tongban.core.types import AuthenticatedHttpRequest

from . import selectors
from .models import Hall, Window

router = Router(tags=["组织机构"])


class RegionOut(Schema):
    code: str
    name: str
    level: str


class DepartmentOut(Schema):
    id: int
    name: str
    short_name: str
    code: str
    region: RegionOut


class WindowOut(Schema):
    number: str
    name: str
    kind: str


class HallOut(Schema):
    id: int
    name: str
    kind: str
    address: str
    phone: str
    opening_hours: str
    region: RegionOut
    windows: list[WindowOut]

    @staticmethod
    def resolve_windows(obj: Hall) -> list[Window]:
        return list(obj.windows.all())


class RoleOut(Schema):
    role: str
    role_label: str
    region: str
    department: str | None
    hall: str | None


class MeOut(Schema):
    username: str
    full_name: str
    kind: str
    roles: list[RoleOut]


@router.get("/me", response=MeOut, summary="当前用户及其角色")
def me(request: AuthenticatedHttpRequest) -> dict:
    user = request.user
    return {
        "username": user.username,
        "full_name": user.full_name,
        "kind": user.kind,
        "roles": [
            {
                "role": a.role,
                "role_label": a.get_role_display(),
                "region": a.region.code,
                "department": a.department.name if a.department else None,
                "hall": a.hall.name if a.hall else None,
            }
            for a in selectors.permissions.assignments_of(user)
        ],
    }


@router.get("/regions", response=list[RegionOut], summary="下级行政区划（不带 parent 时为顶级）")
def regions(request: HttpRequest, parent: str | None = None) -> list:
    if parent is not None and selectors.region_get(code=parent) is None:
        raise HttpError(404, f"未知的区划代码：{parent}")
    return list(selectors.region_children(code=parent))


@router.get("/departments", response=list[DepartmentOut], summary="可见的部门")
def departments(request: HttpRequest) -> list:
    return list(selectors.department_list_visible_to(actor=request.user))


@router.get("/departments/{department_id}", response=DepartmentOut, summary="部门详情")
def department(request: HttpRequest, department_id: int) -> object:
    return get_object_or_404(
        selectors.department_list_visible_to(actor=request.user), pk=department_id
    )


@router.get("/halls", response=list[HallOut], summary="可见的大厅及窗口")
def halls(request: HttpRequest) -> list:
    return list(selectors.hall_list_visible_to(actor=request.user))


@router.get("/halls/{hall_id}", response=HallOut, summary="大厅详情")
def hall(request: HttpRequest, hall_id: int) -> object:
    return get_object_or_404(selectors.hall_list_visible_to(actor=request.user), pk=hall_id)
