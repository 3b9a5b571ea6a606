"""The working-day calendar: which days are working days, and how days and office hours are counted.

This module is for date arithmetic on the official holiday calendar (the State Council's notices,
including 调休 weekend working days) and on office hours. It is pure Python: it must never import
Django, touch a database or read the clock ("now" is always an argument), so that every answer can be
tested and reproduced without a database.

Counting rules (DESIGN.md §4, "Time limits"):
- The day a count starts from never counts: ``add_working_days(d, 1)`` is the next working day after
  ``d``; ``add_working_days(d, 0)`` is ``d`` itself if it is a working day, else the next one.
- ``working_days_between(a, b)`` counts the working days after ``a`` up to and including ``b``, so
  ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 1``.
- Working hours run over the office periods of working days only.

Uncovered years. A holiday table covers the years it was built for (``covered_years``). A date in any
other year is computed as plain Monday–Friday. Every method still returns its plain answer, but when
the answer depended on an uncovered year it also emits :class:`UncoveredYearWarning` through
:func:`warnings.warn`, pointed at the caller's line; the warning carries the years in ``.years``.
Callers must surface it and never let it pass silently: the clock reports the years as data
(``ClockState.warnings``, computed on :meth:`WorkCalendar.without_warnings`), and code that needs the
years itself asks :meth:`WorkCalendar.uncovered_years_between`. Natural-day arithmetic consults no
table and never warns.

Speed: the calendar keeps an index over the span of years its tables touch (the covered years and the
years of every listed day, ±2): the sorted ordinals of working days and, for every day, how many
working days fall on or before it. Adding and counting working days are then two array look-ups.
Outside the span nothing is listed, so the days there are plain Monday–Friday and are counted with
week arithmetic: every answer is O(1), and the index never grows after construction.
"""

from __future__ import annotations

import warnings
from array import array
from collections.abc import Iterable, Mapping, Set
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import accumulate, compress

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "DayUnit",
    "UncoveredYearWarning",
    "WorkCalendar",
]

DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(14, 30), time(17, 30)),
)

# Years added on each side of the index, so that limits running a little past the last covered
# year stay on the fast path.
_INDEX_MARGIN_YEARS = 2
_MICROSECONDS_PER_HOUR = 3_600_000_000
_LAST_ORDINAL = date.max.toordinal()


class DayUnit(StrEnum):
    """The unit a time limit is counted in."""

    WORKING = "working"
    NATURAL = "natural"


class UncoveredYearWarning(UserWarning):
    """A computation depended on years that no holiday table covers (counted Monday–Friday)."""

    def __init__(self, years: Iterable[int]) -> None:
        self.years: frozenset[int] = frozenset(years)
        listed = ", ".join(str(year) for year in sorted(self.years))
        super().__init__(
            f"no holiday table covers {listed}: those days were counted as plain Monday–Friday"
        )


class _Index:
    """Working days over a span of whole years, in arrays (a few bytes a day, whatever the span)."""

    __slots__ = ("base", "before", "end_weekdays", "ordinals", "rank", "size", "total", "workday")

    def __init__(
        self, first_year: int, last_year: int, days_off: Set[date], extra_workdays: Set[date]
    ) -> None:
        self.base = date(first_year, 1, 1).toordinal()
        self.size = date(last_year, 12, 31).toordinal() - self.base + 1
        # Built with whole-sequence operations, so that even a span of centuries (a mistyped year
        # in a table) takes a fraction of a second: the week's pattern, then the listed days.
        week = bytes((1, 1, 1, 1, 1, 0, 0))
        first_weekday = (self.base - 1) % 7  # ordinal 1, 0001-01-01, is a Monday
        workday = bytearray((week[first_weekday:] + week * (self.size // 7 + 1))[: self.size])
        for days, value in ((days_off, 0), (extra_workdays, 1)):
            for d in days:
                i = d.toordinal() - self.base
                if 0 <= i < self.size:
                    workday[i] = value
        self.workday = bytes(workday)
        # rank[i]: how many working days of the span fall on or before day base + i.
        self.rank = array("i", accumulate(workday))
        self.ordinals = array("i", compress(range(self.base, self.base + self.size), workday))
        self.total = len(self.ordinals)
        # Plain Monday–Friday outside the span: weekdays before it, and up to its last day.
        self.before = _weekdays_through(self.base - 1)
        self.end_weekdays = _weekdays_through(self.base + self.size - 1)


class WorkCalendar:
    """Working days and office hours of one jurisdiction; immutable once built."""

    __slots__ = (
        "_covered_years",
        "_day_capacity",
        "_days_off",
        "_extra_workdays",
        "_fast_hi",
        "_fast_lo",
        "_index",
        "_names",
        "_office_hours",
        "_periods",
        "_warn",
    )

    def __init__(
        self,
        days_off: Iterable[date],
        extra_workdays: Iterable[date],
        covered_years: Iterable[int],
        office_hours: Iterable[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        names: Mapping[date, str] | None = None,
    ) -> None:
        self._days_off = frozenset(_as_date(d) for d in days_off)
        self._extra_workdays = frozenset(_as_date(d) for d in extra_workdays)
        self._covered_years = frozenset(covered_years)
        self._names: dict[date, str] = {_as_date(d): n for d, n in (names or {}).items()}
        both = self._days_off & self._extra_workdays
        if both:
            raise ValueError(f"days both off and working: {_listed(both)}")
        # A 调休 working day is always a Saturday or Sunday; a weekday here is a typing error.
        weekdays = {d for d in self._extra_workdays if d.weekday() < 5}
        if weekdays:
            raise ValueError(
                f"extra working days must be Saturdays or Sundays: {_listed(weekdays)}"
            )

        self._office_hours = tuple((start, end) for start, end in office_hours)
        self._periods = _periods_in_microseconds(self._office_hours)
        self._day_capacity = sum(end - start for start, end in self._periods)

        # The fast path answers "is everything covered?" with two comparisons; with gaps in the
        # covered years it is disabled (empty range) and the exact check runs instead.
        years = sorted(self._covered_years)
        if years and years[-1] - years[0] + 1 == len(years):
            self._fast_lo = date(years[0], 1, 1).toordinal()
            self._fast_hi = date(years[-1], 12, 31).toordinal()
        else:
            self._fast_lo, self._fast_hi = 1, 0
        # The index must hold every listed day: outside it the week rule alone must be right.
        table_years = {d.year for d in self._days_off | self._extra_workdays} | self._covered_years
        self._index = _Index(
            max(1, min(table_years, default=2000) - _INDEX_MARGIN_YEARS),
            min(9999, max(table_years, default=2000) + _INDEX_MARGIN_YEARS),
            self._days_off,
            self._extra_workdays,
        )
        self._warn = True

    def without_warnings(self) -> WorkCalendar:
        """The same calendar, but silent about uncovered years (for callers that report them as data).

        ``warnings.catch_warnings`` is not used for this because it swaps process-wide state and is
        not safe in a threaded server.
        """
        twin = object.__new__(WorkCalendar)
        for name in WorkCalendar.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._warn = False
        return twin

    # --- what the calendar is made of -------------------------------------------------------------

    @property
    def days_off(self) -> frozenset[date]:
        return self._days_off

    @property
    def extra_workdays(self) -> frozenset[date]:
        return self._extra_workdays

    @property
    def covered_years(self) -> frozenset[int]:
        return self._covered_years

    @property
    def office_hours(self) -> tuple[tuple[time, time], ...]:
        return self._office_hours

    def covers(self, year: int) -> bool:
        return year in self._covered_years

    def name_of(self, d: date) -> str | None:
        """The holiday's name for a day off (e.g. "国庆节"), if the calendar was given one."""
        return self._names.get(_as_date(d))

    def uncovered_years_between(self, a: date, b: date) -> frozenset[int]:
        """The years from ``a`` to ``b`` (inclusive, either order) that no holiday table covers."""
        lo, hi = sorted((a.year, b.year))
        return frozenset(range(lo, hi + 1)) - self._covered_years

    def __repr__(self) -> str:
        years = sorted(self._covered_years)
        span = f"{years[0]}–{years[-1]}" if years else "none"
        return (
            f"<WorkCalendar covered={span} days_off={len(self._days_off)} "
            f"extra_workdays={len(self._extra_workdays)}>"
        )

    # --- working days --------------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        ordinal = d.toordinal()
        if not self._fast_lo <= ordinal <= self._fast_hi:
            self._warn_if_uncovered(ordinal, ordinal)
        return self._is_workday_ordinal(ordinal)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (n=0: start if it is a working day, else the next).

        Negative ``n`` counts backwards: -1 is the last working day before ``start``.
        """
        ordinal = start.toordinal()
        index = self._index
        # Fast path, inlined because it is what the supervision board and the clock call most.
        i = ordinal - index.base
        if 0 <= i < index.size:
            j = index.rank[i] + n - 1 if n > 0 else index.rank[i] - index.workday[i] + n
            if 0 <= j < index.total:
                result = index.ordinals[j]
                lo, hi = self._fast_lo, self._fast_hi
                if lo <= ordinal <= hi and lo <= result <= hi:
                    return date.fromordinal(result)
        result = self._add_working_ordinal(ordinal, n)
        self._warn_if_uncovered(min(ordinal, result), max(ordinal, result))
        return date.fromordinal(result)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; negative (mirrored) when b < a."""
        oa, ob = a.toordinal(), b.toordinal()
        lo, hi = self._fast_lo, self._fast_hi
        if lo <= oa <= hi and lo <= ob <= hi:
            index = self._index  # covered years always lie inside the index
            return index.rank[ob - index.base] - index.rank[oa - index.base]
        self._warn_if_uncovered(min(oa, ob), max(oa, ob))
        return self._rank(ob) - self._rank(oa)

    # --- natural days and either unit --------------------------------------------------------------

    def add_natural_days(self, start: date, n: int) -> date:
        return date.fromordinal(start.toordinal() + n)

    def natural_days_between(self, a: date, b: date) -> int:
        return b.toordinal() - a.toordinal()

    def add_days(self, start: date, n: int, unit: DayUnit | str) -> date:
        if DayUnit(unit) is DayUnit.NATURAL:
            return self.add_natural_days(start, n)
        ordinal = start.toordinal()
        result = self._add_working_ordinal(ordinal, n)
        self._warn_if_uncovered(min(ordinal, result), max(ordinal, result))
        return date.fromordinal(result)

    def days_between(self, a: date, b: date, unit: DayUnit | str) -> int:
        if DayUnit(unit) is DayUnit.NATURAL:
            return self.natural_days_between(a, b)
        oa, ob = a.toordinal(), b.toordinal()
        self._warn_if_uncovered(min(oa, ob), max(oa, ob))
        return self._rank(ob) - self._rank(oa)

    # --- office hours ----------------------------------------------------------------------------------

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The earliest moment at which ``hours`` of office time after ``start`` have passed.

        Counting outside office hours begins at the next office period. Times are wall-clock times in
        ``start``'s own time zone, and the result keeps ``start.tzinfo``.
        """
        if hours < 0:
            raise ValueError(f"hours must not be negative, got {hours}")
        remaining = round(hours * _MICROSECONDS_PER_HOUR)
        if remaining == 0:
            return start
        ordinal = start.toordinal()
        now = _microseconds_of(start.time())
        if self._is_workday_ordinal(ordinal):
            for period_start, period_end in self._periods:
                if now < period_end:
                    begin = max(now, period_start)
                    if remaining <= period_end - begin:
                        self._warn_if_uncovered(ordinal, ordinal)
                        return _moment(ordinal, begin + remaining, start.tzinfo)
                    remaining -= period_end - begin
        # Whole office days are skipped in one step; an exact multiple ends at the close of a day.
        whole_days = (remaining - 1) // self._day_capacity
        remaining -= whole_days * self._day_capacity
        last = self._add_working_ordinal(ordinal, whole_days + 1)
        self._warn_if_uncovered(ordinal, last)
        for period_start, period_end in self._periods:
            if remaining <= period_end - period_start:
                return _moment(last, period_start + remaining, start.tzinfo)
            remaining -= period_end - period_start
        raise AssertionError("unreachable: remaining is at most one office day")

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Office hours from ``a`` to ``b``; negative when b < a. The inverse of add_working_hours."""
        if (a.tzinfo is None) != (b.tzinfo is None):
            raise TypeError("cannot count between naive and aware datetimes")
        if a.tzinfo is not None:
            # Office hours are wall-clock times: read both moments in a's time zone.
            b = b.astimezone(a.tzinfo)
        if b < a:
            return -self.working_hours_between(b, a)
        oa, ob = a.toordinal(), b.toordinal()
        self._warn_if_uncovered(oa, ob)
        # Whole office days from a's day (inclusive) to b's day (exclusive), then the two partial days.
        whole_days = (self._rank(ob) - self._is_workday_ordinal(ob)) - (
            self._rank(oa) - self._is_workday_ordinal(oa)
        )
        microseconds = (
            whole_days * self._day_capacity
            + self._office_time_into_day(ob, b.time())
            - self._office_time_into_day(oa, a.time())
        )
        return microseconds / _MICROSECONDS_PER_HOUR

    # --- page and terminal helpers ---------------------------------------------------------------------

    def month_grid(self, year: int, month: int) -> list[list[date | None]]:
        """The month as weeks of seven days, Monday first; days of other months are None."""
        first = date(year, month, 1)
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        cells: list[date | None] = [None] * first.weekday()
        cells.extend(date.fromordinal(o) for o in range(first.toordinal(), following.toordinal()))
        cells.extend([None] * (-len(cells) % 7))
        return [cells[i : i + 7] for i in range(0, len(cells), 7)]

    # --- internals -------------------------------------------------------------------------------------

    def _is_workday_ordinal(self, ordinal: int) -> bool:
        index = self._index
        if 0 <= ordinal - index.base < index.size:
            return bool(index.workday[ordinal - index.base])
        return (ordinal - 1) % 7 < 5  # outside the index nothing is listed: Monday–Friday

    def _rank(self, ordinal: int) -> int:
        """How many working days fall on or before this day, counted from 0001-01-01."""
        index = self._index
        i = ordinal - index.base
        if i < 0:
            return _weekdays_through(ordinal)
        if i < index.size:
            return index.before + index.rank[i]
        return index.before + index.total + _weekdays_through(ordinal) - index.end_weekdays

    def _select(self, rank: int) -> int:
        """The ordinal of the working day whose rank (see _rank) is ``rank``."""
        index = self._index
        if rank <= index.before:
            ordinal = _nth_weekday(rank)
        elif rank <= index.before + index.total:
            ordinal = index.ordinals[rank - index.before - 1]
        else:
            ordinal = _nth_weekday(rank - index.before - index.total + index.end_weekdays)
        if not 1 <= ordinal <= _LAST_ORDINAL:
            raise OverflowError("date value out of range")
        return ordinal

    def _add_working_ordinal(self, ordinal: int, n: int) -> int:
        rank = self._rank(ordinal)
        if n > 0:
            return self._select(rank + n)
        # n = 0 is the day itself when it is a working day; n = -1 the working day before it.
        return self._select(rank - self._is_workday_ordinal(ordinal) + n + 1)

    def _office_time_into_day(self, ordinal: int, moment: time) -> int:
        if not self._is_workday_ordinal(ordinal):
            return 0
        now = _microseconds_of(moment)
        return sum(min(now, end) - start for start, end in self._periods if now > start)

    def _warn_if_uncovered(self, lo: int, hi: int) -> None:
        if self._fast_lo <= lo and hi <= self._fast_hi:
            return
        years = self.uncovered_years_between(date.fromordinal(lo), date.fromordinal(hi))
        if years and self._warn:
            # stacklevel 3: this helper, the public method, then the caller's line.
            warnings.warn(UncoveredYearWarning(years), stacklevel=3)


def _weekdays_through(ordinal: int) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday, ordinal 1) up to and including ``ordinal``."""
    return 5 * (ordinal // 7) + min(ordinal % 7, 5)


def _nth_weekday(n: int) -> int:
    """The ordinal of the n-th Monday-to-Friday day counted from 0001-01-01 (n=1)."""
    return (n - 1) // 5 * 7 + (n - 1) % 5 + 1


def _as_date(d: date) -> date:
    # A datetime is a date too, but a datetime key would never match a date in a set.
    return date(d.year, d.month, d.day) if isinstance(d, datetime) else d


def _listed(days: Iterable[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(days))


def _microseconds_of(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _moment(ordinal: int, microseconds: int, zone: tzinfo | None) -> datetime:
    midnight = datetime.combine(date.fromordinal(ordinal), time(0), tzinfo=zone)
    return midnight + timedelta(microseconds=microseconds)


def _periods_in_microseconds(
    office_hours: tuple[tuple[time, time], ...],
) -> tuple[tuple[int, int], ...]:
    if not office_hours:
        raise ValueError("office_hours needs at least one period")
    periods = tuple((_microseconds_of(s), _microseconds_of(e)) for s, e in office_hours)
    previous_end = -1
    for start, end in periods:
        if not previous_end <= start < end:
            raise ValueError(
                "office_hours must be periods in order, each ending after it starts, "
                f"without overlap: {office_hours!r}"
            )
        previous_end = end
    return periods
