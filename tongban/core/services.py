"""Writes to the event log: appending an event and sealing a checkpoint.

Appending never takes a lock beyond the subject's own chain: on PostgreSQL a transaction-level
advisory lock keyed by the subject lines up writers of the same subject (a case is normally locked
by its service already), while writers of different subjects never wait for each other. The unique
(subject, seq) constraint is the backstop: a writer that still collides reads again and retries.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from .eventlog import event_hash, normalise_payload, root_of, seal_hash
from .models import Event, EventSeal
from .rows import insert_new

logger = logging.getLogger(__name__)

APPEND_RETRIES = 5


def subject_of(obj: models.Model) -> tuple[str, str]:
    """The (type, id) under which an object's events are chained: ("org.user", "12")."""
    return obj._meta.label_lower, str(obj.pk)


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "系统"
    full_name = getattr(actor, "display_name", "") or actor.get_username()
    return str(full_name)[:150]


def event_append(
    *,
    subject: models.Model | tuple[str, str],
    kind: str,
    actor: Any = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the subject's chain, inside the caller's transaction if there is one."""
    subject_type, subject_id = subject if isinstance(subject, tuple) else subject_of(subject)
    clean_payload = normalise_payload(payload or {})
    actor_id = actor.pk if actor is not None else None
    label = _actor_label(actor)
    for attempt in range(APPEND_RETRIES):
        try:
            with transaction.atomic():
                return _append_once(subject_type, subject_id, kind, actor_id, label, clean_payload)
        except IntegrityError:
            logger.debug("event chain race on %s:%s, attempt %d", subject_type, subject_id, attempt)
    raise RuntimeError(f"无法写入事件日志：{subject_type}:{subject_id} 并发冲突过多")


def event_chain_start(
    *,
    subject: models.Model,
    events: Sequence[tuple[str, Any, dict[str, Any]]],
) -> list[Event]:
    """Write the first events of a subject created in the caller's transaction, in one insert.

    Only for a subject nobody else can know yet (its row is not committed): no other writer can
    append to its chain, so the lock and the read of the chain's last row are skipped. Each event
    is (kind, actor, payload); they are chained exactly as event_append would chain them.
    """
    subject_type, subject_id = subject_of(subject)
    occurred_at = timezone.now()
    rows: list[Event] = []
    prev_hash = ""
    for seq, (kind, actor, payload) in enumerate(events, start=1):
        row = _chained(
            subject_type,
            subject_id,
            seq,
            kind,
            actor.pk if actor is not None else None,
            _actor_label(actor),
            occurred_at,
            normalise_payload(payload or {}),
            prev_hash,
        )
        rows.append(row)
        prev_hash = row.hash
    return insert_new(rows)


def _chained(
    subject_type: str,
    subject_id: str,
    seq: int,
    kind: str,
    actor_id: int | None,
    label: str,
    occurred_at: datetime,
    clean_payload: dict[str, Any],
    prev_hash: str,
) -> Event:
    """An unsaved event carrying the hash that links it to `prev_hash`."""
    fields: dict[str, Any] = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "seq": seq,
        "kind": kind,
        "actor_id": actor_id,
        "actor_label": label,
        "occurred_at": occurred_at,
        "payload": clean_payload,
        "prev_hash": prev_hash,
    }
    return Event(**fields, hash=event_hash(**fields))


def _subject_lock_key(subject_type: str, subject_id: str) -> int:
    digest = hashlib.sha256(f"{subject_type}:{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _append_once(
    subject_type: str,
    subject_id: str,
    kind: str,
    actor_id: int | None,
    label: str,
    clean_payload: dict[str, Any],
) -> Event:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [_subject_lock_key(subject_type, subject_id)]
            )
    last = (
        Event.objects.filter(subject_type=subject_type, subject_id=subject_id)
        .order_by("-seq")
        .values_list("seq", "hash")
        .first()
    )
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, "")
    row = _chained(
        subject_type,
        subject_id,
        seq,
        kind,
        actor_id,
        label,
        timezone.now(),
        clean_payload,
        prev_hash,
    )
    insert_new([row])
    return row


def _committed_high_water_mark() -> int:
    """The highest event id below which every event is committed.

    On PostgreSQL ids are handed out before commit, so a row with a smaller id can still appear
    after a larger one. A SHARE lock waits for every transaction that is inserting events to end;
    it is held only for the instant of reading max(id), then released.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '10s'")
                cursor.execute("LOCK TABLE core_event IN SHARE MODE")
        return Event.objects.aggregate(top=Max("id"))["top"] or 0


def event_log_seal() -> EventSeal | None:
    """Seal every event written since the last checkpoint. Returns None when there is nothing new."""
    high = _committed_high_water_mark()
    with transaction.atomic():
        last = EventSeal.objects.order_by("-id").first()
        after, prev = (last.last_event_id, last.hash) if last else (0, "")
        if high <= after:
            return None
        hashes = (
            Event.objects.filter(id__gt=after, id__lte=high)
            .order_by("id")
            .values_list("hash", flat=True)
        )
        root, count = root_of(hashes.iterator(chunk_size=5000))
        try:
            with transaction.atomic():
                return EventSeal.objects.create(
                    after_event_id=after,
                    last_event_id=high,
                    event_count=count,
                    root=root,
                    prev_hash=prev,
                    hash=seal_hash(
                        after_event_id=after, last_event_id=high, count=count, root=root, prev=prev
                    ),
                )
        except IntegrityError:
            # A concurrent sealer chained onto the same checkpoint first: its seal stands.
            return None
