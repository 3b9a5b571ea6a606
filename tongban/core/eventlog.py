"""Hashing and verification of the event log.

A row's hash covers its subject, sequence number, kind, actor, time, payload and the previous row's
hash, as canonical JSON. A seal's root is the SHA-256 over the ordered row hashes it covers, and its
own hash covers that root and the previous seal's hash. `verify_event_log` recomputes everything and
names the first broken row; it never changes anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from .models import Event, EventSeal

# json.dumps with any option builds an encoder each call; these two are built once (an encoder
# keeps no state between calls).
_PAYLOAD = DjangoJSONEncoder(ensure_ascii=False)
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalise_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload exactly as it will read back from the JSON column, so hashes survive a round trip."""
    copied = _json_copy(payload)
    return json.loads(_PAYLOAD.encode(payload)) if copied is _OTHER else copied


_OTHER = object()


def _json_copy(value: Any) -> Any:
    """A copy of a value made of JSON's own types only (str, int, bool and None, lists, dicts
    with str keys), as it reads back from JSON: a choice member (a str or int subclass) as its
    plain value, as the encoder writes it; _OTHER for anything else (a date, a tuple, a float …),
    which takes the round trip. For the usual small payload this costs a fifth of it."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__int__(value)
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str:
                return _OTHER
            copied = _json_copy(item)
            if copied is _OTHER:
                return _OTHER
            copy[key] = copied
        return copy
    if kind is list:
        items = []
        for item in value:
            copied = _json_copy(item)
            if copied is _OTHER:
                return _OTHER
            items.append(copied)
        return items
    return _OTHER


def _canonical(data: dict[str, Any]) -> bytes:
    return _CANONICAL.encode(data).encode()


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    subject_type: str,
    subject_id: str,
    seq: int,
    kind: str,
    actor_id: int | None,
    actor_label: str,
    occurred_at: dt.datetime,
    payload: dict[str, Any],
    prev_hash: str,
) -> str:
    content = {
        "subject": [subject_type, subject_id],
        "seq": seq,
        "kind": kind,
        "actor": [actor_id, actor_label],
        "at": _utc(occurred_at),
        "payload": payload,
        "prev": prev_hash,
    }
    return hashlib.sha256(_canonical(content)).hexdigest()


def hash_of_row(event: Event) -> str:
    return event_hash(
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        seq=event.seq,
        kind=event.kind,
        actor_id=event.actor_id,
        actor_label=event.actor_label,
        occurred_at=event.occurred_at,
        payload=event.payload,
        prev_hash=event.prev_hash,
    )


def root_of(hashes: Iterable[str]) -> tuple[str, int]:
    """SHA-256 over the ordered row hashes, and how many there were."""
    digest = hashlib.sha256()
    count = 0
    for row_hash in hashes:
        digest.update(bytes.fromhex(row_hash))
        count += 1
    return digest.hexdigest(), count


def seal_hash(*, after_event_id: int, last_event_id: int, count: int, root: str, prev: str) -> str:
    content = {
        "after": after_event_id,
        "last": last_event_id,
        "count": count,
        "root": root,
        "prev": prev,
    }
    return hashlib.sha256(_canonical(content)).hexdigest()


@dataclass(frozen=True)
class Breach:
    """One place where the log does not add up. `event_id` is None for a seal-level breach."""

    event_id: int | None
    seal_id: int | None
    message: str


@dataclass
class VerifyReport:
    events_checked: int = 0
    subjects_checked: int = 0
    seals_checked: int = 0
    unsealed_events: int = 0
    last_seal_hash: str = ""
    breaches: list[Breach] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaches

    @property
    def first_breach(self) -> Breach | None:
        by_row = [b for b in self.breaches if b.event_id is not None]
        if by_row:
            return min(by_row, key=lambda b: b.event_id or 0)
        return self.breaches[0] if self.breaches else None


def _chain_breaches(events: Iterator[Event], report: VerifyReport) -> None:
    current: tuple[str, str] | None = None
    prev_hash = ""
    expected_seq = 1
    for event in events:
        report.events_checked += 1
        subject = (event.subject_type, event.subject_id)
        if subject != current:
            current, prev_hash, expected_seq = subject, "", 1
            report.subjects_checked += 1
        label = f"事件 #{event.pk}（{event.subject_type}:{event.subject_id} 第 {event.seq} 条）"
        if event.seq != expected_seq:
            report.breaches.append(
                Breach(event.pk, None, f"{label}：序号应为 {expected_seq}，之前的记录缺失")
            )
        if event.prev_hash != prev_hash:
            report.breaches.append(Breach(event.pk, None, f"{label}：与前一条记录的哈希不衔接"))
        if hash_of_row(event) != event.hash:
            report.breaches.append(Breach(event.pk, None, f"{label}：内容与哈希不符，记录被改动"))
        prev_hash, expected_seq = event.hash, event.seq + 1


def _seal_breaches(report: VerifyReport) -> int:
    prev_hash, prev_last = "", 0
    for seal in EventSeal.objects.order_by("id").iterator():
        report.seals_checked += 1
        label = f"检查点 #{seal.pk}"
        if seal.prev_hash != prev_hash or seal.after_event_id != prev_last:
            report.breaches.append(Breach(None, seal.pk, f"{label}：与前一检查点不衔接"))
        expected = seal_hash(
            after_event_id=seal.after_event_id,
            last_event_id=seal.last_event_id,
            count=seal.event_count,
            root=seal.root,
            prev=seal.prev_hash,
        )
        if expected != seal.hash:
            report.breaches.append(Breach(None, seal.pk, f"{label}：检查点本身被改动"))
        covered = (
            Event.objects.filter(id__gt=seal.after_event_id, id__lte=seal.last_event_id)
            .order_by("id")
            .values_list("hash", flat=True)
        )
        root, count = root_of(covered.iterator(chunk_size=5000))
        if count != seal.event_count:
            report.breaches.append(
                Breach(
                    None,
                    seal.pk,
                    f"{label}：封存时有 {seal.event_count} 条事件，现有 {count} 条，记录被删除或插入",
                )
            )
        elif root != seal.root:
            report.breaches.append(Breach(None, seal.pk, f"{label}：所封存事件的哈希汇总不符"))
        prev_hash, prev_last = seal.hash, seal.last_event_id
    report.last_seal_hash = prev_hash
    return prev_last


def verify_event_log() -> VerifyReport:
    report = VerifyReport()
    rows = Event.objects.order_by("subject_type", "subject_id", "seq").iterator(chunk_size=5000)
    _chain_breaches(rows, report)
    last_sealed = _seal_breaches(report)
    report.unsealed_events = Event.objects.filter(id__gt=last_sealed).count()
    return report
