"""Fixtures of the supervision tests: the cases app's small county, and a clock held still."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from tongban.cases.tests.factories import make_world
from tongban.core.now import FrozenClock, frozen

# Until the project's settings install the app, its models cannot load: these tests then run only
# with their own settings (`pytest --ds=tongban.supervision.tests.settings`), and a run of the
# whole suite passes over them instead of failing to collect.
if "tongban.supervision" not in settings.INSTALLED_APPS:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    """`now()` held at the real instant; tests move it with clock.set() / clock.advance()."""
    with frozen() as held:
        yield held
