"""Environment for the test suite, loaded as a pytest plugin (`-p tongban.core.testenv`) so that it is
in place before pytest-django reads the settings. Each value can still be overridden from outside
(`make test` sets DATABASE_URL for the PostgreSQL run)."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("STATICFILES_MANIFEST", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
os.environ.setdefault("TONGBAN_VAR_DIR", tempfile.mkdtemp(prefix="tongban-test-"))
os.environ.setdefault("SMS_BACKEND", "tongban.core.sms.MemoryBackend")
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault("WHITENOISE_USE_FINDERS", "true")
# Each test rolls back its calendar edits: every use must see the database as it is now.
os.environ.setdefault("CALENDAR_CACHE_SECONDS", "0")
# Rolled-back test databases hand the same ids to other versions: read them each time (the cache
# has tests of its own, which turn it on).
os.environ.setdefault("ITEM_VERSION_CACHE_SECONDS", "0")
os.environ.setdefault("WEBHOOK_ENDPOINT_CACHE_SECONDS", "0")
