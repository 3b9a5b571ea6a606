"""Reads of electronic supervision: cards by department and colour, the most overdue, alerts,
directives and quarterly grades.

A card is never stored: it is a stored due date read against the clock (`tongban.core.now`).
Every read computes, once, the instant from which a due date counts as yellow (`CardBoundary`), so
that a colour is a plain range over an indexed due date:

    red     due < now
    yellow  now <= due < yellow_limit
    green   yellow_limit <= due

`yellow_limit` is the start (00:00, local time) of the N-th working day after today, N being
SUPERVISION_YELLOW_DAYS (default 1). That is the same rule as `cases.selectors.card_of` ("fewer than
N working days left after today"): a due date on day d has `working_days_between(today, d)` working
days left, which grows with d and first reaches N on `add_working_days(today, N)`. With N = 1, a case
due by the end of the next working day is green until that day begins (and yellow all through it).
Regions with days off of their own may have a different N-th working day; where they do, the limit
is given per region (see `card_boundary`). Years no holiday table covers count Monday to Friday, as
the clock does, and the board says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from tongban.cases import selectors as case_selectors
from tongban.core.now import now
from tongban.org.models import Department, Region
from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.selectors import calendar_for

from . import permissions
from .grading import Figures, Grade, grade_of
from .models import CardAlert, CardClock, CardColour, Directive, DirectiveReply
from .workflow import AWAITING_REPLY

BOARD_CLOCKS = (
    CardClock.PROMISED,
    CardClock.LEGAL,
    CardClock.PREREVIEW,
    CardClock.TOLERANCE,
    CardClock.STEP,
)
OVERDUE_LIMIT = 50
WEEKS_SHOWN = 12


def yellow_days() -> int:
    return int(getattr(settings, "SUPERVISION_YELLOW_DAYS", 1))


# --- the yellow boundary ---------------------------------------------------------------------------


def yellow_limit(calendar: WorkCalendar, at: datetime, days: int) -> datetime:
    """The first instant at which a due date is green (see the module docstring)."""
    if days <= 0:
        return at  # no yellow at all: everything not yet due is green
    first_green_day = calendar.without_warnings().add_working_days(timezone.localdate(at), days)
    return timezone.make_aware(datetime.combine(first_green_day, time.min))


@dataclass(frozen=True)
class CardBoundary:
    """When, for this read, red ends and green begins. `limits` is one (region ids, limit) pair per
    working-day calendar in force; region ids None means every region (one calendar for all)."""

    at: datetime
    days: int
    limits: tuple[tuple[frozenset[int] | None, datetime], ...]
    uncovered_years: frozenset[int] = frozenset()
    # With several calendars, the pair without region ids applies to the regions not listed here.
    listed_regions: frozenset[int] = frozenset()

    @property
    def single_limit(self) -> datetime | None:
        only = len(self.limits) == 1 and self.limits[0][0] is None and not self.listed_regions
        return self.limits[0][1] if only else None

    def colour_q(self, colour: str, due: str, region: str) -> Q:
        at = self.at
        if colour == CardColour.RED:
            return Q(**{f"{due}__lt": at})
        parts = []
        for region_ids, limit in self.limits:
            if colour == CardColour.YELLOW:
                cond = Q(**{f"{due}__gte": at, f"{due}__lt": limit})
            else:
                cond = Q(**{f"{due}__gte": limit})
            if region_ids is not None:
                cond &= Q(**{f"{region}__in": region_ids})
            elif self.listed_regions:
                cond &= ~Q(**{f"{region}__in": self.listed_regions})
            parts.append(cond)
        result = parts[0]
        for part in parts[1:]:
            result |= part
        return result


def _regions_with_own_days() -> set[str]:
    from tongban.timelimits.models import CalendarDay

    return set(
        CalendarDay.objects.filter(region__isnull=False)
        .values_list("region__code", flat=True)
        .distinct()
    )


def card_boundary(
    *, region_prefixes: list[str] | None = None, at: datetime | None = None, days: int | None = None
) -> CardBoundary:
    """The boundary for the cases of the regions under `region_prefixes` (None: every region).

    Each prefix's calendar, and the calendar of each region below it with days of its own, give a
    limit; when they all agree (the usual case: local days off are rare and far between), one limit
    serves every row. Otherwise each region id gets the limit of its most specific calendar.
    """
    at = at or now()
    days = yellow_days() if days is None else days
    prefixes = region_prefixes if region_prefixes is not None else [""]
    special = _regions_with_own_days()
    roots = set(prefixes) | {s for s in special for p in prefixes if s.startswith(p)}
    regions = {r.code: r for r in Region.objects.filter(code__in=roots)}
    limits: dict[str, datetime] = {}
    uncovered: set[int] = set()
    for code in roots:
        calendar = calendar_for(regions.get(code))
        limits[code] = yellow_limit(calendar, at, days)
        uncovered |= calendar.uncovered_years_between(
            timezone.localdate(at), timezone.localdate(limits[code])
        )
    if len(set(limits.values())) <= 1:
        limit = next(iter(limits.values()), at)
        return CardBoundary(at, days, ((None, limit),), frozenset(uncovered))
    # Longest code first: a region takes the calendar of the most specific root above it. With one
    # watched subtree, its own calendar covers "every region not claimed by a longer code", so the
    # subtree's (possibly thousands of) region ids are never listed.
    ordered = sorted(roots, key=len, reverse=True)
    rest = ordered.pop() if len(prefixes) == 1 else None
    claimed: set[int] = set()
    pairs: list[tuple[frozenset[int] | None, datetime]] = []
    for code in ordered:
        ids = set(Region.objects.filter(code__startswith=code).values_list("pk", flat=True))
        ids -= claimed
        claimed |= ids
        pairs.append((frozenset(ids), limits[code]))
    excluded = frozenset(claimed)
    if rest is not None:
        pairs.append((None, limits[rest]))
    return CardBoundary(at, days, tuple(pairs), frozenset(uncovered), excluded)


# --- the board -------------------------------------------------------------------------------------


@dataclass
class DepartmentCards:
    department_id: int
    name: str
    red: int = 0
    yellow: int = 0
    green: int = 0
    suspended: int = 0

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.green + self.suspended


@dataclass(frozen=True)
class OverdueRow:
    case_id: int
    number: str
    item: str
    department: str
    holder: str  # the step(s) holding the case now, with their departments
    due: datetime
    days_overdue: int  # working days, at least 1 once overdue (as the clock counts)


@dataclass
class Board:
    at: datetime
    clock: str
    boundary: CardBoundary
    rows: list[DepartmentCards]
    overdue: list[OverdueRow]
    alerts: list[CardAlert] = field(default_factory=list)
    weekly_red: list[dict[str, Any]] = field(default_factory=list)

    @property
    def totals(self) -> DepartmentCards:
        total = DepartmentCards(0, "合计")
        for row in self.rows:
            total.red += row.red
            total.yellow += row.yellow
            total.green += row.green
            total.suspended += row.suspended
        return total


def board_department_ids(*, actor: Any, department_id: int | None = None) -> list[int] | None:
    """The departments the actor watches (narrowed to one), or None when `department_id` is not
    one of them (the caller answers 404)."""
    departments = permissions.board_departments(actor)
    if department_id is not None:
        departments = departments.filter(pk=department_id)
        if not departments.exists():
            return None
    return list(departments.values_list("pk", flat=True))


def board_counts(
    *,
    department_ids: list[int],
    boundary: CardBoundary,
    clock: str = CardClock.PROMISED,
    item_id: int | None = None,
) -> list[DepartmentCards]:
    """How many cards of each colour each department holds now, on one clock: one aggregate query
    over the indexed (department, status, due) range."""
    source = case_selectors.card_clock_rows(
        clock=clock, department_ids=department_ids, item_id=item_id
    )
    colours: dict[str, Count] = {
        # COUNT(due), not COUNT(id): the id is not in the (department, status, due) index, and
        # counting it would send every row to the table instead of reading the index alone. Each
        # colour's condition implies a due date, so no row is lost to a NULL.
        str(colour): Count(source.due, filter=boundary.colour_q(colour, source.due, source.region))
        for colour in (CardColour.RED, CardColour.YELLOW, CardColour.GREEN)
    }
    if source.paused is not None:
        colours["suspended"] = Count("status", filter=source.paused)
    rows = source.rows.values("department_id").annotate(**colours).order_by()
    names = dict(Department.objects.filter(pk__in=department_ids).values_list("pk", "name"))
    result = {d: DepartmentCards(d, names.get(d, "")) for d in department_ids}
    for row in rows:
        cards = result[row["department_id"]]
        cards.red, cards.yellow, cards.green = row["red"], row["yellow"], row["green"]
        cards.suspended = row.get("suspended", 0)
    return sorted(result.values(), key=lambda c: (-c.red, -c.yellow, c.name))


def _overdue_days(calendar: WorkCalendar, due: datetime, at: datetime) -> int:
    # As ClockState.remaining counts once overdue: at least 1, even on a day off after the due date.
    today, due_day = timezone.localdate(at), timezone.localtime(due).date()
    quiet = calendar.without_warnings()
    return max(1, quiet.working_days_between(due_day, quiet.add_working_days(today, 0)))


def board_overdue(
    *,
    department_ids: list[int],
    at: datetime,
    clock: str = CardClock.PROMISED,
    item_id: int | None = None,
    limit: int = OVERDUE_LIMIT,
) -> list[OverdueRow]:
    """The `limit` cases furthest past due on one clock, with who holds them and for how long."""
    pairs = case_selectors.card_most_overdue(
        clock=clock, department_ids=department_ids, at=at, item_id=item_id, limit=limit
    )
    if not pairs:
        return []
    items: list[tuple[Any, datetime, list[Any]]]
    if clock == CardClock.STEP:
        by_id = case_selectors.card_steps_of(step_ids=[pk for pk, _due in pairs])
        items = [(by_id[pk].case, due, [by_id[pk]]) for pk, due in pairs if pk in by_id]
    else:
        cases = case_selectors.card_cases_of(case_ids=[pk for pk, _due in pairs])
        holders = case_selectors.card_active_steps_of(case_ids=list(cases))
        items = [(cases[pk], due, holders.get(pk, [])) for pk, due in pairs if pk in cases]
    calendars: dict[int, WorkCalendar] = {}
    rows = []
    for case, due, steps in items:
        if case.region_id not in calendars:
            calendars[case.region_id] = calendar_for(case.region)
        holder = "、".join(f"{s.name}（{s.department.name}）" for s in steps) or (
            case.department.name if case.department else ""
        )
        rows.append(
            OverdueRow(
                case_id=case.pk,
                number=case.number,
                item=case.title,
                department=case.department.name if case.department else "",
                holder=holder,
                due=due,
                days_overdue=_overdue_days(calendars[case.region_id], due, at),
            )
        )
    return rows


def alerts_recent(*, department_ids: list[int], limit: int = 20) -> list[CardAlert]:
    return list(
        CardAlert.objects.filter(department_id__in=department_ids)
        .select_related("case", "department")
        .order_by("-created_at", "-id")[:limit]
    )


def red_cards_by_week(
    *, department_ids: list[int], at: datetime, weeks: int = WEEKS_SHOWN
) -> list[dict[str, Any]]:
    """Red cards per week (from the alert record the sweep writes with each card event), oldest
    week first, each week {"week": "11-16", "count": n}; weeks without a red card count 0."""
    today = timezone.localdate(at)
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    start = timezone.make_aware(datetime.combine(first, time.min))
    counted = (
        CardAlert.objects.filter(
            department_id__in=department_ids, colour=CardColour.RED, created_at__gte=start
        )
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_week: dict[date, int] = defaultdict(int)
    for row in counted:
        week = row["week"]
        by_week[week.date() if isinstance(week, datetime) else week] += row["n"]
    return [
        {
            "week": f"{(first + timedelta(weeks=n)):%m-%d}",
            "count": by_week.get(first + timedelta(weeks=n), 0),
        }
        for n in range(weeks)
    ]


def board_for(
    *,
    actor: Any,
    clock: str = CardClock.PROMISED,
    department_id: int | None = None,
    item_id: int | None = None,
    at: datetime | None = None,
) -> Board | None:
    """Everything the board shows, or None when the department asked for is not the actor's."""
    department_ids = board_department_ids(actor=actor, department_id=department_id)
    if department_ids is None:
        return None
    at = at or now()
    boundary = card_boundary(region_prefixes=permissions.board_region_prefixes(actor), at=at)
    return Board(
        at=at,
        clock=clock,
        boundary=boundary,
        rows=board_counts(
            department_ids=department_ids, boundary=boundary, clock=clock, item_id=item_id
        ),
        overdue=board_overdue(department_ids=department_ids, at=at, clock=clock, item_id=item_id),
        alerts=alerts_recent(department_ids=department_ids),
        weekly_red=red_cards_by_week(department_ids=department_ids, at=at),
    )


def board_filter_choices(*, actor: Any) -> dict[str, list[tuple[int, str]]]:
    from tongban.catalog.models import ServiceItem

    departments = permissions.board_departments(actor).order_by("region__code", "code")
    items = (
        ServiceItem.objects.filter(department__in=departments)
        .select_related("entry")
        .order_by("local_code")[:300]
    )
    return {
        "departments": [(d.pk, d.name) for d in departments],
        "items": [(i.pk, f"{i.local_code} {i.entry.name}") for i in items],
    }


# --- the sweep's reads -----------------------------------------------------------------------------


def sweep_candidates(
    *, clock: str, colour: str, boundary: CardBoundary, after: int = 0, limit: int = 500
) -> list[Any]:
    """Rows showing `colour` on `clock` now for which no alert of that colour was sent, by id."""
    from django.db.models import Exists, OuterRef

    sent = CardAlert.objects.filter(clock=clock, colour=colour, object_id=OuterRef("pk"))
    if clock == CardClock.DIRECTIVE:
        rows: QuerySet[Any] = Directive.objects.filter(status__in=AWAITING_REPLY).select_related(
            "department", "case"
        )
        condition = boundary.colour_q(colour, "due", "department__region_id")
    else:
        source = case_selectors.card_clock_rows(clock=clock)
        rows = source.rows
        condition = boundary.colour_q(colour, source.due, source.region)
        if clock == CardClock.STEP:
            rows = rows.select_related("department", "case")
        else:
            rows = rows.select_related("department")
    return list(rows.filter(condition, pk__gt=after).filter(~Exists(sent)).order_by("pk")[:limit])


def directives_to_escalate(*, at: datetime) -> list[Directive]:
    from .workflow import DirectiveStatus

    return list(
        Directive.objects.filter(status=DirectiveStatus.ISSUED, due__lt=at).order_by("due", "pk")
    )


# --- directives ------------------------------------------------------------------------------------


def directive_list_for(
    *, actor: Any, status: str | None = None, limit: int = 100
) -> list[Directive]:
    rows = permissions.directives_visible_to(actor).select_related(
        "department", "case", "item__entry", "issued_by"
    )
    if status:
        rows = rows.filter(status=status)
    return list(rows.order_by("due", "pk")[:limit])


def directive_get_visible(*, actor: Any, directive_id: int) -> Directive | None:
    return (
        permissions.directives_visible_to(actor)
        .select_related("department__region", "case", "item__entry", "issued_by")
        .filter(pk=directive_id)
        .first()
    )


def directive_replies(*, directive: Directive) -> list[DirectiveReply]:
    return list(directive.replies.select_related("author").order_by("created_at", "id"))


def directive_card(*, directive: Directive, at: datetime | None = None) -> str | None:
    if directive.status not in AWAITING_REPLY:
        return None
    at = at or now()
    limit = yellow_limit(calendar_for(directive.department.region), at, yellow_days())
    if directive.due < at:
        return CardColour.RED.value
    return CardColour.YELLOW.value if directive.due < limit else CardColour.GREEN.value


def directive_allowed_for_case(*, actor: Any, case: Any) -> bool:
    """Whether the case page offers this actor 「督办」 (a supervisor over the case's department)."""
    return case.department is not None and permissions.can_issue_directive(actor, case.department)


def directive_departments_for(*, actor: Any) -> list[Department]:
    """The departments the actor may send a directive to."""
    prefixes = [
        a.region.code
        for a in permissions.assignments_of(actor)
        if a.role == permissions.Role.SUPERVISOR
    ]
    if not prefixes:
        return []
    scope = Q()
    for code in prefixes:
        scope |= Q(region__code__startswith=code)
    return list(
        Department.objects.filter(scope).select_related("region").order_by("region__code", "code")
    )


# --- grades ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeRow:
    department_id: int
    name: str
    figures: Figures
    grade: Grade | None


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    if not 1 <= quarter <= 4:
        raise ValueError("quarter must be 1–4")
    first = date(year, 3 * quarter - 2, 1)
    following = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return (
        timezone.make_aware(datetime.combine(first, time.min)),
        timezone.make_aware(datetime.combine(following, time.min)),
    )


def bad_review_counts(
    department_ids: list[int], start: datetime, end: datetime
) -> tuple[dict[int, tuple[int, int]], bool]:
    """(bad, total) reviews per department from the reviews app, and whether it answered.
    Until that app is installed, no department has a review."""
    if not apps.is_installed("tongban.reviews"):
        return {}, False
    from importlib import import_module

    reviews = import_module("tongban.reviews.selectors")
    return reviews.bad_review_counts(department_ids, start, end), True


def grades_for(*, actor: Any, year: int, quarter: int) -> tuple[list[GradeRow], bool]:
    """Each watched department's figures and grade for a quarter, best first; the flag says
    whether bad reviews were available."""
    start, end = quarter_bounds(year, quarter)
    departments = list(permissions.board_departments(actor).order_by("region__code", "code"))
    ids = [d.pk for d in departments]
    figures = case_selectors.case_period_figures(department_ids=ids, start=start, end=end)
    red = dict(
        CardAlert.objects.filter(
            department_id__in=ids,
            colour=CardColour.RED,
            created_at__gte=start,
            created_at__lt=end,
            case__isnull=False,
        )
        .values("department_id")
        .annotate(n=Count("case", distinct=True))
        .values_list("department_id", "n")
    )
    reviews, available = bad_review_counts(ids, start, end)
    rows = []
    for department in departments:
        f = figures[department.pk]
        bad, total = reviews.get(department.pk, (0, 0))
        numbers = Figures(
            handled=f.handled,
            red_cards=red.get(department.pk, 0),
            completed=f.completed,
            on_time=f.on_time,
            reviews=total,
            bad_reviews=bad,
        )
        rows.append(GradeRow(department.pk, department.name, numbers, grade_of(numbers)))
    order = {g: n for n, g in enumerate(Grade)}
    rows.sort(key=lambda r: (order.get(r.grade, 99) if r.grade else 99, r.name))
    return rows, available


def grading_thresholds() -> list[Any]:
    """The thresholds, for the grades page to show beside the table."""
    from .grading import THRESHOLDS

    return list(THRESHOLDS)
