"""The demo organisation: 湖南省益阳市沅江市 with its real division codes, halls, departments and staff.

Loaded by `tongban demo-org` and by `make run` on an empty database. Region codes and names are the
National Bureau of Statistics' 2023 statistical division codes; the halls, people and phone numbers
are invented for the demo.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from tongban.core.validators import normalise_id_number

from . import services
from .models import (
    ApplicantKind,
    Department,
    Hall,
    HallKind,
    Region,
    Role,
    User,
    WindowKind,
)

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions-430981.csv"
COUNTY_CODE = "430981"
TOWN_CODE = "430981112"  # 南大膳镇
DEMO_PASSWORD = "tongban2026"  # noqa: S105 - printed for the demo on purpose
DEMO_APPLICANT_MOBILE = "13800138000"
# A checksum-valid number for a person born in 沅江市 in 1995 (the code 430981 exists since 1994).
DEMO_APPLICANT_ID_NUMBER = "430981199503152021"
_password_hashes: dict[str, str] = {}


def demo_password_hash() -> str:
    """DEMO_PASSWORD hashed by the preferred hasher, once per process and hasher: every demo account
    has the same published password, and a hash each would cost seconds of a first start."""
    from django.contrib.auth.hashers import get_hasher, make_password

    algorithm = str(get_hasher().algorithm)
    if algorithm not in _password_hashes:
        _password_hashes[algorithm] = make_password(DEMO_PASSWORD)
    return _password_hashes[algorithm]


DEPARTMENTS = [
    ("SPJ", "沅江市行政审批服务局", "审批局"),
    ("SCJG", "沅江市市场监督管理局", "市场监管局"),
    ("GA", "沅江市公安局", "公安局"),
    ("SW", "国家税务总局沅江市税务局", "税务局"),
    ("RS", "沅江市人力资源和社会保障局", "人社局"),
    ("YB", "沅江市医疗保障局", "医保局"),
    ("ZJ", "沅江市住房和城乡建设局", "住建局"),
    ("ZRZY", "沅江市自然资源局", "自然资源局"),
    ("MZ", "沅江市民政局", "民政局"),
    ("WJ", "沅江市卫生健康局", "卫健局"),
    ("JT", "沅江市交通运输局", "交通运输局"),
    ("SThJ", "益阳市生态环境局沅江分局", "生态环境局"),
    ("SF", "沅江市司法局", "司法局"),
    ("NY", "沅江市农业农村局", "农业农村局"),
    ("JY", "沅江市教育局", "教育局"),
    ("TYJR", "沅江市退役军人事务局", "退役军人局"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: str
    where: str


def _load_regions() -> None:
    with REGIONS_CSV.open(encoding="utf-8") as handle:
        services.regions_import(rows=list(csv.DictReader(handle)))


def is_loaded() -> bool:
    return (
        Region.objects.filter(code=COUNTY_CODE).exists()
        and User.objects.filter(username="admin").exists()
    )


@transaction.atomic
def load_demo_organisation() -> list[DemoLogin]:
    """Load the demo county once; running it again changes nothing."""
    if is_loaded():
        return demo_logins()
    _load_regions()
    county = Region.objects.get(code=COUNTY_CODE)
    town = Region.objects.get(code=TOWN_CODE)
    departments = {
        code: services.department_create(
            actor=None, region=county, name=name, short_name=short, code=code
        )
        for code, name, short in DEPARTMENTS
    }
    centre = services.hall_create(
        actor=None,
        region=county,
        name="沅江市政务服务中心",
        kind=HallKind.COUNTY_CENTRE,
        address="湖南省益阳市沅江市琼湖街道政务服务中心大楼一楼",
        phone="0737-0000000",
        opening_hours="工作日 8:30-12:00，14:30-17:30（夏季 15:00-18:00）",
        latitude=Decimal("28.844000"),
        longitude=Decimal("112.355000"),
    )
    town_hall = services.hall_create(
        actor=None,
        region=town,
        name="南大膳镇便民服务中心",
        kind=HallKind.TOWN_CENTRE,
        address="湖南省益阳市沅江市南大膳镇人民政府一楼",
        phone="0737-0000001",
        opening_hours="工作日 8:30-12:00，14:30-17:30",
    )
    for number in ("A01", "A02", "A03", "A04", "A05", "A06"):
        services.window_create(
            actor=None,
            hall=centre,
            number=number,
            name="综合受理窗口",
            kind=WindowKind.COMPREHENSIVE,
        )
    services.window_create(
        actor=None,
        hall=centre,
        number="B01",
        name="户籍业务窗口",
        kind=WindowKind.SPECIALISED,
        department=departments["GA"],
    )
    services.window_create(
        actor=None,
        hall=centre,
        number="B02",
        name="税务业务窗口",
        kind=WindowKind.SPECIALISED,
        department=departments["SW"],
    )
    services.window_create(
        actor=None, hall=centre, number="C01", name="咨询导办台", kind=WindowKind.CONSULTING
    )
    services.window_create(
        actor=None, hall=centre, number="D01", name="出件窗口", kind=WindowKind.COMPREHENSIVE
    )
    for number in ("1", "2"):
        services.window_create(
            actor=None,
            hall=town_hall,
            number=number,
            name="便民服务窗口",
            kind=WindowKind.COMPREHENSIVE,
        )

    spec = services.RoleSpec
    staff = [
        ("admin", "系统管理员", [spec(Role.SYSADMIN, county)]),
        ("chuangkou", "王丽", [spec(Role.WINDOW_CLERK, county, hall=centre)]),
        ("xiangzhen", "李强", [spec(Role.WINDOW_CLERK, town, hall=town_hall)]),
        ("shenpi", "张伟", [spec(Role.APPROVER, county, department=departments["SCJG"])]),
        ("fuzeren", "刘洋", [spec(Role.DEPARTMENT_HEAD, county, department=departments["SCJG"])]),
        ("gongan", "陈静", [spec(Role.APPROVER, county, department=departments["GA"])]),
        # 开办企业一件事 runs in parallel through 公安, 税务 and 人社 after 市场监管.
        ("shuiwu", "黄涛", [spec(Role.APPROVER, county, department=departments["SW"])]),
        ("shebao", "林娜", [spec(Role.APPROVER, county, department=departments["RS"])]),
        ("jiancha", "赵敏", [spec(Role.SUPERVISOR, county)]),
        ("shixiang", "周杰", [spec(Role.CATALOGUE_ADMIN, county)]),
        ("zuoxi", "吴芳", [spec(Role.HOTLINE_AGENT, county)]),
        ("chengban", "孙磊", [spec(Role.HOTLINE_HANDLER, county, department=departments["MZ"])]),
    ]
    for username, full_name, roles in staff:
        services.staff_create(
            actor=None,
            username=username,
            full_name=full_name,
            password=DEMO_PASSWORD,
            password_hash=demo_password_hash(),
            roles=roles,
            check_permission=False,
        )
    services.applicant_register(
        actor=None,
        kind=ApplicantKind.NATURAL,
        name="张三",
        id_number=normalise_id_number(DEMO_APPLICANT_ID_NUMBER),
        mobile=DEMO_APPLICANT_MOBILE,
    )
    return demo_logins()


def demo_logins() -> list[DemoLogin]:
    rows = []
    for user in (
        User.objects.filter(kind="staff")
        .prefetch_related("roles__department", "roles__hall", "roles__region")
        .order_by("id")
    ):
        for a in user.roles.all():
            where = (a.department or a.hall or a.region).name
            rows.append(DemoLogin(user.username, user.full_name, a.get_role_display(), where))
    return rows


def departments_of_demo() -> list[Department]:
    return list(Department.objects.filter(region__code=COUNTY_CODE))


def halls_of_demo() -> list[Hall]:
    return list(Hall.objects.filter(region__code__startswith=COUNTY_CODE))
