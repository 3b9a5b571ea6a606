"""The supervision board at 3,000,000 open cases: its counts by department and colour against the
raw SQL for the same counts, and the 50 most overdue cases, in one run on PostgreSQL.

Run by hand from the repository root (never as a test; the figures go to docs/BENCHMARKS.md):

    python bench/bench_supervision.py                 # 3,000,000 open cases
    python bench/bench_supervision.py --cases 300000  # a quicker look

It starts a throwaway PostgreSQL server (scripts/pg-temp.sh), migrates with the supervision app
installed, loads the cases app's test county (16 departments, the first the busiest) and writes
the open cases with INSERT … SELECT generate_series: 90 % accepted with a promised due date spread
over 30 days either side of now (a third overdue, a few hundred thousand due within a working day),
5 % suspended (no due date, as the services leave it) and 5 % submitted. Then VACUUM ANALYZE, as
autovacuum would, so the visibility map lets the board read its index alone. Then, as the county's
supervisor, each measured RUNS times, interleaved so that they share the machine's load:

- the board's counts: `card_boundary` + `board_counts` (the selector the page and API call);
- the raw SQL: the same counts written by hand (COUNT … FILTER), run with the same cursor;
- the 50 most overdue: `card_most_overdue` (the ids and due dates: one statement reading each
  department's index range through a LATERAL subquery), and `board_overdue` (the rows the page
  shows, with the step holding each case and how many working days it is overdue).

`--explain` prints the plans of the statements the selectors send, and the queries behind a row.

Medians are reported; the requirement (issue 6) is counts ≤ 1.5× the raw SQL and under 1 s, and the
50 most overdue under 10 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from case_data import county_load, django_setup, free_port, machine, throwaway_postgres

WARM_UP = 3


def generate(*, county: Any, count: int) -> dict[str, int]:
    """Write `count` open item cases straight into cases_case (no steps: the board's promised-time
    counts read cases only); the secondary indexes are built once at the end."""
    from case_data import _drop_secondary_indexes, _one
    from django.db import connection

    world = county.world
    version = world.item
    department_ids = [d.pk for d in county.departments]
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SELECT setseed(0.42)")
        dropped = _drop_secondary_indexes(cursor, ["cases_case"])
        cursor.execute(
            """
            INSERT INTO cases_case (
                number, query_code, title, channel, status, form_data, outputs,
                created_at, submitted_at, accepted_at, promised_limit, legal_limit, limit_unit,
                prereview_due, promised_due, legal_due, suspended_since, extended_days, clock,
                supplement_count, visits, commitment, commitment_text, decision, decision_reason,
                refusal_basis, result_name, result_number, delivery_method, delivery_detail,
                close_reason, applicant_id, created_by_id, department_id, hall_id, region_id,
                version_id)
            SELECT 'S' || lpad(g::text, 10, '0'), upper(substr(md5(g::text), 1, 8)), %(title)s,
                   'window', status, '{}'::jsonb, '{}'::jsonb,
                   due - interval '14 days', due - interval '14 days',
                   CASE WHEN status <> 'submitted' THEN due - interval '14 days' END,
                   10, 20, 'working',
                   CASE WHEN status = 'submitted' THEN due END,
                   CASE WHEN status = 'accepted' THEN due END,
                   CASE WHEN status = 'accepted' THEN due + interval '14 days' END,
                   CASE WHEN status = 'suspended' THEN due - interval '7 days' END,
                   0, '[]'::jsonb, 0, 1, false, '', '', '', '', '', '', '', '', '',
                   %(applicant)s, %(clerk)s, department_id, %(hall)s, %(region)s, %(version)s
            FROM (
                SELECT g,
                       (%(departments)s::bigint[])[1 + floor(%(n)s * random() ^ 2)::int]
                           AS department_id,
                       CASE WHEN r < 0.90 THEN 'accepted' WHEN r < 0.95 THEN 'suspended'
                            ELSE 'submitted' END AS status,
                       -- end of a local day, from 20 days ago to 40 days ahead
                       date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
                           AT TIME ZONE 'Asia/Shanghai'
                           + make_interval(days => floor(random() * 60)::int - 20)
                           - interval '1 microsecond' AS due
                FROM (SELECT g, random() AS r FROM generate_series(1, %(count)s) AS g) AS s
            ) AS seed
            """,
            {
                "title": version.name,
                "departments": department_ids,
                "n": len(department_ids),
                "count": count,
                "applicant": world.applicant.pk,
                "clerk": world.clerk.pk,
                "hall": world.hall.pk,
                "region": version.item.region_id,
                "version": version.pk,
            },
        )
        for statement in dropped:
            cursor.execute(statement)
        cursor.execute("SET session_replication_role = DEFAULT")
    # VACUUM cannot run in a transaction block; Django's connection is in autocommit here.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
        return {
            "open cases": _one(cursor, "SELECT count(*) FROM cases_case"),
            "accepted": _one(cursor, "SELECT count(*) FROM cases_case WHERE status = 'accepted'"),
            "overdue now": _one(
                cursor,
                "SELECT count(*) FROM cases_case WHERE status = 'accepted' AND promised_due < now()",
            ),
        }


RAW_COUNTS = """
    SELECT department_id,
           COUNT(*) FILTER (WHERE promised_due < %(at)s) AS red,
           COUNT(*) FILTER (WHERE promised_due >= %(at)s AND promised_due < %(limit)s) AS yellow,
           COUNT(*) FILTER (WHERE promised_due >= %(limit)s) AS green,
           COUNT(*) FILTER (WHERE status = 'suspended') AS suspended
    FROM cases_case
    WHERE department_id = ANY(%(departments)s) AND status IN ('accepted', 'suspended')
    GROUP BY department_id
"""


def explain(*, department_ids: list[int], boundary: Any) -> None:
    """The plans of the statements the selectors send, captured as they run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.cases.selectors import card_most_overdue
    from tongban.supervision import selectors

    with CaptureQueriesContext(connection) as captured:
        selectors.board_counts(department_ids=department_ids, boundary=boundary)
        card_most_overdue(clock="promised", department_ids=department_ids, at=boundary.at)
    with CaptureQueriesContext(connection) as rows:
        selectors.board_overdue(department_ids=department_ids, at=boundary.at)
    print(f"board_overdue: {len(rows.captured_queries)} queries")
    for query in rows.captured_queries:
        print(f"  {query['time']} s  {query['sql'][:160]}")
    for query in captured.captured_queries:
        if "cases_case" not in query["sql"]:
            continue
        print(query["sql"][:600])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(r[0] for r in cursor.fetchall()[:30]))


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3_000_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--port", type=int, default=0, help="PostgreSQL port (default: a free one)")
    parser.add_argument("--explain", action="store_true", help="print the selectors' SQL plans")
    args = parser.parse_args()

    with throwaway_postgres(args.port or free_port()) as database_url:
        django_setup(
            database_url,
            DJANGO_SETTINGS_MODULE="tongban.supervision.tests.settings",
            DATABASE_CONN_MAX_AGE="600",
        )
        from django.db import connection

        from tongban.core.now import now
        from tongban.supervision import permissions, selectors

        with connection.cursor() as cursor:
            for line in machine(cursor):
                print(line)
        county = county_load()
        began = time.perf_counter()
        counts = generate(county=county, count=args.cases)
        print(f"generated in {time.perf_counter() - began:.0f} s: {counts}")

        supervisor = county.world.supervisor
        department_ids = selectors.board_department_ids(actor=supervisor)
        assert department_ids is not None
        prefixes = permissions.board_region_prefixes(supervisor)
        timings: dict[str, list[float]] = {k: [] for k in ("board", "raw", "ids", "rows")}
        answers: dict[str, Any] = {}
        for run in range(WARM_UP + args.runs):
            at = now()

            began = time.perf_counter()
            boundary = selectors.card_boundary(region_prefixes=prefixes, at=at)
            rows = selectors.board_counts(department_ids=department_ids, boundary=boundary)
            board_s = time.perf_counter() - began

            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    RAW_COUNTS,
                    {"at": at, "limit": boundary.single_limit, "departments": department_ids},
                )
                raw = cursor.fetchall()
            raw_s = time.perf_counter() - began

            from tongban.cases.selectors import card_most_overdue

            began = time.perf_counter()
            ids = card_most_overdue(clock="promised", department_ids=department_ids, at=at)
            ids_s = time.perf_counter() - began

            began = time.perf_counter()
            overdue = selectors.board_overdue(department_ids=department_ids, at=at)
            rows_s = time.perf_counter() - began

            if run >= WARM_UP:
                timings["board"].append(board_s)
                timings["raw"].append(raw_s)
                timings["ids"].append(ids_s)
                timings["rows"].append(rows_s)
            answers = {"rows": rows, "raw": raw, "ids": ids, "overdue": overdue}

        by_raw = {r[0]: r[1:] for r in answers["raw"]}
        for row in answers["rows"]:
            got = (row.red, row.yellow, row.green, row.suspended)
            assert got == tuple(by_raw.get(row.department_id, (0, 0, 0, 0))), (row, by_raw)
        assert len(answers["ids"]) == 50 and len(answers["overdue"]) == 50
        total = sum(r.total for r in answers["rows"])
        print(f"board answers {total:,} cases; the first overdue: {answers['overdue'][0]}")

        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + RAW_COUNTS,
                {"at": now(), "limit": boundary.single_limit, "departments": department_ids},
            )
            print("\n".join(r[0] for r in cursor.fetchall()))

        if args.explain:
            explain(department_ids=department_ids, boundary=boundary)

        board, raw = ms(timings["board"]), ms(timings["raw"])
        print(f"\n== {args.cases:,} open cases, median of {args.runs} runs")
        print(f"board counts (card_boundary + board_counts): {board:.1f} ms")
        print(f"raw SQL counts:                              {raw:.1f} ms")
        print(f"ratio: {board / raw:.2f}× (required ≤ 1.5×, and under 1000 ms)")
        print(f"50 most overdue, ids (card_most_overdue):    {ms(timings['ids']):.2f} ms")
        print(f"50 most overdue, rows (board_overdue):       {ms(timings['rows']):.2f} ms")
        print("(required: under 10 ms)")


if __name__ == "__main__":
    main()
