"""How a department's inbox answers at 1,000,000 cases, against the raw SQL it issues and against
the same inbox at 10,000 cases, in one run on PostgreSQL.

Run by hand from the repository root (never as a test; the figures go to docs/BENCHMARKS.md):

    python bench/bench_inbox.py                  # 10,000 then 1,000,000 then 10,000 cases again
    python bench/bench_inbox.py --large 200000   # a quicker look

It starts a throwaway PostgreSQL server (scripts/pg-temp.sh), migrates, loads the cases app's test
county (16 departments, the approver's the busiest with about a quarter of the cases) and, for
each size, writes the cases and their steps with INSERT … SELECT generate_series, ANALYZEs and
VACUUMs them (not counted in the load time).
Then, as the department's approver:

- `selectors.inbox_rows_for` (what the page calls) in-process, RUNS times (a fresh user object
  each time, as a request has);
- the inbox page through Django's test client, signed in, RUNS times (middleware, session,
  template and all), its queries counted and grouped so that a query repeated per row shows;
- every SQL statement one page request issues (session, user, role assignments, inbox), captured
  from a real request with its parameters and replayed RUNS times with psycopg directly: the
  baseline of "page time / the raw SQL it issues"; also the role assignments and inbox statements
  alone (the baseline before), and the same for the page of steps not yet due;
- how much of a page's time is spent waiting for its statements (a separate pass);
- the floor (bench/inbox_floor_urls.py): a signed-in page through the same middleware that reads
  its user and runs the page's other statements through Django's connection, answering plain text
  with no ORM and no template: the least any Django page issuing these statements can cost;
- EXPLAIN ANALYZE of the inbox query, to check that it reads the `cases_step_inbox` index.

The measurements are interleaved request by request, so that they share whatever load the machine
has.
Throughput (pages/s) is RUNS divided by the time spent in the page requests, one client at a time.
The 10,000-case inbox is measured before and after the million, so drift on a shared machine shows.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from case_data import (
    cases_clear,
    cases_generate,
    county_load,
    django_setup,
    free_port,
    machine,
    throwaway_postgres,
)

WARM_UP = 10
INBOX_ROUTES = ("cases:inbox", "cases:staff_inbox", "web:inbox")


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def ratio(page: list[float], raw: list[float]) -> float:
    return statistics.median(page) / statistics.median(raw)


def p90_ms(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] * 1000


def shape(sql: str) -> str:
    """The SQL with its literals blanked, so that the same query for different rows groups."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    return re.sub(r"\(\?(, \?)+\)", "(…)", sql)


def inbox_url() -> tuple[str, str]:
    from django.urls import NoReverseMatch, reverse

    for name in INBOX_ROUTES:
        try:
            return name, reverse(name)
        except NoReverseMatch:
            continue
    raise SystemExit("找不到审批待办页面的路由")


def measure(*, approver_id: int, database_url: str, runs: int) -> dict[str, Any]:
    import psycopg
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tongban.cases.selectors import inbox_rows_for
    from tongban.org.models import User

    def fresh() -> Any:
        return User.objects.get(pk=approver_id)

    # Once before capturing: the first call of a process loads the working-day calendar, which
    # later requests find cached; those statements are not what a page issues.
    inbox_rows_for(actor=fresh())
    user = fresh()
    with CaptureQueriesContext(connection) as captured:
        rows = inbox_rows_for(actor=user)
    # What the old baseline replayed: the role assignments and the inbox query alone.
    inbox_statements = [q["sql"] for q in captured.captured_queries]
    inbox_sql = next(s for s in inbox_statements if "cases_step" in s)
    # The next pages use the keyset (due, id) of the last row shown; here: everything due from now.
    with CaptureQueriesContext(connection) as captured:
        inbox_rows_for(actor=user, after=(timezone.now().isoformat(), 0))
    later_sql = next(q["sql"] for q in captured.captured_queries if "cases_step" in q["sql"])

    route, url = inbox_url()
    # The first page holds the overdue steps (red, decided without the calendar); the page of
    # steps not yet due shows what a department without a backlog sees on its first page.
    later_url = url + "?" + urlencode({"after": f"{timezone.now().isoformat()}|0"})
    client = Client()
    client.force_login(fresh())
    response = client.get(url, secure=True)
    assert response.status_code == 200, response.status_code
    body = response.content.decode()
    shown = sum(1 for row in rows if row.number in body)

    def queries_of(address: str) -> list[str]:
        """Every statement one request for the page issues (session, user, roles, inbox, …), with
        its parameters filled in as the server received them, so that it can be replayed.
        Not CaptureQueriesContext: the request_started signal empties the log it reads."""
        issued: list[str] = []

        def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            result = execute(sql, params, many, context)
            issued.append(connection.ops.last_executed_query(context["cursor"].cursor, sql, params))
            return result

        with connection.execute_wrapper(record):
            assert client.get(address, secure=True).status_code == 200
        return issued

    page_queries = queries_of(url)
    later_queries = queries_of(later_url)
    import inbox_floor_urls

    # The floor runs the page's statements except those every signed-in request issues itself.
    inbox_floor_urls.STATEMENTS[:] = [
        sql for sql in page_queries if "django_session" not in sql and '"org_user"' not in sql
    ]
    floor_url = "/bench/inbox-floor/"
    floor_queries = queries_of(floor_url)
    assert len(floor_queries) == len(page_queries), (floor_queries, page_queries)
    shapes = Counter(shape(sql) for sql in page_queries)
    later_shapes = Counter(shape(sql) for sql in later_queries)

    selector: list[float] = []
    raw: list[float] = []
    raw_inbox: list[float] = []
    page: list[float] = []
    raw_later: list[float] = []
    later: list[float] = []
    floor: list[float] = []
    url_for_raw = database_url.replace("postgres://", "postgresql://")
    with psycopg.connect(url_for_raw, autocommit=True) as db, db.cursor() as cursor:

        def replay(statements: list[str]) -> float:
            # The statements straight through psycopg: no ORM, no model instances, no template.
            began = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
            return time.perf_counter() - began

        def timed_get(address: str) -> float:
            began = time.perf_counter()
            response = client.get(address, secure=True)
            spent = time.perf_counter() - began
            assert response.status_code == 200, response.status_code
            return spent

        # Interleaved request by request, so that all of them see the same load on a shared
        # machine; each page right after the replay of its own statements.
        for n in range(WARM_UP + runs):
            user = fresh()
            began = time.perf_counter()
            inbox_rows_for(actor=user)
            spent = time.perf_counter() - began
            measured = (
                spent,
                replay(inbox_statements),
                replay(page_queries),
                timed_get(url),
                replay(later_queries),
                timed_get(later_url),
                timed_get(floor_url),
            )
            if n >= WARM_UP:
                for values, value in zip(
                    (selector, raw_inbox, raw, page, raw_later, later, floor),
                    measured,
                    strict=True,
                ):
                    values.append(value)
        # Where a page's time goes: how much of it is spent waiting for its statements, in a
        # separate pass (the timing wrapper costs a little itself).
        in_database: list[float] = []

        def timed_execute(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                in_database[-1] += time.perf_counter() - began

        with connection.execute_wrapper(timed_execute):
            for _ in range(max(runs // 4, 10)):
                in_database.append(0.0)
                timed_get(url)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + inbox_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + later_sql)
        later_plan = "\n".join(row[0] for row in cursor.fetchall())

    return {
        "rows": len(rows),
        "selector": selector,
        "raw": raw,
        "raw_inbox": raw_inbox,
        "statements": page_queries,
        "plan": plan,
        "uses_index": "cases_step_inbox" in plan,
        "route": route,
        "url": url,
        "shown": shown,
        "page": page,
        "pages_per_second": runs / sum(page),
        "page_query_count": len(page_queries),
        "repeated": [(count, sql) for sql, count in shapes.most_common() if count > 1],
        "raw_later": raw_later,
        "in_database": in_database,
        "later": later,
        "floor": floor,
        "later_plan": later_plan,
        "later_query_count": len(later_queries),
        "later_repeated": [(count, sql) for sql, count in later_shapes.most_common() if count > 1],
        "page_queries": page_queries,
    }


def profile_page(*, approver_id: int, count: int, later: bool) -> None:
    """Where a page's time goes: COUNT page loads under cProfile, the biggest parts listed."""
    import cProfile
    import io
    import pstats

    from django.test import Client
    from django.utils import timezone

    from tongban.org.models import User

    _route, url = inbox_url()
    if later:
        url += "?" + urlencode({"after": f"{timezone.now().isoformat()}|0"})
    client = Client()
    client.force_login(User.objects.get(pk=approver_id))
    client.get(url, secure=True)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        client.get(url, secure=True)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"(tongban/|django/template/base.py.*render\b|django/db/models/query.py.*_fetch_all)", 25
    )
    stats.sort_stats("tottime").print_stats(12)
    print(f"\n== profile of {count} loads of {url}")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def report(label: str, counts: dict[str, int], seconds: float, result: dict[str, Any]) -> None:
    print(f"\n== {label}: {counts['cases_case']:,} cases, {counts['cases_step']:,} steps")
    own = counts["active steps of the approver's department"]
    print(
        f"   loaded in {seconds:.1f} s; active steps {counts['active steps']:,}, "
        f"of the approver's department {own:,}"
    )
    print(f"   inbox rows on the first page: {result['rows']}")
    print(
        f"   selector inbox_rows_for median {median_ms(result['selector']):7.2f} ms   "
        f"p90 {p90_ms(result['selector']):7.2f} ms"
    )
    print(
        f"   raw SQL of the page ({len(result['statements'])} statements, psycopg) "
        f"median {median_ms(result['raw']):7.2f} ms   p90 {p90_ms(result['raw']):7.2f} ms"
    )
    print(
        f"   raw SQL of the inbox alone (roles + steps) median {median_ms(result['raw_inbox']):7.2f} ms"
    )
    for sql in result["statements"]:
        print(f"      {shape(sql)[:150]}")
    print(
        f"   page {result['url']:18} median {median_ms(result['page']):7.2f} ms   "
        f"p90 {p90_ms(result['page']):7.2f} ms   {result['pages_per_second']:.1f} pages/s"
    )
    print(
        f"   of which waiting for the database (execute + fetch, in the page's own connection): "
        f"median {median_ms(result['in_database']):.2f} ms"
    )
    print(
        f"   page shows {result['shown']} of the {result['rows']} inbox rows' case numbers "
        f"(route {result['route']})"
    )
    print(
        f"   page / its raw SQL (median): {ratio(result['page'], result['raw']):.2f}×"
        f"   page / inbox SQL alone: {ratio(result['page'], result['raw_inbox']):.2f}×"
        f"   selector / inbox SQL alone: {ratio(result['selector'], result['raw_inbox']):.2f}×"
    )
    print(
        f"   floor (signed-in Django page, same statements, no ORM, no template) median "
        f"{median_ms(result['floor']):7.2f} ms: {ratio(result['floor'], result['raw']):.2f}× the "
        f"raw SQL; the page is {ratio(result['page'], result['floor']):.2f}× the floor"
    )
    print(
        f"   inbox query uses cases_step_inbox: {'yes' if result['uses_index'] else 'NO'}; "
        f"queries per page: {result['page_query_count']}"
    )
    for count, sql in result["repeated"]:
        print(f"   repeated {count}× in one page: {sql[:300]}")
    print(
        f"   page of steps not yet due: median {median_ms(result['later']):7.2f} ms, "
        f"{result['later_query_count']} queries; its raw SQL {median_ms(result['raw_later']):.2f} ms "
        f"({ratio(result['later'], result['raw_later']):.2f}×)"
    )
    for count, sql in result["later_repeated"]:
        print(f"   repeated {count}× in that page: {sql[:300]}")
    for label, plan in (("first page", result["plan"]), ("next pages", result["later_plan"])):
        # What the database does for the inbox query: an ordered index range read stops after
        # the page; a sort must first read every active step the department has.
        executed = re.search(r"Execution Time: ([\d.]+) ms", plan)
        steps_read = re.search(r"on cases_step\b.*?actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", plan)
        print(
            f"   EXPLAIN ANALYZE {label}: {executed.group(1) if executed else '?'} ms, "
            f"{steps_read.group(1) if steps_read else '?'} step rows read, "
            f"{'sorted after reading' if 'Sort Key' in plan and 'Presorted' not in plan else 'read in index order'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--port", type=int, default=0, help="PostgreSQL port (default: a free one)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements and the plan")
    parser.add_argument(
        "--profile", type=int, default=0, help="profile N page loads at the large size"
    )
    args = parser.parse_args()

    with throwaway_postgres(args.port or free_port()) as database_url:
        # Persistent connections, as a production deployment runs; files without a manifest.
        django_setup(database_url, DATABASE_CONN_MAX_AGE="600", STATICFILES_MANIFEST="false")
        from django.db import connection
        from django.test.utils import override_settings

        # The project's URLs with the floor page in front of them, for the whole run.
        override_settings(ROOT_URLCONF="inbox_floor_urls").enable()

        with connection.cursor() as cursor:
            for line in machine(cursor):
                print(line)
        county = county_load(applicants=2000)
        approver_id = county.world.approver.pk
        print(
            f"runs per measurement: {args.runs}; approver of {county.world.main.name}, "
            f"{len(county.departments)} departments"
        )
        results = []
        for label, count in (
            ("small", args.small),
            ("large", args.large),
            ("small again", args.small),
        ):
            cases_clear()
            began = time.perf_counter()
            counts = cases_generate(county=county, count=count)
            seconds = time.perf_counter() - began
            _vacuum()
            result = measure(approver_id=approver_id, database_url=database_url, runs=args.runs)
            report(f"{label} ({count:,})", counts, seconds, result)
            if args.show_sql:
                print("\n".join(result["statements"]))
                print(result["plan"])
                print(result["later_plan"])
                print("\n".join(result["page_queries"]))
            results.append(result)
            if args.profile and label == "large":
                profile_page(approver_id=approver_id, count=args.profile, later=False)
                profile_page(approver_id=approver_id, count=args.profile, later=True)

        small = [results[0], results[2]]
        large = results[1]
        small_rate = statistics.mean(r["pages_per_second"] for r in small)
        print("\n== summary")
        print(
            f"page median / median of the raw SQL it issues at {args.large:,}: "
            f"{ratio(large['page'], large['raw']):.2f}× (required ≤ 2×); "
            f"against the inbox statements alone {ratio(large['page'], large['raw_inbox']):.2f}×; "
            f"page of steps not yet due {ratio(large['later'], large['raw_later']):.2f}×"
        )
        print(
            f"throughput {large['pages_per_second']:.1f} pages/s at {args.large:,} vs "
            f"{small_rate:.1f} pages/s at {args.small:,} (mean of before and after): "
            f"{large['pages_per_second'] / small_rate:.2f}× (required ≥ 0.8×)"
        )
        later_small = statistics.mean(len(r["later"]) / sum(r["later"]) for r in small)
        later_large = len(large["later"]) / sum(large["later"])
        print(
            f"page of steps not yet due: {later_large:.1f} pages/s at {args.large:,} vs "
            f"{later_small:.1f} pages/s at {args.small:,}: {later_large / later_small:.2f}×"
        )
        print(
            f"selector median {median_ms(large['selector']):.2f} ms at {args.large:,} vs "
            f"{statistics.mean(median_ms(r['selector']) for r in small):.2f} ms at {args.small:,}"
        )
        print(f"inbox query uses cases_step_inbox at {args.large:,}: {large['uses_index']}")


def _vacuum() -> None:
    """VACUUM the freshly written tables, as autovacuum would soon after: otherwise the vacuum
    that millions of inserted rows set off runs during the measurement, and the pages of the
    large run wait for it (a run without this gave 5.5 ms of database wait per page at 1,000,000
    cases against 1.6 ms at 10,000, with the same plans and the same rows read)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) cases_case, cases_step")


if __name__ == "__main__":
    main()
