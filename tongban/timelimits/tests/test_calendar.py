"""The working-day calendar, checked against chinesecalendar (2004–2026) and a day-by-day model."""

import warnings
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongban.timelimits.calendar import DayUnit, UncoveredYearWarning, WorkCalendar

FIRST_YEAR, LAST_YEAR = 2004, 2026
SHANGHAI = ZoneInfo("Asia/Shanghai")


@cache
def national_calendar() -> WorkCalendar:
    """The national calendar as chinesecalendar knows it (its holidays include weekend days)."""
    return WorkCalendar(
        days_off=chinese_calendar.holidays,
        extra_workdays=chinese_calendar.workdays,
        covered_years=range(FIRST_YEAR, LAST_YEAR + 1),
        names={d: name for d, name in chinese_calendar.holidays.items()},
    )


def every_day(first: date, last: date):
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        yield date.fromordinal(ordinal)


def naive_add_working_days(calendar: WorkCalendar, start: date, n: int) -> date:
    """The reference: walk one day at a time."""
    day = start
    if n == 0:
        while not calendar.is_workday(day):
            day += timedelta(days=1)
        return day
    step = timedelta(days=1 if n > 0 else -1)
    for _ in range(abs(n)):
        day += step
        while not calendar.is_workday(day):
            day += step
    return day


covered_days = st.dates(min_value=date(2005, 1, 1), max_value=date(2025, 12, 31))
offsets = st.integers(min_value=-60, max_value=60)


# --- which days are working days ------------------------------------------------------------------


def test_every_day_2004_to_2026_matches_chinesecalendar():
    calendar = national_calendar()
    for day in every_day(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day


def test_weekends_work_only_when_made_up_and_weekdays_rest_only_when_off():
    calendar = national_calendar()
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, 调休 for 国庆节
    assert not calendar.is_workday(date(2026, 10, 17))  # an ordinary Saturday
    assert not calendar.is_workday(date(2026, 10, 1))  # Thursday, 国庆节
    assert calendar.is_workday(date(2026, 10, 15))  # an ordinary Thursday


def test_exposes_its_days_and_holiday_names():
    calendar = national_calendar()
    assert isinstance(calendar.days_off, frozenset)
    assert isinstance(calendar.extra_workdays, frozenset)
    assert date(2026, 10, 10) in calendar.extra_workdays
    assert calendar.name_of(date(2026, 10, 1)) == "National Day"
    assert calendar.name_of(date(2026, 10, 15)) is None
    assert calendar.covers(2026)
    assert not calendar.covers(2027)


def test_refuses_a_day_both_off_and_working():
    with pytest.raises(ValueError, match="2026-10-10"):
        WorkCalendar([date(2026, 10, 10)], [date(2026, 10, 10)], [2026])


def test_refuses_an_extra_working_day_on_a_weekday():
    with pytest.raises(ValueError, match="Saturdays or Sundays"):
        WorkCalendar([], [date(2026, 10, 15)], [2026])


@pytest.mark.parametrize(
    "office_hours",
    [
        (),
        ((time(12), time(8, 30)),),
        ((time(8, 30), time(12)), (time(11), time(17))),
        ((time(14, 30), time(17, 30)), (time(8, 30), time(12))),
    ],
)
def test_refuses_office_hours_out_of_order(office_hours):
    with pytest.raises(ValueError, match="office_hours"):
        WorkCalendar([], [], [2026], office_hours=office_hours)


# --- adding and counting working days -------------------------------------------------------------


def test_five_working_days_after_the_eve_of_national_day_2026():
    # 10-01..07 off; 10-08 Thu (1), 10-09 Fri (2), 10-10 Sat 调休 (3), 10-12 Mon (4), 10-13 Tue (5).
    calendar = national_calendar()
    assert calendar.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5


def test_the_start_day_does_not_count():
    calendar = national_calendar()
    assert calendar.add_working_days(date(2026, 11, 16), 1) == date(2026, 11, 17)  # Mon → Tue
    assert calendar.add_working_days(date(2026, 11, 13), 1) == date(2026, 11, 16)  # Fri → Mon


def test_zero_days_is_the_start_or_the_next_working_day():
    calendar = national_calendar()
    assert calendar.add_working_days(date(2026, 11, 16), 0) == date(2026, 11, 16)
    assert calendar.add_working_days(date(2026, 11, 15), 0) == date(2026, 11, 16)  # Sunday
    assert calendar.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)  # 国庆节


def test_negative_days_count_backwards():
    calendar = national_calendar()
    assert calendar.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert calendar.add_working_days(date(2026, 10, 5), -1) == date(2026, 9, 30)
    assert calendar.add_working_days(date(2026, 10, 13), -5) == date(2026, 9, 30)


def test_counting_backwards_is_the_mirror():
    calendar = national_calendar()
    assert calendar.working_days_between(date(2026, 10, 13), date(2026, 9, 30)) == -5


def test_natural_days_ignore_the_calendar():
    calendar = national_calendar()
    assert calendar.add_natural_days(date(2026, 9, 30), 5) == date(2026, 10, 5)
    assert calendar.natural_days_between(date(2026, 9, 30), date(2026, 10, 5)) == 5
    assert calendar.natural_days_between(date(2026, 10, 5), date(2026, 9, 30)) == -5


def test_add_days_follows_the_unit():
    calendar = national_calendar()
    assert calendar.add_days(date(2026, 9, 30), 5, DayUnit.WORKING) == date(2026, 10, 13)
    assert calendar.add_days(date(2026, 9, 30), 5, "natural") == date(2026, 10, 5)
    assert calendar.days_between(date(2026, 9, 30), date(2026, 10, 13), "working") == 5
    with pytest.raises(ValueError):
        calendar.add_days(date(2026, 9, 30), 5, "lunar")


@pytest.mark.parametrize(
    ("start", "n"),
    [
        (date(2100, 3, 1), 45),
        (date(1990, 2, 1), -45),
        (date(2026, 12, 20), 400),
        (date(2003, 1, 5), 800),
        (date(2030, 1, 1), -9000),
        (date(1, 1, 1), 3),
        (date(9999, 12, 1), 0),
    ],
)
def test_far_from_the_tables_the_week_rule_agrees_with_walking_day_by_day(start, n):
    calendar = national_calendar().without_warnings()
    expected = naive_add_working_days(calendar, start, n)
    assert calendar.add_working_days(start, n) == expected
    if n > 0:
        assert calendar.working_days_between(start, expected) == n


def test_days_listed_outside_the_covered_years_still_count():
    calendar = WorkCalendar([date(2031, 5, 1)], [date(2031, 5, 10)], [2026]).without_warnings()
    assert not calendar.is_workday(date(2031, 5, 1))
    assert calendar.is_workday(date(2031, 5, 10))
    assert calendar.add_working_days(date(2031, 4, 30), 1) == date(2031, 5, 2)
    assert calendar.working_days_between(date(2026, 1, 1), date(2031, 12, 31)) == (
        sum(1 for d in every_day(date(2026, 1, 2), date(2031, 12, 31)) if calendar.is_workday(d))
    )


def test_beyond_the_ends_of_time():
    calendar = national_calendar().without_warnings()
    with pytest.raises(OverflowError):
        calendar.add_working_days(date(9999, 12, 31), 1)
    with pytest.raises(OverflowError):
        calendar.add_working_days(date(1, 1, 1), -1)


@given(covered_days, offsets)
def test_matches_walking_day_by_day(start, n):
    calendar = national_calendar()
    assert calendar.add_working_days(start, n) == naive_add_working_days(calendar, start, n)


@given(
    st.dates(min_value=date(1995, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(min_value=-800, max_value=800),
)
def test_across_the_edges_of_the_tables_matches_walking_day_by_day(start, n):
    calendar = national_calendar().without_warnings()
    end = calendar.add_working_days(start, n)
    assert end == naive_add_working_days(calendar, start, n)
    low, high = sorted((start, end))
    walked = sum(1 for d in every_day(low + timedelta(days=1), high) if calendar.is_workday(d))
    assert calendar.working_days_between(low, high) == walked


@given(covered_days, offsets)
def test_the_answer_is_a_working_day(start, n):
    calendar = national_calendar()
    assert calendar.is_workday(calendar.add_working_days(start, n))


@given(covered_days, offsets, offsets)
def test_monotonic_in_n(start, n1, n2):
    calendar = national_calendar()
    low, high = sorted((n1, n2))
    if low < high:
        assert calendar.add_working_days(start, low) < calendar.add_working_days(start, high)


@given(covered_days, covered_days, offsets)
def test_monotonic_in_the_start(a, b, n):
    calendar = national_calendar()
    early, late = sorted((a, b))
    assert calendar.add_working_days(early, n) <= calendar.add_working_days(late, n)


@given(covered_days, st.integers(min_value=1, max_value=60))
def test_counting_undoes_adding(start, n):
    calendar = national_calendar()
    assert calendar.working_days_between(start, calendar.add_working_days(start, n)) == n


@given(covered_days, covered_days)
def test_counting_is_antisymmetric(a, b):
    calendar = national_calendar()
    assert calendar.working_days_between(a, b) == -calendar.working_days_between(b, a)


# --- office hours ----------------------------------------------------------------------------------


def test_two_hours_from_friday_half_past_four_end_on_monday_half_past_nine():
    calendar = national_calendar()
    friday = datetime(2026, 11, 13, 16, 30)
    assert calendar.add_working_hours(friday, 2) == datetime(2026, 11, 16, 9, 30)


def test_working_hours_keep_the_time_zone():
    calendar = national_calendar()
    friday = datetime(2026, 11, 13, 16, 30, tzinfo=SHANGHAI)
    assert calendar.add_working_hours(friday, 2) == datetime(2026, 11, 16, 9, 30, tzinfo=SHANGHAI)
    assert calendar.add_working_hours(friday, 2).tzinfo is SHANGHAI


def test_counting_hours_starts_at_the_next_office_period():
    calendar = national_calendar()
    lunch = datetime(2026, 11, 16, 12, 45)
    assert calendar.add_working_hours(lunch, 1) == datetime(2026, 11, 16, 15, 30)
    dawn = datetime(2026, 11, 16, 6, 0)
    assert calendar.add_working_hours(dawn, 1) == datetime(2026, 11, 16, 9, 30)
    saturday = datetime(2026, 11, 14, 10, 0)
    assert calendar.add_working_hours(saturday, 1) == datetime(2026, 11, 16, 9, 30)


def test_hours_that_fill_a_period_end_at_its_close():
    calendar = national_calendar()
    assert calendar.add_working_hours(datetime(2026, 11, 13, 16, 30), 1) == datetime(
        2026, 11, 13, 17, 30
    )
    # 1 h on Friday, then a whole office day (6.5 h) on Monday: Monday's close, not Tuesday.
    assert calendar.add_working_hours(datetime(2026, 11, 13, 16, 30), 7.5) == datetime(
        2026, 11, 16, 17, 30
    )


def test_hours_skip_a_holiday():
    calendar = national_calendar()
    eve = datetime(2026, 9, 30, 16, 30)
    assert calendar.add_working_hours(eve, 2) == datetime(2026, 10, 8, 9, 30)
    assert calendar.working_hours_between(eve, datetime(2026, 10, 8, 9, 30)) == 2


def test_working_hours_between_counts_only_office_time():
    calendar = national_calendar()
    monday = datetime(2026, 11, 16, 7, 0)
    assert calendar.working_hours_between(monday, datetime(2026, 11, 16, 20, 0)) == 6.5
    assert calendar.working_hours_between(datetime(2026, 11, 16, 20, 0), monday) == -6.5


def test_working_hours_between_reads_both_moments_in_the_first_ones_zone():
    calendar = national_calendar()
    start = datetime(2026, 11, 16, 8, 30, tzinfo=SHANGHAI)
    end_utc = datetime(2026, 11, 16, 2, 30, tzinfo=ZoneInfo("UTC"))  # 10:30 in Shanghai
    assert calendar.working_hours_between(start, end_utc) == 2


def test_negative_hours_are_refused():
    with pytest.raises(ValueError, match="negative"):
        national_calendar().add_working_hours(datetime(2026, 11, 16, 9, 0), -1)


@given(
    st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2025, 12, 31)),
    st.integers(min_value=0, max_value=200 * 60).map(lambda minutes: minutes / 60),
)
def test_hours_between_undoes_adding_hours(start, hours):
    calendar = national_calendar()
    end = calendar.add_working_hours(start, hours)
    assert end >= start
    assert calendar.working_hours_between(start, end) == pytest.approx(hours, abs=1e-6)


# --- years no table covers ------------------------------------------------------------------------


def test_an_uncovered_year_still_answers_but_warns_from_the_callers_line():
    calendar = national_calendar()
    with pytest.warns(UncoveredYearWarning) as caught:
        due = calendar.add_working_days(date(2026, 12, 30), 5)
    assert due == date(2027, 1, 6)  # plain Monday–Friday: 12-31, 1-1, 1-4, 1-5, 1-6
    warning = caught[0].message
    assert isinstance(warning, UncoveredYearWarning)
    assert warning.years == frozenset({2027})
    assert caught[0].filename == __file__


@pytest.mark.parametrize(
    "compute",
    [
        lambda c: c.is_workday(date(2027, 1, 1)),
        lambda c: c.working_days_between(date(2026, 12, 1), date(2027, 2, 1)),
        lambda c: c.add_days(date(2027, 1, 1), 3, DayUnit.WORKING),
        lambda c: c.days_between(date(2027, 1, 1), date(2027, 1, 9), DayUnit.WORKING),
        lambda c: c.add_working_hours(datetime(2027, 1, 4, 9), 3),
        lambda c: c.working_hours_between(datetime(2026, 12, 31, 9), datetime(2027, 1, 4, 9)),
        lambda c: c.add_working_days(date(2003, 12, 31), 1),
    ],
)
def test_every_computation_on_an_uncovered_year_warns(compute):
    with pytest.warns(UncoveredYearWarning):
        compute(national_calendar())


def test_covered_years_do_not_warn():
    calendar = national_calendar()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calendar.add_working_days(date(2026, 12, 1), 10)
        calendar.working_days_between(date(2004, 1, 1), date(2026, 12, 31))
        calendar.is_workday(date(2004, 1, 1))
        calendar.add_working_hours(datetime(2026, 12, 1, 9), 20)
        calendar.add_natural_days(date(2026, 12, 31), 400)  # natural days consult no table


def test_without_warnings_answers_the_same_in_silence():
    calendar = national_calendar()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert calendar.without_warnings().add_working_days(date(2026, 12, 30), 5) == date(
            2027, 1, 6
        )


def test_a_gap_in_the_covered_years_warns():
    calendar = WorkCalendar([], [], [2020, 2022])
    assert calendar.uncovered_years_between(date(2020, 1, 1), date(2022, 12, 31)) == {2021}
    with pytest.warns(UncoveredYearWarning):
        calendar.working_days_between(date(2020, 6, 1), date(2022, 6, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calendar.add_working_days(date(2022, 3, 1), 10)


def test_a_calendar_without_tables_counts_monday_to_friday():
    calendar = WorkCalendar([], [], []).without_warnings()
    assert calendar.add_working_days(date(2026, 11, 13), 1) == date(2026, 11, 16)


# --- pages -------------------------------------------------------------------------------------------


def test_month_grid_weeks_start_on_monday():
    grid = national_calendar().month_grid(2026, 2)  # 2026-02-01 is a Sunday
    assert all(len(week) == 7 for week in grid)
    assert grid[0] == [None] * 6 + [date(2026, 2, 1)]
    assert grid[-1] == [date(2026, 2, day) for day in range(23, 29)] + [None]
    assert len(grid) == 5
    days = [d for week in grid for d in week if d is not None]
    assert days == list(every_day(date(2026, 2, 1), date(2026, 2, 28)))


def test_month_grid_of_december():
    grid = national_calendar().month_grid(2026, 12)
    days = [d for week in grid for d in week if d is not None]
    assert days[0] == date(2026, 12, 1) and days[-1] == date(2026, 12, 31)
