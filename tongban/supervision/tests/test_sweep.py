"""The sweep: each clock's yellow and red announced once, on the case's timeline and by SMS."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection

from tongban.cases.models import Case
from tongban.cases.selectors import case_timeline
from tongban.core.now import frozen
from tongban.org.tests.factories import UserFactory
from tongban.supervision import services
from tongban.supervision.models import CardAlert
from tongban.supervision.tests.helpers import accepted_case

pytestmark = pytest.mark.django_db


def give_mobiles(world):
    for user, mobile in [
        (world.approver, "13900000001"),
        (world.head, "13900000002"),
        (world.supervisor, "13900000003"),
        (world.other_approver, "13900000004"),
    ]:
        user.mobile = mobile
        user.save(update_fields=["mobile"])


def test_a_case_turns_yellow_then_red_and_each_is_announced_once(
    world, clock, sms_outbox, django_capture_on_commit_callbacks
):
    give_mobiles(world)
    case = accepted_case(world)
    clock.set(case.promised_due - dt.timedelta(hours=3))
    sms_outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.card_sweep()
        again = services.card_sweep()

    assert again.total == 0
    kinds = [e.kind for e in case_timeline(case=case)]
    assert kinds.count("case.card_yellow") == 1
    yellow = next(e for e in case_timeline(case=case) if e.kind == "case.card_yellow")
    assert yellow.payload == {
        "clock": "promised",
        "step": "",
        "department_id": world.main.pk,
        "department": world.main.name,
    }
    # (the 审查 step, three working days, is red by now: its alert is another message)
    texts = {m.mobile: m.text for m in sms_outbox if "承诺办结期限" in m.text}
    # The holder department's staff and head; not the supervisor for yellow, not the other department.
    assert set(texts) == {"13900000001", "13900000002"}
    assert "黄牌预警" in texts["13900000001"] and case.number in texts["13900000001"]

    sms_outbox.clear()
    clock.set(case.promised_due + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.card_sweep()
        services.card_sweep()
    promised = [e.kind for e in case_timeline(case=case) if e.payload.get("clock") == "promised"]
    assert promised == ["case.card_yellow", "case.card_red"]
    red_texts = {m.mobile for m in sms_outbox if "红牌" in m.text and "承诺办结期限" in m.text}
    assert red_texts == {"13900000001", "13900000002", "13900000003"}


def test_legal_overdue_is_its_own_event(world, clock):
    case = accepted_case(world)
    Case.objects.filter(pk=case.pk).update(legal_due=clock.at - dt.timedelta(days=1))
    services.card_sweep()
    events = [e for e in case_timeline(case=case) if e.kind == "case.legal_overdue"]
    assert len(events) == 1
    assert events[0].payload["clock"] == "legal"


def test_a_step_card_names_the_step_and_its_department(world, clock):
    case = accepted_case(world)
    review = case.steps.get(name="审查")
    clock.set(review.due + dt.timedelta(minutes=5))
    services.card_sweep()
    step_events = [
        e
        for e in case_timeline(case=case)
        if e.kind == "case.card_red" and e.payload["clock"] == "step"
    ]
    assert [(e.payload["step"], e.payload["department_id"]) for e in step_events] == [
        ("审查", world.main.pk)
    ]


def test_a_suspended_case_gets_no_card(world, clock):
    from tongban.cases import services as case_services

    case = accepted_case(world)
    case_services.case_suspend(
        actor=world.approver, case=case, kind="hearing", reason="听证", expected_days=5
    )
    clock.advance(dt.timedelta(days=60))
    services.card_sweep()
    assert not CardAlert.objects.filter(case=case, clock__in=["promised", "step"]).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_alert_once(sms_outbox):
    from tongban.cases.tests.factories import make_world

    world = make_world()
    give_mobiles(world)
    cases = [accepted_case(world) for _ in range(4)]
    at = max(c.promised_due for c in cases) + dt.timedelta(minutes=1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait()
            services.card_sweep(at=at, batch=2)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for case in cases:
        kinds = [e.kind for e in case_timeline(case=case)]
        assert kinds.count("case.card_red") == 2  # the promised clock and the 审查 step
        assert kinds.count("case.legal_overdue") == 0
    promised_red = [m for m in sms_outbox if "承诺办结期限" in m.text and "红牌" in m.text]
    # Four cases, three mobiles each (approver, head, supervisor): once, not twice.
    assert len(promised_red) == 12


def test_recipients_are_the_department_its_head_and_for_red_the_supervisors_above(world):
    give_mobiles(world)
    # Staff of another department, with a mobile, are never told about this one's cards.
    UserFactory(mobile="13900000009")
    assert services.alert_recipients(department=world.main, red=False) == [
        "13900000001",
        "13900000002",
    ]
    assert services.alert_recipients(department=world.main, red=True) == [
        "13900000001",
        "13900000002",
        "13900000003",
    ]
    assert services.alert_recipients(department=world.main, red=False, heads_only=True) == [
        "13900000002"
    ]


def test_sweep_uses_the_frozen_clock_by_default(world):
    case = accepted_case(world)
    with frozen(case.promised_due - dt.timedelta(days=30)):
        assert services.card_sweep().total == 0
    with frozen(case.promised_due + dt.timedelta(seconds=1)):
        assert services.card_sweep().alerts["promised.red"] == 1


def test_the_worker_task_runs_the_sweep(world, clock):
    from tongban.supervision.tasks import sweep_cards

    case = accepted_case(world)
    clock.set(case.promised_due + dt.timedelta(minutes=1))
    result = sweep_cards.enqueue()
    assert result.return_value >= 2  # the promised clock and the 审查 step, at least
    assert CardAlert.objects.filter(case=case, clock="promised", colour="red").count() == 1
