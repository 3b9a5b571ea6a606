"""The case clock: a time limit folded from its events (start, suspend, resume, extend, stop).

This module is for answering, from a case's or a step's clock events, when it is due, how many days
are left or used, and which card it shows. It is pure Python over a :class:`WorkCalendar`: it must
never import Django, read the clock or store anything. Services call :func:`fold` at every event that
can move a due date and store the answer (DESIGN.md §4, "Time limits").

Rules, each chosen to be checkable by a test:

- The day of the start does not count. The due date is ``add_days(start date, limit + extension,
  unit)``; a limit of 0 (即办件) is due at the end of the start day, or of the next working day when
  started on a day off (whatever the unit). ``due`` is the last instant of the due date
  (23:59:59.999999) in the start's time zone.
- All moments are read in the time zone of ``Start.at`` (events and query times are converted to it),
  so give the Start in the service centre's local time. Naive and aware moments cannot be mixed.
- A suspension counts from the suspend date (exclusive: the clock ran that day) to the resume date
  (inclusive: like the day of acceptance, the day the clock restarts does not count). On resume the
  due date moves by exactly the working days in that interval, ``working_days_between(suspend date,
  resume date)`` (natural days for a natural-day clock). A suspension of k working days therefore
  moves the due date by exactly k working days; one that begins after the due date moves nothing:
  an overdue case stays overdue.
- While suspended the due date is not known: ``ClockState.due`` is None and ``due_at(at)`` answers
  as if the clock resumed at ``at``.
- A natural-day limit whose last day is a day off ends on the next working day (民法典 第二百零三条:
  期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日).
- An extension is granted once and lengthens the limit by its days wherever it stands in the events.
- Stop ends the clock (and a suspension still open). A stopped clock is frozen at its stop time:
  ``remaining``, ``elapsed`` and ``card`` answer as of the stop for any later time, so a completed
  case keeps the colour it finished with.
- Uncovered years are reported as data, ``ClockState.warnings`` (and ``warnings_at(at)`` for a query
  time), never as an emitted warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from tongban.timelimits.calendar import DayUnit, WorkCalendar

__all__ = [
    "Card",
    "ClockError",
    "ClockEvent",
    "ClockState",
    "Extend",
    "Resume",
    "Start",
    "Stop",
    "Suspend",
    "Suspension",
    "fold",
]


class ClockError(ValueError):
    """The events do not describe a possible clock."""


class Card(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Start:
    at: datetime
    limit: int
    unit: DayUnit | str = DayUnit.WORKING


@dataclass(frozen=True, slots=True)
class Suspend:
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    at: datetime


@dataclass(frozen=True, slots=True)
class Extend:
    days: int
    reason: str


@dataclass(frozen=True, slots=True)
class Stop:
    at: datetime


ClockEvent = Start | Suspend | Resume | Extend | Stop


@dataclass(frozen=True, slots=True)
class Suspension:
    """A finished suspension, in the start's time zone."""

    suspended_at: datetime
    resumed_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class ClockState:
    """What a clock's events add up to. Build it with :func:`fold`."""

    start: datetime
    limit: int
    unit: DayUnit
    extended_days: int
    suspensions: tuple[Suspension, ...]
    suspended_since: datetime | None
    stopped_at: datetime | None
    # None while suspended: the due date depends on when the suspension will end (see due_at).
    due: datetime | None
    warnings: frozenset[int]
    _settled_due: date = field(repr=False)
    _calendar: WorkCalendar = field(repr=False, compare=False)

    @property
    def suspended(self) -> bool:
        return self.suspended_since is not None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def due_at(self, at: datetime) -> datetime:
        """The due moment, counting a suspension still open as if it ended at ``at``."""
        return _end_of_day(self._due_date_at(self._local(at)), self.start)

    def remaining(self, at: datetime) -> int:
        """Days (of the clock's unit) left until due: 0 on the due day, negative once overdue.

        Once overdue the answer is always at most -1, even on a day off right after the due date,
        so that ``remaining(at) < 0`` exactly when the case is overdue.
        """
        at = self._frozen(at)
        today, due = at.date(), self._due_date_at(at)
        calendar = self._calendar
        if self.unit is DayUnit.NATURAL:
            return calendar.natural_days_between(today, due)
        if today <= due:
            return calendar.working_days_between(today, due)
        return -calendar.working_days_between(due, calendar.add_working_days(today, 0))

    def elapsed(self, at: datetime) -> int:
        """Days (of the clock's unit) counted so far: after the start day, suspensions excluded."""
        at = self._frozen(at)
        today, first = at.date(), self.start.date()
        if today <= first:
            return 0
        count = self._between(first, today)
        for suspension in self.suspensions:
            begin = suspension.suspended_at.date()
            end = min(suspension.resumed_at.date(), today)
            if end > begin:
                count -= self._between(begin, end)
        if self.suspended_since is not None and today > self.suspended_since.date():
            count -= self._between(self.suspended_since.date(), today)
        return count

    def card(self, at: datetime, yellow_days: int = 1) -> Card:
        """Red once past due; yellow when fewer than ``yellow_days`` days are left; else green."""
        at = self._frozen(at)
        if at.date() > self._due_date_at(at):
            return Card.RED
        if self.remaining(at) < yellow_days:
            return Card.YELLOW
        return Card.GREEN

    def warnings_at(self, at: datetime) -> frozenset[int]:
        """``warnings`` plus the uncovered years a query at ``at`` depends on."""
        if self.unit is DayUnit.NATURAL and self.limit + self.extended_days > 0:
            return self.warnings
        at = self._frozen(at)
        last = max(at.date(), self._due_date_at(at))
        return self.warnings | self._calendar.uncovered_years_between(self.start.date(), last)

    # --- internals -------------------------------------------------------------------------------------

    def _local(self, at: datetime) -> datetime:
        return _in_zone_of(at, self.start)

    def _frozen(self, at: datetime) -> datetime:
        at = self._local(at)
        if self.stopped_at is not None and at > self.stopped_at:
            return self.stopped_at
        return at

    def _due_date_at(self, at: datetime) -> date:
        if self.suspended_since is None:
            return self._settled_due
        return _moved_by_suspension(
            self._settled_due,
            self.suspended_since.date(),
            max(self.suspended_since.date(), at.date()),
            self.unit,
            self._calendar,
        )

    def _between(self, a: date, b: date) -> int:
        return self._calendar.days_between(a, b, self.unit)


def fold(events: Sequence[ClockEvent], calendar: WorkCalendar) -> ClockState:
    """Add up a clock's events, in the order they happened; raise ClockError if they cannot be."""
    if not events or not isinstance(events[0], Start):
        raise ClockError("a clock's events must begin with Start")
    start_event = events[0]
    if start_event.limit < 0:
        raise ClockError(f"a limit cannot be negative, got {start_event.limit}")
    try:
        unit = DayUnit(start_event.unit)
    except ValueError:
        raise ClockError(f"unknown day unit {start_event.unit!r}") from None
    start = start_event.at
    quiet = calendar.without_warnings()

    extended_days = 0
    suspensions: list[Suspension] = []
    open_suspension: tuple[datetime, str] | None = None
    stopped_at: datetime | None = None
    last_at = start
    for position, event in enumerate(events[1:], start=1):
        what = f"event {position} ({type(event).__name__})"
        if stopped_at is not None:
            raise ClockError(f"{what} comes after Stop")
        if isinstance(event, Extend):
            if extended_days:
                raise ClockError(f"{what}: an extension is granted only once")
            if event.days < 1:
                raise ClockError(f"{what}: an extension needs at least one day, got {event.days}")
            extended_days = event.days
            continue
        if isinstance(event, Start):
            raise ClockError(f"{what}: a clock starts only once")
        if not isinstance(event, Suspend | Resume | Stop):
            raise ClockError(f"{what}: not a clock event: {event!r}")
        at = _in_zone_of(event.at, start)
        if at < last_at:
            raise ClockError(f"{what} at {at.isoformat()} is earlier than {last_at.isoformat()}")
        last_at = at
        if isinstance(event, Suspend):
            if open_suspension is not None:
                raise ClockError(f"{what}: the clock is already suspended")
            open_suspension = (at, event.reason)
        elif isinstance(event, Resume):
            if open_suspension is None:
                raise ClockError(f"{what}: the clock is not suspended")
            suspensions.append(Suspension(open_suspension[0], at, open_suspension[1]))
            open_suspension = None
        else:
            if open_suspension is not None:
                # A case can end during a special procedure (e.g. withdrawn); the pause ends with it.
                suspensions.append(Suspension(open_suspension[0], at, open_suspension[1]))
                open_suspension = None
            stopped_at = at

    total = start_event.limit + extended_days
    if total == 0:
        due_date = quiet.add_working_days(start.date(), 0)
    else:
        due_date = quiet.add_days(start.date(), total, unit)
    for suspension in suspensions:
        due_date = _moved_by_suspension(
            due_date, suspension.suspended_at.date(), suspension.resumed_at.date(), unit, quiet
        )
    if unit is DayUnit.NATURAL and total > 0 and not quiet.is_workday(due_date):
        # 民法典 第二百零三条: a period whose last day is a day off ends on the next working day.
        due_date = quiet.add_working_days(due_date, 0)

    # Natural-day arithmetic consults the holiday table for its last day only (民法典 203).
    if unit is DayUnit.WORKING or total == 0:
        uncovered = calendar.uncovered_years_between(start.date(), max(due_date, last_at.date()))
    else:
        # A natural-day clock consults the table only for its last day.
        uncovered = calendar.uncovered_years_between(due_date, due_date)
    return ClockState(
        start=start,
        limit=start_event.limit,
        unit=unit,
        extended_days=extended_days,
        suspensions=tuple(suspensions),
        suspended_since=open_suspension[0] if open_suspension else None,
        stopped_at=stopped_at,
        due=None if open_suspension else _end_of_day(due_date, start),
        warnings=uncovered,
        _settled_due=due_date,
        _calendar=quiet,
    )


def _moved_by_suspension(
    due: date, suspended: date, resumed: date, unit: DayUnit, calendar: WorkCalendar
) -> date:
    if suspended > due:
        # The limit had run out before the pause began: nothing left to carry over.
        return due
    return calendar.add_days(due, calendar.days_between(suspended, resumed, unit), unit)


def _in_zone_of(at: datetime, start: datetime) -> datetime:
    if (at.tzinfo is None) != (start.tzinfo is None):
        raise ClockError(f"cannot mix naive and aware moments: {at!r} and start {start!r}")
    return at if start.tzinfo is None else at.astimezone(start.tzinfo)


def _end_of_day(d: date, start: datetime) -> datetime:
    return datetime.combine(d, time.max, tzinfo=start.tzinfo)
