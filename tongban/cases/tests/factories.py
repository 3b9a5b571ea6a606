"""A small county to run cases in: a hall with a clerk, two departments with approvers and heads,
an applicant with a portal account, and an item whose steps include a parallel stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tongban.catalog.models import ItemVersion
from tongban.catalog.tests.factories import make_version
from tongban.org.models import AccountKind, Applicant, Department, Hall, Role, User
from tongban.org.tests.factories import (
    ApplicantFactory,
    CountyFactory,
    DepartmentFactory,
    HallFactory,
    RoleAssignmentFactory,
    UserFactory,
)


@dataclass
class World:
    hall: Hall
    main: Department
    other: Department
    clerk: User
    approver: User
    head: User
    other_approver: User
    other_head: User
    stranger: User
    supervisor: User
    citizen: User
    applicant: Applicant
    item: ItemVersion


def staff(role: str, *, department: Department | None = None, hall: Hall | None = None) -> User:
    user = UserFactory()
    RoleAssignmentFactory(
        user=user, role=role, region=CountyFactory(), department=department, hall=hall
    )
    return user


STEPS = [
    {"order": 1, "name": "受理", "limit": 0, "role": Role.WINDOW_CLERK},
    {"order": 2, "name": "审查", "limit": 3},
    {"order": 3, "name": "现场核查", "limit": 5, "parallel_group": 1},
    {"order": 4, "name": "部门意见", "limit": 5, "parallel_group": 1, "department": "other"},
    {"order": 5, "name": "决定", "limit": 2, "role": Role.DEPARTMENT_HEAD},
]


def item_for(main: Department, other: Department, **content: Any) -> ItemVersion:
    steps = [
        {**step, "department": other if step.get("department") == "other" else None}
        for step in STEPS
    ]
    return make_version(
        region=main.region,
        department=main,
        content={
            "legal_limit": 20,
            "promised_limit": 10,
            "extension_allowed": True,
            "extension_days": 10,
            "tolerance_allowed": True,
            "commitment_allowed": True,
            "result_name": "测试许可证",
            **content,
        },
        children={
            "steps": steps,
            "materials": [
                {"order": 1, "name": "申请书", "material_type": "application", "form": "original"},
                {
                    "order": 2,
                    "name": "场所证明",
                    "material_type": "premises",
                    "form": "copy",
                    "tolerable": True,
                },
            ],
            "form_fields": [
                {"order": 1, "key": "name", "label": "姓名", "field_type": "text"},
                {"order": 2, "key": "mobile", "label": "联系电话", "field_type": "mobile"},
            ],
            "special_procedures": [{"kind": "hearing", "max_days": 20}, {"kind": "expert_review"}],
        },
    )


def make_world() -> World:
    county = CountyFactory()
    hall = HallFactory(region=county)
    main = DepartmentFactory(region=county, name="市场监督管理局")
    other = DepartmentFactory(region=county, name="消防救援大队")
    citizen = UserFactory(username="citizen", kind=AccountKind.APPLICANT, mobile="13800138000")
    applicant = ApplicantFactory(name="王五", mobile="13800138000", account=citizen)
    return World(
        hall=hall,
        main=main,
        other=other,
        clerk=staff(Role.WINDOW_CLERK, hall=hall),
        approver=staff(Role.APPROVER, department=main),
        head=staff(Role.DEPARTMENT_HEAD, department=main),
        other_approver=staff(Role.APPROVER, department=other),
        other_head=staff(Role.DEPARTMENT_HEAD, department=other),
        stranger=staff(Role.APPROVER, department=DepartmentFactory(region=county)),
        supervisor=staff(Role.SUPERVISOR),
        citizen=citizen,
        applicant=applicant,
        item=item_for(main, other),
    )


FORM = {"name": "王五", "mobile": "13800138000"}
