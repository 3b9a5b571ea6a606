"""Every write of the webhooks app: endpoints, enqueuing events, sending, retrying and replaying.

Any subject's events go out through `webhooks_enqueue` (cases now, hotline tickets later): the
caller decides which departments an event concerns and what the receiver may read; this module
decides who receives it, signs it, and keeps trying with back-off until it is delivered or given up.

Sending is the one place that is not a single transaction: a delivery is claimed with a short lease,
posted with no transaction open (a slow receiver must never hold database locks), and the outcome is
written in a transaction of its own. The lease means a queued task and the periodic sweep can never
post the same attempt twice at the same time.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.models import Event
from tongban.core.services import event_append
from tongban.org.models import Department

from . import permissions
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signing import encode_body, sign

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd … failed attempt; later attempts wait as long as the last entry.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
USER_AGENT = "tongban-webhooks/1"
SWEEP_BATCH = 50

# Every case event asks which endpoints listen to its departments, and nearly always the answer is
# the one it was a moment ago. A process remembers the answer for WEBHOOK_ENDPOINT_CACHE_SECONDS
# (docs/decisions/0014-item-version-and-endpoint-cache.md). An endpoint saved in this process is
# seen at once (apps.py connects `endpoint_cache_forget` to its saves and deletions); one added in
# another process within that time. A paused endpoint never receives a delivery still queued for
# it: the sender checks it at each attempt and gives up.
_endpoints_seen: dict[frozenset[int], tuple[float, list[WebhookEndpoint]]] = {}
_clock = time.monotonic


class PermissionDeniedError(Exception):
    """The actor may not do this; pages show it as 403 (or 404 when the object is hidden)."""


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 6))


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))


def backoff_after(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def _clean_kinds(kinds: Iterable[str]) -> list[str]:
    return sorted({k.strip() for k in kinds if k and k.strip()})


# --- endpoints ---------------------------------------------------------------------------------


def webhook_endpoint_create(
    *, department: Department, name: str, url: str, actor: Any, kinds: Iterable[str] = ()
) -> WebhookEndpoint:
    """Register a department system's receiving URL; its signing secret is generated here."""
    if not permissions.can_manage_endpoints(actor, department):
        raise PermissionDeniedError(_("您无权管理该部门的推送地址。"))
    endpoint = WebhookEndpoint(
        department=department,
        name=name.strip(),
        url=url.strip(),
        kinds=_clean_kinds(kinds),
        secret=secrets.token_hex(32),
    )
    with transaction.atomic():
        if WebhookEndpoint.objects.filter(department=department, name=endpoint.name).exists():
            raise ValidationError({"name": [_("该部门已有同名的推送地址。")]})
        endpoint.full_clean()
        endpoint.save()
        event_append(
            subject=endpoint,
            kind="webhook_endpoint.created",
            actor=actor,
            payload={
                "department": department.pk,
                "name": endpoint.name,
                "url": endpoint.url,
                "kinds": endpoint.kinds,
            },
        )
    return endpoint


def webhook_endpoint_set_active(
    *, endpoint: WebhookEndpoint, active: bool, actor: Any
) -> WebhookEndpoint:
    """Pause or resume an endpoint. While paused, nothing new is queued for it and what is still
    pending gives up at its next attempt, so it shows among the failed deliveries to replay."""
    if not permissions.can_manage_endpoints(actor, endpoint.department):
        raise PermissionDeniedError(_("您无权管理该部门的推送地址。"))
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.active != active:
            locked.active = active
            locked.save(update_fields=["active"])
            event_append(
                subject=locked,
                kind="webhook_endpoint.activated" if active else "webhook_endpoint.deactivated",
                actor=actor,
            )
    return locked


# --- enqueuing ---------------------------------------------------------------------------------


def endpoint_cache_forget(*_args: Any, **_kwargs: Any) -> None:
    """Forget the remembered endpoints (a signal receiver too: any arguments are ignored)."""
    _endpoints_seen.clear()
    if transaction.get_connection().in_atomic_block:
        # A read before the commit may remember the endpoints as they were: forget it then too.
        transaction.on_commit(_endpoints_seen.clear)


def _active_endpoints(department_ids: frozenset[int]) -> list[WebhookEndpoint]:
    seen = _endpoints_seen.get(department_ids)
    if seen is not None and _clock() < seen[0]:
        return seen[1]
    active = list(
        WebhookEndpoint.objects.filter(department_id__in=department_ids, active=True).order_by("id")
    )
    remember_for = settings.WEBHOOK_ENDPOINT_CACHE_SECONDS
    if remember_for > 0:
        if len(_endpoints_seen) > 1_000:
            _endpoints_seen.clear()
        _endpoints_seen[department_ids] = (_clock() + remember_for, active)
    return active


def _document(*, delivery: WebhookDelivery, event: Event, body: dict[str, Any]) -> dict[str, Any]:
    """What the receiver gets: who, what and when of the event, and the subject's data."""
    return json.loads(
        json.dumps(
            {
                "delivery_id": str(delivery.delivery_id),
                "event": {
                    "id": event.pk,
                    "kind": event.kind,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "occurred_at": event.occurred_at,
                },
                "data": body,
            },
            cls=DjangoJSONEncoder,
            ensure_ascii=False,
        )
    )


def _enqueue_send(delivery_id: str, run_after: datetime | None = None) -> None:
    from .tasks import deliver_webhook

    task = deliver_webhook
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # the periodic sweep (webhooks_retry_due) will send it when it is due
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id)


def webhooks_enqueue(
    *, departments: Iterable[Department], event: Event, body: dict[str, Any]
) -> list[WebhookDelivery]:
    """Queue `event` for the active endpoints of `departments` whose filter accepts its kind.

    Call it inside the transaction that appended the event: the deliveries commit with it, and are
    sent only after the commit, so no receiver ever hears of something that was rolled back.
    """
    return webhooks_enqueue_many(departments=departments, events=[(event, body)])


def webhooks_enqueue_many(
    *, departments: Iterable[Department], events: Sequence[tuple[Event, dict[str, Any]]]
) -> list[WebhookDelivery]:
    """webhooks_enqueue for several (event, body) pairs of the same departments: the endpoints
    are read once for all of them; deliveries follow the order of the events."""
    # The remembered endpoints are shared by the requests of this process: read, never changed.
    active = _active_endpoints(frozenset(d.pk for d in departments))
    if not active:
        return []
    now = timezone.now()
    deliveries = []
    for event, body in events:
        for endpoint in active:
            if not endpoint.accepts(event.kind):
                continue
            delivery = WebhookDelivery(
                endpoint=endpoint, event=event, event_kind=event.kind, next_attempt_at=now
            )
            delivery.body = _document(delivery=delivery, event=event, body=body)
            deliveries.append(delivery)
    if not deliveries:
        return []
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(deliveries)
        for delivery in deliveries:
            # robust: a queue that is down must not fail the caller's committed work; the sweep
            # sends what was never queued.
            transaction.on_commit(partial(_enqueue_send, str(delivery.delivery_id)), robust=True)
    return deliveries


# --- sending -----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the receiver's address must be configured exactly."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def _timed_out() -> str:
    return _("接收地址在 %(s)s 秒内没有响应。") % {"s": f"{timeout_seconds():g}"}


def _post(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the delivery once; returns (status code or None, error text or "")."""
    if not endpoint.url.startswith(("http://", "https://")):
        return None, _("接收地址不是 http(s) 地址。")
    body = encode_body(delivery.body)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked to be http(s)
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Tongban-Delivery": str(delivery.delivery_id),
            "X-Tongban-Event": delivery.event_kind,
            "X-Tongban-Timestamp": timestamp,
            "X-Tongban-Signature": sign(secret=endpoint.secret, timestamp=timestamp, body=body),
        },
    )
    try:
        with _opener.open(request, timeout=timeout_seconds()) as response:
            response.read(4096)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip() if exc.fp else ""
        summary = f"HTTP {exc.code} {exc.reason}"
        return exc.code, f"{summary}：{detail}" if detail else summary
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None, _timed_out()
        return None, _("无法连接接收地址：%(reason)s") % {"reason": exc.reason}
    except TimeoutError:
        return None, _timed_out()
    except (OSError, ValueError) as exc:
        return None, _("投递出错：%(error)s") % {"error": exc}


def _claim(delivery_pk: int, now: datetime) -> bool:
    """Take a due pending delivery for one attempt; False when it is not due or someone has it."""
    lease_until = now + timedelta(seconds=timeout_seconds() + 30)
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=lease_until)
    )


def _give_up(delivery: WebhookDelivery, reason: str) -> None:
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    event_append(
        subject=delivery.endpoint,
        kind="webhook_delivery.failed",
        payload={
            "delivery_id": str(delivery.delivery_id),
            "event_kind": delivery.event_kind,
            "attempts": delivery.attempts,
            "reason": reason,
        },
    )


def webhook_deliver(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Make one attempt at a due pending delivery and record what happened.

    2xx: succeeded. Anything else (another status, a redirect, no answer in time): the attempt is
    counted and the next one scheduled with back-off, or, after the last allowed attempt, the
    delivery is failed and waits for someone to replay it. A delivery that is not due, not pending
    or already being sent is left alone and returned as it is.
    """
    now = now or timezone.now()
    attempted = _attempt(delivery.pk, now)
    if attempted is None:
        return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)
    return attempted


def _attempt(pk: int, now: datetime) -> WebhookDelivery | None:
    """One attempt, or None when the delivery could not be claimed."""
    if not _claim(pk, now):
        return None
    claimed = WebhookDelivery.objects.select_related("endpoint").get(pk=pk)
    endpoint = claimed.endpoint

    if not endpoint.active:
        with transaction.atomic():
            locked = WebhookDelivery.objects.select_for_update().get(pk=claimed.pk)
            locked.endpoint = endpoint
            locked.last_error = _("推送地址已停用，未投递。")
            _give_up(locked, locked.last_error)
            locked.save()
        return locked

    started = timezone.now()
    clock = time.monotonic()
    status_code, error = _post(endpoint, claimed)
    duration_ms = int((time.monotonic() - clock) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300

    retry_at: datetime | None = None
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=claimed.pk)
        locked.endpoint = endpoint
        WebhookAttempt.objects.create(
            delivery=locked,
            started_at=started,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error[:500],
        )
        locked.attempts += 1
        locked.last_status_code = status_code
        if succeeded:
            locked.status = DeliveryStatus.SUCCEEDED
            locked.delivered_at = timezone.now()
            locked.next_attempt_at = None
            locked.last_error = ""
        else:
            locked.last_error = (error or _("接收方返回 HTTP %(code)s。") % {"code": status_code})[
                :500
            ]
            if locked.attempts >= max_attempts():
                _give_up(locked, locked.last_error)
            else:
                retry_at = now + backoff_after(locked.attempts)
                locked.next_attempt_at = retry_at
        locked.save()
        if retry_at is not None:
            transaction.on_commit(
                partial(_enqueue_send, str(locked.delivery_id), retry_at), robust=True
            )
    if not succeeded:
        logger.info(
            "webhook %s to %s failed (attempt %d): %s",
            locked.delivery_id,
            endpoint.url,
            locked.attempts,
            locked.last_error,
        )
    return locked


def webhooks_retry_due(*, now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Send the pending deliveries whose time has come; returns how many were attempted.

    The periodic safety net: it retries where the task backend cannot schedule a later run, and
    sends whatever a lost task or a full queue left behind. Safe to run in several workers at once.
    """
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if _attempt(pk, now) is not None)


def webhook_replay(*, delivery: WebhookDelivery, actor: Any) -> WebhookDelivery:
    """Send a failed delivery again, with the same delivery id, and the full round of retries."""
    if not permissions.can_replay(actor, delivery):
        raise PermissionDeniedError(_("您无权重新投递该推送。"))
    with transaction.atomic():
        locked = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
        if locked.status != DeliveryStatus.FAILED:
            raise ValidationError(_("只有投递失败的推送才能重新投递。"))
        if not locked.endpoint.active:
            raise ValidationError(_("推送地址已停用，请先启用后再重新投递。"))
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        event_append(
            subject=locked.endpoint,
            kind="webhook_delivery.replayed",
            actor=actor,
            payload={"delivery_id": str(locked.delivery_id), "event_kind": locked.event_kind},
        )
        transaction.on_commit(partial(_enqueue_send, str(locked.delivery_id)), robust=True)
    return locked
