"""Fixtures shared by every app's tests. The test environment itself is tongban.core.testenv."""

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
