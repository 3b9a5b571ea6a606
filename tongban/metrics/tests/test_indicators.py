"""Each indicator on a small county whose cases were made through the services, counted by hand.

The county (tongban/metrics/tests/factories.py), over a period holding every date involved:
  online_done   online, accepted and completed today, 0 visits, rated 非常满意
  window_done   window, accepted and completed today, 1 visit, rated 满意
  late          accepted Mon 2026-11-02, due Thu 11-05, completed Fri 11-06 (4 working days), 3 visits,
                rated 不满意, rectified in time
  open_overdue  accepted today, still open, promised due an hour ago (the sweep shows it red)
  supplemented_once / supplemented_twice   accepted today after one / two supplement notices
All six are accepted; three are completed; all were promised 10 working days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from tongban.cases.models import Case
from tongban.catalog.models import ItemVersion
from tongban.core.models import Event
from tongban.metrics import rollup, selectors
from tongban.metrics.models import (
    CaseDay,
    CaseMonth,
    DepartmentDay,
    DepartmentMonth,
    RegionDay,
    RegionMonth,
)
from tongban.metrics.selectors import Scope
from tongban.supervision.services import card_sweep

from .factories import County, make_county, second_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def county() -> County:
    county = make_county()
    card_sweep()
    # The factory moved one case's dates without an event: only a rebuild sees that.
    rollup.rollup_rebuild()
    return county


def figures(county: County, **scope: object) -> dict[str, selectors.Figure]:
    scope = {"region_code": county.world.main.region.code, **scope}
    found = selectors.indicators(start=county.start, end=county.end, scope=Scope(**scope))  # type: ignore[arg-type]
    return {f.key: f for f in found}


def parts(figure: selectors.Figure) -> tuple[float, float, float | None]:
    return figure.numerator, figure.denominator, figure.value


# --- one test per indicator --------------------------------------------------------------------------


def test_accepted_count_counts_every_accepted_case(county):
    assert parts(figures(county)["accepted_count"]) == (6, 6, 6.0)


def test_completed_count_counts_the_three_completed_cases(county):
    assert parts(figures(county)["completed_count"]) == (3, 3, 3.0)


def test_immediate_rate_counts_cases_completed_on_the_working_day_accepted(county):
    # online_done and window_done the same day; late took four working days.
    assert parts(figures(county)["immediate_rate"]) == (2, 3, pytest.approx(2 / 3))


def test_online_rate_is_online_accepted_over_accepted(county):
    figure = figures(county)["online_rate"]
    assert parts(figure) == (1, 6, pytest.approx(1 / 6))
    assert figure.target == 0.9 and figure.meets_target is False


def test_one_visit_rate_counts_completed_cases_with_at_most_one_visit(county):
    assert parts(figures(county)["one_visit_rate"]) == (2, 3, pytest.approx(2 / 3))


def test_zero_visit_rate_counts_completed_cases_without_a_visit(county):
    assert parts(figures(county)["zero_visit_rate"]) == (1, 3, pytest.approx(1 / 3))


def test_one_notice_rate_counts_accepted_cases_noticed_only_once(county):
    assert parts(figures(county)["one_notice_rate"]) == (1, 2, 0.5)


def test_on_time_rate_counts_completed_by_the_promised_due(county):
    figure = figures(county)["on_time_rate"]
    assert parts(figure) == (2, 3, pytest.approx(2 / 3))
    assert figure.meets_target is False


def test_overdue_count_adds_late_completions_and_open_cases_past_due(county):
    assert parts(figures(county)["overdue_count"]) == (2, 2, 2.0)


def test_red_and_yellow_cards_count_the_events_the_sweep_appended(county):
    red = Event.objects.filter(kind__in=["case.card_red", "case.legal_overdue"]).count()
    yellow = Event.objects.filter(kind="case.card_yellow").count()
    assert red == 1  # open_overdue's promised clock
    found = figures(county)
    assert parts(found["red_cards"]) == (red, red, float(red))
    assert parts(found["yellow_cards"]) == (yellow, yellow, float(yellow))


def test_good_review_rate_is_good_over_counted_evaluations(county):
    assert parts(figures(county)["good_review_rate"]) == (2, 3, pytest.approx(2 / 3))


def test_bad_review_count_counts_the_one_bad_review(county):
    assert parts(figures(county)["bad_review_count"]) == (1, 1, 1.0)


def test_rectified_rate_counts_bad_reviews_rectified_in_time(county):
    assert parts(figures(county)["rectified_rate"]) == (1, 1, 1.0)


def test_avg_days_taken_is_working_days_over_completed(county):
    # 0 + 0 + 4 (Tue, Wed, Thu, Fri after a Monday acceptance).
    assert parts(figures(county)["avg_days_taken"]) == (4, 3, pytest.approx(4 / 3))


def test_avg_days_promised_is_promised_limits_over_completed(county):
    assert parts(figures(county)["avg_days_promised"]) == (30, 3, 10.0)


def test_catalogue_figures_count_published_items(county):
    second_item(county.world)
    found = figures(county)
    assert parts(found["immediate_item_share"]) == (1, 2, 0.5)
    # 1 - (10 + 0) / (20 + 5)
    assert parts(found["time_compression"]) == (15, 25, pytest.approx(0.6))
    assert parts(found["full_online_item_share"]) == (1, 2, 0.5)
    # Items by online depth: the first item is handled offline, the second fully online.
    assert parts(found["prereview_item_share"]) == (0, 2, 0.0)
    assert parts(found["offline_item_share"]) == (1, 2, 0.5)


# --- periods and scopes -------------------------------------------------------------------------------


def test_a_period_puts_each_case_under_its_own_date(county):
    week = selectors.indicators(
        start=date(2026, 11, 2),
        end=date(2026, 11, 6),
        scope=Scope(region_code=county.world.main.region.code),
        keys=["accepted_count", "completed_count", "on_time_rate"],
    )
    assert [(f.key, f.numerator, f.denominator) for f in week] == [
        ("accepted_count", 1, 1),
        ("completed_count", 1, 1),
        ("on_time_rate", 0, 1),
    ]
    only_friday = {
        f.key: f
        for f in selectors.indicators(
            start=date(2026, 11, 6),
            end=date(2026, 11, 6),
            keys=["accepted_count", "completed_count"],
        )
    }
    assert only_friday["accepted_count"].numerator == 0
    assert only_friday["completed_count"].numerator == 1


def test_a_scope_elsewhere_or_on_another_channel_sees_only_its_cases(county):
    assert figures(county, region_code="99")["accepted_count"].numerator == 0
    assert figures(county, channel="online")["accepted_count"].numerator == 1
    assert figures(county, hall_id=county.world.hall.pk)["accepted_count"].numerator == 5
    item = county.world.item.item_id
    assert figures(county, item_id=item)["completed_count"].numerator == 3
    assert figures(county, department_id=county.world.other.pk)["accepted_count"].numerator == 0


def test_a_ratio_with_nothing_to_count_has_no_value(county):
    empty = figures(county, region_code="99")["on_time_rate"]
    assert (empty.numerator, empty.denominator, empty.value, empty.meets_target) == (
        0,
        0,
        None,
        None,
    )


def test_month_and_day_tables_agree_whatever_the_split(county):
    code = county.world.main.region.code
    whole = selectors.indicators(
        start=date(2026, 11, 1), end=date(2026, 11, 30), scope=Scope(region_code=code)
    )
    by_days = selectors.indicators(
        start=date(2026, 10, 31), end=date(2026, 12, 1), scope=Scope(region_code=code)
    )
    # Nothing happened on Oct 31 or Dec 1 except, perhaps, the rectification's reply due.
    for a, b in zip(whole, by_days, strict=True):
        if a.key != "rectified_rate":
            assert (a.key, a.numerator, a.denominator) == (b.key, b.numerator, b.denominator)


def test_series_by_month_and_by_day(county):
    code = county.world.main.region.code
    months = selectors.indicator_series(
        key="completed_count",
        start=date(2026, 10, 15),
        end=timezone.localdate(),
        scope=Scope(region_code=code),
    )
    assert months[0][0] == date(2026, 10, 15)
    assert sum(f.numerator for _d, f in months) == 3
    nov = dict(months)[date(2026, 11, 1)]
    assert nov.numerator >= 1
    days = selectors.indicator_series(
        key="completed_count",
        start=date(2026, 11, 2),
        end=date(2026, 11, 8),
        scope=Scope(region_code=code),
        grain="day",
    )
    assert [f.numerator for _d, f in days] == [0, 0, 0, 0, 1, 0, 0]


def test_department_ranking_puts_departments_without_cases_last(county):
    ranking = selectors.department_ranking(
        key="on_time_rate",
        start=county.start,
        end=county.end,
        region_code=county.world.main.region.code,
    )
    assert ranking[0][0] == county.world.main
    assert ranking[0][1].denominator == 3
    assert all(f.denominator == 0 for _d, f in ranking[1:])


def test_claimed_vs_actual_flags_what_the_cases_contradict(county):
    rows = selectors.claimed_vs_actual(
        start=county.start, end=county.end, scope=Scope(region_code=county.world.main.region.code)
    )
    assert len(rows) == 1
    row = rows[0]
    assert row.item.pk == county.world.item.item_id
    assert (row.cases, row.claimed_visits, row.promised_limit) == (3, 1, 10)
    assert row.mean_visits == pytest.approx(4 / 3)
    assert row.p90_visits == 3
    assert row.same_day_share == pytest.approx(2 / 3)
    assert row.full_online_share == pytest.approx(1 / 3)
    assert row.mean_days_taken == pytest.approx(4 / 3)
    assert row.p90_days_taken == 4
    assert row.late_share == pytest.approx(1 / 3)
    # Claimed at most one visit; one case in three needed three. One in three was late.
    assert any("跑动" in flag for flag in row.flags)
    assert "承诺10个工作日办结，但33%的办件超过承诺时限才办结。" in row.flags
    assert not any("即办" in flag for flag in row.flags)


def test_an_item_is_flagged_for_its_time_limit_only_when_its_cases_were_late(county):
    # The late case given a later promise (as a pause would), and the item a promise of 3 days:
    # its cases' 90th percentile reads 4 days (its bucket), yet none was completed after its due.
    Case.objects.filter(pk=county.late.pk).update(
        promised_due=F("completed_at") + timedelta(hours=1)
    )
    ItemVersion.objects.filter(pk=county.world.item.pk).update(promised_limit=3)
    rollup.rollup_rebuild()

    [row] = selectors.claimed_vs_actual(
        start=county.start, end=county.end, scope=Scope(region_code=county.world.main.region.code)
    )

    assert (row.promised_limit, row.p90_days_taken, row.late_share) == (3, 4, 0)
    assert not any("工作日办结" in flag for flag in row.flags)


# --- drill-down -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "accepted_count",
        "completed_count",
        "immediate_rate",
        "online_rate",
        "one_visit_rate",
        "zero_visit_rate",
        "one_notice_rate",
        "on_time_rate",
        "overdue_count",
        "red_cards",
        "good_review_rate",
        "rectified_rate",
        "bad_review_count",
    ],
)
def test_cases_behind_a_figure_are_the_cases_it_counts(county, key):
    scope = Scope(region_code=county.world.main.region.code)
    figure = figures(county)[key]
    period = {"start": county.start, "end": county.end, "scope": scope}
    numerator = selectors.cases_behind(key=key, part="numerator", **period)
    denominator = selectors.cases_behind(key=key, part="denominator", **period)
    rest = selectors.cases_behind(key=key, part="rest", **period)
    assert numerator.count() == figure.numerator
    assert denominator.count() == figure.denominator
    assert rest.count() == figure.denominator - figure.numerator


def test_the_late_case_is_behind_the_rest_of_the_on_time_rate(county):
    rest = selectors.cases_behind(
        key="on_time_rate", part="rest", start=county.start, end=county.end
    )
    assert list(rest) == [county.late]
    overdue = selectors.cases_behind(
        key="overdue_count", part="numerator", start=county.start, end=county.end
    )
    assert set(overdue) == {county.late, county.open_overdue}


# --- the rollup itself ------------------------------------------------------------------------------


def table_rows() -> list[tuple]:
    rows = []
    for table in (CaseDay, CaseMonth, DepartmentDay, DepartmentMonth, RegionDay, RegionMonth):
        rows += sorted(
            tuple(v for k, v in row.items() if k != "id") for row in table.objects.values()
        )
    return rows


def test_rebuilding_twice_gives_the_same_rows(county):
    first = table_rows()
    rollup.rollup_rebuild()
    assert table_rows() == first
    rollup.rollup_rebuild()
    assert table_rows() == first
    assert first  # there is something to compare


def test_an_update_with_nothing_new_changes_nothing(county):
    before = table_rows()
    rollup.rollup_pending()
    assert table_rows() == before


def test_a_new_acceptance_is_counted_after_the_next_update(county):
    from tongban.reviews.tests.factories import accepted_case

    before = figures(county)["accepted_count"].numerator
    accepted_case(county.world)
    assert figures(county)["accepted_count"].numerator == before  # not yet rolled up
    result = rollup.rollup_pending()
    assert timezone.localdate() in result.days
    assert figures(county)["accepted_count"].numerator == before + 1


def test_completing_an_open_case_moves_it_from_open_to_completed(county):
    from .factories import conclude

    conclude(county.world, Case.objects.get(pk=county.supplemented_once.pk))
    rollup.rollup_pending()
    assert figures(county)["completed_count"].numerator == 4


def test_rebuild_since_a_date_recomputes_from_that_day_only(county):
    # Rows of Nov 6 are wiped by hand: a rebuild from Nov 10 leaves them alone, one from Nov 1
    # brings them back.
    CaseDay.objects.filter(day=date(2026, 11, 6)).delete()
    rollup.write_months([date(2026, 11, 6)])
    call_command("metrics", "rebuild", "--since", "2026-11-10")
    assert not CaseDay.objects.filter(day=date(2026, 11, 6)).exists()
    call_command("metrics", "rebuild", "--since", "2026-11-01")
    assert CaseDay.objects.get(day=date(2026, 11, 6)).completed == 1


def test_the_status_command_reports_where_the_rollup_stands(county, capsys):
    call_command("metrics", "status")
    out = capsys.readouterr().out
    assert "待处理事件：0" in out
    assert "日汇总行数" in out


def test_a_rebuild_with_a_bad_date_says_so_in_chinese(county):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("metrics", "rebuild", "--since", "2026-13-01")


def test_the_periodic_task_rolls_up_new_events(county):
    from tongban.core.periodic import PERIODIC_TASKS
    from tongban.metrics.tasks import roll_up_touched_days
    from tongban.reviews.tests.factories import accepted_case

    assert "metrics_rollup" in [p.name for p in PERIODIC_TASKS]
    accepted_case(county.world)
    assert roll_up_touched_days.call() >= 1
    assert figures(county)["accepted_count"].numerator == 7


def test_events_of_days_before_the_watermark_are_looked_at_again(county):
    # A run remembers where it stopped; an event stored late (lower id, recent time) is still seen.
    state = rollup.RollupState.objects.get(name=rollup.STATE_NAME)
    assert state.last_event_id == Event.objects.order_by("-pk").values_list("pk", flat=True)[0]
    assert state.last_run_at is not None
    assert state.last_run_at > timezone.now() - timedelta(minutes=5)


def test_updating_from_nothing_gives_what_a_rebuild_gives():
    from .factories import services_only_cases

    services_only_cases()
    result = rollup.rollup_pending()
    assert result.days == [timezone.localdate()]
    updated = table_rows()
    assert sum(CaseDay.objects.values_list("accepted", flat=True)) == 4
    assert sum(CaseDay.objects.values_list("completed", flat=True)) == 2
    rollup.rollup_rebuild()
    assert table_rows() == updated


# --- the summing statement -----------------------------------------------------------------------


def _orm_sums(qs, group_by=()):  # the ORM's own aggregate, for comparison
    from django.db.models import Sum

    sums = {name: Sum(name) for name in selectors.COUNTERS}
    if group_by:
        return sorted(
            qs.values(*group_by).annotate(**sums).order_by(), key=lambda r: str(list(r.values()))
        )
    return [qs.aggregate(**sums)]


@pytest.mark.parametrize(
    "make_qs, group_by",
    [
        (lambda c: CaseDay.objects.all(), ()),
        (lambda c: CaseDay.objects.all(), ("item_id", "channel")),
        (lambda c: CaseDay.objects.filter(region_code__startswith=c.world.main.region.code), ()),
        (lambda c: DepartmentMonth.objects.filter(month__gte=c.start), ("department_id",)),
        (lambda c: RegionDay.objects.filter(day__in=[]), ()),
        (lambda c: RegionDay.objects.filter(day__in=[]), ("region_code",)),
    ],
    ids=[
        "whole-table",
        "grouped",
        "region-subtree",
        "months-by-department",
        "empty",
        "empty-grouped",
    ],
)
def test_the_written_sum_statement_gives_what_the_orm_gives(county, make_qs, group_by):
    qs = make_qs(county)
    written = selectors._sum_rows(qs, group_by)
    if group_by:
        written = sorted(written, key=lambda r: str(list(r.values())))
    assert written == _orm_sums(qs, group_by)
