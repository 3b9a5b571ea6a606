"""The pure pieces of the indicators: working days taken, bucketing, percentiles, periods,
figures. Known answers beside properties (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tongban.metrics.definitions import INDICATORS
from tongban.metrics.models import DAYS_BUCKETS, VISIT_BUCKETS
from tongban.metrics.rollup import bucket_of, days_taken_between
from tongban.metrics.selectors import bucket_percentile, make_figure, split_period
from tongban.timelimits.calendar import WorkCalendar

# 2026: the National Day week (Oct 1-8 off, Sat Oct 10 a make-up working day) as a small table.
CALENDAR = WorkCalendar(
    days_off={date(2026, 10, d) for d in range(1, 9)},
    extra_workdays={date(2026, 10, 10)},
    covered_years={2026, 2027},
)

days_2026 = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))


def test_known_working_days_taken():
    assert days_taken_between(CALENDAR, date(2026, 11, 2), date(2026, 11, 2)) == 0
    assert days_taken_between(CALENDAR, date(2026, 11, 2), date(2026, 11, 6)) == 4
    # Accepted on Saturday: Monday is the working day of acceptance.
    assert days_taken_between(CALENDAR, date(2026, 11, 7), date(2026, 11, 9)) == 0
    assert days_taken_between(CALENDAR, date(2026, 11, 7), date(2026, 11, 10)) == 1
    # Across the holiday: Sep 30 (Wed) to Oct 9 (Fri): only Oct 9 works.
    assert days_taken_between(CALENDAR, date(2026, 9, 30), date(2026, 10, 9)) == 1
    # The make-up Saturday counts.
    assert days_taken_between(CALENDAR, date(2026, 10, 9), date(2026, 10, 10)) == 1


@given(days_2026, st.integers(min_value=0, max_value=60))
def test_days_taken_never_negative_and_grows_with_completion(accepted, extra):
    completed = accepted + timedelta(days=extra)
    taken = days_taken_between(CALENDAR, accepted, completed)
    later = days_taken_between(CALENDAR, accepted, completed + timedelta(days=1))
    assert 0 <= taken <= extra
    assert later in (taken, taken + 1)


@given(days_2026)
def test_completing_the_day_accepted_is_zero_days(day):
    assert days_taken_between(CALENDAR, day, day) == 0


@given(st.integers(min_value=0, max_value=400))
def test_every_value_falls_in_exactly_one_bucket(value):
    for buckets in (DAYS_BUCKETS, VISIT_BUCKETS):
        suffix = bucket_of(value, buckets)
        holding = [s for s, lo, hi in buckets if lo <= value and (hi is None or value <= hi)]
        assert holding == [suffix]


def test_known_percentiles():
    assert bucket_percentile([0, 0, 0, 0], VISIT_BUCKETS) is None
    assert bucket_percentile([1, 1, 0, 1], VISIT_BUCKETS) == 3
    assert bucket_percentile([9, 1, 0, 0], VISIT_BUCKETS) == 0
    assert bucket_percentile([8, 1, 1, 0], VISIT_BUCKETS) == 1


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=200))
def test_the_bucket_percentile_bounds_the_true_one(values):
    counts = [0] * len(DAYS_BUCKETS)
    for v in values:
        counts[[s for s, _lo, _hi in DAYS_BUCKETS].index(bucket_of(v, DAYS_BUCKETS))] += 1
    estimate = bucket_percentile(counts, DAYS_BUCKETS)
    ordered = sorted(values)
    true_p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]
    assert estimate is not None
    # The estimate is the upper bound of the true value's bucket (the lower bound past 31).
    assert bucket_of(true_p90, DAYS_BUCKETS) == bucket_of(estimate, DAYS_BUCKETS)


@given(days_2026, st.integers(min_value=0, max_value=800))
def test_a_period_splits_into_whole_months_and_days_that_cover_it_once(start, length):
    end = start + timedelta(days=length)
    months, ranges = split_period(start, end)
    covered: list[date] = []
    for month in months:
        assert month.day == 1
        d = month
        while d.month == month.month:
            covered.append(d)
            d += timedelta(days=1)
    for lo, hi in ranges:
        assert lo.month == hi.month and lo.year == hi.year
        covered += [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    assert sorted(covered) == [start + timedelta(days=i) for i in range(length + 1)]


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_a_ratio_figure_is_numerator_over_denominator(a, b):
    numerator, denominator = min(a, b), max(a, b)
    figure = make_figure(INDICATORS["on_time_rate"], numerator, denominator)
    if denominator == 0:
        assert figure.value is None and figure.meets_target is None
    else:
        assert figure.value == numerator / denominator
        assert 0 <= figure.value <= 1
        assert figure.meets_target == (figure.value >= 0.99)


def test_a_count_figure_lower_is_better_meets_a_zero_target_only_at_zero():
    assert make_figure(INDICATORS["red_cards"], 0, 0).meets_target is True
    assert make_figure(INDICATORS["red_cards"], 2, 2).meets_target is False


def test_targets_can_be_changed_by_setting(settings):
    settings.METRICS_TARGETS = {"online_rate": 0.5, "on_time_rate": None}
    assert make_figure(INDICATORS["online_rate"], 6, 10).meets_target is True
    assert make_figure(INDICATORS["on_time_rate"], 6, 10).target is None


def test_every_indicator_of_the_contract_is_defined():
    assert list(INDICATORS)[:3] == [
        "immediate_item_share",
        "time_compression",
        "full_online_item_share",
    ]
    for key in [
        "accepted_count",
        "completed_count",
        "immediate_rate",
        "online_rate",
        "one_visit_rate",
        "zero_visit_rate",
        "one_notice_rate",
        "on_time_rate",
        "overdue_count",
        "yellow_cards",
        "red_cards",
        "good_review_rate",
        "rectified_rate",
        "bad_review_count",
        "avg_days_taken",
        "avg_days_promised",
    ]:
        assert INDICATORS[key].kind == "case"
