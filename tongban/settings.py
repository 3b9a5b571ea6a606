"""tongban's one settings module, driven by environment variables.

Every variable read here is listed with its meaning and default in `.env.example`. A setting that
is wrong stops the start-up with one line saying which variable and why; nothing is guessed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = env(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"环境变量 {name} 的值“{raw}”无法识别，请使用 true 或 false。")


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"环境变量 {name} 必须是整数，当前值为“{raw}”。") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


VAR_DIR = Path(env("TONGBAN_VAR_DIR") or BASE_DIR / "var")
DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    key = env("SECRET_KEY")
    if key:
        return key
    # Generated once and kept, so sessions survive restarts without anyone inventing a key.
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DEBUG 关闭时必须设置 ALLOWED_HOSTS（以逗号分隔的域名）。")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from static files, not a CDN
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "tongban.core",
    "tongban.org",
    "tongban.timelimits",
    "tongban.catalog",
    "tongban.cases",
    "tongban.webhooks",
    "tongban.reviews",
    "tongban.supervision",
    "tongban.metrics",
    "tongban.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tongban.core.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"
ASGI_APPLICATION = "tongban.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.web.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict[str, Any]:
    default_url = f"sqlite:///{VAR_DIR / 'tongban.sqlite3'}"
    url = env("DATABASE_URL", default_url)
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL 格式错误：不支持“{scheme or url}”，"
            "请使用 sqlite:///路径 或 postgres://用户:密码@主机:端口/库名。"
        )
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))
        )
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_URL 无法解析：{exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not config.get("NAME"):
            raise ImproperlyConfigured("DATABASE_URL 缺少 SQLite 数据库文件路径。")
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers work while one clerk writes; IMMEDIATE avoids "database is locked"
        # surprises when a read transaction later wants to write.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    elif not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL 缺少数据库名（URL 末尾的 /库名）。")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:sign_in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:sign_in"

# Staff lockout and applicants' one-time codes.
STAFF_LOCKOUT_ATTEMPTS = env_int("STAFF_LOCKOUT_ATTEMPTS", 5)
STAFF_LOCKOUT_MINUTES = env_int("STAFF_LOCKOUT_MINUTES", 15)
LOGIN_CODE_TTL_SECONDS = env_int("LOGIN_CODE_TTL_SECONDS", 300)
LOGIN_CODE_RESEND_SECONDS = env_int("LOGIN_CODE_RESEND_SECONDS", 60)
LOGIN_CODE_DAILY_LIMIT = env_int("LOGIN_CODE_DAILY_LIMIT", 10)
LOGIN_CODE_MAX_ATTEMPTS = env_int("LOGIN_CODE_MAX_ATTEMPTS", 5)
SMS_BACKEND = env("SMS_BACKEND", "tongban.core.sms.LogBackend")

# The event log is sealed into checkpoints this often by the worker's scheduler.
EVENT_SEAL_INTERVAL_SECONDS = env_int("EVENT_SEAL_INTERVAL_SECONDS", 300)

# How long a process trusts its working-day calendars before asking whether they changed: an edit
# made in another process is seen within this many seconds (0: ask at every use).
CALENDAR_CACHE_SECONDS = env_int("CALENDAR_CACHE_SECONDS", 2)
# How long a process trusts what it read about a bearer token's account (docs/decisions/0013).
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 5)
# How long a process trusts an item version's status once read for an application: 暂停办理 made in
# another process is seen within this many seconds (docs/decisions/0014; 0: read at every use).
ITEM_VERSION_CACHE_SECONDS = env_int("ITEM_VERSION_CACHE_SECONDS", 5)

# Outgoing webhooks (docs/webhooks.md): attempts per round before a delivery is failed, how long
# one POST may take, and how often the worker sends retries that have come due.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
WEBHOOK_RETRY_SWEEP_SECONDS = env_int("WEBHOOK_RETRY_SWEEP_SECONDS", 60)
# How long a process trusts the list of a department's endpoints: an endpoint added in another
# process receives events within this many seconds (docs/decisions/0014; 0: read for every event).
WEBHOOK_ENDPOINT_CACHE_SECONDS = env_int("WEBHOOK_ENDPOINT_CACHE_SECONDS", 5)

# The catalogue audit: the time-limit compression (1 − promised/legal) every item should reach, how
# many days a guide may go unreviewed, and how many times other regions' median limit is an outlier.
CATALOG_AUDIT_COMPRESSION_TARGET = env_int("CATALOG_AUDIT_COMPRESSION_TARGET_PERCENT", 50) / 100
CATALOG_AUDIT_GUIDE_MAX_AGE_DAYS = env_int("CATALOG_AUDIT_GUIDE_MAX_AGE_DAYS", 365)
CATALOG_AUDIT_OUTLIER_FACTOR = env_int("CATALOG_AUDIT_OUTLIER_FACTOR", 5)

# The region whose portal this is: public search shows its items, its subregions' and those of the
# regions above it, not a neighbouring county's. Blank: every region.
PORTAL_REGION_CODE = env("PORTAL_REGION_CODE")
if PORTAL_REGION_CODE and not (
    PORTAL_REGION_CODE.isascii()
    and PORTAL_REGION_CODE.isdigit()
    and len(PORTAL_REGION_CODE) in {2, 4, 6, 9, 12}
):
    raise ImproperlyConfigured(
        f"环境变量 PORTAL_REGION_CODE 必须是 2、4、6、9 或 12 位的区划代码，当前值为“{PORTAL_REGION_CODE}”。"
    )

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "tongban" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
WHITENOISE_USE_FINDERS = DEBUG or env_bool("WHITENOISE_USE_FINDERS", False)
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATICFILES_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Production safety: with DEBUG off, cookies travel only over HTTPS and browsers remember it.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Cases: the largest file an applicant may upload, and the post-check limit of 告知承诺 decisions.
CASE_UPLOAD_MAX_BYTES = int(env("CASE_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
CASE_POST_CHECK_DAYS = int(env("CASE_POST_CHECK_DAYS", "20"))

# Supervision (docs/decisions/0010-supervision-cards.md): a card is yellow when fewer than this many
# working days are left; how often the worker sweeps for cards to alert; how often the board refreshes.
SUPERVISION_YELLOW_DAYS = env_int("SUPERVISION_YELLOW_DAYS", 1)
SUPERVISION_SWEEP_SECONDS = env_int("SUPERVISION_SWEEP_SECONDS", 300)
SUPERVISION_BOARD_REFRESH_SECONDS = env_int("SUPERVISION_BOARD_REFRESH_SECONDS", 60)

# 好差评 (docs/decisions/0011-reviews.md): working days to verify a bad review with the applicant and to
# rectify and reply; how long a signed rating link lives; the public address SMS links use (blank: no
# SMS invitations); how often the worker sends them.
REVIEWS_VERIFY_DAYS = env_int("REVIEWS_VERIFY_DAYS", 1)
REVIEWS_RECTIFY_DAYS = env_int("REVIEWS_RECTIFY_DAYS", 5)
REVIEWS_LINK_MAX_AGE_DAYS = env_int("REVIEWS_LINK_MAX_AGE_DAYS", 30)
REVIEWS_PUBLIC_BASE_URL = env("REVIEWS_PUBLIC_BASE_URL")
REVIEWS_INVITE_SWEEP_SECONDS = env_int("REVIEWS_INVITE_SWEEP_SECONDS", 600)

# Indicators (docs/decisions/0012-metrics-rollups.md): how often the worker rolls up the days touched.
METRICS_ROLLUP_SWEEP_SECONDS = env_int("METRICS_ROLLUP_SWEEP_SECONDS", 300)
