"""The worker's timer enqueues each periodic task at start and then at its interval."""

from __future__ import annotations

import threading

import pytest

from tongban.core.models import EventSeal
from tongban.core.periodic import PERIODIC_TASKS, Periodic, run_scheduler
from tongban.core.services import event_append


@pytest.mark.django_db
def test_the_timer_enqueues_at_start_and_stops_when_asked():
    calls: list[str] = []
    stop = threading.Event()

    def enqueue() -> None:
        calls.append("sealed")
        stop.set()

    run_scheduler(stop, [Periodic("probe", lambda: 300, enqueue)])

    assert calls == ["sealed"]


@pytest.mark.django_db
def test_a_failing_task_does_not_stop_the_timer():
    stop = threading.Event()
    seen: list[str] = []

    def broken() -> None:
        seen.append("broken")
        raise RuntimeError("boom")

    def last() -> None:
        seen.append("last")
        stop.set()

    run_scheduler(
        stop, [Periodic("broken", lambda: 300, broken), Periodic("last", lambda: 300, last)]
    )

    assert seen == ["broken", "last"]


@pytest.mark.django_db
def test_the_registered_seal_task_seals_the_log():
    event_append(subject=("cases.case", "1"), kind="case.submitted")
    seal = next(p for p in PERIODIC_TASKS if p.name == "seal_event_log")

    seal.enqueue()  # the test settings run tasks immediately

    assert EventSeal.objects.get().event_count == 1
