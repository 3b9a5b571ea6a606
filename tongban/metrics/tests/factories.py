"""A small county's cases, made through the services, whose figures are easy to count by hand.

Where the services cannot be told when something happened (they use the real clock), a test
moves the stored moments afterwards, as the comments say; nothing else is written around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from tongban.cases import services as case_services
from tongban.cases.models import Case
from tongban.cases.tests.factories import FORM, World, item_for, make_world
from tongban.reviews import services as review_services
from tongban.reviews.models import Rectification
from tongban.reviews.tests.factories import accepted_case, concluded_case, window_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class County:
    world: World
    online_done: Case  # online, completed the day accepted, zero visits, rated very satisfied
    window_done: Case  # window, completed the day accepted, one visit, rated satisfied
    late: Case  # accepted Mon 2026-11-02, completed Fri 2026-11-06 after its due, 3 visits, bad review
    open_overdue: Case  # accepted, still open, its promised due already passed
    supplemented_once: Case
    supplemented_twice: Case
    start: date
    end: date


def online_case(world: World) -> Case:
    case = case_services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data=FORM,
        submit=False,
    )
    for material in case.materials.all():
        case_services.upload_add(
            actor=world.citizen, case=case, material=material, name="a.pdf", content=b"%PDF-1.4 x"
        )
    case_services.case_submit(actor=world.citizen, case=case)
    case.refresh_from_db()
    case_services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    return case


def conclude(world: World, case: Case) -> Case:
    from tongban.cases.workflow import StepStatus

    while True:
        active = list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))
        if not active:
            break
        for step in active:
            if step.kind == "decision":
                case_services.step_decide(
                    actor=world.head, step=step, approve=True, reason="依法决定"
                )
            else:
                approver = (
                    world.other_approver if step.department_id == world.other.pk else world.approver
                )
                case_services.step_pass(actor=approver, step=step, opinion="同意")
    case.refresh_from_db()
    return case


def supplemented(world: World, times: int) -> Case:
    case = window_case(world)
    for i in range(times):
        case_services.case_request_supplement(
            actor=world.clerk,
            case=case,
            items=[{"kind": "material", "key": "premises", "problem": f"缺少（第{i + 1}次）"}],
        )
        case.refresh_from_db()
        case_services.case_supplement_submit(actor=world.clerk, case=case)
        case.refresh_from_db()
    case_services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    return case


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def make_county() -> County:
    world = make_world()
    online_done = conclude(world, online_case(world))
    window_done = concluded_case(world)
    late = concluded_case(world)
    # The services stamp the real clock; this case is moved to a known week (Mon..Fri, no holiday):
    # accepted Monday, due Thursday evening, completed Friday: four working days taken, late.
    Case.objects.filter(pk=late.pk).update(
        submitted_at=at(2026, 11, 2, 9),
        accepted_at=at(2026, 11, 2, 10),
        promised_due=at(2026, 11, 5, 17, 30),
        completed_at=at(2026, 11, 6, 15),
        visits=3,
    )
    open_overdue = accepted_case(world)
    Case.objects.filter(pk=open_overdue.pk).update(promised_due=timezone.now() - timedelta(hours=1))
    once = supplemented(world, 1)
    twice = supplemented(world, 2)

    rate = review_services.evaluation_by_applicant
    rate(actor=world.citizen, case=online_done, occasion="completion", level="very_satisfied")
    rate(actor=world.citizen, case=window_done, occasion="completion", level="satisfied")
    rate(
        actor=world.citizen,
        case=Case.objects.get(pk=late.pk),
        occasion="completion",
        level="dissatisfied",
        tags=["overdue"],
        text="拖了很久",
    )
    rectification = Rectification.objects.get(evaluation__case=late)
    review_services.rectification_verify(
        actor=world.head, rectification=rectification, note="已电话核实"
    )
    rectification.refresh_from_db()
    review_services.rectification_reply(
        actor=world.head, rectification=rectification, reply="已整改并致歉"
    )
    today = timezone.localdate()
    return County(
        world=world,
        online_done=Case.objects.get(pk=online_done.pk),
        window_done=Case.objects.get(pk=window_done.pk),
        late=Case.objects.get(pk=late.pk),
        open_overdue=Case.objects.get(pk=open_overdue.pk),
        supplemented_once=once,
        supplemented_twice=twice,
        start=min(today, date(2026, 11, 1)) - timedelta(days=30),
        end=today + timedelta(days=30),
    )


def second_item(world: World) -> None:
    """A 即办, fully online item beside world.item (promised 10 of legal 20, offline)."""
    item_for(world.main, world.other, promised_limit=0, legal_limit=5, online_depth="full_online")


def services_only_cases() -> World:
    """Four accepted cases, two of them completed, one rated: nothing moved by hand."""
    world = make_world()
    done = concluded_case(world)
    concluded_case(world)
    accepted_case(world)
    online_case(world)
    review_services.evaluation_by_applicant(
        actor=world.citizen, case=done, occasion="completion", level="satisfied"
    )
    return world
