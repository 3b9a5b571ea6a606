"""Indicators from rollups at 10,000,000 closed cases, and rolling up one busy day, on PostgreSQL.

Run by hand from the repository root (never as a test; the figures go to docs/BENCHMARKS.md):

    python bench/bench_metrics.py                   # 10,000,000 closed cases
    python bench/bench_metrics.py --cases 500000    # a quicker look

It starts a throwaway PostgreSQL server (scripts/pg-temp.sh), migrates, loads the cases app's test
county and grows it into a province: 13 cities of 8 counties (104 counties), each with a hall and
20 departments, each department with 3 items (6,240 items, copied in SQL from the test item with
promised limits of 0, 5, 10 or 15 working days and every online depth). Then it writes the closed
cases with INSERT … SELECT generate_series, spread over the two years before yesterday, on working
weekdays, busy items more often than quiet ones; 65 % online; visits, supplements, working days
taken and lateness drawn from plausible spreads. `tongban metrics rebuild` builds the rollups
(timed). Then, each measured RUNS times after warm-up runs:

(a) `selectors.indicators()` (every indicator, catalogue ones included) for four scopes: the whole
    province over twelve months, one county over a month, one department over a quarter, one item
    over a custom range of dates; and the same SQL statements sent raw through a cursor.
(b) one day of a province: 100,000 more cases completed yesterday, with one `case.completed`
    event each (100,000 events), are rolled up by `rollup_pending()` (the periodic task: reads the
    events written since its last run, finds the days they touch — the day of each event and the
    days its case was completed, rated or owed a reply — and recomputes them), and yesterday alone
    by `roll_days`. The bench writes no acceptance events for these cases (in real life each was
    rolled up on the day it was accepted), so the days they were accepted are not recomputed.

The requirement (issue 7) is ≤ 50 ms for (a) and < 10 s for (b).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta
from typing import Any

from case_data import county_load, django_setup, free_port, machine, throwaway_postgres

WARM_UP = 3
CITIES = 13
COUNTIES_PER_CITY = 8
DEPARTMENTS_PER_COUNTY = 20
ITEMS_PER_DEPARTMENT = 3
HISTORY_DAYS = 730


def province(county: Any) -> dict[str, int]:
    """Grow the test county's province: regions, halls, departments, items and their versions."""
    from django.db import connection

    from tongban.org.models import Department, Hall, Region, RegionLevel

    world = county.world
    province_region = world.main.region.parent.parent
    cities = []
    for c in range(1, CITIES + 1):
        code = f"43{c:02d}"
        city = Region.objects.filter(code=code).first() or Region.objects.create(
            code=code, name=f"第{c}市", level=RegionLevel.CITY, parent=province_region
        )
        cities.append(city)
    counties = []
    for city in cities:
        for k in range(1, COUNTIES_PER_CITY + 1):
            code = f"{city.code}{80 + k:02d}"
            if code == world.main.region.code:
                counties.append(world.main.region)
                continue
            counties.append(
                Region(code=code, name=f"{city.name}第{k}县", level=RegionLevel.COUNTY, parent=city)
            )
    Region.objects.bulk_create([r for r in counties if r.pk is None])
    counties = list(Region.objects.filter(level=RegionLevel.COUNTY).order_by("code"))
    hall_template = world.hall
    Hall.objects.bulk_create(
        [
            Hall(region=r, name=f"{r.name}政务服务中心", kind=hall_template.kind, address="—")
            for r in counties
            if r.pk != hall_template.region_id
        ]
    )
    existing = set(Department.objects.values_list("region_id", "code"))
    Department.objects.bulk_create(
        [
            Department(region=r, name=f"{r.name}第{n}局", short_name=f"第{n}局", code=f"B{n:03d}")
            for r in counties
            for n in range(1, DEPARTMENTS_PER_COUNTY + 1)
            if (r.pk, f"B{n:03d}") not in existing
        ]
    )
    template = world.item
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO catalog_serviceitem (entry_id, region_id, department_id, local_code,
                                             created_at)
            SELECT %(entry)s, d.region_id, d.id, 'B' || d.id || '-' || k, now()
            FROM org_department d CROSS JOIN generate_series(1, %(per)s) AS k
            WHERE d.code LIKE 'B%%'
            """,
            {"entry": template.item.entry_id, "per": ITEMS_PER_DEPARTMENT},
        )
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'catalog_itemversion' AND column_name <> 'id'"
        )
        columns = [r[0] for r in cursor.fetchall()]
        overrides = {
            "item_id": "i.id",
            "promised_limit": "(i.id %% 4) * 5",
            "legal_limit": "20",
            "declared_immediate": "(i.id %% 4) = 0",
            "online_depth": "(ARRAY['full_online', 'prereview', 'offline'])[1 + i.id %% 3]",
            "claimed_visits": "CASE WHEN i.id %% 3 = 0 THEN 0 ELSE 1 END",
        }
        select = ", ".join(overrides.get(c, f"v.{c}") for c in columns)
        cursor.execute(
            f"""
            INSERT INTO catalog_itemversion ({", ".join(columns)})
            SELECT {select}
            FROM catalog_itemversion v, catalog_serviceitem i
            WHERE v.id = %(template)s AND i.local_code LIKE 'B%%'
            """,
            {"template": template.pk},
        )
        cursor.execute(
            """
            CREATE TABLE bench_items AS
            SELECT row_number() OVER (ORDER BY v.id) AS n, v.id AS version_id, i.id AS item_id,
                   i.department_id, i.region_id, h.id AS hall_id, v.promised_limit
            FROM catalog_itemversion v
            JOIN catalog_serviceitem i ON i.id = v.item_id
            JOIN org_hall h ON h.region_id = i.region_id
            WHERE i.local_code LIKE 'B%%'
            """
        )
        cursor.execute("SELECT count(*) FROM bench_items")
        items = cursor.fetchone()[0]
    return {
        "counties": len(counties),
        "departments": Department.objects.count(),
        "items": items,
    }


CASE_COLUMNS = """
    number, query_code, title, channel, status, form_data, outputs,
    created_at, submitted_at, accepted_at, decided_at, completed_at, delivered_at, closed_at,
    promised_limit, legal_limit, limit_unit, promised_due, legal_due, extended_days, clock,
    supplement_count, visits, commitment, commitment_text, decision, decision_reason,
    refusal_basis, result_name, result_number, delivery_method, delivery_detail, close_reason,
    applicant_id, created_by_id, department_id, hall_id, region_id, version_id
"""


def cases_insert(
    cursor: Any,
    *,
    prefix: str,
    count: int,
    first_day: date,
    days: int,
    world: Any,
    completed_on: date | None = None,
) -> None:
    """`count` closed cases accepted on weekdays from `first_day` over `days` days (or, with
    `completed_on`, all completed that day and accepted up to three weeks before)."""
    if completed_on is None:
        accepted_day = (
            "d0 - (CASE extract(isodow FROM d0) WHEN 6 THEN 1 WHEN 7 THEN 2 ELSE 0 END)::int"
        )
        day_seed = "%(first)s::date + floor(random() * %(days)s)::int AS d0"
    else:
        accepted_day = "d0"
        day_seed = "%(done)s::date - (floor(random() ^ 2 * 21)::int) AS d0"
    cursor.execute(
        f"""
        CREATE TEMP TABLE bench_seed AS
        SELECT g, {day_seed},
               1 + floor(%(items)s * random() ^ 2)::int AS n,
               random() AS r_channel, random() AS r_visits, random() AS r_supp,
               random() AS r_taken, random() AS r_status,
               random() * 8 * 3600 AS secs
        FROM generate_series(1, %(count)s) AS g
        """,
        {
            "first": first_day,
            "days": days,
            "done": completed_on,
            "items": _items(cursor),
            "count": count,
        },
    )
    taken_days = (
        "(%(done)s::date - ad.day)"
        if completed_on is not None
        else "CASE WHEN i.promised_limit = 0 AND s.r_taken < 0.85 THEN 0 "
        "ELSE floor(s.r_taken * (i.promised_limit + 1) * 1.6)::int END"
    )
    cursor.execute(
        f"""
        INSERT INTO cases_case ({CASE_COLUMNS})
        SELECT %(prefix)s || lpad(s.g::text, 10, '0'), upper(substr(md5(s.g::text), 1, 8)), 'bench',
               c.channel, c.status, '{{}}'::jsonb, '{{}}'::jsonb,
               a.at - interval '30 minutes', a.at - interval '20 minutes', a.at,
               done.at, done.at, CASE WHEN c.status = 'delivered' THEN done.at END, done.at,
               i.promised_limit, 20, 'working',
               a.midnight + make_interval(days => (i.promised_limit * 7 / 5) + 1)
                   - interval '1 microsecond',
               a.midnight + make_interval(days => 29) - interval '1 microsecond',
               0, '[]'::jsonb,
               CASE WHEN s.r_supp < 0.85 THEN 0 WHEN s.r_supp < 0.97 THEN 1 ELSE 2 END,
               CASE WHEN c.channel = 'online' THEN
                        CASE WHEN s.r_visits < 0.8 THEN 0 WHEN s.r_visits < 0.95 THEN 1 ELSE 2 END
                    ELSE CASE WHEN s.r_visits < 0.7 THEN 1 WHEN s.r_visits < 0.9 THEN 2 ELSE 3 END
               END,
               false, '', CASE WHEN c.status = 'denied' THEN 'denied' ELSE 'approved' END,
               '', '', '', '', '', '', '',
               %(applicant)s, %(clerk)s, i.department_id, i.hall_id, i.region_id, i.version_id
        FROM bench_seed s
        JOIN bench_items i ON i.n = s.n
        CROSS JOIN LATERAL (SELECT {accepted_day} AS day) AS ad
        CROSS JOIN LATERAL (
            SELECT (ad.day::timestamp AT TIME ZONE 'Asia/Shanghai') AS midnight,
                   (ad.day::timestamp AT TIME ZONE 'Asia/Shanghai')
                       + interval '9 hours' + make_interval(secs => s.secs) AS at
        ) AS a
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.r_channel < 0.65 THEN 'online' ELSE 'window' END AS channel,
                   CASE WHEN s.r_status < 0.90 THEN 'delivered'
                        WHEN s.r_status < 0.95 THEN 'completed' ELSE 'denied' END AS status,
                   {taken_days} AS taken
        ) AS c
        CROSS JOIN LATERAL (
            SELECT greatest(a.at, a.midnight + make_interval(days => c.taken)
                   + interval '10 hours' + make_interval(secs => s.secs / 2)) AS at
        ) AS done
        """,
        {
            "prefix": prefix,
            "done": completed_on,
            "applicant": world.applicant.pk,
            "clerk": world.clerk.pk,
        },
    )
    cursor.execute("DROP TABLE bench_seed")


def _items(cursor: Any) -> int:
    cursor.execute("SELECT count(*) FROM bench_items")
    return int(cursor.fetchone()[0])


def generate(*, county: Any, count: int, yesterday: date) -> None:
    from case_data import _drop_secondary_indexes
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SELECT setseed(0.42)")
        dropped = _drop_secondary_indexes(cursor, ["cases_case"])
        first = yesterday - timedelta(days=HISTORY_DAYS)
        # Cases accepted from two years ago up to a month before yesterday: closed by now.
        cases_insert(
            cursor,
            prefix="M",
            count=count,
            first_day=first,
            days=HISTORY_DAYS - 30,
            world=county.world,
        )
        for statement in dropped:
            cursor.execute(statement)
        cursor.execute("SET session_replication_role = DEFAULT")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")


def busy_day(*, county: Any, count: int, day: date) -> int:
    """`count` more cases completed on `day`, and one `case.completed` event for each."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
        before = cursor.fetchone()[0]
        cases_insert(
            cursor,
            prefix="D",
            count=count,
            first_day=day,
            days=1,
            world=county.world,
            completed_on=day,
        )
        cursor.execute(
            """
            INSERT INTO core_event (subject_type, subject_id, seq, kind, actor_label, occurred_at,
                                    payload, prev_hash, hash)
            SELECT 'cases.case', id::text, 1, 'case.completed', 'bench', completed_at, '{}'::jsonb,
                   '', md5(id::text) || md5('e' || id::text)
            FROM cases_case WHERE id > %s
            """,
            [before],
        )
        inserted = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE core_event")
    return int(inserted)


def scopes(county: Any) -> list[tuple[str, Any, date, date]]:
    from tongban.catalog.models import ServiceItem
    from tongban.metrics.selectors import Scope
    from tongban.org.models import Department

    today = date.today()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    year_start = (last_month_end.replace(day=1) - timedelta(days=330)).replace(day=1)
    month_start = last_month_end.replace(day=1)
    quarter_end = month_start - timedelta(days=1)
    quarter_start = (quarter_end.replace(day=1) - timedelta(days=62)).replace(day=1)
    department = Department.objects.filter(code="B001").order_by("region__code").first()
    item = ServiceItem.objects.filter(local_code__startswith="B").order_by("pk").first()
    assert department is not None and item is not None
    county_code = county.world.main.region.code
    return [
        ("province, 12 months", Scope(region_code="43"), year_start, last_month_end),
        ("one county, one month", Scope(region_code=county_code), month_start, last_month_end),
        (
            "one department, one quarter",
            Scope(department_id=department.pk),
            quarter_start,
            quarter_end,
        ),
        (
            "one item, custom range",
            Scope(item_id=item.pk),
            today - timedelta(days=200),
            today - timedelta(days=23),
        ),
    ]


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure_indicators(runs: int, county: Any, explain: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.metrics import selectors

    for label, scope, start, end in scopes(county):
        selector_s: list[float] = []
        raw_s: list[float] = []
        with CaptureQueriesContext(connection) as captured:
            figures = selectors.indicators(start=start, end=end, scope=scope)
        statements = [q["sql"] for q in captured.captured_queries]
        for run in range(WARM_UP + runs):
            began = time.perf_counter()
            selectors.indicators(start=start, end=end, scope=scope)
            took = time.perf_counter() - began
            began = time.perf_counter()
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
                    cursor.fetchall()
            raw = time.perf_counter() - began
            if run >= WARM_UP:
                selector_s.append(took)
                raw_s.append(raw)
        found = {f.key: f for f in figures}
        print(
            f"(a) {label} [{start}..{end}]: indicators() {ms(selector_s):.1f} ms, "
            f"raw SQL {ms(raw_s):.1f} ms ({len(statements)} statements); "
            f"accepted {found['accepted_count'].numerator}, "
            f"on time {found['on_time_rate'].numerator}/{found['on_time_rate'].denominator}"
        )
        if explain:
            for sql in statements:
                print("   ", sql[:300])
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    print("\n".join("      " + r[0] for r in cursor.fetchall()[:14]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--busy-day", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--port", type=int, default=0, help="PostgreSQL port (default: a free one)")
    parser.add_argument("--explain", action="store_true", help="print the plans of (a)")
    parser.add_argument("--profile", action="store_true", help="profile rolling up one day")
    args = parser.parse_args()

    with throwaway_postgres(args.port or free_port()) as database_url:
        django_setup(database_url, DATABASE_CONN_MAX_AGE="600")
        from django.db import connection

        from tongban.metrics import rollup

        with connection.cursor() as cursor:
            for line in machine(cursor):
                print(line)
        county = county_load()
        began = time.perf_counter()
        shape = province(county)
        print(f"province in {time.perf_counter() - began:.0f} s: {shape}")
        yesterday = date.today() - timedelta(days=1)
        began = time.perf_counter()
        generate(county=county, count=args.cases, yesterday=yesterday)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_case")
            print(f"{cursor.fetchone()[0]} cases in {time.perf_counter() - began:.0f} s")

        began = time.perf_counter()
        days = rollup.rollup_rebuild()
        rebuilt = time.perf_counter() - began
        with connection.cursor() as cursor:
            counts = {}
            for table in (
                "caseday",
                "casemonth",
                "departmentday",
                "departmentmonth",
                "regionday",
                "regionmonth",
            ):
                cursor.execute(f"SELECT count(*) FROM metrics_{table}")
                counts[table] = cursor.fetchone()[0]
            cursor.execute("VACUUM ANALYZE")
        print(f"rebuild: {days} days in {rebuilt:.0f} s; rows {counts}")

        measure_indicators(args.runs, county, args.explain)

        events = busy_day(county=county, count=args.busy_day, day=yesterday)
        began = time.perf_counter()
        result = rollup.rollup_pending()
        pending = time.perf_counter() - began
        print(
            f"(b) rollup_pending after {events} events of {yesterday}: {pending:.2f} s "
            f"({result.events} events read, {len(result.days)} days recomputed)"
        )
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            rollup.roll_days([yesterday])
            timings.append(time.perf_counter() - began)
        print(f"(b) roll_days([{yesterday}]) alone: median {statistics.median(timings):.2f} s")
        if args.profile:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.runcall(rollup.roll_days, [yesterday])
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        measure_indicators(args.runs, county, False)


if __name__ == "__main__":
    main()
