"""The case clock: due dates, suspensions, extensions, cards and uncovered years."""

import warnings
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tongban.timelimits.calendar import DayUnit
from tongban.timelimits.clock import (
    Card,
    ClockError,
    ClockEvent,
    Extend,
    Resume,
    Start,
    Stop,
    Suspend,
    fold,
)
from tongban.timelimits.tests.test_calendar import national_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour))


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59, 999999))


def due_date(events: list[ClockEvent]) -> date:
    """The due date of a clock that is not suspended."""
    due = fold(events, national_calendar()).due
    assert due is not None
    return due.date()


starts = st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2025, 6, 30))
limits = st.integers(min_value=1, max_value=30)


# --- the due date ---------------------------------------------------------------------------------


def test_due_at_the_end_of_the_fifth_working_day():
    clock = fold([Start(at(date(2026, 9, 30)), 5)], national_calendar())
    assert clock.due == datetime(2026, 10, 13, 23, 59, 59, 999999)


def test_an_immediate_case_is_due_the_same_day():
    clock = fold([Start(at(date(2026, 11, 16)), 0)], national_calendar())
    assert clock.due == end_of(date(2026, 11, 16))


@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        (date(2026, 11, 15), date(2026, 11, 16)),  # Sunday → Monday
        (date(2026, 10, 3), date(2026, 10, 8)),  # 国庆节 → first working day after it
    ],
)
def test_an_immediate_case_accepted_on_a_day_off_is_due_the_next_working_day(accepted, due):
    assert fold([Start(at(accepted), 0)], national_calendar()).due == end_of(due)
    natural = fold([Start(at(accepted), 0, DayUnit.NATURAL)], national_calendar())
    assert natural.due == end_of(due)


def test_natural_days_count_every_day():
    clock = fold([Start(at(date(2026, 9, 15)), 5, DayUnit.NATURAL)], national_calendar())
    # Five days after Tuesday the 15th is Sunday the 20th, a 调休 working day: it stands.
    assert clock.due == end_of(date(2026, 9, 20))


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 9, 30), 5, date(2026, 10, 8)),  # 10-05 falls in 国庆节: the 8th, first day back
        (date(2026, 9, 14), 5, date(2026, 9, 20)),  # Saturday the 19th → Sunday the 20th, 调休
        (date(2026, 11, 16), 5, date(2026, 11, 23)),  # Saturday the 21st → Monday the 23rd
    ],
)
def test_a_natural_day_limit_ending_on_a_day_off_ends_on_the_next_working_day(start, days, due):
    # 民法典 第二百零三条
    assert fold([Start(at(start), days, DayUnit.NATURAL)], national_calendar()).due == end_of(due)


def test_due_keeps_the_start_time_zone_and_reads_events_in_it():
    calendar = national_calendar()
    start = datetime(2026, 11, 16, 9, 0, tzinfo=SHANGHAI)
    clock = fold([Start(start, 5)], calendar)
    assert clock.due == datetime(2026, 11, 23, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    # 17:00 UTC on the 17th is already the 18th in Shanghai: the suspension begins on the 18th.
    suspend = datetime(2026, 11, 17, 17, 0, tzinfo=ZoneInfo("UTC"))
    resume = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    clock = fold([Start(start, 5), Suspend(suspend, "专家评审"), Resume(resume)], calendar)
    assert clock.suspensions[0].suspended_at.date() == date(2026, 11, 18)
    assert clock.due == datetime(
        2026, 11, 25, 23, 59, 59, 999999, tzinfo=SHANGHAI
    )  # 2 working days (19th, 20th) later


# --- suspensions ----------------------------------------------------------------------------------


def test_a_suspension_moves_the_due_date_by_its_working_days():
    # Due Mon 11-23; suspended Tue 11-17 to Thu 11-19: the 18th and 19th do not count.
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 17)), "现场核查"),
        Resume(at(date(2026, 11, 19), 15)),
    ]
    assert fold(events, national_calendar()).due == end_of(date(2026, 11, 25))


def test_a_suspension_over_a_holiday_counts_only_its_working_days():
    # Due 10-12 (09-29, 09-30, 10-08, 10-09, 10-10 调休, 10-12). Suspended 09-29 → 10-09: the
    # working days 09-30, 10-08 and 10-09 do not count, so the due date moves 3 working days.
    events: list[ClockEvent] = [
        Start(at(date(2026, 9, 28)), 6),
        Suspend(at(date(2026, 9, 29)), "听证"),
        Resume(at(date(2026, 10, 9))),
    ]
    assert fold(events[:1], national_calendar()).due == end_of(date(2026, 10, 12))
    assert fold(events, national_calendar()).due == end_of(date(2026, 10, 15))


def test_a_suspension_resumed_on_a_day_off_moves_by_the_working_days_before_it():
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 20)), "检验检测"),  # Friday
        Resume(at(date(2026, 11, 22))),  # Sunday: no working day in between
    ]
    assert fold(events, national_calendar()).due == end_of(date(2026, 11, 23))


def test_a_suspension_on_the_due_day_carries_the_rest_of_that_day_over():
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 23), 16), "专家评审"),
        Resume(at(date(2026, 11, 26), 9)),
    ]
    assert fold(events, national_calendar()).due == end_of(date(2026, 11, 26))


def test_a_suspension_after_the_due_date_leaves_the_case_overdue():
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 24)), "鉴定"),
        Resume(at(date(2026, 12, 4))),
    ]
    clock = fold(events, national_calendar())
    assert clock.due == end_of(date(2026, 11, 23))
    assert clock.card(at(date(2026, 12, 4))) is Card.RED


def test_a_natural_day_clock_moves_by_natural_days():
    events: list[ClockEvent] = [
        Start(at(date(2026, 9, 28)), 10, DayUnit.NATURAL),
        Suspend(at(date(2026, 9, 29)), "听证"),
        Resume(at(date(2026, 10, 9))),
    ]
    # Ten days plus the ten suspended ends on Sunday the 18th, a day off: Monday the 19th.
    assert fold(events, national_calendar()).due == end_of(date(2026, 10, 19))


def test_while_suspended_the_due_date_is_unknown_and_the_days_left_stand_still():
    calendar = national_calendar()
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 17)), "专家评审"),
    ]
    clock = fold(events, calendar)
    assert clock.suspended
    assert clock.due is None
    assert clock.due_at(at(date(2026, 11, 17))) == end_of(date(2026, 11, 23))
    assert clock.due_at(at(date(2026, 11, 20))) == end_of(date(2026, 11, 26))
    for day in [date(2026, 11, 17) + timedelta(days=i) for i in range(30)]:
        assert clock.remaining(at(day)) == 4
        assert clock.card(at(day)) is Card.GREEN


def test_stop_ends_an_open_suspension():
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 17)), "专家评审"),
        Stop(at(date(2026, 11, 19))),
    ]
    clock = fold(events, national_calendar())
    assert not clock.suspended
    assert clock.stopped
    assert clock.due == end_of(date(2026, 11, 25))


@given(
    starts,
    limits,
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=23),
)
def test_a_suspension_of_k_working_days_moves_the_due_date_by_exactly_k(
    start, limit, where, length, hour
):
    calendar = national_calendar()
    plain = due_date([Start(start, limit)])
    # Suspend somewhere from the start up to the due date, resume any number of days later.
    suspended = start.date() + timedelta(days=round(where * (plain - start.date()).days))
    resumed = suspended + timedelta(days=length)
    suspend_at = max(start, at(suspended, hour))
    events: list[ClockEvent] = [
        Start(start, limit),
        Suspend(suspend_at, "特别程序"),
        Resume(max(suspend_at, at(resumed, 23))),
    ]
    k = calendar.working_days_between(suspended, resumed)
    assert due_date(events) == calendar.add_working_days(plain, k)


@given(
    starts, limits, st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=40)
)
def test_suspended_working_days_never_count(start, limit, offset, length):
    """Reference model: the due date is the day the limit-th counted working day falls on."""
    calendar = national_calendar()
    suspended = start.date() + timedelta(days=offset)
    resumed = suspended + timedelta(days=length)
    assume(at(suspended, 23) >= start)
    assume(suspended < due_date([Start(start, limit)]))
    events: list[ClockEvent] = [
        Start(start, limit),
        Suspend(at(suspended, 23), ""),
        Resume(at(resumed, 23)),
    ]
    counted, day = 0, start.date()
    while counted < limit:
        day += timedelta(days=1)
        if calendar.is_workday(day) and not suspended < day <= resumed:
            counted += 1
    assert due_date(events) == day


@given(starts, limits, st.integers(min_value=1, max_value=30))
def test_days_used_and_days_left_add_up_to_the_limit(start, limit, k):
    # Any working day from the first counted day to the due date (drawn directly, not filtered).
    calendar = national_calendar()
    clock = fold([Start(start, limit)], calendar)
    today = calendar.add_working_days(start.date(), min(k, limit))
    assert clock.elapsed(at(today)) + clock.remaining(at(today)) == limit


def test_elapsed_skips_suspended_days():
    events: list[ClockEvent] = [
        Start(at(date(2026, 11, 16)), 5),
        Suspend(at(date(2026, 11, 17)), "现场核查"),
        Resume(at(date(2026, 11, 19))),
    ]
    clock = fold(events, national_calendar())
    assert clock.elapsed(at(date(2026, 11, 16))) == 0
    assert clock.elapsed(at(date(2026, 11, 18))) == 1  # only the 17th
    assert clock.elapsed(at(date(2026, 11, 20))) == 2  # 17th and 20th
    open_clock = fold(events[:2], national_calendar())
    assert open_clock.elapsed(at(date(2026, 11, 30))) == 1


# --- extensions -----------------------------------------------------------------------------------


def test_an_extension_adds_its_working_days():
    events: list[ClockEvent] = [Start(at(date(2026, 9, 30)), 5), Extend(10, "需要组织专家论证")]
    # Due 10-13; ten working days later: 10-14..16, 19..23, 26, 27.
    assert fold(events, national_calendar()).due == end_of(date(2026, 10, 27))
    assert fold(events, national_calendar()).extended_days == 10


def test_an_extension_counts_the_same_wherever_it_stands():
    start, suspend, resume = at(date(2026, 11, 16)), at(date(2026, 11, 17)), at(date(2026, 12, 1))
    before: list[ClockEvent] = [
        Start(start, 5),
        Extend(3, "r"),
        Suspend(suspend, "s"),
        Resume(resume),
    ]
    after: list[ClockEvent] = [
        Start(start, 5),
        Suspend(suspend, "s"),
        Resume(resume),
        Extend(3, "r"),
    ]
    calendar = national_calendar()
    assert fold(before, calendar).due == fold(after, calendar).due


@given(starts, limits, st.integers(min_value=1, max_value=30))
def test_an_extension_moves_the_due_date_by_exactly_its_days(start, limit, days):
    calendar = national_calendar()
    plain = due_date([Start(start, limit)])
    extended = due_date([Start(start, limit), Extend(days, "延期")])
    assert extended == calendar.add_working_days(plain, days)


def test_a_second_extension_is_refused():
    events: list[ClockEvent] = [Start(at(date(2026, 9, 30)), 5), Extend(10, "a"), Extend(5, "b")]
    with pytest.raises(ClockError, match="only once"):
        fold(events, national_calendar())


# --- impossible event sequences -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "begin with Start"),
        ([Suspend(at(date(2026, 11, 16)), "x"), Start(at(date(2026, 11, 16)), 5)], "begin with"),
        ([Start(at(date(2026, 11, 16)), 5), Start(at(date(2026, 11, 17)), 5)], "starts only once"),
        ([Start(at(date(2026, 11, 16)), 5), Resume(at(date(2026, 11, 17)))], "not suspended"),
        (
            [
                Start(at(date(2026, 11, 16)), 5),
                Suspend(at(date(2026, 11, 17)), "a"),
                Suspend(at(date(2026, 11, 18)), "b"),
            ],
            "already suspended",
        ),
        (
            [Start(at(date(2026, 11, 16)), 5), Stop(at(date(2026, 11, 17))), Extend(3, "late")],
            "after Stop",
        ),
        (
            [
                Start(at(date(2026, 11, 16)), 5),
                Stop(at(date(2026, 11, 17))),
                Suspend(at(date(2026, 11, 18)), "late"),
            ],
            "after Stop",
        ),
        (
            [Start(at(date(2026, 11, 16)), 5), Suspend(at(date(2026, 11, 15)), "before")],
            "earlier than",
        ),
        ([Start(at(date(2026, 11, 16)), -1)], "negative"),
        ([Start(at(date(2026, 11, 16)), 5), Extend(0, "nothing")], "at least one day"),
        ([Start(at(date(2026, 11, 16)), 5, "lunar")], "unknown day unit"),
        (
            [
                Start(at(date(2026, 11, 16)), 5),
                Suspend(datetime(2026, 11, 17, tzinfo=SHANGHAI), "aware"),
            ],
            "naive and aware",
        ),
    ],
)
def test_impossible_sequences_are_refused(events, message):
    with pytest.raises(ClockError, match=message):
        fold(events, national_calendar())


# --- days left and cards --------------------------------------------------------------------------


def test_days_left_reach_zero_on_the_due_day_and_go_negative_after():
    clock = fold([Start(at(date(2026, 11, 16)), 5)], national_calendar())  # due Mon 11-23
    assert clock.remaining(at(date(2026, 11, 16))) == 5
    assert clock.remaining(at(date(2026, 11, 21))) == 1  # Saturday: Monday is still ahead
    assert clock.remaining(at(date(2026, 11, 23))) == 0
    assert clock.remaining(at(date(2026, 11, 24))) == -1
    assert clock.remaining(at(date(2026, 11, 25))) == -2


def test_the_weekend_after_a_friday_due_date_is_already_overdue():
    clock = fold([Start(at(date(2026, 11, 16)), 4)], national_calendar())  # due Fri 11-20
    assert clock.remaining(at(date(2026, 11, 21))) == -1
    assert clock.remaining(at(date(2026, 11, 22))) == -1
    assert clock.remaining(at(date(2026, 11, 23))) == -1
    assert clock.remaining(at(date(2026, 11, 24))) == -2
    assert clock.card(at(date(2026, 11, 21))) is Card.RED


def test_cards_turn_yellow_on_the_last_working_day_and_red_after_it():
    clock = fold([Start(at(date(2026, 11, 16)), 5)], national_calendar())  # due Mon 11-23
    assert clock.card(at(date(2026, 11, 20))) is Card.GREEN
    assert clock.card(at(date(2026, 11, 22))) is Card.GREEN  # Sunday: a working day still left
    assert clock.card(at(date(2026, 11, 23), 8)) is Card.YELLOW
    assert clock.card(end_of(date(2026, 11, 23))) is Card.YELLOW
    assert clock.card(datetime(2026, 11, 24)) is Card.RED


def test_the_yellow_threshold_is_a_setting():
    clock = fold([Start(at(date(2026, 11, 16)), 5)], national_calendar())
    assert clock.card(at(date(2026, 11, 18)), yellow_days=3) is Card.GREEN  # Thu, Fri, Mon left
    assert clock.card(at(date(2026, 11, 19)), yellow_days=3) is Card.YELLOW  # Fri, Mon left


@given(starts, limits, st.integers(min_value=0, max_value=3))
def test_cards_only_ever_get_worse(start, limit, yellow_days):
    clock = fold([Start(start, limit)], national_calendar())
    order = [Card.GREEN, Card.YELLOW, Card.RED]
    colours = [
        clock.card(at(start.date() + timedelta(days=i)), yellow_days)
        for i in range((due_date([Start(start, limit)]) - start.date()).days + 5)
    ]
    ranks = [order.index(colour) for colour in colours]
    assert ranks == sorted(ranks)
    assert colours[-1] is Card.RED


@pytest.mark.parametrize(
    ("stopped", "card"),
    [
        (date(2026, 11, 18), Card.GREEN),
        (date(2026, 11, 23), Card.YELLOW),
        (date(2026, 11, 25), Card.RED),
    ],
)
def test_a_stopped_clock_keeps_the_card_it_finished_with(stopped, card):
    clock = fold([Start(at(date(2026, 11, 16)), 5), Stop(at(stopped))], national_calendar())
    assert clock.card(at(date(2027, 3, 1))) is card
    assert clock.remaining(at(date(2027, 3, 1))) == clock.remaining(at(stopped))


# --- years no table covers ------------------------------------------------------------------------


def test_a_clock_reaching_an_uncovered_year_reports_it_without_emitting_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clock = fold([Start(at(date(2026, 12, 20)), 20)], national_calendar())
    assert clock.warnings == {2027}


def test_a_clock_inside_covered_years_has_no_warnings():
    clock = fold([Start(at(date(2026, 9, 30)), 20)], national_calendar())
    assert clock.warnings == frozenset()
    assert clock.warnings_at(at(date(2026, 11, 1))) == frozenset()


def test_a_query_in_an_uncovered_year_is_reported_too():
    clock = fold([Start(at(date(2026, 11, 16)), 5)], national_calendar())
    assert clock.warnings == frozenset()
    assert clock.warnings_at(at(date(2027, 2, 1))) == {2027}


def test_a_natural_day_clock_consults_the_table_for_its_last_day_only():
    clock = fold([Start(at(date(2026, 11, 20)), 30, DayUnit.NATURAL)], national_calendar())
    assert clock.due == end_of(date(2026, 12, 21))  # the 20th is a Sunday
    assert clock.warnings == frozenset()
    # A last day in an uncovered year is read Monday–Friday and said so.
    clock = fold([Start(at(date(2026, 12, 20)), 30, DayUnit.NATURAL)], national_calendar())
    assert clock.due == end_of(date(2027, 1, 19))
    assert clock.warnings == {2027}
