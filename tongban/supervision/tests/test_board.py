"""The board's counts: colours from stored due dates, equal to a plain SQL count at one instant."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from tongban.cases import services as case_services
from tongban.cases.models import Case, Step
from tongban.cases.selectors import card_of
from tongban.supervision import selectors
from tongban.supervision.tests.helpers import accepted_case
from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.clock import Card

pytestmark = pytest.mark.django_db


def _aware(*args: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def test_yellow_limit_is_the_start_of_the_nth_working_day_after_today():
    # 2026-10-01..07 is the National Day holiday; Saturday 2026-10-10 is a make-up working day.
    calendar = WorkCalendar(
        days_off=[dt.date(2026, 10, d) for d in range(1, 8)],
        extra_workdays=[dt.date(2026, 10, 10)],
        covered_years=[2026],
    )
    # On Tuesday 29 September the next working day is Wednesday 30: it is yellow all day, and
    # green starts when the holiday is over, on 8 October.
    at = _aware(2026, 9, 29, 10, 0)
    assert selectors.yellow_limit(calendar, at, 1) == _aware(2026, 9, 30)
    assert selectors.yellow_limit(calendar, _aware(2026, 9, 30, 9), 1) == _aware(2026, 10, 8)
    assert selectors.yellow_limit(calendar, _aware(2026, 9, 30, 9), 2) == _aware(2026, 10, 9)
    # Friday 9 October: the make-up Saturday is the next working day.
    assert selectors.yellow_limit(calendar, _aware(2026, 10, 9, 9), 1) == _aware(2026, 10, 10)
    assert selectors.yellow_limit(calendar, at, 0) == at


@pytest.mark.parametrize("days", [1, 2, 3])
def test_the_range_rule_gives_the_colour_the_case_page_shows(world, days):
    # Every due date over five weeks around the National Day holiday, read at several instants.
    for at in [_aware(2026, 9, 25, 8), _aware(2026, 9, 30, 17), _aware(2026, 10, 3, 12)]:
        boundary = selectors.card_boundary(
            region_prefixes=[world.main.region.code], at=at, days=days
        )
        limit = boundary.single_limit
        assert limit is not None
        for offset in range(-3, 30):
            due = _end_of(at.date() + dt.timedelta(days=offset))
            expected = card_of(due, region=world.main.region, at=at, yellow_days=days)
            if due < at:
                got = Card.RED
            elif due < limit:
                got = Card.YELLOW
            else:
                got = Card.GREEN
            assert got == expected, (at, due)


def _plain_count(department_ids, at, limit):
    """The same question asked in plain SQL, without the ORM or the selectors."""
    placeholders = ", ".join(["%s"] * len(department_ids))
    # Only placeholders are formatted in; the values go as parameters.
    sql = f"""
        SELECT
          SUM(CASE WHEN promised_due < %s THEN 1 ELSE 0 END),
          SUM(CASE WHEN promised_due >= %s AND promised_due < %s THEN 1 ELSE 0 END),
          SUM(CASE WHEN promised_due >= %s THEN 1 ELSE 0 END),
          SUM(CASE WHEN status = 'suspended' THEN 1 ELSE 0 END)
        FROM cases_case
        WHERE department_id IN ({placeholders}) AND status IN ('accepted', 'suspended')
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [at, at, limit, limit, *department_ids])
        return tuple(int(n or 0) for n in cursor.fetchone())


# The case page's own rule warns about the uncovered year (2027); the board reports it as data.
@pytest.mark.filterwarnings("ignore::tongban.timelimits.calendar.UncoveredYearWarning")
def test_board_counts_equal_a_plain_sql_count_at_the_same_instant(world, clock):
    # given cases on time, due soon, overdue, suspended, extended and due in a year no table covers
    on_time = accepted_case(world)
    soon = accepted_case(world)
    late = accepted_case(world)
    suspended = accepted_case(world)
    case_services.case_suspend(
        actor=world.approver, case=suspended, kind="hearing", reason="听证", expected_days=5
    )
    extended = accepted_case(world)
    extension = case_services.extension_request(
        actor=world.approver, case=extended, days=5, reason="需要现场复核"
    )
    case_services.extension_decide(actor=world.head, extension=extension, grant=True)
    uncovered = accepted_case(world)
    at = clock.at
    # Test data: due dates moved to where the test needs them (the services stamp real time).
    # Due at the end of today, so it is yellow at any hour (two hours on would be tomorrow after
    # 22:00, and tomorrow's due date is green).
    Case.objects.filter(pk=soon.pk).update(promised_due=_end_of(timezone.localdate(at)))
    Case.objects.filter(pk=late.pk).update(promised_due=at - dt.timedelta(days=3))
    Case.objects.filter(pk=uncovered.pk).update(promised_due=_end_of(dt.date(2027, 3, 1)))
    extended.refresh_from_db()
    assert extended.extended_days == 5 and extended.promised_due > on_time.promised_due

    # when the board is read
    ids = [world.main.pk, world.other.pk]
    board = selectors.board_for(actor=world.supervisor, at=at)

    # then its counts are the plain count of the same rows at the same instant
    limit = board.boundary.single_limit
    totals = board.totals
    assert (totals.red, totals.yellow, totals.green, totals.suspended) == _plain_count(
        ids, at, limit
    )
    assert (totals.red, totals.yellow, totals.green, totals.suspended) == (1, 1, 3, 1)
    main = next(r for r in board.rows if r.department_id == world.main.pk)
    assert main.total == 6

    # and each case's colour is the one the case page shows
    for case, colour in [(on_time, "green"), (soon, "yellow"), (late, "red"), (uncovered, "green")]:
        case.refresh_from_db()
        assert card_of(case.promised_due, region=case.region, at=at).value == colour


def test_counts_of_steps_by_their_own_department(world, clock):
    case = accepted_case(world)
    review = case.steps.get(name="审查")
    case_services.step_pass(actor=world.approver, step=review, opinion="齐全")
    Step.objects.filter(case=case, name="部门意见").update(due=clock.at - dt.timedelta(hours=1))
    rows = selectors.board_counts(
        department_ids=[world.main.pk, world.other.pk],
        boundary=selectors.card_boundary(at=clock.at),
        clock="step",
    )
    by_department = {r.department_id: (r.red, r.yellow, r.green) for r in rows}
    assert by_department[world.other.pk] == (1, 0, 0)
    assert by_department[world.main.pk] == (0, 0, 1)  # 现场核查, five working days


def test_most_overdue_lists_the_oldest_first_with_the_step_holding_it(world, clock):
    cases = [accepted_case(world) for _ in range(3)]
    at = clock.at
    for n, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(promised_due=at - dt.timedelta(days=10 * (n + 1)))
    rows = selectors.board_overdue(department_ids=[world.main.pk, world.other.pk], at=at, limit=2)
    assert [r.number for r in rows] == [cases[2].number, cases[1].number]
    assert rows[0].holder == f"审查（{world.main.name}）"
    assert rows[0].days_overdue > rows[1].days_overdue >= 6


def test_a_department_head_sees_only_their_department_and_an_approver_no_board(world):
    accepted_case(world)
    head_board = selectors.board_for(actor=world.other_head)
    assert [r.department_id for r in head_board.rows] == [world.other.pk]
    assert selectors.board_for(actor=world.other_head, department_id=world.main.pk) is None
    assert selectors.board_for(actor=world.approver).rows == []


def test_the_item_filter_narrows_counts_and_the_overdue_list(world, clock):
    case = accepted_case(world)
    Case.objects.filter(pk=case.pk).update(promised_due=clock.at - dt.timedelta(days=3))
    ids = [world.main.pk, world.other.pk]
    item_id = world.item.item_id
    assert [
        r.case_id for r in selectors.board_overdue(department_ids=ids, at=clock.at, item_id=item_id)
    ] == [case.pk]
    assert selectors.board_overdue(department_ids=ids, at=clock.at, item_id=item_id + 999) == []
    boundary = selectors.card_boundary(at=clock.at)
    rows = selectors.board_counts(department_ids=ids, boundary=boundary, item_id=item_id + 999)
    assert sum(r.total for r in rows) == 0
    steps = selectors.board_overdue(
        department_ids=ids, at=clock.at + dt.timedelta(days=30), clock="step", item_id=item_id
    )
    assert [r.holder for r in steps] == [f"审查（{world.main.name}）"]


def test_a_town_with_its_own_day_off_gets_its_own_yellow_limit(world):
    from tongban.cases.tests.factories import staff
    from tongban.org.models import Region, RegionLevel, Role
    from tongban.timelimits.services import calendar_day_set

    # given: a town of the county that is off on Tuesday 8 December 2026 (a local festival)
    county = world.main.region
    town = Region.objects.create(
        code="430981100", name="琼湖街道", level=RegionLevel.TOWN, parent=county
    )
    calendar_day_set(
        actor=staff(Role.SYSADMIN),
        region=town,
        date=dt.date(2026, 12, 8),
        kind="day_off",
        name="地方节日",
    )
    in_county, in_town = accepted_case(world), accepted_case(world)
    due = _end_of(dt.date(2026, 12, 8))
    Case.objects.filter(pk__in=[in_county.pk, in_town.pk]).update(promised_due=due)
    Case.objects.filter(pk=in_town.pk).update(region=town)

    # when: the board is read on Monday 7 December
    at = _aware(2026, 12, 7, 10)
    board = selectors.board_for(actor=world.supervisor, at=at)

    # then: in the county Tuesday is a working day still ahead (green); in the town, Tuesday is off,
    # so the case is on its last working day (yellow), as the case page says for each
    assert board.boundary.single_limit is None
    assert (board.totals.yellow, board.totals.green) == (1, 1)
    assert card_of(due, region=town, at=at) == Card.YELLOW
    assert card_of(due, region=county, at=at) == Card.GREEN
