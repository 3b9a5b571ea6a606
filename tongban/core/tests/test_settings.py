"""Start-up configuration: a bad setting stops the start with one Chinese line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings in a fresh interpreter, as `tongban` would at start-up."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "SECRET_KEY"}
    }
    clean.update({"TONGBAN_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tongban.settings"})
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@h/db", "DATABASE_URL 格式错误"),
        ("not a url", "DATABASE_URL 格式错误"),
        ("postgres://u:p@localhost:5432", "缺少数据库名"),
    ],
)
def test_a_malformed_database_url_is_one_clear_line(tmp_path, url, message):
    result = start(tmp_path, DEBUG="true", DATABASE_URL=url)
    assert result.returncode != 0
    assert message in last_line(result)


def test_production_without_allowed_hosts_refuses_to_start(tmp_path):
    result = start(tmp_path, DEBUG="false")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in last_line(result)


def test_a_postgres_url_switches_the_database(tmp_path):
    result = start(tmp_path, DEBUG="true", DATABASE_URL="postgres://u:p@db.example:5432/tongban")
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_the_secret_key_is_generated_once_and_kept(tmp_path):
    start(tmp_path, DEBUG="true")
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    start(tmp_path, DEBUG="true")
    assert key_file.read_text() == first and len(first) > 40
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_production_settings_are_safe(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.TIME_ZONE, s.LANGUAGE_CODE, 'script-src' in s.CONTENT_SECURITY_POLICY)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "DEBUG"}
    }
    env.update(
        {
            "TONGBAN_VAR_DIR": str(tmp_path),
            "ALLOWED_HOSTS": "tongban.example.gov.cn",
            "DJANGO_SETTINGS_MODULE": "tongban.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["True", "True", "True", "Asia/Shanghai", "zh-hans", "True"]


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_tongban_command_reports_a_bad_setting_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    env.update(
        {"TONGBAN_VAR_DIR": str(tmp_path), "DEBUG": "true", "DATABASE_URL": "mysql://u:p@h/db"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "tongban", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "tongban 无法启动：DATABASE_URL 格式错误：不支持“mysql”，请使用 sqlite:///路径 或 postgres://用户:密码@主机:端口/库名。"
    ]
