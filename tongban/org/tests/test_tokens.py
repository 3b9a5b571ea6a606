"""API bearer tokens: shown once, stored as a hash, refused once revoked, acting as their user."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import django_auth

from tongban.core.models import Event
from tongban.org import permissions, tokens
from tongban.org.models import ApiToken, Role, RoleAssignment, User
from tongban.org.tokens import (
    ApiTokenAuth,
    api_token_cache_forget,
    api_token_create,
    api_token_revoke,
)

from .factories import DepartmentFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

# A tiny API wired the way tongban's own is: bearer token first, then the signed-in session.
api = NinjaAPI(auth=[ApiTokenAuth(), django_auth], urls_namespace="token-test")


@api.get("/whoami")
def whoami(request):  # type: ignore[no-untyped-def]
    return {
        "username": request.user.username,
        "departments": sorted(d.name for d in permissions.departments_visible_to(request.user)),
    }


urlpatterns = [path("api/", api.urls)]


def create_with_command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", "create", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def call(token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = Client().get("/api/whoami", headers=headers)
    return response.status_code, response.json()


def test_a_department_system_uses_the_token_the_command_printed(demo):
    token, note = create_with_command("--user", "shenpi", "--name", "市场监管局审批系统")

    status, body = call(token)

    assert status == 200
    assert body == {"username": "shenpi", "departments": ["沅江市市场监督管理局"]}
    stored = ApiToken.objects.get(user__username="shenpi")
    assert token.startswith(f"tb_{stored.prefix}_")
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash and stored.name == "市场监管局审批系统"
    assert stored.last_used_at is not None
    assert f"tb_{stored.prefix}" in note and "只显示这一次" in note
    assert Event.objects.filter(
        kind="user.api_token_created", subject_id=str(stored.user_id)
    ).exists()


def test_the_token_itself_is_nowhere_in_the_database(demo):
    token, _ = create_with_command("--user", "shenpi")
    secret_part = token.split("_", 2)[2]

    assert not ApiToken.objects.filter(token_hash__contains=secret_part).exists()
    assert not Event.objects.filter(payload__icontains=secret_part).exists()


def test_a_revoked_token_is_refused_with_a_chinese_message(demo):
    token, _ = create_with_command("--user", "shenpi")
    prefix = ApiToken.objects.get().prefix
    out = StringIO()

    call_command("token", "revoke", f"tb_{prefix}", stdout=out)
    status, body = call(token)

    assert "已吊销令牌" in out.getvalue()
    assert status == 401
    assert body == {"detail": "接口令牌无效、已吊销或所属账号已停用。"}
    assert Event.objects.filter(kind="user.api_token_revoked").count() == 1
    api_token_revoke(token=ApiToken.objects.get())  # again: nothing more happens
    assert Event.objects.filter(kind="user.api_token_revoked").count() == 1


@pytest.mark.parametrize(
    "presented",
    ["tb_00000000_wrong", "not-even-ours", "", "tb_" + "x" * 500],
)
def test_a_wrong_token_is_refused(demo, presented):
    create_with_command("--user", "shenpi")

    status, body = call(presented)

    assert status == 401
    assert "detail" in body


def test_a_token_that_differs_in_one_character_is_refused(demo):
    token, _ = create_with_command("--user", "shenpi")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert call(forged)[0] == 401
    assert call(token)[0] == 200


def test_no_token_falls_back_to_the_session_and_then_to_401():
    user = UserFactory()
    client = Client()

    assert client.get("/api/whoami").status_code == 401
    client.force_login(user)
    assert client.get("/api/whoami").json()["username"] == user.username


class FakeClock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(monkeypatch, settings):
    settings.API_TOKEN_CACHE_SECONDS = 5
    fake = FakeClock()
    monkeypatch.setattr(tokens, "_clock", fake)
    api_token_cache_forget()
    yield fake
    api_token_cache_forget()


def test_a_disabled_account_s_token_stops_working(clock):
    user = UserFactory()
    _, token = api_token_create(user=user, name="脚本")
    assert call(token)[0] == 200

    User.objects.filter(pk=user.pk).update(is_active=False)
    clock.at += 5.1

    assert call(token)[0] == 401


def test_a_token_checked_a_moment_ago_asks_the_database_nothing(demo, clock):
    token, _ = create_with_command("--user", "shenpi")
    assert call(token)[0] == 200

    with CaptureQueriesContext(connection) as queries:
        status, body = call(token)

    assert status == 200
    assert body["departments"] == ["沅江市市场监督管理局"]
    assert not [q for q in queries if "apitoken" in q["sql"] or "roleassignment" in q["sql"]]


def test_a_revocation_here_is_seen_at_once(demo, clock):
    token, _ = create_with_command("--user", "shenpi")
    assert call(token)[0] == 200

    api_token_revoke(token=ApiToken.objects.get())

    assert call(token)[0] == 401


def test_changes_made_in_another_process_are_seen_within_the_cache_time(demo, clock):
    token, _ = create_with_command("--user", "shenpi")
    assert call(token)[0] == 200
    # Another process revokes the token and takes the account's role away: this process is not
    # told, and trusts what it read for API_TOKEN_CACHE_SECONDS.
    ApiToken.objects.update(revoked_at=timezone.now())
    RoleAssignment.objects.filter(user__username="shenpi").delete()

    clock.at += 4.9
    assert call(token) == (200, {"username": "shenpi", "departments": ["沅江市市场监督管理局"]})
    clock.at += 0.2
    assert call(token)[0] == 401


def test_a_role_given_elsewhere_shows_after_the_cache_time(demo, clock):
    token, _ = create_with_command("--user", "shenpi")
    first = call(token)[1]["departments"]
    shenpi = User.objects.get(username="shenpi")
    other = DepartmentFactory(region=RoleAssignment.objects.get(user=shenpi).region, name="新部门")
    RoleAssignment.objects.create(
        user=shenpi, role=Role.APPROVER, region=other.region, department=other
    )

    assert call(token)[1]["departments"] == first
    clock.at += 5.1
    assert "新部门" in call(token)[1]["departments"]


def test_with_no_cache_time_every_call_asks(demo, clock, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    token, _ = create_with_command("--user", "shenpi")
    assert call(token)[0] == 200

    ApiToken.objects.update(revoked_at=timezone.now())

    assert call(token)[0] == 401


def test_each_request_gets_its_own_copy_of_the_account(demo, clock):
    token, _ = create_with_command("--user", "shenpi")

    first = tokens.api_token_user(token=token)
    second = tokens.api_token_user(token=token)

    assert first is not None and second is not None
    assert first is not second and first.pk == second.pk
    first.first_name = "改过的名字"
    assert second.first_name != "改过的名字"
    assert permissions.assignments_of(second)


def test_tokens_are_only_for_active_staff_accounts():
    from django.core.exceptions import ValidationError

    from tongban.org.models import AccountKind

    applicant = UserFactory(kind=AccountKind.APPLICANT, mobile="13800138000")
    with pytest.raises(ValidationError):
        api_token_create(user=applicant, name="x")
    with pytest.raises(CommandError, match="没有用户名为 nobody 的账号"):
        create_with_command("--user", "nobody")


def test_list_shows_prefixes_and_states_never_tokens(demo):
    token, _ = create_with_command("--user", "shenpi", "--name", "审批系统")
    create_with_command("--user", "gongan")
    first = ApiToken.objects.get(user__username="shenpi")
    api_token_revoke(token=first)
    out = StringIO()

    call_command("token", "list", "--user", "shenpi", stdout=out)

    listing = out.getvalue()
    assert f"tb_{first.prefix}" in listing and "已吊销" in listing and "审批系统" in listing
    assert "gongan" not in listing
    assert token not in listing
    with pytest.raises(CommandError, match="没有前缀为"):
        call_command("token", "revoke", "tb_ffffffff")
