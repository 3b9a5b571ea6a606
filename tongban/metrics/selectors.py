"""Reads of the indicators: figures for a period and scope, series, rankings, claimed vs actual,
and the cases behind a figure.

Case figures are answered from the rollup tables (`tongban.metrics.models`), never by scanning
cases; a period is split into whole months (read from the month tables) and the days at its
edges (read from the day tables). Each read uses the smallest tables that keep the dimensions it
filters or groups on: region and channel, then department, then item and hall.
`cases_behind` is the exception on purpose: it lists the real cases for a drill-down page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases.models import Case, Channel
from tongban.cases.workflow import OPEN_STATUSES
from tongban.catalog.models import ItemStatus, ItemVersion, OnlineDepth, ServiceItem
from tongban.org.models import Department

from .definitions import CATALOGUE, COUNT, INDICATORS, IndicatorDefinition
from .models import (
    COUNTERS,
    DAYS_BUCKETS,
    VISIT_BUCKETS,
    CaseDay,
    CaseMonth,
    DepartmentDay,
    DepartmentMonth,
    RegionDay,
    RegionMonth,
)

__all__ = [
    "INDICATORS",
    "Figure",
    "IndicatorDefinition",
    "ItemReality",
    "Scope",
    "cases_behind",
    "claimed_vs_actual",
    "department_ranking",
    "indicator_series",
    "indicators",
]


@dataclass(frozen=True)
class Scope:
    region_code: str | None = None  # a region and its subtree (code prefix, as in org)
    department_id: int | None = None
    item_id: int | None = None  # catalog.ServiceItem pk
    hall_id: int | None = None
    channel: str | None = None  # cases.models.Channel value


@dataclass(frozen=True)
class Figure:
    key: str
    name: str
    numerator: int | float
    denominator: int | float
    value: float | None  # None when the denominator is 0; a share is a fraction 0..1
    unit: str  # "ratio", "count", "days"
    target: float | None
    meets_target: bool | None
    higher_is_better: bool


@dataclass(frozen=True)
class ItemReality:
    item: ServiceItem
    claimed_visits: int
    claimed_immediate: bool
    claimed_full_online: bool
    promised_limit: int
    cases: int  # completed cases in the period
    mean_visits: float | None
    p90_visits: int | None
    same_day_share: float | None
    full_online_share: float | None
    mean_days_taken: float | None
    p90_days_taken: int | None
    late_share: float | None  # completed after the promised due date (not 按时办结)
    flags: list[str] = field(default_factory=list)


# --- reading the rollups --------------------------------------------------------------------------


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_period(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """Whole months inside start..end (their first days) and the remaining day ranges."""
    months: list[date] = []
    ranges: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        month_end = _next_month(cursor) - timedelta(days=1)
        if cursor.day == 1 and month_end <= end:
            months.append(cursor)
        else:
            ranges.append((cursor, min(month_end, end)))
        cursor = month_end + timedelta(days=1)
    return months, ranges


def _tables(scope: Scope, group_by: Sequence[str] = ()) -> tuple[Any, Any]:
    """The smallest (day, month) tables that keep every dimension the scope filters on."""
    if (
        scope.item_id is not None
        or scope.hall_id is not None
        or {"item_id", "hall_id"} & set(group_by)
    ):
        return CaseDay, CaseMonth
    if scope.department_id is not None or "department_id" in group_by:
        return DepartmentDay, DepartmentMonth
    return RegionDay, RegionMonth


def _scope_q(scope: Scope) -> Q:
    q = Q()
    if scope.region_code:
        q &= Q(region_code__startswith=scope.region_code)
    if scope.department_id is not None:
        q &= Q(department_id=scope.department_id)
    if scope.item_id is not None:
        q &= Q(item_id=scope.item_id)
    if scope.hall_id is not None:
        q &= Q(hall_id=scope.hall_id)
    if scope.channel:
        q &= Q(channel=scope.channel)
    return q


def _period_q(months: Sequence[date], ranges: Sequence[tuple[date, date]], *, monthly: bool) -> Q:
    if monthly:
        if not months:
            return Q(pk__in=[])
        if len(months) == 1:
            return Q(month=months[0])
        return Q(month__gte=months[0], month__lte=months[-1])
    q = Q(pk__in=[])
    for lo, hi in ranges:
        q |= Q(day__gte=lo, day__lte=hi)
    return q


def _sum_rows(qs: QuerySet[Any], group_by: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The counters summed over the rows of `qs` (a rollup table), per value of `group_by`.

    The statement is written here around the queryset's own WHERE: building and resolving 37
    `Sum` expressions in the ORM took several times longer than the database took to add up a
    year of a province. A queryset that joins other tables goes through the ORM."""
    query = qs.query
    if len(query.alias_map) > 1:
        aggregates = {name: Sum(name) for name in COUNTERS}
        if group_by:
            return list(qs.values(*group_by).annotate(**aggregates).order_by())
        return [qs.aggregate(**aggregates)]
    connection = connections[qs.db]
    try:
        where, params = query.get_compiler(connection=connection).compile(query.where)
    except EmptyResultSet:
        return [] if group_by else [dict.fromkeys(COUNTERS)]
    except FullResultSet:
        where, params = "", []
    meta = qs.model._meta
    quote = connection.ops.quote_name
    group_fields = [meta.get_field(name) for name in group_by]
    group_columns = ", ".join(quote(f.column) for f in group_fields)
    selected = [
        *(quote(f.column) for f in group_fields),
        *(f"SUM({quote(meta.get_field(name).column)})" for name in COUNTERS),
    ]
    # Only our own table and column names are interpolated; the values are parameters.
    sql = f"SELECT {', '.join(selected)} FROM {quote(meta.db_table)}"  # noqa: S608
    if where:
        sql += f" WHERE {where}"
    if group_by:
        sql += f" GROUP BY {group_columns}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        row = {f.name: f.to_python(v) for f, v in zip(group_fields, values, strict=False)}
        for name, value in zip(COUNTERS, values[len(group_fields) :], strict=True):
            row[name] = None if value is None else int(value)
        rows.append(row)
    return rows


def rollup_totals(
    *, start: date, end: date, scope: Scope = Scope(), group_by: Sequence[str] = ()
) -> dict[Any, dict[str, int]]:
    """The counters summed over start..end inclusive, per value of `group_by` (or under None)."""
    months, ranges = split_period(start, end)
    day_table, month_table = _tables(scope, group_by)
    scope_q = _scope_q(scope)
    out: dict[Any, dict[str, int]] = {}
    parts = []
    if months:
        parts.append(month_table.objects.filter(scope_q, _period_q(months, ranges, monthly=True)))
    if ranges:
        parts.append(day_table.objects.filter(scope_q, _period_q(months, ranges, monthly=False)))
    for qs in parts:
        for row in _sum_rows(qs, group_by):
            key = (
                tuple(row[g] for g in group_by)
                if len(group_by) > 1
                else (row[group_by[0]] if group_by else None)
            )
            totals = out.setdefault(key, dict.fromkeys(COUNTERS, 0))
            for name in COUNTERS:
                totals[name] += row[name] or 0
    return out


# --- figures --------------------------------------------------------------------------------------


def make_figure(
    definition: IndicatorDefinition, numerator: int | float, denominator: int | float
) -> Figure:
    """A figure from its two sums: counts are their own value, days and ratios divide."""
    if definition.unit == COUNT:
        value: float | None = float(numerator)
    else:
        value = numerator / denominator if denominator else None
    target = definition.effective_target
    meets: bool | None = None
    if value is not None and target is not None:
        meets = value >= target if definition.higher_is_better else value <= target
    return Figure(
        key=definition.key,
        name=str(definition.name),
        numerator=numerator,
        denominator=denominator,
        value=value,
        unit=definition.unit,
        target=target,
        meets_target=meets,
        higher_is_better=definition.higher_is_better,
    )


def _case_figure(
    definition: IndicatorDefinition, totals: dict[str, int], open_overdue: int = 0
) -> Figure:
    numerator = sum(totals[name] for name in definition.numerator)
    denominator = sum(totals[name] for name in definition.denominator)
    if definition.key == "overdue_count":
        numerator += open_overdue
        denominator += open_overdue
    return make_figure(definition, numerator, denominator)


def _published_versions(scope: Scope) -> QuerySet[ItemVersion]:
    qs = ItemVersion.objects.filter(status=ItemStatus.PUBLISHED)
    if scope.region_code:
        qs = qs.filter(item__region__code__startswith=scope.region_code)
    if scope.department_id is not None:
        qs = qs.filter(item__department_id=scope.department_id)
    if scope.item_id is not None:
        qs = qs.filter(item_id=scope.item_id)
    return qs


# Catalogue shares: the count of `catalogue_totals` over its published items.
_ITEM_SHARES = {
    "immediate_item_share": "immediate",
    "full_online_item_share": "full_online",
    "prereview_item_share": "prereview",
    "offline_item_share": "offline",
}


def catalogue_totals(scope: Scope) -> dict[str, int]:
    """The catalogue's counts over the published versions in scope, in one query."""
    with_legal = Q(legal_limit__gt=0)
    totals = _published_versions(scope).aggregate(
        items=Count("pk"),
        immediate=Count("pk", filter=Q(promised_limit=0)),
        full_online=Count("pk", filter=Q(online_depth=OnlineDepth.FULL_ONLINE)),
        prereview=Count("pk", filter=Q(online_depth=OnlineDepth.PREREVIEW)),
        offline=Count("pk", filter=Q(online_depth=OnlineDepth.OFFLINE)),
        legal=Sum("legal_limit", filter=with_legal),
        promised=Sum("promised_limit", filter=with_legal),
    )
    return {k: v or 0 for k, v in totals.items()}


def _catalogue_figure(
    definition: IndicatorDefinition, scope: Scope, totals: dict[str, int] | None = None
) -> Figure:
    totals = totals if totals is not None else catalogue_totals(scope)
    if definition.key in _ITEM_SHARES:
        return make_figure(definition, totals[_ITEM_SHARES[definition.key]], totals["items"])
    if definition.key == "time_compression":
        # 1 - Σ promised / Σ legal, as (Σ legal - Σ promised) / Σ legal: two integers.
        return make_figure(definition, totals["legal"] - totals["promised"], totals["legal"])
    raise KeyError(definition.key)


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    lo = datetime.combine(start, time.min, tzinfo=zone)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return lo, hi


def _case_scope_q(scope: Scope) -> Q:
    q = Q(version__isnull=False)
    if scope.region_code:
        q &= Q(region__code__startswith=scope.region_code)
    if scope.department_id is not None:
        q &= Q(department_id=scope.department_id)
    if scope.item_id is not None:
        q &= Q(version__item_id=scope.item_id)
    if scope.hall_id is not None:
        q &= Q(hall_id=scope.hall_id)
    if scope.channel:
        q &= Q(channel=scope.channel)
    return q


def _open_overdue(start: date, end: date, scope: Scope) -> QuerySet[Case]:
    """Open cases whose promised due lies in the period and has passed (read live: they change
    by the clock, not by an event, and open cases are few and indexed by due date)."""
    lo, hi = _local_bounds(start, end)
    now = timezone.now()
    return Case.objects.filter(
        _case_scope_q(scope),
        status__in=OPEN_STATUSES,
        promised_due__gte=lo,
        promised_due__lt=min(hi, now),
    )


def indicators(
    *, start: date, end: date, scope: Scope = Scope(), keys: Iterable[str] | None = None
) -> list[Figure]:
    """The figures for start..end inclusive (local dates), in INDICATORS order."""
    wanted = list(INDICATORS) if keys is None else [k for k in INDICATORS if k in set(keys)]
    definitions = [INDICATORS[k] for k in wanted]
    figures: list[Figure] = []
    totals: dict[str, int] | None = None
    catalogue: dict[str, int] | None = None
    for definition in definitions:
        if definition.kind == CATALOGUE:
            catalogue = catalogue if catalogue is not None else catalogue_totals(scope)
            figures.append(_catalogue_figure(definition, scope, catalogue))
            continue
        if totals is None:
            totals = rollup_totals(start=start, end=end, scope=scope).get(None) or dict.fromkeys(
                COUNTERS, 0
            )
        open_overdue = (
            _open_overdue(start, end, scope).count() if definition.key == "overdue_count" else 0
        )
        figures.append(_case_figure(definition, totals, open_overdue))
    return figures


def indicator_series(
    *, key: str, start: date, end: date, scope: Scope = Scope(), grain: str = "month"
) -> list[tuple[date, Figure]]:
    """One figure per day or per month of start..end (a month cut by the period counts only its
    days inside it); each point is dated by its first day."""
    definition = INDICATORS[key]
    if grain not in ("day", "month"):
        raise ValueError(grain)
    points: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        stop = cursor if grain == "day" else min(_next_month(cursor) - timedelta(days=1), end)
        points.append((cursor, min(stop, end)))
        cursor = stop + timedelta(days=1)
    if definition.kind == CATALOGUE:
        figure = _catalogue_figure(definition, scope)
        return [(lo, figure) for lo, _hi in points]
    if grain == "day":
        day_table, _month_table = _tables(scope)
        rows = {
            row["day"]: row
            for row in _sum_rows(
                day_table.objects.filter(_scope_q(scope), day__gte=start, day__lte=end), ["day"]
            )
        }
        series = []
        for lo, _hi in points:
            totals = {n: (rows.get(lo) or {}).get(n) or 0 for n in COUNTERS}
            extra = _open_overdue(lo, lo, scope).count() if key == "overdue_count" else 0
            series.append((lo, _case_figure(definition, totals, extra)))
        return series
    series = []
    for lo, hi in points:
        totals = rollup_totals(start=lo, end=hi, scope=scope).get(None) or dict.fromkeys(
            COUNTERS, 0
        )
        extra = _open_overdue(lo, hi, scope).count() if key == "overdue_count" else 0
        series.append((lo, _case_figure(definition, totals, extra)))
    return series


def _sort_figures(pairs: list[tuple[Any, Figure]], higher_is_better: bool) -> list[Any]:
    def order(pair: tuple[Any, Figure]) -> tuple[int, float, str]:
        _obj, figure = pair
        if figure.value is None or (figure.unit != COUNT and not figure.denominator):
            return (1, 0.0, str(_obj))
        value = figure.value
        return (0, -value if higher_is_better else value, str(_obj))

    return sorted(pairs, key=order)


def department_ranking(
    *, key: str, start: date, end: date, region_code: str | None = None
) -> list[tuple[Department, Figure]]:
    """Every department of the region subtree with its figure, best first; departments whose
    denominator is 0 last."""
    definition = INDICATORS[key]
    departments = Department.objects.select_related("region").order_by("region__code", "name")
    if region_code:
        departments = departments.filter(region__code__startswith=region_code)
    pairs: list[tuple[Department, Figure]] = []
    if definition.kind == CATALOGUE:
        for department in departments:
            scope = Scope(region_code=region_code, department_id=department.pk)
            pairs.append((department, _catalogue_figure(definition, scope)))
    else:
        totals = rollup_totals(
            start=start, end=end, scope=Scope(region_code=region_code), group_by=["department_id"]
        )
        open_by_department: dict[int | None, int] = {}
        if key == "overdue_count":
            for row in (
                _open_overdue(start, end, Scope(region_code=region_code))
                .values("department_id")
                .annotate(n=Count("pk"))
                .order_by()
            ):
                open_by_department[row["department_id"]] = row["n"]
        for department in departments:
            counted = totals.get(department.pk) or dict.fromkeys(COUNTERS, 0)
            figure = _case_figure(definition, counted, open_by_department.get(department.pk, 0))
            pairs.append((department, figure))
    return _sort_figures(pairs, definition.higher_is_better)


# --- claimed vs actual ----------------------------------------------------------------------------


def bucket_percentile(
    counts: Sequence[int], buckets: Sequence[tuple[str, int, int | None]], fraction: float = 0.9
) -> int | None:
    """The `fraction` percentile read from bucket counts: the upper bound of the bucket that
    holds it (the lower bound for an open-ended last bucket); None when there is nothing."""
    total = sum(counts)
    if total == 0:
        return None
    needed = fraction * total
    running = 0
    for count, (_suffix, lo, hi) in zip(counts, buckets, strict=True):
        running += count
        if running >= needed and count:
            return hi if hi is not None else lo
    last = buckets[-1]
    return last[2] if last[2] is not None else last[1]


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


SAME_DAY_THRESHOLD = 0.9
FULL_ONLINE_THRESHOLD = 0.9
LATE_THRESHOLD = 0.1


def _flags(reality: dict[str, Any]) -> list[str]:
    flags = []
    p90_visits = reality["p90_visits"]
    if p90_visits is not None and p90_visits > reality["claimed_visits"]:
        flags.append(
            _("承诺最多跑动%(claimed)d次，但一成以上办结件跑动%(p90)d次及以上。")
            % {"claimed": reality["claimed_visits"], "p90": p90_visits}
        )
    share = reality["same_day_share"]
    if reality["claimed_immediate"] and share is not None and share < SAME_DAY_THRESHOLD:
        flags.append(
            _("申报为即办件，但只有%(share).0f%%的办件在受理当个工作日办结。")
            % {"share": share * 100}
        )
    share = reality["full_online_share"]
    if reality["claimed_full_online"] and share is not None and share < FULL_ONLINE_THRESHOLD:
        flags.append(
            _("申报为全程网办，但只有%(share).0f%%的办件网上申请且零跑动。")
            % {"share": share * 100}
        )
    # From the cases completed late, not from p90_days_taken: that percentile is a bucket's upper
    # bound (6–10 reads 10), which would flag an item promising 8 days whose cases all took 7.
    share = reality["late_share"]
    if share is not None and share > LATE_THRESHOLD:
        flags.append(
            _("承诺%(limit)d个工作日办结，但%(share).0f%%的办件超过承诺时限才办结。")
            % {"limit": reality["promised_limit"], "share": share * 100}
        )
    return flags


def claimed_vs_actual(*, start: date, end: date, scope: Scope = Scope()) -> list[ItemReality]:
    """Per item with completed cases in the period: what its catalogue version claims beside what
    its cases show; the items whose reality contradicts a claim first."""
    # Items are a dimension only the detailed tables keep.
    months, ranges = split_period(start, end)
    q = _scope_q(scope)
    totals: dict[int, dict[str, int]] = {}
    parts: list[QuerySet[Any]] = []
    if months:
        parts.append(CaseMonth.objects.filter(q, _period_q(months, ranges, monthly=True)))
    if ranges:
        parts.append(CaseDay.objects.filter(q, _period_q(months, ranges, monthly=False)))
    for qs in parts:
        for row in _sum_rows(qs.filter(item_id__isnull=False), ["item_id"]):
            bucket = totals.setdefault(row["item_id"], dict.fromkeys(COUNTERS, 0))
            for name in COUNTERS:
                bucket[name] += row[name] or 0
    item_ids = [item_id for item_id, row in totals.items() if row["completed"]]
    items = ServiceItem.objects.in_bulk(item_ids)
    claims: dict[int, ItemVersion] = {}
    for version in ItemVersion.objects.filter(item_id__in=item_ids).order_by("item_id", "version"):
        # The published version's claims; for an item with none, its latest version's.
        held = claims.get(version.item_id)
        if held is None or held.status != ItemStatus.PUBLISHED:
            claims[version.item_id] = version
    out: list[ItemReality] = []
    for item_id in item_ids:
        if item_id not in items or item_id not in claims:
            continue
        row = totals[item_id]
        version = claims[item_id]
        completed = row["completed"]
        visit_counts = [row[f"visits_{s}"] for s, _lo, _hi in VISIT_BUCKETS]
        day_counts = [row[f"taken_{s}"] for s, _lo, _hi in DAYS_BUCKETS]
        reality: dict[str, Any] = {
            "claimed_visits": version.claimed_visits,
            "claimed_immediate": version.declared_immediate or version.promised_limit == 0,
            "claimed_full_online": version.online_depth == OnlineDepth.FULL_ONLINE,
            "promised_limit": version.promised_limit,
            "cases": completed,
            "mean_visits": _ratio(row["visits_sum"], completed),
            "p90_visits": bucket_percentile(visit_counts, VISIT_BUCKETS),
            "same_day_share": _ratio(row["completed_same_day"], completed),
            "full_online_share": _ratio(row["completed_full_online"], completed),
            "mean_days_taken": _ratio(row["days_taken_sum"], completed),
            "p90_days_taken": bucket_percentile(day_counts, DAYS_BUCKETS),
            "late_share": _ratio(row["completed_late"], completed),
        }
        out.append(ItemReality(item=items[item_id], flags=_flags(reality), **reality))
    out.sort(key=lambda r: (not r.flags, -r.cases, r.item.pk))
    return out


# --- the cases behind a figure ---------------------------------------------------------------------


def _in_period(field_name: str, start: date, end: date) -> Q:
    lo, hi = _local_bounds(start, end)
    return Q(**{f"{field_name}__gte": lo, f"{field_name}__lt": hi})


def _same_day_ids(cases: QuerySet[Case]) -> list[int]:
    from .rollup import Calendars, days_taken_between, local_date

    rows = list(cases.values_list("pk", "region_id", "accepted_at", "completed_at"))
    calendars = Calendars()
    calendars.load({region_id for _pk, region_id, _a, _c in rows})
    return [
        pk
        for pk, region_id, accepted_at, completed_at in rows
        if accepted_at
        and completed_at
        and days_taken_between(
            calendars.of(region_id), local_date(accepted_at), local_date(completed_at)
        )
        == 0
    ]


CARD_KINDS = {
    "yellow_cards": ("case.card_yellow",),
    "red_cards": ("case.card_red", "case.legal_overdue"),
}


def cases_behind(
    *, key: str, part: str, start: date, end: date, scope: Scope = Scope()
) -> QuerySet[Case]:
    """The real cases a figure counts, read from the cases table (for drill-down pages).

    part "numerator", "denominator" or "rest" (denominator minus numerator). For count figures
    numerator and denominator are the same cases and rest is empty. Card and review figures count
    events and evaluations: a case with two of them is listed once.
    """
    from tongban.core.models import Event
    from tongban.reviews.models import BAD_LEVELS, GOOD_LEVELS

    if part not in ("numerator", "denominator", "rest"):
        raise ValueError(part)
    definition = INDICATORS[key]
    cases = Case.objects.filter(_case_scope_q(scope))
    if definition.kind == CATALOGUE:
        return cases.none()
    accepted = cases.filter(_in_period("accepted_at", start, end))
    completed = cases.filter(_in_period("completed_at", start, end))
    on_time = Q(promised_due__isnull=True) | Q(completed_at__lte=F("promised_due"))
    denominator: QuerySet[Case]
    numerator: QuerySet[Case]
    if key in ("accepted_count",):
        denominator = numerator = accepted
    elif key == "online_rate":
        denominator, numerator = accepted, accepted.filter(channel=Channel.ONLINE)
    elif key == "one_notice_rate":
        denominator = accepted.filter(supplement_count__gte=1)
        numerator = accepted.filter(supplement_count=1)
    elif key in ("completed_count", "avg_days_taken", "avg_days_promised"):
        denominator = numerator = completed
    elif key == "immediate_rate":
        denominator = completed
        numerator = completed.filter(pk__in=_same_day_ids(completed))
    elif key == "one_visit_rate":
        denominator, numerator = completed, completed.filter(visits__lte=1)
    elif key == "zero_visit_rate":
        denominator, numerator = completed, completed.filter(visits=0)
    elif key == "on_time_rate":
        denominator, numerator = completed, completed.filter(on_time)
    elif key == "overdue_count":
        late = completed.exclude(on_time)
        open_ids = _open_overdue(start, end, scope).values("pk")
        denominator = numerator = cases.filter(Q(pk__in=late.values("pk")) | Q(pk__in=open_ids))
    elif key in CARD_KINDS:
        lo, hi = _local_bounds(start, end)
        ids = (
            Event.objects.filter(
                subject_type="cases.case",
                kind__in=CARD_KINDS[key],
                occurred_at__gte=lo,
                occurred_at__lt=hi,
            )
            .values_list("subject_id", flat=True)
            .distinct()
        )
        denominator = numerator = cases.filter(pk__in=[int(i) for i in ids])
    elif key in ("good_review_rate", "bad_review_count", "rectified_rate"):
        from tongban.reviews.selectors import evaluations_counted

        lo, hi = _local_bounds(start, end)
        evaluations = evaluations_counted()
        if key == "rectified_rate":
            from tongban.reviews.models import Rectification

            due = Rectification.objects.filter(
                evaluation__in=evaluations, reply_due__gte=lo, reply_due__lt=hi
            )
            denominator = cases.filter(pk__in=due.values("evaluation__case_id"))
            numerator = cases.filter(
                pk__in=due.filter(replied_in_time=True).values("evaluation__case_id")
            )
        else:
            rated = evaluations.filter(created_at__gte=lo, created_at__lt=hi)
            bad = rated.filter(level__in=sorted(BAD_LEVELS))
            if key == "bad_review_count":
                denominator = numerator = cases.filter(pk__in=bad.values("case_id"))
            else:
                denominator = cases.filter(pk__in=rated.values("case_id"))
                numerator = cases.filter(
                    pk__in=rated.filter(level__in=sorted(GOOD_LEVELS)).values("case_id")
                )
    else:
        raise KeyError(key)
    if part == "numerator":
        return numerator
    if part == "denominator":
        return denominator
    return denominator.exclude(pk__in=numerator.values("pk"))


# --- the dashboard and the monthly report -----------------------------------------------------------

# The figures a leadership dashboard leads with (DESIGN §4), in the order it shows them.
HEADLINE_KEYS = (
    "accepted_count",
    "completed_count",
    "online_rate",
    "immediate_rate",
    "one_visit_rate",
    "on_time_rate",
    "overdue_count",
    "one_notice_rate",
    "good_review_rate",
    "rectified_rate",
    "immediate_item_share",
    "time_compression",
)
# The figures whose monthly trend the dashboard and the report draw.
TREND_KEYS = ("online_rate", "one_visit_rate", "on_time_rate", "good_review_rate")
# What a department ranking may be ordered by: case figures only (catalogue figures do not move).
RANKING_KEYS = tuple(k for k, d in INDICATORS.items() if d.kind != CATALOGUE)


@dataclass(frozen=True)
class RankingRow:
    department: Department
    figure: Figure
    grade: str | None  # supervision.grading.Grade value of the quarter, None when not graded
    grade_label: str


@dataclass(frozen=True)
class ChannelShare:
    channel: str
    label: str
    cases: int
    part: str  # the part of online_rate's cases behind it: "numerator" online, "rest" window


@dataclass(frozen=True)
class Dashboard:
    start: date
    end: date
    scope: Scope
    figures: list[Figure]
    trends: dict[str, list[tuple[date, Figure]]]
    cards_and_reviews: list[tuple[date, dict[str, Figure]]]
    channels: list[ChannelShare]
    ranking_key: str
    ranking: list[RankingRow]
    grade_quarter: tuple[int, int]
    claimed: list[ItemReality]


def trend_window(start: date, end: date) -> tuple[date, date]:
    """The months a trend is drawn over: the period itself when it spans three months or more,
    else the twelve months up to its end (a month alone is no trend)."""
    if (end.year - start.year) * 12 + end.month - start.month >= 2:
        return start, end
    first = end.replace(day=1)
    for _month in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, end


def grade_quarter_of(start: date, end: date) -> tuple[int, int]:
    """The quarter whose supervision grades colour a ranking of start..end: the quarter of its
    last day (the quarter itself when the period is one)."""
    return end.year, (end.month - 1) // 3 + 1


def department_grades(*, actor: Any, year: int, quarter: int) -> dict[int, Any]:
    """The supervision grade of each department the actor watches, for a quarter (the grades
    page's own figures and thresholds: tongban.supervision.grading)."""
    from tongban.supervision import permissions as supervision_permissions
    from tongban.supervision import selectors as supervision_selectors

    if not supervision_permissions.can_view_board(actor):
        return {}
    rows, _available = supervision_selectors.grades_for(actor=actor, year=year, quarter=quarter)
    return {row.department_id: row.grade for row in rows}


def ranking_with_grades(
    *, actor: Any, key: str, start: date, end: date, scope: Scope
) -> tuple[list[RankingRow], tuple[int, int]]:
    """Departments of the scope's region ranked by one figure, each with its quarterly grade.
    A scope narrowed to a department ranks that department alone."""
    year, quarter = grade_quarter_of(start, end)
    grades = department_grades(actor=actor, year=year, quarter=quarter)
    pairs = department_ranking(key=key, start=start, end=end, region_code=scope.region_code)
    if scope.department_id is not None:
        pairs = [(d, f) for d, f in pairs if d.pk == scope.department_id]
    rows = []
    for department, figure in pairs:
        grade = grades.get(department.pk)
        rows.append(
            RankingRow(
                department=department,
                figure=figure,
                grade=grade.value if grade else None,
                grade_label=str(grade.label) if grade else _("未评定"),
            )
        )
    return rows, (year, quarter)


def channel_mix(figures: Sequence[Figure]) -> list[ChannelShare]:
    """Accepted cases online and at a window, from the 网办率 figure's two parts."""
    online = next(f for f in figures if f.key == "online_rate")
    return [
        ChannelShare(Channel.ONLINE, str(Channel.ONLINE.label), int(online.numerator), "numerator"),
        ChannelShare(
            Channel.WINDOW,
            str(Channel.WINDOW.label),
            int(online.denominator - online.numerator),
            "rest",
        ),
    ]


def dashboard_for(
    *, actor: Any, start: date, end: date, scope: Scope, ranking_key: str = "on_time_rate"
) -> Dashboard:
    """Everything the leadership dashboard shows for a period and an already permitted scope."""
    if ranking_key not in RANKING_KEYS:
        raise KeyError(ranking_key)
    figures = indicators(start=start, end=end, scope=scope)
    headline = [f for key in HEADLINE_KEYS for f in figures if f.key == key]
    first, last = trend_window(start, end)
    trends = {
        key: indicator_series(key=key, start=first, end=last, scope=scope) for key in TREND_KEYS
    }
    monthly = {
        key: indicator_series(key=key, start=first, end=last, scope=scope)
        for key in ("red_cards", "yellow_cards", "bad_review_count")
    }
    cards_and_reviews = [
        (point, {key: dict(series)[point] for key, series in monthly.items()})
        for point, _figure in monthly["red_cards"]
    ]
    ranking, quarter = ranking_with_grades(
        actor=actor, key=ranking_key, start=start, end=end, scope=scope
    )
    return Dashboard(
        start=start,
        end=end,
        scope=scope,
        figures=headline,
        trends=trends,
        cards_and_reviews=cards_and_reviews,
        channels=channel_mix(figures),
        ranking_key=ranking_key,
        ranking=ranking,
        grade_quarter=quarter,
        claimed=claimed_vs_actual(start=start, end=end, scope=scope),
    )


@dataclass(frozen=True)
class ScopeChoices:
    regions: list[tuple[str, str]]
    departments: list[tuple[int, str]]
    items: list[tuple[int, str]]
    halls: list[tuple[int, str]]


def scope_choices_for(*, actor: Any) -> ScopeChoices:
    """The regions (down to towns), departments, items and halls the actor may pick a scope
    from (tongban.metrics.permissions decides; this lists what it would grant)."""
    from django.db.models.functions import Length

    from tongban.org.models import Hall, Region

    from .permissions import grants_of

    grants = grants_of(actor)

    def within(field: str, ids: Sequence[int] = ()) -> Q:
        if grants.everything:
            return Q()
        q = Q(pk__in=list(ids))
        for code in grants.region_codes:
            q |= Q(**{f"{field}__startswith": code})
        return q

    # Villages (12-digit codes) are too many to pick from; a town's subtree holds them.
    regions = Region.objects.alias(digits=Length("code")).filter(within("code"), digits__lte=9)
    if not (grants.everything or grants.region_codes):
        regions = regions.none()
    departments = Department.objects.filter(within("region__code", grants.department_ids)).order_by(
        "region__code", "name"
    )
    items = ServiceItem.objects.filter(department__in=departments).order_by("local_code")
    halls = Hall.objects.filter(within("region__code", grants.hall_ids)).order_by(
        "region__code", "name"
    )
    return ScopeChoices(
        regions=[(r.code, f"{r.name}（{r.code}）") for r in regions.order_by("code")],
        departments=[(d.pk, d.name) for d in departments],
        items=[(i.pk, str(i)) for i in items.select_related("entry")],
        halls=[(h.pk, h.name) for h in halls],
    )


def scope_names(scope: Scope) -> list[tuple[str, str]]:
    """The scope in words, as (what, name) pairs, for titles of pages and reports."""
    from tongban.org.models import Hall, Region

    out: list[tuple[str, str]] = []
    if scope.region_code:
        region = Region.objects.filter(code=scope.region_code).first()
        out.append((_("区划"), region.name if region else scope.region_code))
    if scope.department_id is not None:
        department = Department.objects.filter(pk=scope.department_id).first()
        out.append((_("部门"), department.name if department else str(scope.department_id)))
    if scope.item_id is not None:
        item = ServiceItem.objects.filter(pk=scope.item_id).first()
        out.append((_("事项"), str(item) if item else str(scope.item_id)))
    if scope.hall_id is not None:
        hall = Hall.objects.filter(pk=scope.hall_id).first()
        out.append((_("大厅"), hall.name if hall else str(scope.hall_id)))
    if scope.channel:
        out.append((_("渠道"), str(Channel(scope.channel).label)))
    return out


def case_rows_behind(
    *, key: str, part: str, start: date, end: date, scope: Scope = Scope()
) -> QuerySet[Case]:
    """The cases behind a figure with what a drill-down list shows of them, by number."""
    return (
        cases_behind(key=key, part=part, start=start, end=end, scope=scope)
        .select_related("department", "region")
        .only(
            "pk",
            "number",
            "title",
            "status",
            "channel",
            "visits",
            "accepted_at",
            "completed_at",
            "promised_due",
            "department__name",
            "region__name",
        )
        .order_by("number")
    )
