"""`tongban export cases`: the exported file alone recomputes every case figure the API gives.

The recomputation below is plain Python over the CSV rows, following docs/indicators.md; it
uses nothing of tongban (the working days are checked against the `chinesecalendar` package).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from tongban.metrics.definitions import CATALOGUE, INDICATORS
from tongban.org.models import Department, Region, Role
from tongban.org.tests.factories import RoleAssignmentFactory, UserFactory

from .factories import make_county

COLUMNS = [
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
]
# docs/indicators.md, 超期件: the statuses of a case still open.
OPEN = {"submitted", "supplement", "waiting", "accepted", "suspended"}
GOOD = {"very_satisfied", "satisfied"}
BAD = {"dissatisfied", "very_dissatisfied"}
COUNTY = "430981"


def export_csv(*args: str) -> tuple[list[dict[str, str]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", "cases", *args, stdout=out, stderr=err)
    text = out.getvalue()
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]))), err.getvalue()


# --- the recomputation, from the rows alone ---------------------------------------------------------


def moment(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def moments(text: str) -> list[datetime]:
    return [datetime.fromisoformat(part) for part in text.split(";") if part]


def recompute(
    rows: list[dict[str, str]], start: date, end: date, now: datetime
) -> dict[str, tuple[int, int]]:
    """(numerator, denominator) of every case figure over start..end, as docs/indicators.md
    defines them, from exported rows already narrowed to the scope."""

    def within(m: datetime | None) -> bool:
        return m is not None and start <= m.date() <= end

    items = [r for r in rows if r["item_code"]]  # 一件事 parents count only cards and reviews
    accepted = [r for r in items if within(moment(r["accepted_at"]))]
    completed = [r for r in items if within(moment(r["completed_at"]))]

    def on_time(r: dict[str, str]) -> bool:
        due = moment(r["promised_due"])
        return due is None or moment(r["completed_at"]) <= due  # type: ignore[operator]

    def count(rs: list[dict[str, str]], test: Callable[[dict[str, str]], bool]) -> int:
        return sum(1 for r in rs if test(r))

    supplemented = [r for r in accepted if int(r["supplement_requests"]) >= 1]
    lo = datetime.combine(start, datetime.min.time(), tzinfo=now.tzinfo)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
    open_overdue = count(
        items,
        lambda r: (
            r["status"] in OPEN
            and bool(r["promised_due"])
            and lo <= moment(r["promised_due"]) < min(hi, now)  # type: ignore[operator]
        ),
    )
    late = len(completed) - count(completed, on_time)
    yellow = sum(1 for r in rows for m in moments(r["yellow_cards_at"]) if within(m))
    red = sum(1 for r in rows for m in moments(r["red_cards_at"]) if within(m))
    rated: list[str] = []
    due: list[str] = []
    for r in rows:
        for prefix in ("", "acceptance_"):
            if within(moment(r[f"{prefix}evaluated_at"])):
                rated.append(r[f"{prefix}evaluation_level"])
            if within(moment(r[f"{prefix}rectify_due"])):
                due.append(r[f"{prefix}rectified_in_time"])
    n_completed = len(completed)
    return {
        "accepted_count": (len(accepted), len(accepted)),
        "completed_count": (n_completed, n_completed),
        "immediate_rate": (count(completed, lambda r: r["working_days_taken"] == "0"), n_completed),
        "online_rate": (count(accepted, lambda r: r["channel"] == "online"), len(accepted)),
        "one_visit_rate": (count(completed, lambda r: int(r["visits"]) <= 1), n_completed),
        "zero_visit_rate": (count(completed, lambda r: r["visits"] == "0"), n_completed),
        "one_notice_rate": (
            count(supplemented, lambda r: r["supplement_requests"] == "1"),
            len(supplemented),
        ),
        "on_time_rate": (count(completed, on_time), n_completed),
        "overdue_count": (late + open_overdue, late + open_overdue),
        "yellow_cards": (yellow, yellow),
        "red_cards": (red, red),
        "good_review_rate": (sum(1 for level in rated if level in GOOD), len(rated)),
        "rectified_rate": (sum(1 for in_time in due if in_time == "1"), len(due)),
        "bad_review_count": (
            sum(1 for level in rated if level in BAD),
            sum(1 for level in rated if level in BAD),
        ),
        "avg_days_taken": (sum(int(r["working_days_taken"]) for r in completed), n_completed),
        "avg_days_promised": (sum(int(r["promised_limit"]) for r in completed), n_completed),
    }


def working_days_taken(accepted: date, completed: date) -> int:
    """docs/indicators.md on the national calendar: working days after the working day of
    acceptance up to the day of completion."""
    first = accepted
    while not chinese_calendar.is_workday(first):
        first += timedelta(days=1)
    days, d = 0, first + timedelta(days=1)
    while d <= completed:
        days += chinese_calendar.is_workday(d)
        d += timedelta(days=1)
    return days


def api_figures(client: Client, start: date, end: date, **scope: Any) -> dict[str, tuple[Any, Any]]:
    response = client.get(
        "/api/v1/metrics/indicators",
        {"from": start.isoformat(), "to": end.isoformat(), **scope},
    )
    assert response.status_code == 200, response.content
    return {
        f["key"]: (f["numerator"], f["denominator"])
        for f in response.json()["figures"]
        if INDICATORS[f["key"]].kind != CATALOGUE
    }


# --- a demo year, exported and recomputed -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_export_alone_recomputes_every_case_figure_of_a_demo_year(
    national_calendar: None,
) -> None:
    from tongban.metrics.rollup import rollup_rebuild

    call_command(
        "demo", "--cases", "150", "--seed", "7", stdout=io.StringIO(), stderr=io.StringIO()
    )
    rollup_rebuild()
    # The demo year ends yesterday; the rectification deadlines of its last bad reviews lie a few
    # working days after, so the period runs past them.
    today = timezone.localdate()
    start, end = today - timedelta(days=400), today + timedelta(days=30)
    supervisor = UserFactory()
    RoleAssignmentFactory(
        user=supervisor, role=Role.SUPERVISOR, region=Region.objects.get(code=COUNTY)
    )
    client = Client()
    client.force_login(supervisor)

    rows, _err = export_csv("--from", start.isoformat(), "--to", end.isoformat())
    now = timezone.localtime()

    assert len({r["number"] for r in rows}) == len(rows) > 150
    for r in rows:
        if r["working_days_taken"]:
            accepted, completed = moment(r["accepted_at"]), moment(r["completed_at"])
            assert accepted is not None and completed is not None
            assert int(r["working_days_taken"]) == working_days_taken(
                accepted.date(), completed.date()
            ), r["number"]
    busiest, _n = Counter(r["department"] for r in rows if r["item_code"]).most_common(1)[0]
    department = Department.objects.get(name=busiest, region__code__startswith=COUNTY)
    scopes: list[tuple[dict[str, Any], Callable[[dict[str, str]], bool]]] = [
        ({"region": COUNTY}, lambda r: r["region"].startswith(COUNTY)),
        (
            {"region": COUNTY, "department": department.pk},
            lambda r: r["department"] == department.name,
        ),
        ({"region": COUNTY, "channel": "window"}, lambda r: r["channel"] == "window"),
        ({"region": COUNTY, "channel": "online"}, lambda r: r["channel"] == "online"),
    ]
    for scope, in_scope in scopes:
        expected = recompute([r for r in rows if in_scope(r)], start, end, now)
        assert api_figures(client, start, end, **scope) == expected, scope
    # A month inside the year, cut out of the same file: the figures of any period follow.
    month_start = (today - timedelta(days=120)).replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    county_rows = [r for r in rows if r["region"].startswith(COUNTY)]
    month = recompute(county_rows, month_start, month_end, now)
    assert api_figures(client, month_start, month_end, region=COUNTY) == month
    # Not a vacuous agreement: the year has what every figure counts.
    year = recompute(county_rows, start, end, now)
    for key in ("completed_count", "online_rate", "one_notice_rate", "red_cards", "yellow_cards"):
        assert year[key][1] > 0, key
    assert year["good_review_rate"][1] > 0
    assert month["accepted_count"][0] > 0


# --- the columns, the workbook, and what the command refuses ----------------------------------------


@pytest.mark.django_db
def test_each_column_holds_what_the_document_says() -> None:
    county = make_county()
    late = county.late  # accepted Mon 2026-11-02 10:00, completed Fri 2026-11-06 15:00, bad review

    rows, _err = export_csv("--from", county.start.isoformat(), "--to", county.end.isoformat())

    assert list(rows[0]) == COLUMNS
    assert [r["number"] for r in rows] == sorted(r["number"] for r in rows)
    by_number = {r["number"]: r for r in rows}
    assert len(by_number) == 6
    row = by_number[late.number]
    assert row["item_code"] == county.world.item.item.local_code
    assert row["department"] == "市场监督管理局"
    assert row["region"] == COUNTY
    assert row["channel"] == "window"
    assert row["submitted_at"] == "2026-11-02T09:00:00+08:00"
    assert row["accepted_at"] == "2026-11-02T10:00:00+08:00"
    assert row["completed_at"] == "2026-11-06T15:00:00+08:00"
    assert row["promised_due"] == "2026-11-05T17:30:00+08:00"
    assert row["legal_due"] == timezone.localtime(late.legal_due).isoformat()
    assert row["status"] == late.status
    assert row["visits"] == "3"
    assert row["supplement_requests"] == "0"
    assert row["working_days_taken"] == "4"
    assert row["promised_limit"] == str(late.promised_limit)
    assert row["evaluation_level"] == "dissatisfied"
    assert moment(row["evaluated_at"]) is not None
    assert moment(row["rectify_due"]) > moment(row["evaluated_at"])  # type: ignore[operator]
    assert row["rectified_in_time"] == "1"
    assert row["acceptance_evaluation_level"] == row["acceptance_rectify_due"] == ""
    assert row["acceptance_rectified_in_time"] == ""
    assert by_number[county.supplemented_twice.number]["supplement_requests"] == "2"
    opened = by_number[county.open_overdue.number]
    assert (
        opened["completed_at"] == opened["working_days_taken"] == opened["evaluation_level"] == ""
    )
    assert by_number[county.online_done.number]["channel"] == "online"
    assert by_number[county.online_done.number]["working_days_taken"] == "0"


@pytest.mark.django_db
def test_a_period_without_the_cases_exports_only_the_header() -> None:
    make_county()

    rows, err = export_csv("--from", "2020-01-01", "--to", "2020-12-31")

    assert rows == []
    assert "已导出 0 件办件" in err


@pytest.mark.django_db
def test_the_workbook_has_the_same_rows_with_numbers_as_numbers(tmp_path: Path) -> None:
    county = make_county()
    period = ("--from", county.start.isoformat(), "--to", county.end.isoformat())
    target = tmp_path / "cases.xlsx"
    err = io.StringIO()

    call_command(
        "export", "cases", *period, "--format", "xlsx", "--output", str(target), stderr=err
    )

    sheet = load_workbook(target, read_only=True).active
    assert sheet is not None
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == COLUMNS
    as_text = [["" if v is None else str(v) for v in row] for row in cells[1:]]
    rows, _err = export_csv(*period)
    assert as_text == [list(r.values()) for r in rows]
    late = next(row for row in cells[1:] if row[0] == county.late.number)
    assert late[COLUMNS.index("visits")] == 3
    assert late[COLUMNS.index("working_days_taken")] == 4
    assert late[COLUMNS.index("accepted_at")] == "2026-11-02T10:00:00+08:00"
    assert f"到 {target}" in err.getvalue()


@pytest.mark.django_db
def test_the_csv_file_written_by_output_is_the_same_as_standard_output(tmp_path: Path) -> None:
    county = make_county()
    period = ("--from", county.start.isoformat(), "--to", county.end.isoformat())
    target = tmp_path / "cases.csv"

    call_command("export", "cases", *period, "--output", str(target), stderr=io.StringIO())

    out = io.StringIO()
    call_command("export", "cases", *period, stdout=out, stderr=io.StringIO())
    assert target.read_bytes() == out.getvalue().encode("utf-8")
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cases", "--from", "2026-13-01", "--to", "2026-12-31"], "--from 应为 YYYY-MM-DD"),
        (["cases", "--from", "2026-01-01", "--to", "31/12/2026"], "--to 应为 YYYY-MM-DD"),
        (["cases", "--to", "2026-12-31"], "请用 --from 指定日期"),
        (["cases", "--from", "2026-01-01"], "请用 --to 指定日期"),
        (["cases", "--from", "2026-02-01", "--to", "2026-01-31"], "--from 不能晚于 --to"),
        (
            ["cases", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "pdf"],
            "--format 应为 csv 或 xlsx（收到：pdf）",
        ),
        (
            ["cases", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "xlsx"],
            "xlsx 格式需要用 --output",
        ),
        (["tickets", "--from", "2026-01-01", "--to", "2026-01-31"], "请指定导出对象：cases"),
    ],
)
def test_bad_input_is_refused_in_chinese_naming_the_option(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db
def test_an_unwritable_output_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "cases.csv"

    with pytest.raises(CommandError, match="无法写入"):
        call_command(
            "export",
            "cases",
            *("--from", "2026-01-01", "--to", "2026-01-31", "--output", str(target)),
            stderr=io.StringIO(),
        )
