"""Cases exported as rows, with what someone outside tongban needs to recompute every case
indicator of docs/indicators.md from the file alone (see "Exported columns" there).

The rows are streamed: cases are read in chunks of `CHUNK` by number, and each chunk's
evaluations, rectifications and card events are read for that chunk only, so an export of a
province's year never holds more than one chunk in memory. This module only reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from tongban.cases.models import Case
from tongban.core.models import Event
from tongban.reviews.models import Occasion, Rectification
from tongban.reviews.selectors import evaluations_counted

from .rollup import (
    CASE_SUBJECT,
    RED_KINDS,
    YELLOW_KINDS,
    Calendars,
    day_bounds,
    days_taken_between,
)

CHUNK = 2000

# The columns, in order; docs/indicators.md documents each one. Changing them changes a format
# other people's scripts read: change the document with them.
CASE_COLUMNS: tuple[str, ...] = (
    "number",
    "item_code",
    "department",
    "region",
    "channel",
    "submitted_at",
    "accepted_at",
    "completed_at",
    "promised_due",
    "legal_due",
    "status",
    "visits",
    "supplement_requests",
    "working_days_taken",
    "promised_limit",
    "evaluation_level",
    "evaluated_at",
    "rectify_due",
    "rectified_in_time",
    "acceptance_evaluation_level",
    "acceptance_evaluated_at",
    "acceptance_rectify_due",
    "acceptance_rectified_in_time",
    "yellow_cards_at",
    "red_cards_at",
)
# Columns that hold integers (written as numbers in a workbook); empty stays empty.
INTEGER_COLUMNS = frozenset(
    {
        "visits",
        "supplement_requests",
        "working_days_taken",
        "promised_limit",
        "rectified_in_time",
        "acceptance_rectified_in_time",
    }
)
# Several moments in one cell (card events) are separated by this.
LIST_SEPARATOR = ";"

Row = dict[str, str | int | None]


def moment_text(moment: datetime | None) -> str:
    """ISO 8601 local time with its offset; fractions of a second are kept when there are any,
    so that comparing two exported moments gives what comparing the stored ones gives."""
    if moment is None:
        return ""
    return timezone.localtime(moment).isoformat()


def cases_for_export(*, start: date, end: date) -> QuerySet[Case]:
    """Every case (一件事 parents too) that a case figure of start..end can count, or that was
    submitted in it: its submitted, accepted, completed or promised due moment, one of its
    counted evaluations, one of their rectification deadlines or one of its card events lies in
    the period (local dates, both ends included). Ordered by number."""
    lo, hi = day_bounds(start)[0], day_bounds(end)[1]

    def within(field: str) -> Q:
        return Q(**{f"{field}__gte": lo, f"{field}__lt": hi})

    counted = evaluations_counted()
    rated = counted.filter(within("created_at")).values("case_id")
    due = Rectification.objects.filter(within("reply_due"), evaluation__in=counted).values(
        "evaluation__case_id"
    )
    carded = (
        Event.objects.filter(
            within("occurred_at"),
            subject_type=CASE_SUBJECT,
            kind__in=YELLOW_KINDS + RED_KINDS,
        )
        .annotate(case_id=Cast("subject_id", BigIntegerField()))
        .values("case_id")
    )
    return Case.objects.filter(
        within("submitted_at")
        | within("accepted_at")
        | within("completed_at")
        | within("promised_due")
        | Q(pk__in=rated)
        | Q(pk__in=due)
        | Q(pk__in=carded)
    ).order_by("number")


_CASE_FIELDS = (
    "pk",
    "number",
    "version__item__local_code",
    "department__name",
    "region_id",
    "region__code",
    "channel",
    "submitted_at",
    "accepted_at",
    "completed_at",
    "promised_due",
    "legal_due",
    "status",
    "visits",
    "supplement_count",
    "promised_limit",
)


def _evaluations_of(case_ids: Sequence[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """The counted evaluation of each (case, occasion) with its rectification's deadline and
    whether it was replied in time (a counted evaluation is one per case and occasion)."""
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for case_id, occasion, level, created_at, reply_due, in_time in (
        evaluations_counted()
        .filter(case_id__in=list(case_ids))
        .values_list(
            "case_id",
            "occasion",
            "level",
            "created_at",
            "rectification__reply_due",
            "rectification__replied_in_time",
        )
        .order_by("case_id", "created_at", "pk")
    ):
        out[(case_id, occasion)] = {
            "level": level,
            "at": created_at,
            "reply_due": reply_due,
            "in_time": in_time,
        }
    return out


def _cards_of(case_ids: Sequence[int]) -> dict[int, dict[str, list[datetime]]]:
    out: dict[int, dict[str, list[datetime]]] = {}
    for subject_id, kind, occurred_at in (
        Event.objects.filter(
            subject_type=CASE_SUBJECT,
            subject_id__in=[str(pk) for pk in case_ids],
            kind__in=YELLOW_KINDS + RED_KINDS,
        )
        .values_list("subject_id", "kind", "occurred_at")
        .order_by("occurred_at", "pk")
    ):
        colour = "yellow" if kind in YELLOW_KINDS else "red"
        out.setdefault(int(subject_id), {"yellow": [], "red": []})[colour].append(occurred_at)
    return out


def _evaluation_cells(found: dict[str, Any] | None, prefix: str) -> Row:
    if found is None:
        return {
            f"{prefix}evaluation_level": "",
            f"{prefix}evaluated_at": "",
            f"{prefix}rectify_due": "",
            f"{prefix}rectified_in_time": None,
        }
    has_rectification = found["reply_due"] is not None
    return {
        f"{prefix}evaluation_level": found["level"],
        f"{prefix}evaluated_at": moment_text(found["at"]),
        f"{prefix}rectify_due": moment_text(found["reply_due"]),
        # Not replied (yet) is not in time, as the 差评整改率 counts it.
        f"{prefix}rectified_in_time": (1 if found["in_time"] else 0) if has_rectification else None,
    }


def _rows_of(chunk: list[tuple[Any, ...]], calendars: Calendars) -> Iterator[Row]:
    ids = [values[0] for values in chunk]
    evaluations = _evaluations_of(ids)
    cards = _cards_of(ids)
    calendars.load({values[4] for values in chunk})
    for values in chunk:
        case = dict(zip(_CASE_FIELDS, values, strict=True))
        pk = case["pk"]
        taken: int | None = None
        if case["accepted_at"] is not None and case["completed_at"] is not None:
            taken = days_taken_between(
                calendars.of(case["region_id"]),
                timezone.localtime(case["accepted_at"]).date(),
                timezone.localtime(case["completed_at"]).date(),
            )
        case_cards = cards.get(pk, {"yellow": [], "red": []})
        yield {
            "number": case["number"],
            "item_code": case["version__item__local_code"] or "",
            "department": case["department__name"] or "",
            "region": case["region__code"],
            "channel": case["channel"],
            "submitted_at": moment_text(case["submitted_at"]),
            "accepted_at": moment_text(case["accepted_at"]),
            "completed_at": moment_text(case["completed_at"]),
            "promised_due": moment_text(case["promised_due"]),
            "legal_due": moment_text(case["legal_due"]),
            "status": case["status"],
            "visits": case["visits"],
            "supplement_requests": case["supplement_count"],
            "working_days_taken": taken,
            "promised_limit": case["promised_limit"],
            **_evaluation_cells(evaluations.get((pk, Occasion.COMPLETION)), ""),
            **_evaluation_cells(evaluations.get((pk, Occasion.ACCEPTANCE)), "acceptance_"),
            "yellow_cards_at": LIST_SEPARATOR.join(moment_text(m) for m in case_cards["yellow"]),
            "red_cards_at": LIST_SEPARATOR.join(moment_text(m) for m in case_cards["red"]),
        }


@dataclass(frozen=True)
class CaseExport:
    total: int
    rows: Iterator[Row]


def case_export_rows(
    *, start: date, end: date, progress: Callable[[int, int], None] | None = None
) -> CaseExport:
    """The export's rows for start..end, streamed in chunks, with their number known first (for
    progress and for formats with a row limit). `progress(done, total)` is called per chunk."""
    cases = cases_for_export(start=start, end=end)
    total = cases.count()

    def rows() -> Iterator[Row]:
        calendars = Calendars()
        done = 0
        chunk: list[tuple[Any, ...]] = []
        for values in cases.values_list(*_CASE_FIELDS).iterator(chunk_size=CHUNK):
            chunk.append(values)
            if len(chunk) == CHUNK:
                yield from _rows_of(chunk, calendars)
                done += len(chunk)
                chunk = []
                if progress is not None:
                    progress(done, total)
        if chunk:
            yield from _rows_of(chunk, calendars)
            done += len(chunk)
        if progress is not None:
            progress(done, total)

    return CaseExport(total=total, rows=rows())


# --- writing a file -------------------------------------------------------------------------------

FORMATS = ("csv", "xlsx")
# A worksheet holds 1,048,576 rows, one of them the header.
XLSX_MAX_ROWS = 1_048_575


def write_csv(rows: Iterator[Row], stream: Any) -> int:
    """UTF-8 with a byte-order mark (Excel then shows Chinese), header first; returns the rows
    written. `stream` is a text stream opened with newline=""."""
    import csv

    writer = csv.writer(stream)
    stream.write("\ufeff")
    writer.writerow(CASE_COLUMNS)
    written = 0
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in CASE_COLUMNS])
        written += 1
    return written


def write_xlsx(rows: Iterator[Row], target: Any) -> int:
    """One worksheet, header first, integers as numbers and the rest as text; written in
    openpyxl's write-only mode, which streams rows to disk. `target` is a path or a binary
    stream; returns the rows written."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("cases")
    sheet.append(list(CASE_COLUMNS))
    written = 0
    for row in rows:
        sheet.append([row[c] if c in INTEGER_COLUMNS else (row[c] or "") for c in CASE_COLUMNS])
        written += 1
    workbook.save(target)
    return written
