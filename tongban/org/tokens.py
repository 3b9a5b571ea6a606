"""Bearer tokens for the API: creating, revoking and checking them.

A token reads `tb_<prefix>_<secret>`. It is shown once, when it is created; the database keeps only
its SHA-256 and the short prefix, which names the token in lists and in `tongban token revoke`
without being enough to use it. A department's business system is a staff account with a department
role: its token acts with exactly that account's permissions, through the same predicates as pages.

This module must never store or log a token itself.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer

from tongban.core.services import event_append

from .models import AccountKind, ApiToken, User
from .permissions import assignments_of

TOKEN_MARK = "tb_"  # noqa: S105 - how every token starts, not a secret
# Writing last_used_at on every call would turn every read into a write; once a minute is enough
# to tell a living integration from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)


# A process remembers, for API_TOKEN_CACHE_SECONDS, the account a token presented to it belongs to,
# with that account's role assignments: a busy integration costs no token and role queries per call
# (docs/decisions/0013-api-token-cache.md). Keyed by the token's hash, never the token. A
# revocation in this process is seen at once; a revocation, a disabled account or a changed role in
# another process within API_TOKEN_CACHE_SECONDS.
_seen: dict[str, tuple[float, User]] = {}
_clock = time.monotonic


def api_token_cache_forget(*, token_hash: str | None = None) -> None:
    """Forget one token's remembered account (by its hash), or every one."""
    if token_hash is None:
        _seen.clear()
    else:
        _seen.pop(token_hash, None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    """A fresh (prefix, token) pair; the prefix is random too, so it says nothing about the secret."""
    prefix = secrets.token_hex(4)
    return prefix, f"{TOKEN_MARK}{prefix}_{secrets.token_urlsafe(32)}"


def api_token_create(*, user: User, name: str = "", actor: Any = None) -> tuple[ApiToken, str]:
    """Create a token for an active staff account; returns the row and the token, shown only now."""
    if user.kind != AccountKind.STAFF or not user.is_active:
        raise ValidationError({"user": [_("只能为启用中的工作人员账号创建接口令牌。")]})
    with transaction.atomic():
        while True:
            prefix, token = _new_token()
            if not ApiToken.objects.filter(prefix=prefix).exists():
                break
        api_token = ApiToken(user=user, name=name.strip(), prefix=prefix, token_hash=_hash(token))
        api_token.full_clean()
        api_token.save()
        event_append(
            subject=user,
            kind="user.api_token_created",
            actor=actor,
            payload={"prefix": prefix, "name": api_token.name},
        )
    return api_token, token


def api_token_revoke(*, token: ApiToken, actor: Any = None) -> ApiToken:
    """Revoke a token at once; revoking twice changes nothing and appends nothing."""
    with transaction.atomic():
        locked = (
            ApiToken.objects.select_for_update(of=("self",)).select_related("user").get(pk=token.pk)
        )
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            api_token_cache_forget(token_hash=locked.token_hash)
            event_append(
                subject=locked.user,
                kind="user.api_token_revoked",
                actor=actor,
                payload={"prefix": locked.prefix, "name": locked.name},
            )
    return locked


def api_token_find(*, prefix: str) -> ApiToken | None:
    """The token named by its prefix, with or without the leading `tb_`."""
    prefix = prefix.strip().removeprefix(TOKEN_MARK).split("_", 1)[0]
    return ApiToken.objects.select_related("user").filter(prefix=prefix).first()


def api_token_list(*, user: User | None = None) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user").order_by("-created_at")
    return tokens.filter(user=user) if user is not None else tokens


def api_token_user(*, token: str) -> User | None:
    """The active staff account a presented token belongs to, or None.

    The row is found by the token's hash, so a guess is never compared character by character with
    a stored secret; the final compare_digest keeps it that way should the lookup ever change.
    """
    if not token.startswith(TOKEN_MARK) or len(token) > 200:
        return None
    digest = _hash(token)
    seen = _seen.get(digest)
    if seen is not None and _clock() < seen[0]:
        # A copy per request: a request may set attributes on its user, others must not see them.
        return copy.copy(seen[1])
    api_token = ApiToken.objects.select_related("user").filter(token_hash=digest).first()
    if api_token is None or not hmac.compare_digest(api_token.token_hash, digest):
        _seen.pop(digest, None)
        return None
    user = api_token.user
    if api_token.revoked_at is not None or not user.is_active or user.kind != AccountKind.STAFF:
        _seen.pop(digest, None)
        return None
    now = timezone.now()
    if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    remember_for = settings.API_TOKEN_CACHE_SECONDS
    if remember_for > 0:
        assignments_of(user)  # read now and remembered with the account
        if len(_seen) > 10_000:
            _seen.clear()
        _seen[digest] = (_clock() + remember_for, user)
        return copy.copy(user)
    return user


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer tb_…` for django-ninja. Use beside session sign-in:
    `NinjaAPI(auth=[ApiTokenAuth(), django_auth])`.

    A request without a bearer header falls through to the next method; a bearer token that is
    wrong, revoked or belongs to a disabled account is refused at once with 401 and a Chinese
    message, never silently treated as anonymous.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = api_token_user(token=token.strip())
        if user is None:
            raise HttpError(401, _("接口令牌无效、已吊销或所属账号已停用。"))
        request.user = user
        return user
