"""Fixtures of the supervision tests: the cases app's small county, and a clock held still."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tongban.cases.tests.factories import make_world
from tongban.core.now import FrozenClock, frozen


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    """`now()` held at the real instant; tests move it with clock.set() / clock.advance()."""
    with frozen() as held:
        yield held
