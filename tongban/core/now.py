"""The current instant, which a test can hold still or move on.

Supervision asks "what colour is this due date now?"; a test that must watch a case turn yellow and
then red cannot wait for days to pass. Code that reads the clock for such questions calls `now()`
instead of `timezone.now()`; a test freezes it with `frozen(at)` and moves it with `.set()` or
`.advance()`. Outside a `frozen` block `now()` is exactly `timezone.now()`. Models stamp their
rows with it too (`default=now`), so a row written under a frozen clock carries the frozen instant.

The frozen instant is process-wide on purpose (not per thread): a browser test's live server answers
in another thread of the same process and must see the same instant as the test. So this must never
be used outside tests, and freezing is not re-entrant across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.utils import timezone

_lock = threading.Lock()
_frozen: datetime | None = None


def now() -> datetime:
    at = _frozen
    return at if at is not None else timezone.now()


def localdate() -> date:
    return timezone.localdate(now())


class FrozenClock:
    """What `frozen()` yields: the instant every `now()` answers until the block ends."""

    def set(self, at: datetime) -> None:
        global _frozen
        if timezone.is_naive(at):
            raise ValueError("a frozen instant must be aware (it is compared with stored dates)")
        with _lock:
            _frozen = at

    def advance(self, delta: timedelta) -> datetime:
        global _frozen
        with _lock:
            if _frozen is None:
                raise RuntimeError("the clock is not frozen")
            _frozen = _frozen + delta
            return _frozen

    @property
    def at(self) -> datetime:
        return now()


@contextmanager
def frozen(at: datetime | None = None) -> Iterator[FrozenClock]:
    """Hold `now()` at `at` (default: the real instant on entry) until the block ends."""
    global _frozen
    with _lock:
        before = _frozen
    clock = FrozenClock()
    clock.set(at or timezone.now())
    try:
        yield clock
    finally:
        with _lock:
            _frozen = before
