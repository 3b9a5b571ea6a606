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

Speed: the calendar keeps an index over a span of years (the covered years ±2, grown on demand when a
date outside it is asked for): the sorted ordinals of working days and, for every day, how many working
days fall on or before it. Adding and counting working days are then two list look-ups.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

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

# Years added on each side of the covered span when the index is built or grown, so that limits
# running a little past the last covered year stay on the fast path.
_INDEX_MARGIN_YEARS = 2
_MICROSECONDS_PER_HOUR = 3_600_000_000


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
    """Working days over a span of whole years; replaced as a whole, never changed in place."""

    __slots__ = ("base", "first_year", "last_year", "ordinals", "rank", "size", "workday")

    def __init__(
        self, first_year: int, last_year: int, is_workday_ordinal: Callable[[int], bool]
    ) -> None:
        self.first_year = first_year
        self.last_year = last_year
        self.base = date(first_year, 1, 1).toordinal()
        self.size = date(last_year, 12, 31).toordinal() - self.base + 1
        workday = bytearray(self.size)
        rank = [0] * self.size
        ordinals: list[int] = []
        count = 0
        for i in range(self.size):
            ordinal = self.base + i
            if is_workday_ordinal(ordinal):
                workday[i] = 1
                count += 1
                ordinals.append(ordinal)
            rank[i] = count
        self.workday = bytes(workday)
        # rank[i]: how many working days fall on or before day base + i (within the span).
        self.rank = rank
        self.ordinals = ordinals


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
        if years:
            self._index = self._build_index(
                max(1, years[0] - _INDEX_MARGIN_YEARS),
                min(9999, years[-1] + _INDEX_MARGIN_YEARS),
            )
        else:
            self._index = None
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
        if index is not None:
            i = ordinal - index.base
            if 0 <= i < index.size:
                j = index.rank[i] + n - 1 if n > 0 else index.rank[i] - index.workday[i] + n
                if 0 <= j < len(index.ordinals):
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
        index = self._index_covering(min(oa, ob), max(oa, ob))
        lo, hi = self._fast_lo, self._fast_hi
        if not (lo <= oa <= hi and lo <= ob <= hi):
            self._warn_if_uncovered(min(oa, ob), max(oa, ob))
        return index.rank[ob - index.base] - index.rank[oa - index.base]

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
        return self._working_between_ordinals(oa, ob)

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
        index = self._index_covering(oa, ob)
        self._warn_if_uncovered(oa, ob)
        days_before_b = index.rank[ob - index.base] - index.workday[ob - index.base]
        days_before_a = index.rank[oa - index.base] - index.workday[oa - index.base]
        microseconds = (
            (days_before_b - days_before_a) * self._day_capacity
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
        if index is not None and 0 <= ordinal - index.base < index.size:
            return bool(index.workday[ordinal - index.base])
        return self._rule(ordinal)

    def _rule(self, ordinal: int) -> bool:
        d = date.fromordinal(ordinal)
        if d.weekday() < 5:
            return d not in self._days_off
        return d in self._extra_workdays

    def _add_working_ordinal(self, ordinal: int, n: int) -> int:
        index = self._index_covering(ordinal, ordinal)
        while True:
            i = ordinal - index.base
            j = index.rank[i] + n - 1 if n > 0 else index.rank[i] - index.workday[i] + n
            if 0 <= j < len(index.ordinals):
                return index.ordinals[j]
            # The answer lies beyond the span: grow it by roughly the years still missing
            # (at least 104 weekdays a year, so this converges in a few rounds).
            missing_years = (j - len(index.ordinals) if j >= 0 else -j) // 104 + 1
            if j >= 0:
                if index.last_year >= 9999:
                    raise OverflowError("date value out of range")
                target = date(min(9999, index.last_year + missing_years), 12, 31).toordinal()
                index = self._index_covering(ordinal, target)
            else:
                if index.first_year <= 1:
                    raise OverflowError("date value out of range")
                target = date(max(1, index.first_year - missing_years), 1, 1).toordinal()
                index = self._index_covering(target, ordinal)

    def _working_between_ordinals(self, oa: int, ob: int) -> int:
        index = self._index_covering(min(oa, ob), max(oa, ob))
        return index.rank[ob - index.base] - index.rank[oa - index.base]

    def _index_covering(self, lo: int, hi: int) -> _Index:
        index = self._index
        if index is not None and index.base <= lo and hi < index.base + index.size:
            return index
        first = date.fromordinal(lo).year - _INDEX_MARGIN_YEARS
        last = date.fromordinal(hi).year + _INDEX_MARGIN_YEARS
        if index is not None:
            first, last = min(first, index.first_year), max(last, index.last_year)
        # Built aside and published with one assignment, so a concurrent reader sees the old index
        # or the new one, never half of one.
        index = self._build_index(max(1, first), min(9999, last))
        self._index = index
        return index

    def _build_index(self, first_year: int, last_year: int) -> _Index:
        return _Index(first_year, last_year, self._rule)

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
