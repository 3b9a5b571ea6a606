"""Stored clock events (JSON on cases and steps) to and from `tongban.timelimits.clock`.

A case stores one list of clock events and folds it twice, with its promised and its legal limit;
a step folds its own list with its limit. Every service that appends here stores the due dates the
fold gives, in the same transaction (DESIGN.md §4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.clock import (
    ClockEvent,
    ClockState,
    Extend,
    Resume,
    Start,
    Stop,
    Suspend,
    fold,
)


def start(at: datetime) -> dict[str, Any]:
    return {"t": "start", "at": timezone.localtime(at).isoformat()}


def suspend(at: datetime, reason: str) -> dict[str, Any]:
    return {"t": "suspend", "at": timezone.localtime(at).isoformat(), "reason": reason}


def resume(at: datetime) -> dict[str, Any]:
    return {"t": "resume", "at": timezone.localtime(at).isoformat()}


def extend(days: int, reason: str) -> dict[str, Any]:
    return {"t": "extend", "days": days, "reason": reason}


def stop(at: datetime) -> dict[str, Any]:
    return {"t": "stop", "at": timezone.localtime(at).isoformat()}


def events_of(stored: list[dict[str, Any]], *, limit: int, unit: str) -> list[ClockEvent]:
    events: list[ClockEvent] = []
    for row in stored:
        kind = row["t"]
        if kind == "start":
            events.append(Start(at=datetime.fromisoformat(row["at"]), limit=limit, unit=unit))
        elif kind == "suspend":
            events.append(Suspend(at=datetime.fromisoformat(row["at"]), reason=row["reason"]))
        elif kind == "resume":
            events.append(Resume(at=datetime.fromisoformat(row["at"])))
        elif kind == "extend":
            events.append(Extend(days=int(row["days"]), reason=row["reason"]))
        elif kind == "stop":
            events.append(Stop(at=datetime.fromisoformat(row["at"])))
        else:  # pragma: no cover - the services write only the kinds above
            raise ValueError(f"unknown clock event {kind!r}")
    return events


def state_of(
    stored: list[dict[str, Any]], *, limit: int, unit: str, calendar: WorkCalendar
) -> ClockState | None:
    """The folded clock, or None when it has not started."""
    if not stored:
        return None
    return fold(events_of(stored, limit=limit, unit=unit), calendar)


def is_running(stored: list[dict[str, Any]]) -> bool:
    return bool(stored) and stored[-1]["t"] != "stop"


def is_suspended(stored: list[dict[str, Any]]) -> bool:
    kinds = [row["t"] for row in stored if row["t"] in ("suspend", "resume", "stop")]
    return bool(kinds) and kinds[-1] == "suspend"
