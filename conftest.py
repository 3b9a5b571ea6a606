"""Fixtures shared by every app's tests. The test environment itself is tongban.core.testenv."""

import importlib

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Shared, loaded machines: a slow example is not a failure (speed is measured in bench/, not here).
hypothesis_settings.register_profile(
    "tongban", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("tongban")


@pytest.fixture
def sms_outbox():
    """The messages 'sent' during the test (the memory SMS backend)."""
    from tongban.core.sms import MemoryBackend

    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox
    MemoryBackend.outbox.clear()


@pytest.fixture
def demo(db):
    """The demo organisation (沅江市), loaded into the test database."""
    from tongban.org import demo as demo_module

    demo_module.load_demo_organisation()
    return demo_module


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture
def national_calendar(transactional_db):
    """The holiday tables the migrations seed. A transactional test's database is emptied after
    it, so a later one would otherwise count every date Monday to Friday and warn of uncovered
    years; a test that commits and needs the real calendar asks for this."""
    from django.apps import apps

    from tongban.timelimits.models import CalendarYear

    if not CalendarYear.objects.exists():
        seed = importlib.import_module("tongban.timelimits.migrations.0002_seed_national_days")
        seed.seed_national_days(apps, None)
