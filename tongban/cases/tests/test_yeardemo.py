"""`tongban demo`: a year of demo cases, the same for the same seed, as the services write them."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tongban.cases.management.commands.demo import OUTLIER_NAMES
from tongban.cases.models import Case
from tongban.cases.workflow import CaseStatus
from tongban.core.models import Event
from tongban.metrics.selectors import Scope, claimed_vs_actual
from tongban.reviews.models import BAD_LEVELS, Evaluation
from tongban.timelimits.selectors import calendar_for

ROOT = Path(__file__).resolve().parents[3]
# These run `tongban` in a child process on SQLite files of their own, whatever the suite's
# database: the SQLite pass of the suite runs them, the PostgreSQL pass would only repeat them.
own_sqlite_files = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="writes SQLite files of its own: run in the SQLite pass"
)


def _run(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "x",
        "DATABASE_URL": f"sqlite:///{database}",
        "TONGBAN_VAR_DIR": str(database.parent / f"{database.stem}-var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tongban", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=500,
    )


def _snapshot(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every case row (except its random query code), step, and event of the cases, reviews and
    supervision, in a stable order."""
    with sqlite3.connect(database) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(cases_case)")]
        kept = [c for c in columns if c != "query_code"]
        cases = db.execute(f"SELECT {', '.join(kept)} FROM cases_case ORDER BY number").fetchall()  # noqa: S608
        steps = db.execute(
            'SELECT c.number, s."order", s.status, s.due, s.started_at, s.finished_at,'
            " s.handled_by_id FROM cases_step s JOIN cases_case c ON c.id = s.case_id"
            ' ORDER BY c.number, s."order"'
        ).fetchall()
        events = db.execute(
            "SELECT subject_type, subject_id, seq, kind, payload, actor_id, actor_label,"
            " occurred_at, hash FROM core_event"
            # The organisation and catalogue are loaded at the real time, not the simulated one.
            " WHERE subject_type NOT LIKE 'org.%' AND subject_type NOT LIKE 'catalog.%'"
            " ORDER BY subject_type, subject_id, seq"
        ).fetchall()
        others = {name: db.execute(sql).fetchall() for name, sql in _OTHER_ROWS.items()}
        stored = db.execute("SELECT file, sha256 FROM cases_upload ORDER BY file").fetchall()
    media = database.parent / f"{database.stem}-var" / "media"
    # Each upload's file, by its own name, holds the bytes its row describes.
    files = [(media / name).read_bytes() for name, _sha in stored]
    assert [hashlib.sha256(data).hexdigest() for data in files] == [sha for _n, sha in stored]
    assert len({name for name, _sha in stored}) == len(stored)
    return {"cases": [(kept, *row) for row in cases], "steps": steps, "events": events, **others}


# The other rows a case's life writes, each table with the case's number in place of its id.
_OTHER_ROWS = {
    "materials": "SELECT c.number, m.requirement_id, m.material_type, m.name, m.required,"
    " m.tolerable, m.status, m.problem, m.owed_by, m.checked,"
    " (SELECT count(*) FROM cases_casematerial_uploads u WHERE u.casematerial_id = m.id)"
    " FROM cases_casematerial m JOIN cases_case c ON c.id = m.case_id ORDER BY c.number, m.id",
    # A file's key and stored name are random; what it is, whose and when are not.
    "uploads": "SELECT c.number, u.original_name, u.content_type, u.size, u.sha256,"
    " u.uploaded_by_id, u.uploaded_at FROM cases_upload u JOIN cases_case c ON c.id = u.case_id"
    " ORDER BY c.number, u.uploaded_at, u.original_name",
    "supplements": "SELECT c.number, r.sequence, r.items, r.requested_by_id, r.requested_at,"
    " r.answered_at FROM cases_supplementrequest r JOIN cases_case c ON c.id = r.case_id"
    " ORDER BY c.number, r.sequence",
    "suspensions": "SELECT c.number, s.kind, s.reason, s.expected_days, s.started_at,"
    " s.started_by_id, s.ended_at, s.ended_by_id FROM cases_suspension s"
    " JOIN cases_case c ON c.id = s.case_id ORDER BY c.number, s.id",
    "post_checks": "SELECT c.number, p.due, p.checked_at, p.checked_by_id, p.passed, p.note"
    " FROM cases_postcheck p JOIN cases_case c ON c.id = p.case_id ORDER BY c.number",
    "counters": "SELECT region_code, day, last FROM cases_casenumbercounter ORDER BY 1, 2",
    "evaluations": "SELECT * FROM reviews_evaluation ORDER BY id",
    "cards": "SELECT * FROM supervision_cardalert ORDER BY id",
}


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The same seed into three fresh SQLite databases: fast path twice, plain services once."""
    folder = tmp_path_factory.mktemp("yeardemo")
    empty = folder / "empty.sqlite3"
    _run(empty, "migrate", "--noinput", "-v", "0")
    runs: dict[str, Any] = {}
    for name, extra in (("fast", []), ("fast_again", []), ("plain", ["--plain"])):
        database = folder / f"{name}.sqlite3"
        shutil.copy(empty, database)
        # Seed 23's 120 cases take every path the fast path writes (容缺 is the rarest).
        result = _run(database, "demo", "--cases", "120", "--seed", "23", *extra)
        runs[name] = {"snapshot": _snapshot(database), "stdout": result.stdout}
    return runs


@own_sqlite_files
def test_same_seed_gives_the_same_cases_steps_and_events(three_runs: dict[str, Any]) -> None:
    first, second = three_runs["fast"]["snapshot"], three_runs["fast_again"]["snapshot"]

    assert len(first["cases"]) >= 120
    assert first["cases"] == second["cases"]
    assert first["steps"] == second["steps"]
    assert first["events"] == second["events"]


@own_sqlite_files
def test_fast_path_writes_what_the_plain_services_write(three_runs: dict[str, Any]) -> None:
    fast, plain = three_runs["fast"]["snapshot"], three_runs["plain"]["snapshot"]

    # Field by field: numbers, statuses, due dates, visits, timestamps; every step; every event
    # with its kind, payload, actor, instant and hash.
    assert fast["cases"] == plain["cases"]
    assert fast["steps"] == plain["steps"]
    assert fast["events"] == plain["events"]
    for table in _OTHER_ROWS:
        assert fast[table] == plain[table], table
    assert fast["materials"] and fast["uploads"] and fast["evaluations"] and fast["cards"]
    assert fast["post_checks"]
    # The sample takes every path the fast path writes, and some it leaves to the services
    # (an extension, a bad review and its rectification), which take the case over from then on.
    kinds = {row[3] for row in fast["events"]}
    assert {
        "case.created",
        "case.material_uploaded",
        "case.accepted",
        "case.step_passed",
        "case.decided",
        "case.delivered",
        "case.ready_for_pickup",
        "case.supplement_requested",
        "case.one_time_notice_breached",
        "case.supplemented",
        "case.suspended",
        "case.resumed",
        "case.refused",
        "case.denied",
        "case.waiting",
        "case.input_filled",
        "case.card_yellow",
        "case.card_red",
        "review.submitted",
        "case.extension_requested",
        "case.post_check_scheduled",
        "case.tolerated_supplied",
        "review.verified",
    } <= kinds


@own_sqlite_files
def test_a_different_seed_gives_different_data(tmp_path: Path, three_runs: dict[str, Any]) -> None:
    database = tmp_path / "other.sqlite3"
    _run(database, "migrate", "--noinput", "-v", "0")
    _run(database, "demo", "--cases", "120", "--seed", "6")

    assert _snapshot(database)["events"] != three_runs["fast"]["snapshot"]["events"]


@pytest.mark.django_db(transaction=True)
def test_a_year_has_the_patterns_of_a_real_one(national_calendar: None) -> None:
    out, err = io.StringIO(), io.StringIO()

    def sqlite_settings() -> list[Any]:
        if connection.vendor != "sqlite":
            return []
        values = []
        with connection.cursor() as cursor:
            for name in ("cache_size", "synchronous", "wal_autocheckpoint"):
                cursor.execute(f"PRAGMA {name}")
                values.append(cursor.fetchone())
        return values

    before = sqlite_settings()

    call_command("demo", "--cases", "300", "--seed", "5", stdout=out, stderr=err)

    assert sqlite_settings() == before  # the run's SQLite settings are given back
    cases = Case.objects.filter(parent__isnull=True)
    assert cases.count() == 300
    assert "已生成 300/300 件" in err.getvalue()
    text = out.getvalue()
    assert "已生成演示办件 300 件" in text
    assert "网上申请" in text and "差评" in text
    # About two thirds online.
    online = cases.filter(channel="online").count()
    assert 0.5 <= online / 300 <= 0.8
    # Nobody applies at a window on a day off.
    cal = calendar_for(None)
    window_days = {
        timezone.localdate(c)
        for c in cases.filter(channel="window").values_list("created_at", flat=True)
    }
    assert window_days and all(cal.is_workday(d) for d in window_days)
    # Some supplements, some a second one (a breach of 一次性告知), refusals and denials.
    assert cases.filter(supplement_count=1).exists()
    assert cases.filter(supplement_count__gte=2).exists()
    assert Event.objects.filter(kind="case.one_time_notice_breached").exists()
    assert cases.filter(status=CaseStatus.REFUSED).exists()
    # 一件事: its items were worked by their departments and delivered with the whole.
    assert Case.objects.filter(parent__isnull=False, status=CaseStatus.DELIVERED).exists()
    # Some finished late, and the sweep showed their cards.
    late = [
        c
        for c in cases.exclude(completed_at=None).exclude(promised_due=None)
        if c.completed_at and c.promised_due and c.completed_at > c.promised_due
    ]
    assert late
    assert Event.objects.filter(kind__in=["case.card_yellow", "case.card_red"]).exists()
    # Window pickups count a second visit.
    assert cases.filter(delivery_method="window", channel="window", visits__gte=2).exists()
    # Evaluations, a few of them bad, each bad one with its rectification.
    evaluations = Evaluation.objects.all()
    bad = evaluations.filter(level__in=BAD_LEVELS)
    assert evaluations.count() >= 50
    assert 0 < bad.count() <= 0.08 * evaluations.count()
    assert all(hasattr(e, "rectification") for e in bad)
    # Each rated on its simulated day after its case was completed, not on the day of the run;
    # so the ratings of a year fall in most of its months.
    today = timezone.localdate()
    for evaluation in evaluations.select_related("case"):
        completed = evaluation.case.completed_at
        assert completed is not None and completed <= evaluation.created_at
        assert timezone.localdate(evaluation.created_at) < today
    assert len({timezone.localdate(e.created_at).month for e in evaluations}) >= 9
    for evaluation in bad:
        assert evaluation.rectification.opened_at == evaluation.created_at
    # The first working days after a long holiday (春节, 国庆 …) are busier than ordinary ones.
    per_day = Counter(timezone.localdate(c) for c in cases.values_list("created_at", flat=True))
    first, last = min(per_day), max(per_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    after_holiday = [
        d
        for d in days[3:]
        if cal.is_workday(d) and not any(cal.is_workday(d - timedelta(days=k)) for k in (1, 2, 3))
    ]
    ordinary = [
        d for d in days if cal.is_workday(d) and d not in after_holiday and d.weekday() in (1, 2, 3)
    ]
    assert after_holiday
    busy = sum(per_day[d] for d in after_holiday) / len(after_holiday)
    usual = sum(per_day[d] for d in ordinary) / len(ordinary)
    assert busy > 1.5 * usual

    # The claimed-vs-actual report puts the items planted to contradict a claim first, each for
    # its claim; no other item with cases enough to judge (ten completed) is flagged.
    call_command("metrics", "update", stdout=io.StringIO())
    rows = claimed_vs_actual(start=first, end=today, scope=Scope())
    planted = {
        row.item.pk: kind
        for row in rows
        for kind, words in OUTLIER_NAMES.items()
        if f"{row.item.entry.name}（{words}）" in text
    }
    assert sorted(planted.values()) == ["hall", "slow", "trips"]
    sentence = {"hall": "申报为全程网办", "trips": "承诺最多跑动1次", "slow": "超过承诺时限"}
    assert {row.item.pk for row in rows[:3]} == set(planted)  # flagged first, most cases first
    for row in rows:
        if row.item.pk in planted:
            assert row.cases >= 10
            assert any(sentence[planted[row.item.pk]] in flag for flag in row.flags), row.flags
        elif row.cases >= 10:
            assert not row.flags, (row.item.entry.name, row.flags)

    # --if-empty does nothing now that there are cases.
    again = io.StringIO()
    call_command("demo", "--cases", "10", "--seed", "5", "--if-empty", stdout=again)
    assert "数据库中已有办件，未生成演示办件。" in again.getvalue()
    assert Case.objects.filter(parent__isnull=True).count() == 300


@pytest.mark.django_db
def test_if_empty_leaves_a_real_organisation_alone() -> None:
    out = io.StringIO()

    call_command("demo", "--cases", "5", "--seed", "1", "--if-empty", stdout=out)

    assert "数据库中不是演示机构，未生成演示办件。" in out.getvalue()
    assert not Case.objects.exists()
