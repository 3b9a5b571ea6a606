"""Maintaining the rollup tables from what really happened.

A day's `CaseDay` rows are always recomputed whole, from the cases, card events, evaluations and
rectifications of that local day, and replaced in one transaction (delete + insert): running a day
twice gives the same rows. The coarser tables are then re-summed from `CaseDay` for the days and
months touched. `rollup_pending` finds the days touched since the stored watermark (new events in
the log, new evaluations); `rollup_rebuild` recomputes every day from a date on.

Two runs at once never count twice: each run holds the lock on its `RollupState` row while it
writes. This module reads cases and never writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from tongban.cases.models import Case, Channel
from tongban.core.models import Event
from tongban.org.models import Region
from tongban.reviews.models import BAD_LEVELS, GOOD_LEVELS, Evaluation, Rectification
from tongban.reviews.selectors import evaluations_counted
from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.selectors import calendar_for

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
    RollupState,
)

STATE_NAME = "cases"
YELLOW_KINDS = ("case.card_yellow",)
RED_KINDS = ("case.card_red", "case.legal_overdue")
CASE_SUBJECT = "cases.case"
EVALUATION_SUBJECT = "reviews.evaluation"
RECTIFICATION_SUBJECT = "reviews.rectification"
# Events committed late can carry ids below the watermark: events this recent are looked at again
# on the next run (recomputing a day twice is harmless).
LOOKBACK = timedelta(minutes=10)
ID_CHUNK = 2000

Dims = tuple[str, int | None, int | None, int | None, str]


# --- working days -----------------------------------------------------------------------------------


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def days_taken_between(calendar: WorkCalendar, accepted: date, completed: date) -> int:
    """Working days from the working day of acceptance to the day of completion: 0 when completed
    on the working day accepted (a case accepted on a day off counts from the next working day)."""
    taken = calendar.working_days_between(accepted, completed)
    if not calendar.is_workday(accepted):
        taken -= 1
    return max(0, taken)


class Calendars:
    """The working-day calendar of each region, looked up once per run."""

    def __init__(self) -> None:
        self._by_region: dict[int, WorkCalendar] = {}

    def load(self, region_ids: Iterable[int]) -> None:
        missing = set(region_ids) - set(self._by_region)
        if missing:
            for region in Region.objects.filter(pk__in=missing):
                self._by_region[region.pk] = calendar_for(region).without_warnings()

    def of(self, region_id: int) -> WorkCalendar:
        if region_id not in self._by_region:
            self.load([region_id])
        return self._by_region[region_id]


def bucket_of(value: int, buckets: Iterable[tuple[str, int, int | None]]) -> str:
    for suffix, lo, hi in buckets:
        if value >= lo and (hi is None or value <= hi):
            return suffix
    raise ValueError(value)


# --- one day ------------------------------------------------------------------------------------------

_CASE_DIMS = ("region__code", "department_id", "version__item_id", "hall_id", "channel")


def _chunks(values: list[Any], size: int = ID_CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _id_chunks(ids: list[int]) -> Iterator[Any]:
    """Right sides of `pk__in` covering `ids`: on PostgreSQL one array parameter (binding tens of
    thousands of separate parameters cost more than the query), elsewhere chunks of the list."""
    if connection.vendor != "postgresql":
        yield from _chunks(ids)
    elif ids:
        yield RawSQL("SELECT unnest(%s::bigint[])", [ids])


def _bucket_counts(field: str, buckets: Iterable[tuple[str, int, int | None]]) -> dict[str, Count]:
    counts = {}
    for suffix, lo, hi in buckets:
        within = Q(**{f"{field}__gte": lo})
        if hi is not None:
            within &= Q(**{f"{field}__lte": hi})
        counts[suffix] = Count("pk", filter=within)
    return counts


def compute_day(day: date, calendars: Calendars | None = None) -> dict[Dims, dict[str, int]]:
    """The counters of one local day per dimension tuple (region code, department, item, hall,
    channel), computed from the source tables.

    The database counts and sums per dimension tuple; only the working days taken are counted
    here, once per (region, day accepted) group, since they need the region's calendar."""
    calendars = calendars or Calendars()
    lo, hi = day_bounds(day)
    rows: dict[Dims, dict[str, int]] = {}

    def row(dims: Any) -> dict[str, int]:
        counters = rows.get(dims)
        if counters is None:
            counters = rows[dims] = dict.fromkeys(COUNTERS, 0)
        return counters

    def dims_of(group: dict[str, Any], prefix: str = "") -> Dims:
        return tuple(group[prefix + d] for d in _CASE_DIMS)

    items = Case.objects.filter(version__isnull=False)
    for group in (
        items.filter(accepted_at__gte=lo, accepted_at__lt=hi)
        .values(*_CASE_DIMS)
        .annotate(
            n=Count("pk"),
            online=Count("pk", filter=Q(channel=Channel.ONLINE)),
            supplemented=Count("pk", filter=Q(supplement_count__gte=1)),
            supplemented_once=Count("pk", filter=Q(supplement_count=1)),
        )
        .order_by()
    ):
        r = row(dims_of(group))
        r["accepted"] += group["n"]
        r["accepted_online"] += group["online"]
        r["supplemented"] += group["supplemented"]
        r["supplemented_once"] += group["supplemented_once"]

    # Every case here was completed on `day`; its working days taken depend only on its region
    # and the day it was accepted, so the cases are counted per that pair.
    visit_buckets = _bucket_counts("visits", VISIT_BUCKETS)
    completed = list(
        items.filter(completed_at__gte=lo, completed_at__lt=hi)
        .values(*_CASE_DIMS, "region_id", accepted_day=TruncDate("accepted_at"))
        .annotate(
            n=Count("pk"),
            on_time=Count(
                "pk",
                filter=Q(promised_due__isnull=True) | Q(completed_at__lte=F("promised_due")),
            ),
            full_online=Count("pk", filter=Q(channel=Channel.ONLINE, visits=0)),
            visits_sum=Sum("visits"),
            promised_sum=Sum("promised_limit"),
            **{f"visits_{suffix}": count for suffix, count in visit_buckets.items()},
        )
        .order_by()
    )
    calendars.load({group["region_id"] for group in completed})
    for group in completed:
        r = row(dims_of(group))
        n = group["n"]
        taken = days_taken_between(calendars.of(group["region_id"]), group["accepted_day"], day)
        r["completed"] += n
        if taken == 0:
            r["completed_same_day"] += n
        r["completed_on_time"] += group["on_time"]
        r["completed_late"] += n - group["on_time"]
        r["completed_full_online"] += group["full_online"]
        r["visits_sum"] += group["visits_sum"]
        for suffix in visit_buckets:
            r[f"visits_{suffix}"] += group[f"visits_{suffix}"]
        r[f"taken_{bucket_of(taken, DAYS_BUCKETS)}"] += n
        r["days_taken_sum"] += taken * n
        r["days_promised_sum"] += group["promised_sum"]

    # Cards: events on cases (bundle parents too, with no item).
    cards = list(
        Event.objects.filter(
            subject_type=CASE_SUBJECT,
            kind__in=YELLOW_KINDS + RED_KINDS,
            occurred_at__gte=lo,
            occurred_at__lt=hi,
        ).values_list("subject_id", "kind")
    )
    if cards:
        card_dims: dict[int, Dims] = {}
        ids = sorted({int(subject_id) for subject_id, _kind in cards})
        for chunk in _id_chunks(ids):
            for pk, *dims in Case.objects.filter(pk__in=chunk).values_list("pk", *_CASE_DIMS):
                card_dims[pk] = tuple(dims)
        for subject_id, kind in cards:
            case_dims = card_dims.get(int(subject_id))
            if case_dims is not None:
                row(case_dims)["yellow_cards" if kind in YELLOW_KINDS else "red_cards"] += 1

    counted = evaluations_counted()
    on_case = "case__"
    for group in (
        counted.filter(created_at__gte=lo, created_at__lt=hi)
        .values(*(on_case + d for d in _CASE_DIMS))
        .annotate(
            n=Count("pk"),
            good=Count("pk", filter=Q(level__in=sorted(GOOD_LEVELS))),
            bad=Count("pk", filter=Q(level__in=sorted(BAD_LEVELS))),
        )
        .order_by()
    ):
        r = row(dims_of(group, on_case))
        r["evaluations"] += group["n"]
        r["good_reviews"] += group["good"]
        r["bad_reviews"] += group["bad"]

    on_evaluation = "evaluation__case__"
    for group in (
        Rectification.objects.filter(evaluation__in=counted, reply_due__gte=lo, reply_due__lt=hi)
        .values(*(on_evaluation + d for d in _CASE_DIMS))
        .annotate(n=Count("pk"), in_time=Count("pk", filter=Q(replied_in_time=True)))
        .order_by()
    ):
        r = row(dims_of(group, on_evaluation))
        r["rectifications_due"] += group["n"]
        r["rectified_in_time"] += group["in_time"]
    return rows


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _resum(
    target: Any,
    period_column: str,
    period_value: date,
    source_lo: date,
    source_hi: date,
    keep: tuple[str, ...],
    source: Any = CaseDay,
) -> None:
    """Replace `target`'s rows of one period by the sums of the `source` day rows in it (a day
    table at least as detailed as the target)."""
    target.objects.filter(**{period_column: period_value}).delete()
    dims = ("region_code", "channel", *keep)
    columns = ", ".join(_quoted(c) for c in (period_column, *dims, *COUNTERS))
    sums = ", ".join(f"SUM({_quoted(c)})" for c in COUNTERS)
    group = ", ".join(_quoted(c) for c in dims)
    # Only our own table and column names are interpolated; the values are parameters.
    sql = (
        f"INSERT INTO {_quoted(target._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT %s, {group}, {sums} FROM {_quoted(source._meta.db_table)} "
        f"WHERE {_quoted('day')} >= %s AND {_quoted('day')} <= %s GROUP BY {group}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [period_value, source_lo, source_hi])


def _month_of(day: date) -> date:
    return day.replace(day=1)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


_DAY_COLUMNS = (
    "day",
    "region_code",
    "department_id",
    "item_id",
    "hall_id",
    "channel",
    *COUNTERS,
)


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Many rows at once: COPY on PostgreSQL (the ORM's bulk insert costs more than the day's
    arithmetic), plain multi-row inserts elsewhere."""
    if not rows:
        return
    names = ", ".join(_quoted(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {_quoted(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {_quoted(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


def write_day(day: date, calendars: Calendars | None = None) -> int:
    """Recompute one day's rows (CaseDay, DepartmentDay, RegionDay); the caller re-sums its
    month."""
    rows = compute_day(day, calendars)
    CaseDay.objects.filter(day=day).delete()
    _insert(
        CaseDay._meta.db_table,
        _DAY_COLUMNS,
        [(day, *dims, *(counters[c] for c in COUNTERS)) for dims, counters in rows.items()],
    )
    _resum(DepartmentDay, "day", day, day, day, ("department_id",))
    _resum(RegionDay, "day", day, day, day, (), source=DepartmentDay)
    return len(rows)


def write_months(days: Iterable[date]) -> None:
    for month in sorted({_month_of(d) for d in days}):
        end = _month_end(month)
        _resum(CaseMonth, "month", month, month, end, ("department_id", "item_id", "hall_id"))
        _resum(
            DepartmentMonth, "month", month, month, end, ("department_id",), source=DepartmentDay
        )
        _resum(RegionMonth, "month", month, month, end, (), source=RegionDay)


def _locked_state() -> RollupState:
    RollupState.objects.get_or_create(name=STATE_NAME)
    return RollupState.objects.select_for_update().get(name=STATE_NAME)


def roll_days(days: Iterable[date]) -> int:
    """Recompute the given days and their months, holding the rollup lock; returns days done."""
    todo = sorted(set(days))
    if not todo:
        return 0
    calendars = Calendars()
    with transaction.atomic():
        _locked_state()
        for day in todo:
            write_day(day, calendars)
        write_months(todo)
    return len(todo)


# --- finding the touched days ------------------------------------------------------------------------


def _case_days(case_ids: set[int]) -> set[date]:
    """The days, besides the days of their new events, under which these cases are counted and
    which a later event can change: the day completed (a delivery at the window adds a visit),
    the days rated (an upheld appeal removes a rating) and the days rectifications fall due.
    The day accepted is not among them: what is counted under it (channel, supplements) is
    settled by the acceptance, whose own event names that day."""
    days: set[date] = set()
    ids = sorted(case_ids)
    for chunk in _id_chunks(ids):
        for query in (
            Case.objects.filter(pk__in=chunk, completed_at__isnull=False).values_list(
                TruncDate("completed_at")
            ),
            Evaluation.objects.filter(case_id__in=chunk).values_list(TruncDate("created_at")),
            Rectification.objects.filter(evaluation__case_id__in=chunk).values_list(
                TruncDate("reply_due")
            ),
        ):
            days.update(d for (d,) in query.order_by().distinct())
    return days


@dataclass(frozen=True)
class RollupResult:
    events: int
    days: list[date]


def rollup_pending() -> RollupResult:
    """Recompute every day touched since the watermark; safe to run twice at once."""
    calendars = Calendars()
    with transaction.atomic():
        state = _locked_state()
        started = timezone.now()
        events = Event.objects.filter(id__gt=state.last_event_id)
        if state.last_run_at is not None:
            events = Event.objects.filter(
                Q(id__gt=state.last_event_id) | Q(occurred_at__gte=state.last_run_at - LOOKBACK)
            )
        days: set[date] = set()
        case_ids: set[int] = set()
        evaluation_ids: set[int] = set()
        rectification_ids: set[int] = set()
        last_event_id = state.last_event_id
        count = 0
        for pk, subject_type, subject_id, occurred_on in events.values_list(
            "pk", "subject_type", "subject_id", TruncDate("occurred_at")
        ).iterator(chunk_size=5000):
            count += 1
            last_event_id = max(last_event_id, pk)
            days.add(occurred_on)
            if subject_type == CASE_SUBJECT:
                case_ids.add(int(subject_id))
            elif subject_type == EVALUATION_SUBJECT:
                evaluation_ids.add(int(subject_id))
            elif subject_type == RECTIFICATION_SUBJECT:
                rectification_ids.add(int(subject_id))
        new_evaluations = Evaluation.objects.filter(
            Q(pk__gt=state.last_evaluation_id) | Q(pk__in=sorted(evaluation_ids))
        )
        last_evaluation_id = max(
            state.last_evaluation_id,
            Evaluation.objects.aggregate(m=Max("pk"))["m"] or 0,
        )
        case_ids.update(new_evaluations.values_list("case_id", flat=True))
        if rectification_ids:
            case_ids.update(
                Rectification.objects.filter(pk__in=sorted(rectification_ids)).values_list(
                    "evaluation__case_id", flat=True
                )
            )
        days |= _case_days(case_ids)
        for day in sorted(days):
            write_day(day, calendars)
        write_months(days)
        state.last_event_id = last_event_id
        state.last_evaluation_id = last_evaluation_id
        state.last_run_at = started
        state.days_rolled = len(days)
        state.updated_at = timezone.now()
        state.save()
    return RollupResult(events=count, days=sorted(days))


def _first_day() -> date | None:
    firsts = [
        Case.objects.aggregate(m=Min("accepted_at"))["m"],
        Evaluation.objects.aggregate(m=Min("created_at"))["m"],
        Event.objects.filter(
            subject_type=CASE_SUBJECT, kind__in=YELLOW_KINDS + RED_KINDS
        ).aggregate(m=Min("occurred_at"))["m"],
    ]
    moments = [m for m in firsts if m is not None]
    return local_date(min(moments)) if moments else None


def _last_day() -> date:
    lasts = [
        timezone.now(),
        Rectification.objects.aggregate(m=Max("reply_due"))["m"],
        Case.objects.aggregate(m=Max("completed_at"))["m"],
    ]
    return local_date(max(m for m in lasts if m is not None))


def rollup_rebuild(
    *, since: date | None = None, progress: Callable[[int, int, date], None] | None = None
) -> int:
    """Recompute every day from `since` (default: the first day with data) to the last; returns
    the number of days. Each month is written in its own transaction, under the lock."""
    with transaction.atomic():
        state = _locked_state()
        watermark = Event.objects.aggregate(m=Max("pk"))["m"] or 0
        evaluation_mark = Evaluation.objects.aggregate(m=Max("pk"))["m"] or 0
    first = since or _first_day()
    if first is None:
        return 0
    last = _last_day()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    calendars = Calendars()
    done = 0
    month_batches: dict[date, list[date]] = {}
    for day in days:
        month_batches.setdefault(_month_of(day), []).append(day)
    for month_days in month_batches.values():
        with transaction.atomic():
            _locked_state()
            for day in month_days:
                write_day(day, calendars)
                done += 1
                if progress is not None:
                    progress(done, len(days), day)
            write_months(month_days)
    with transaction.atomic():
        state = _locked_state()
        if since is None:
            # Rows of days before the first day with data can only be stale.
            for table, column in (
                (CaseDay, "day"),
                (DepartmentDay, "day"),
                (CaseMonth, "month"),
                (DepartmentMonth, "month"),
                (RegionDay, "day"),
                (RegionMonth, "month"),
            ):
                bound = first if column == "day" else _month_of(first)
                table.objects.filter(**{f"{column}__lt": bound}).delete()
        state.last_event_id = max(state.last_event_id, watermark)
        state.last_evaluation_id = max(state.last_evaluation_id, evaluation_mark)
        state.last_rebuild_at = timezone.now()
        state.last_run_at = state.last_run_at or state.last_rebuild_at
        state.updated_at = timezone.now()
        state.save()
    return done


def rollup_status() -> dict[str, Any]:
    state = RollupState.objects.filter(name=STATE_NAME).first()
    span = CaseDay.objects.aggregate(first=Min("day"), last=Max("day"))
    return {
        "last_event_id": state.last_event_id if state else 0,
        "pending_events": Event.objects.filter(id__gt=state.last_event_id if state else 0).count(),
        "last_run_at": state.last_run_at if state else None,
        "last_rebuild_at": state.last_rebuild_at if state else None,
        "first_day": span["first"],
        "last_day": span["last"],
        "day_rows": CaseDay.objects.count(),
        "month_rows": CaseMonth.objects.count(),
        "sweep_seconds": settings.METRICS_ROLLUP_SWEEP_SECONDS,
    }
