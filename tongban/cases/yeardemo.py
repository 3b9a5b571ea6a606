"""A year of demo cases for the demo county, written through the services at simulated instants.

Every case lives as a small script (a generator) that waits until a simulated instant, then calls
a service (`case_create`, `case_accept`, `step_pass`, `evaluation_by_applicant` …) with the clock
held at that instant, so every number, event, due date and visit is what the services produce. A
scheduler runs the scripts of all cases in one time order, with a card sweep (tongban.supervision)
every morning, so cards turn yellow and red as they would have. Each case draws from its own
random generator seeded by (seed, case index): the same seed gives the same data.

The scripts make their calls through `ops` (tongban.cases.yearfast): the plain path sends each one
to the services; the fast path writes the frequent ones from the rows it holds in memory and the
rest through the services, and is tested to write the same rows (docs/decisions/0015). The fast
path also lets many scheduler steps share one transaction and sends no notifications (SMS,
webhooks). This module must never be run against a production database: it moves the
process-wide clock.
"""

from __future__ import annotations

import heapq
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import cached_property
from typing import Any
from unittest import mock

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from stdnum.cn import ric, uscc

from tongban.catalog.formschema import FieldSpec
from tongban.catalog.models import Bundle, ItemStatus, ItemVersion, OnlineDepth
from tongban.core import now as core_now
from tongban.org import demo as org_demo
from tongban.org import services as org_services
from tongban.org.models import AccountKind, Applicant, ApplicantKind, Hall, Role, User
from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.selectors import calendar_for

from . import services
from .models import Case, CaseMaterial, MaterialStatus, StepKind
from .workflow import CaseStatus, StepStatus
from .yearfast import MemoryOps, ServiceOps

PDF = b"%PDF-1.4\n% tongban demo\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Who applies online: nearly everyone for a 全程网办 item; for the others most come to the hall,
# except those who must collect the result at the window anyway (最多跑一次 leaves one trip).
FULL_ONLINE_SHARE = 0.96
HALL_ITEM_SHARE = 0.40
PICKUP_ONLY_SHARE = 0.85
LATE_SHARE = 0.04
# The few items whose cases contradict their catalogue claims, as an assessment finds in any
# county (the claimed-vs-actual report should show them, not bury them among random noise).
HALL_OUTLIER_SHARE = 0.5  # a 全程网办 item half of whose applicants still come to the hall
TRIPS_OUTLIER_PICKUP = 0.7  # a 最多跑一次 item whose window applicants come back to collect
SLOW_OUTLIER_LATE = 0.35  # an item often finished after its promised date
BAD_SHARE = 0.02
BUNDLE_SHARE = 0.04
BUNDLE_ONLINE_SHARE = 0.8  # 一件事 are applied for online mostly; the rest at the 综合窗口
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌"
# Yuanjiang's area code and birth years of the demo's applicants.
AREA = "430981"
Script = Generator[datetime, None, None]


@dataclass
class Config:
    cases: int
    seed: int
    start: date
    end: date  # inclusive
    fast: bool = True
    batch: int = 20000  # scheduler steps a transaction (fast path)
    progress: Callable[[int, int], None] | None = None


@dataclass
class Summary:
    cases: int = 0
    started: int = 0
    bundles: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    online: int = 0
    supplements: int = 0
    second_supplements: int = 0
    overdue: int = 0
    evaluations: int = 0
    bad_reviews: int = 0
    card_alerts: int = 0
    seconds: float = 0.0
    # The items planted to contradict their claims: kind ("hall", "trips", "slow") → item id.
    outliers: dict[str, int] = field(default_factory=dict)


# --- the simulated clock ------------------------------------------------------------------------


@contextmanager
def simulated_clock(at: datetime) -> Iterator[core_now.FrozenClock]:
    """Hold core.now and django.utils.timezone.now (which the services read) at simulated times.
    Model stamps (`default=core_now.now`) follow core.now already."""
    real = timezone.now
    with core_now.frozen(at) as clock:
        timezone.now = core_now.now  # frozen: core_now.now never calls timezone.now
        try:
            yield clock
        finally:
            timezone.now = real


@contextmanager
def _quiet() -> Iterator[None]:
    """The fast path sends no SMS and queues no webhooks: nobody is listening to a demo year."""
    from tongban.cases import notify
    from tongban.reviews import services as review_services
    from tongban.supervision import services as supervision_services

    def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    with (
        mock.patch.object(notify, "applicant_sms_on_commit", nothing),
        mock.patch.object(notify, "case_event_on_commit", nothing),
        mock.patch.object(notify, "case_events_on_commit", nothing),
        mock.patch.object(review_services, "_tell_applicant_of_reply", nothing),
        mock.patch.object(supervision_services, "_send_on_commit", nothing),
    ):
        yield


# --- the cast -----------------------------------------------------------------------------------


@dataclass
class Cast:
    clerk: User
    hall: Hall
    supervisor: User
    approvers: dict[int, User]  # department id → approver
    heads: dict[int, User]
    people: list[Applicant]
    companies: list[Applicant]
    items: list[ItemVersion]
    bundles: list[Bundle]
    weights: list[float]
    online_p: dict[int, float]
    outliers: dict[int, str]  # version id → "hall", "trips" or "slow"

    @cached_property
    def online_mix(self) -> tuple[list[ItemVersion], list[float]]:
        """The items that can be applied for online, with their weights: a day off's only mix."""
        pairs = [
            (v, w) for v, w in zip(self.items, self.weights, strict=True) if self.online_p[v.pk] > 0
        ]
        return [v for v, _w in pairs], [w for _v, w in pairs]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _id_number(rng: random.Random, serial: int | None = None) -> str:
    """A checksum-valid number of someone born in 沅江市 in 1995–2004; `serial` makes it unique."""
    n = rng.randrange(3650 * 1000) if serial is None else serial
    born = date(1995, 1, 1) + timedelta(days=n % 3650)  # 430981 exists since 1994
    body = f"{AREA}{born:%Y%m%d}{n // 3650 % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads all but the last character


def _credit_code(rng: random.Random) -> str:
    body = f"92{AREA}" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _applicant_account(mobile: str) -> User:
    account, _created = User.objects.get_or_create(
        kind=AccountKind.APPLICANT,
        mobile=mobile,
        # As set_unusable_password() makes it: a portal account signs in by SMS code only.
        defaults={"username": f"m{mobile}", "password": make_password(None)},
    )
    return account


def _staff(department: Any, role: str, code: str, rng: random.Random) -> User:
    found = (
        User.objects.filter(kind="staff", roles__department=department, roles__role=role)
        .order_by("id")
        .first()
    )
    if found is not None:
        return found
    suffix = "sp" if role == Role.APPROVER else "fz"
    return org_services.staff_create(
        actor=None,
        username=f"demo-{code.lower()}-{suffix}",
        full_name=_name(rng),
        password=org_demo.DEMO_PASSWORD,
        password_hash=org_demo.demo_password_hash(),
        roles=[org_services.RoleSpec(role, department.region, department=department)],
        check_permission=False,
    )


def _cast(config: Config) -> Cast:
    rng = random.Random(f"{config.seed}:cast")  # noqa: S311 - reproducible demo data
    county_items = list(
        ItemVersion.objects.filter(
            status=ItemStatus.PUBLISHED, item__region__code=org_demo.COUNTY_CODE
        )
        .select_related("item__department", "item__region")
        .prefetch_related("steps__department", "special_procedures")
        .order_by("item__local_code")
    )
    departments = {}
    for version in county_items:
        departments[version.item.department.pk] = version.item.department
        for step in version.steps.all():
            if step.department is not None:
                departments[step.department.pk] = step.department
    approvers, heads = {}, {}
    for pk in sorted(departments):
        department = departments[pk]
        approvers[pk] = _staff(department, Role.APPROVER, department.code, rng)
        heads[pk] = _staff(department, Role.DEPARTMENT_HEAD, department.code, rng)
    pool = max(20, min(3000, config.cases // 10))
    people = list(
        Applicant.objects.filter(kind=ApplicantKind.NATURAL, account__isnull=False).order_by("id")
    )
    while len(people) < pool:
        mobile = f"139{len(people):08d}"
        people.append(
            org_services.applicant_register(
                actor=None,
                kind=ApplicantKind.NATURAL,
                name=_name(rng),
                id_number=_id_number(rng, serial=len(people)),
                mobile=mobile,
                account=_applicant_account(mobile),
            )
        )
    companies = list(
        Applicant.objects.filter(kind=ApplicantKind.LEGAL, account__isnull=False).order_by("id")
    )
    while len(companies) < pool // 4:
        mobile = f"137{len(companies):08d}"
        companies.append(
            org_services.applicant_register(
                actor=None,
                kind=ApplicantKind.LEGAL,
                name=f"沅江市{_name(rng)}商贸有限公司",
                credit_code=_credit_code(rng),
                legal_representative=_name(rng),
                mobile=mobile,
                account=_applicant_account(mobile),
            )
        )
    # A few items dominate: a Zipf-like mix over a shuffled order of the items.
    order = list(county_items)
    rng.shuffle(order)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(order))]
    outliers = _outliers(order[:12])
    return Cast(
        clerk=User.objects.get(username="chuangkou"),
        hall=Hall.objects.get(name="沅江市政务服务中心"),
        supervisor=User.objects.get(username="jiancha"),
        approvers=approvers,
        heads=heads,
        people=people,
        companies=companies,
        items=order,
        bundles=list(
            Bundle.objects.filter(region__code=org_demo.COUNTY_CODE, status=ItemStatus.PUBLISHED)
            .select_related("region")
            .order_by("code")
        ),
        weights=weights,
        online_p={v.pk: _online_share(v, outliers.get(v.pk)) for v in order},
        outliers=outliers,
    )


def _online_possible(version: ItemVersion) -> bool:
    return version.online_depth != OnlineDepth.OFFLINE


def _pickup_only(version: ItemVersion) -> bool:
    return version.delivery_window and not (version.delivery_mail or version.delivery_electronic)


def _outliers(frequent: list[ItemVersion]) -> dict[int, str]:
    """One item of each kind among the frequent ones, so that each has cases enough to show."""
    kinds = {
        "hall": lambda v: v.online_depth == OnlineDepth.FULL_ONLINE,
        "trips": lambda v: v.claimed_visits == 1 and v.delivery_window and not _pickup_only(v),
        "slow": lambda v: v.promised_limit > 0,
    }
    chosen: dict[int, str] = {}
    for kind, fits in kinds.items():
        version = next((v for v in frequent if v.pk not in chosen and fits(v)), None)
        if version is not None:
            chosen[version.pk] = kind
    return chosen


def _online_share(version: ItemVersion, outlier: str | None) -> float:
    if not _online_possible(version):
        return 0.0
    if outlier == "hall":
        return HALL_OUTLIER_SHARE
    if version.online_depth == OnlineDepth.FULL_ONLINE:
        return FULL_ONLINE_SHARE
    return PICKUP_ONLY_SHARE if _pickup_only(version) else HALL_ITEM_SHARE


# --- when cases arrive --------------------------------------------------------------------------


def _day_weights(cal: WorkCalendar, start: date, end: date) -> list[tuple[date, float]]:
    """Working days carry the load, Mondays a little more, and the first working days after a long
    holiday (春节, 国庆 …) the backlog; days off see only a trickle of online applications."""
    days = []
    d = start
    off_run = 0
    after_holiday = 0
    while d <= end:
        if cal.is_workday(d):
            if off_run >= 3:
                after_holiday = 2
            weight = 1.0 + (0.15 if d.weekday() == 0 else 0.0)
            if after_holiday:
                weight *= 2.2 if after_holiday == 2 else 1.5
                after_holiday -= 1
            off_run = 0
        else:
            weight = 0.18
            off_run += 1
        days.append((d, weight))
        d += timedelta(days=1)
    return days


def _arrivals(config: Config, cal: WorkCalendar) -> list[date]:
    """How many cases arrive on each day: the largest-remainder share of N, the same every run."""
    days = _day_weights(cal, config.start, config.end)
    total = sum(w for _d, w in days)
    exact = [(config.cases * w / total, d) for d, w in days]
    counts = {d: int(x) for x, d in exact}
    left = config.cases - sum(counts.values())
    for _x, d in sorted(exact, key=lambda p: (-(p[0] - int(p[0])), p[1]))[:left]:
        counts[d] += 1
    return [d for d, _w in days for _ in range(counts[d])]


def _at(d: date, hour: float) -> datetime:
    seconds = int(hour * 3600)
    return timezone.make_aware(datetime.combine(d, dtime(seconds // 3600, seconds // 60 % 60)))


# The hall opens at 08:30; staff work on until a little after it closes, never at night.
OPENS, LATEST = 8.5, 18.5


def _office_moment(cal: WorkCalendar, rng: random.Random, d: date) -> datetime:
    """A moment when the hall is open on working day `d` (mornings busier than afternoons)."""
    if rng.random() < 0.6:
        return _at(d, rng.uniform(OPENS, 11.9))
    return _at(d, rng.uniform(14.5, 17.4))


def _at_work(cal: WorkCalendar, rng: random.Random, moment: datetime) -> datetime:
    """`moment` if staff are at work then; otherwise soon after they next start."""
    local = timezone.localtime(moment)
    hour = local.hour + local.minute / 60
    if cal.is_workday(local.date()):
        if OPENS <= hour < LATEST:
            return moment
        if hour < OPENS:
            return _at(local.date(), rng.uniform(OPENS, OPENS + 1))
    return _at(cal.add_working_days(local.date(), 1), rng.uniform(OPENS, OPENS + 1))


def _later(cal: WorkCalendar, rng: random.Random, after: datetime, days: float) -> datetime:
    """About `days` working days after `after`, at an office moment (the next working day's when
    today's hours are over)."""
    d = timezone.localdate(after)
    whole = int(days)
    target = cal.add_working_days(d, whole) if whole else d
    if not cal.is_workday(target):
        target = cal.add_working_days(target, 1)
    moment = _office_moment(cal, rng, target)
    if moment <= after:
        moment = _at_work(cal, rng, after + timedelta(minutes=rng.randint(5, 90)))
    return moment


def _before_due(cal: WorkCalendar, rng: random.Random, after: datetime, due: datetime) -> datetime:
    """A working moment after `after`, a share of the working days left before `due`."""
    left = cal.working_days_between(timezone.localdate(after), timezone.localdate(due))
    return _later(cal, rng, after, max(left, 0) * rng.uniform(0.05, 0.85))


# --- form answers -------------------------------------------------------------------------------


def _answers(specs: list[FieldSpec], applicant: Applicant, rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in specs:
        key, kind = spec.key, spec.field_type
        if key == "applicant_name":
            value: Any = applicant.name
        elif key == "company_name":
            value = applicant.name
        elif key == "mobile":
            value = applicant.mobile
        elif key == "id_number" and applicant.id_number:
            value = applicant.id_number
        elif key == "credit_code" and applicant.credit_code:
            value = applicant.credit_code
        elif key == "legal_representative":
            value = applicant.legal_representative or applicant.name
        elif key == "project_code":
            value = f"2026-{AREA}-47-01-{rng.randrange(10**6):06d}"
        elif key == "vehicle_vin":
            value = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(17))
        elif kind == "number":
            low = int(spec.validation.get("min", 0))
            high = int(spec.validation.get("max", low + 500))
            value = str(rng.randint(max(low, 1), high))
        elif kind == "date":
            value = (date(2026, 1, 1) - timedelta(days=rng.randrange(3000))).isoformat()
        elif kind == "choice":
            value = rng.choice(spec.choices)
        elif kind == "id_number":
            value = _id_number(rng)
        elif kind == "credit_code":
            value = _credit_code(rng)
        elif kind == "mobile":
            value = f"13{rng.randrange(10**9):09d}"
        elif kind in ("address", "region"):
            value = "湖南省益阳市沅江市琼湖街道" if kind == "address" else AREA
        else:
            value = f"演示{spec.label}"[: int(spec.validation.get("max_length", 30))]
        if spec.required or rng.random() < 0.5:
            data[key] = value
    return data


# --- one case's life ----------------------------------------------------------------------------


@dataclass
class _Env:
    cast: Cast
    cal: WorkCalendar
    summary: Summary
    ops: ServiceOps


def _owed(materials: list[CaseMaterial]) -> list[CaseMaterial]:
    return [m for m in materials if m.required and m.status != MaterialStatus.WAIVED]


def _upload_all(ops: Any, case: Case, actor: User, materials: list[CaseMaterial]) -> None:
    for material in materials:
        ops.upload_add(
            actor=actor, case=case, material=material, name=f"{material.name}.pdf", content=PDF
        )


def _life(env: _Env, index: int, day: date, seed: int) -> Script:
    rng = random.Random(f"{seed}:case:{index}")  # noqa: S311 - reproducible demo data
    cast, cal, ops = env.cast, env.cal, env.ops
    if cast.bundles and rng.random() < BUNDLE_SHARE:
        yield from _bundle_life(env, rng, day)
        return
    version = rng.choices(cast.items, weights=cast.weights)[0]
    workday = cal.is_workday(day)
    if not workday:
        # Days off: only online applications, for items that can be applied for online.
        online_items, online_weights = cast.online_mix
        version = rng.choices(online_items, weights=online_weights)[0]
    online = not workday or rng.random() < cast.online_p[version.pk]
    legal = version.for_legal_person and (not version.for_natural_person or rng.random() < 0.5)
    applicant = rng.choice(cast.companies if legal else cast.people)
    account = applicant.account
    assert account is not None  # the cast's applicants all have portal accounts
    department = version.item.department_id
    approver = cast.approvers[department]
    head = cast.heads[department]
    clerk = cast.clerk
    answers = _answers(services.version_specs(version), applicant, rng)
    outlier = cast.outliers.get(version.pk)
    # This case will be finished after its promised date.
    late = rng.random() < (SLOW_OUTLIER_LATE if outlier == "slow" else LATE_SHARE)

    # Application.
    if online:
        t = _at(day, rng.uniform(7.5, 22.5))
        yield t
        case = ops.case_create(
            actor=account,
            applicant=applicant,
            channel="online",
            version=version,
            form_data=answers,
            submit=False,
        )
        _upload_all(ops, case, account, _owed(ops.materials(case)))
        case = ops.case_submit(actor=account, case=case)
        env.summary.started += 1
        answerer = approver
        t = _later(cal, rng, t, rng.choice((0, 0, 0, 1)))
    else:
        t = _office_moment(cal, rng, day)
        yield t
        case = ops.case_create(
            actor=clerk,
            applicant=applicant,
            channel="window",
            version=version,
            form_data=answers,
            hall=cast.hall,
        )
        answerer = clerk
        env.summary.started += 1
        t = t + timedelta(minutes=rng.randint(3, 25))
    env.summary.online += online

    # The one answer, possibly after one (rarely two) supplement notices.
    rounds = 0
    while True:
        yield t
        draw = rng.random()
        if draw < 0.02:
            ops.case_refuse(
                actor=answerer,
                case=case,
                reason="申请事项不属于本机关职权范围。",
                basis="《中华人民共和国行政许可法》第三十二条第一款第（二）项",
            )
            return
        if (rounds == 0 and draw < 0.10) or (rounds == 1 and draw < 0.17):
            materials = _owed(ops.materials(case)) or ops.materials(case)[:1]
            problem = (
                "材料不齐全，请补齐后重新提交。" if rounds == 0 else "补正后的材料仍不符合要求。"
            )
            items = (
                [
                    {
                        "kind": "material",
                        "key": materials[0].material_type,
                        "name": materials[0].name,
                        "problem": problem,
                    }
                ]
                if materials
                else [{"kind": "field", "key": "note", "name": "申请表", "problem": problem}]
            )
            ops.case_request_supplement(actor=answerer, case=case, items=items)
            rounds += 1
            env.summary.supplements += 1
            env.summary.second_supplements += rounds == 2
            if rng.random() < 0.05:
                t = _later(cal, rng, t, rng.uniform(1, 8))
                yield t
                ops.case_withdraw(actor=account, case=case, reason="不再办理。")
                return
            t = _later(cal, rng, t, rng.uniform(0, 4))
            yield t
            if online:
                case = ops.refresh(case)
                owed = [
                    m
                    for m in _owed(ops.materials(case))
                    if m.status in (MaterialStatus.MISSING, MaterialStatus.DEFECTIVE)
                ]
                _upload_all(ops, case, account, owed)
                ops.case_supplement_submit(actor=account, case=case)
                t = _later(cal, rng, t, rng.choice((0, 1)))
            else:
                ops.case_supplement_submit(actor=clerk, case=case)
                t = t + timedelta(minutes=rng.randint(3, 20))
            continue
        break

    case = ops.refresh(case)
    tolerable = (
        [m for m in _owed(ops.materials(case)) if m.tolerable] if version.tolerance_allowed else []
    )
    tolerated = tolerable[:1] if tolerable and not online and rng.random() < 0.2 else []
    commitment = version.commitment_allowed and rng.random() < 0.3
    if tolerated and commitment:
        tolerated = []
    checklist = {m.pk: True for m in ops.materials(case)} if not online else None
    owed_by = cal.add_working_days(timezone.localdate(t), 5) if tolerated else None
    case = ops.case_accept(
        actor=answerer,
        case=case,
        tolerated=tolerated,
        owed_by=owed_by,
        commitment=commitment,
        commitment_text="本人承诺所填报信息及提交材料真实有效。" if commitment else "",
        checklist=checklist,
    )

    # In the back office: steps by their departments, sometimes a pause or an extension.
    suspended_once = extended_once = False
    while case.status in (CaseStatus.ACCEPTED, CaseStatus.SUSPENDED):
        steps = ops.active_steps(case)
        if not steps:
            break
        if tolerated:
            # Owed materials arrive before any step is passed; some after the date they were owed.
            t = _later(cal, rng, t, rng.uniform(0, 7))
            yield t
            ops.tolerated_material_supply(actor=clerk, material=tolerated[0])
            tolerated = []
        procedures = list(version.special_procedures.all())
        if procedures and not suspended_once and rng.random() < 0.25:
            suspended_once = True
            procedure = procedures[0]
            days = min(procedure.max_days or 10, rng.randint(2, 10))
            t = _later(cal, rng, t, rng.uniform(0, 1))
            yield t
            ops.case_suspend(
                actor=approver,
                case=case,
                kind=procedure.kind,
                reason="需要现场核查。",
                expected_days=days,
            )
            t = _later(cal, rng, t, days)
            yield t
            case = ops.case_resume(actor=approver, case=case)
        if version.extension_allowed and not extended_once and rng.random() < 0.15:
            extended_once = True
            t = _later(cal, rng, t, rng.uniform(0, 2))
            yield t
            extension = ops.extension_request(
                actor=approver,
                case=case,
                days=min(version.extension_days, 10),
                reason="情况复杂，需进一步审查。",
            )
            t = _at_work(cal, rng, t + timedelta(hours=rng.uniform(0.5, 4)))
            yield t
            ops.extension_decide(actor=head, extension=extension, grant=rng.random() < 0.9)
        for step in steps:
            step = ops.refresh_step(step)
            if step.status != StepStatus.ACTIVE:
                continue
            if step.due is None or step.limit == 0:
                # 即办: finished within the hour, even after closing time.
                moment = _at_work(cal, rng, t) + timedelta(minutes=rng.randint(10, 60))
            elif late:
                # Held up past the case's promised date, not only its step's.
                held_until = max(step.due, case.promised_due or step.due)
                moment = _later(cal, rng, held_until, rng.uniform(1, 4))
                late = False
            else:
                moment = _before_due(cal, rng, t, step.due)
            t = max(t, moment)
            yield t
            if step.role == Role.DEPARTMENT_HEAD:
                actor = cast.heads.get(step.department_id, head)
            else:
                actor = cast.approvers.get(step.department_id, approver)
            if step.role == Role.WINDOW_CLERK:
                actor = clerk
            if step.kind == StepKind.DECISION:
                if rng.random() < 0.04:
                    ops.step_decide(
                        actor=actor,
                        step=step,
                        approve=False,
                        reason="申请人不符合法定条件。",
                        basis="相关法律法规",
                    )
                else:
                    ops.step_decide(actor=actor, step=step, approve=True)
            else:
                ops.step_pass(actor=actor, step=step, opinion="经审查，符合规定，同意。")
            case = ops.refresh(case)
            if case.status not in (CaseStatus.ACCEPTED, CaseStatus.SUSPENDED):
                break
        if rng.random() < 0.005 and case.status == CaseStatus.ACCEPTED and not case.decision:
            t = t + timedelta(hours=1)
            yield t
            ops.case_withdraw(actor=account, case=case, reason="申请人主动撤回。")
            return

    case = ops.refresh(case)
    if case.completed_at and case.promised_due and case.completed_at > case.promised_due:
        env.summary.overdue += 1
    if case.status != CaseStatus.COMPLETED:
        return

    # Delivery: electronic where possible, by mail, or collected at the window (one more visit,
    # which the hall avoids when it would be more than the item's 最多跑N次 allows).
    options = [
        m
        for m, ok in (
            ("electronic", version.delivery_electronic),
            ("mail", version.delivery_mail),
            ("window", version.delivery_window),
        )
        if ok
    ] or ["window"]
    if "window" in options and len(options) > 1 and case.visits + 1 > version.claimed_visits:
        options.remove("window")
    method = rng.choices(
        options, weights=[{"electronic": 5, "mail": 2, "window": 3}[m] for m in options]
    )[0]
    if outlier == "trips" and version.delivery_window and rng.random() < TRIPS_OUTLIER_PICKUP:
        method = "window"
    if method == "window":
        ops.case_ready_for_pickup(actor=clerk, case=case)
        t = _later(cal, rng, t, rng.uniform(0, 3))
    else:
        t = _at_work(cal, rng, t + timedelta(minutes=rng.randint(5, 120)))
    yield t
    ops.case_deliver(
        actor=clerk,
        case=case,
        method=method,
        detail=f"EMS{rng.randrange(10**10):010d}" if method == "mail" else "",
    )

    # 好差评: most applicants who rate are satisfied; a bad review opens a rectification.
    if rng.random() > 0.55:
        return
    from tongban.reviews import services as reviews
    from tongban.reviews.models import Level

    t = t + timedelta(hours=rng.uniform(0.2, 30))
    yield t
    bad_p = BAD_SHARE * (3 if late or rounds == 2 else 0.8)
    if rng.random() < bad_p:
        level = rng.choice((Level.DISSATISFIED, Level.DISSATISFIED, Level.VERY_DISSATISFIED))
        tags = (
            ["overdue"] if late else [rng.choice(("attitude", "many_trips", "unclear_materials"))]
        )
        evaluation = reviews.evaluation_by_applicant(
            actor=account,
            case=case,
            occasion="completion",
            level=level,
            tags=tags,
            text="办理过程不顺利，希望改进。",
        )
        env.summary.bad_reviews += 1
    else:
        level = rng.choices(
            (Level.VERY_SATISFIED, Level.SATISFIED, Level.BASICALLY_SATISFIED), weights=(78, 18, 4)
        )[0]
        ops.evaluation_by_applicant(actor=account, case=case, occasion="completion", level=level)
        env.summary.evaluations += 1
        return
    env.summary.evaluations += 1
    rectification = evaluation.rectification
    slow = rng.random() < 0.15
    t = _later(cal, rng, t, rng.uniform(2, 4) if slow else 0)
    yield t
    reviews.rectification_verify(
        actor=approver, rectification=rectification, note="已电话回访申请人，情况属实。"
    )
    if rng.random() < 0.15:
        t = _later(cal, rng, t, rng.uniform(0, 1))
        yield t
        appeal = reviews.appeal_file(
            actor=head,
            rectification=rectification,
            evidence="窗口录像显示已一次性告知，评价与事实不符。",
        )
        t = _later(cal, rng, t, rng.uniform(1, 3))
        yield t
        reviews.appeal_decide(
            actor=cast.supervisor,
            appeal=appeal,
            uphold=rng.random() < 0.4,
            reason="经调阅录像复核。",
        )
        rectification.refresh_from_db()
        if rectification.state == "closed":
            return
    t = _later(cal, rng, t, rng.uniform(4, 8) if slow else rng.uniform(0.5, 3))
    yield t
    reviews.rectification_reply(
        actor=approver,
        rectification=rectification,
        reply="已对相关工作人员进行批评教育，并优化办事指南。",
    )


def _output(key: str, rng: random.Random) -> str:
    """What an item of a bundle hands to the items after it (the credit code, the new 户口 …)."""
    if key == "credit_code":
        return _credit_code(rng)
    if key.endswith("id_number"):
        return _id_number(rng)
    if key.endswith("name"):
        return _name(rng)
    return f"YJ{rng.randrange(10**8):08d}"


def _bundle_life(env: _Env, rng: random.Random, day: date) -> Script:
    """一件事: one application for several items; each item's steps run in its department, the
    later items start when what they depend on is decided, with its results filled in."""
    cast, cal, ops = env.cast, env.cal, env.ops
    bundle = rng.choice(cast.bundles)
    online = not cal.is_workday(day) or rng.random() < BUNDLE_ONLINE_SHARE
    applicant = rng.choice(cast.companies if bundle.stage == "enterprise" else cast.people)
    account = applicant.account
    assert account is not None
    clerk = cast.clerk
    answers = _answers(ops.bundle_form(bundle), applicant, rng)
    if online:
        t = _at(day, rng.uniform(7.5, 22.5))
        yield t
        case = ops.case_create(
            actor=account,
            applicant=applicant,
            channel="online",
            bundle=bundle,
            form_data=answers,
            submit=False,
        )
        _upload_all(ops, case, account, _owed(ops.materials(case)))
        case = ops.case_submit(actor=account, case=case)
        t = _later(cal, rng, t, rng.choice((0, 1)))
    else:
        t = _office_moment(cal, rng, day)
        yield t
        case = ops.case_create(
            actor=clerk,
            applicant=applicant,
            channel="window",
            bundle=bundle,
            form_data=answers,
            hall=cast.hall,
        )
        t = t + timedelta(minutes=rng.randint(5, 30))
    env.summary.started += 1
    env.summary.online += online
    env.summary.bundles += 1
    yield t
    checklist = None if online else {m.pk: True for m in ops.materials(case)}
    case = ops.case_accept(actor=clerk, case=case, checklist=checklist)
    while True:
        step = ops.next_bundle_step(case)
        if step is None:
            break
        if step.due is None or step.limit == 0:
            t = _at_work(cal, rng, t) + timedelta(minutes=rng.randint(10, 60))
        else:
            t = max(t, _before_due(cal, rng, t, step.due))
        yield t
        child = step.case
        last = ops.is_last_open_step(step)
        outputs = {k: _output(k, rng) for k in ops.output_keys_of(child)} if last else None
        if step.kind == StepKind.DECISION:
            head = cast.heads[step.department_id]
            ops.step_decide(actor=head, step=step, approve=True, outputs=outputs)
        else:
            actor = clerk if step.role == Role.WINDOW_CLERK else cast.approvers[step.department_id]
            ops.step_pass(
                actor=actor, step=step, opinion="经审查，符合规定，同意。", outputs=outputs
            )
    case = ops.refresh(case)
    if case.status != CaseStatus.COMPLETED:
        return
    method = "electronic" if online else rng.choice(("window", "electronic"))
    if method == "window":
        ops.case_ready_for_pickup(actor=clerk, case=case)
        t = _later(cal, rng, t, rng.uniform(0, 3))
    else:
        t = _at_work(cal, rng, t + timedelta(minutes=rng.randint(5, 120)))
    yield t
    ops.case_deliver(actor=clerk, case=case, method=method)


def _sweeps(config: Config, ops: ServiceOps) -> Script:
    """The card sweep, once every morning before the halls open (the periodic task runs it more
    often; a daily sweep still emits each yellow and red card once, on the day it turned)."""
    d = config.start
    while d <= config.end:
        for hour in (8.0,):
            at = _at(d, hour)
            yield at
            ops.card_sweep(at=at)
        d += timedelta(days=1)


# --- the scheduler ------------------------------------------------------------------------------


def period_of(year: int | None, today: date) -> tuple[date, date]:
    """Calendar year Y, or the 365 days ending yesterday."""
    if year is not None:
        return date(year, 1, 1), min(date(year, 12, 31), today - timedelta(days=1))
    end = today - timedelta(days=1)
    return end - timedelta(days=364), end


def generate(config: Config) -> Summary:
    """Write the demo year. The demo organisation and catalogue must be loaded."""
    started = time.monotonic()
    summary = Summary(cases=config.cases)
    end_moment = _at(config.end, 23.99)
    first = _at(config.start, 0)
    with (
        simulated_clock(first) as clock,
        _quiet() if config.fast else _nothing(),
        _sqlite_for_a_year() if config.fast else _nothing(),
    ):
        cast = _cast(config)
        cal = calendar_for(cast.hall.region)
        env = _Env(
            cast=cast,
            cal=cal,
            summary=summary,
            ops=MemoryOps() if config.fast else ServiceOps(),
        )
        items = {v.pk: v.item_id for v in cast.items}
        summary.outliers = {kind: items[pk] for pk, kind in cast.outliers.items()}
        days = _arrivals(config, cal)
        queue: list[tuple[datetime, int, Script]] = []
        scripts: list[Script] = [_sweeps(config, env.ops)]
        scripts += [_life(env, i, d, config.seed) for i, d in enumerate(days)]
        for order, script in enumerate(scripts):
            _push(queue, script, order, end_moment)
        steps = 0
        batch: Any = None
        try:
            with env.ops.writing():
                while queue:
                    at, order, script = heapq.heappop(queue)
                    clock.set(at)
                    if config.fast and batch is None:
                        batch = transaction.atomic()
                        batch.__enter__()
                    _push(queue, script, order, end_moment)
                    steps += 1
                    if batch is not None and steps % config.batch == 0:
                        env.ops.flush()
                        batch.__exit__(None, None, None)
                        batch = None
                    if config.progress and steps % 250 == 0:
                        config.progress(summary.started, len(days))
                env.ops.flush()
        except BaseException:
            if batch is not None:
                batch.__exit__(*sys.exc_info())
            raise
        if batch is not None:
            batch.__exit__(None, None, None)
    if config.progress:
        config.progress(len(days), len(days))
    _tally(summary)
    summary.seconds = time.monotonic() - started
    return summary


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# SQLite's page cache while a year is written, in KiB. With the default 2 MB a large year's
# writes keep evicting the index pages they are about to change again (docs/BENCHMARKS.md).
PAGE_CACHE_KIB = 512 * 1024


# Pages the write-ahead log may hold before SQLite copies it into the database (its default:
# 1,000). A large year's commits otherwise copy the same index pages over and over.
CHECKPOINT_PAGES = 100_000


@contextmanager
def _sqlite_for_a_year() -> Iterator[None]:
    """On SQLite, for the run: a larger page cache, fewer checkpoints, and no wait for the disk
    at a checkpoint (synchronous OFF: a crash of the process loses nothing, only one of the
    machine could damage the file a demo year is being written to). The connection's own
    settings come back afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    pragmas = ("cache_size", "synchronous", "wal_autocheckpoint")
    with connection.cursor() as cursor:
        before = {}
        for name in pragmas:
            cursor.execute(f"PRAGMA {name}")
            (before[name],) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(PAGE_CACHE_KIB)}")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {int(CHECKPOINT_PAGES)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in pragmas:
                cursor.execute(f"PRAGMA {name} = {int(before[name])}")


def _push(
    queue: list[tuple[datetime, int, Script]], script: Script, order: int, end: datetime
) -> None:
    """Run the script up to its next instant and queue it there; drop it past the period's end,
    which leaves its case open as it stood."""
    try:
        at = next(script)
    except StopIteration:
        return
    if at > end:
        script.close()
        return
    heapq.heappush(queue, (at, order, script))


def _tally(summary: Summary) -> None:
    from tongban.supervision.models import CardAlert

    rows = Case.objects.filter(parent__isnull=True).values_list("status").annotate(n=Count("id"))
    summary.by_status = Counter(dict(rows.values_list("status", "n")))
    summary.card_alerts = CardAlert.objects.count()
