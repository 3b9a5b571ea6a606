"""The controllable clock: real time unless a test holds it."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from tongban.core import now as clock


def test_now_is_real_time_outside_a_frozen_block():
    before = timezone.now()
    assert before <= clock.now() <= timezone.now()


def test_frozen_holds_moves_and_restores():
    at = timezone.make_aware(dt.datetime(2026, 9, 30, 9, 0))
    with clock.frozen(at) as held:
        assert clock.now() == at
        held.advance(dt.timedelta(days=1))
        assert clock.now() == at + dt.timedelta(days=1)
        assert clock.localdate() == dt.date(2026, 10, 1)
        # another thread (a live server's) sees the same instant
        seen = []
        worker = threading.Thread(target=lambda: seen.append(clock.now()))
        worker.start()
        worker.join()
        assert seen == [at + dt.timedelta(days=1)]
    assert clock.now() != at + dt.timedelta(days=1)


def test_a_naive_instant_is_refused():
    with clock.frozen() as held, pytest.raises(ValueError):
        held.set(dt.datetime(2026, 1, 1))
