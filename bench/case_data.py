"""What the case benchmarks share: a throwaway PostgreSQL, Django set up against it, a small county
to run cases in, cases and steps generated in bulk with SQL, and a description of the machine.

Imported by bench/bench_case_create.py and bench/bench_inbox.py, never by tongban itself. The bulk
generator writes rows straight into the tables (INSERT … SELECT generate_series) because building a
million cases through the services would take hours; the rows it writes have the shape the services
give (statuses, steps per stage, due dates, clock events), so the pages and selectors read them as
they would read real cases.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Runs from a checkout without installing the package.
sys.path.insert(0, str(ROOT))

DEPARTMENTS = 16
# The statuses a case ends in, for cases older than OPEN_WINDOW_DAYS (cumulative shares).
CLOSED_SPREAD = [
    ("delivered", 0.86),
    ("completed", 0.91),
    ("denied", 0.94),
    ("refused", 0.97),
    ("withdrawn", 0.99),
    ("terminated", 1.00),
]
# Recent cases are mostly still open: accepted (steps active), suspended, waiting for an answer.
OPEN_WINDOW_DAYS = 40
OPEN_SPREAD = [
    ("accepted", 0.75),
    ("suspended", 0.78),
    ("submitted", 0.85),
    ("delivered", 1.00),
]
HISTORY_DAYS = 3 * 365


@contextlib.contextmanager
def throwaway_postgres(port: int) -> Iterator[str]:
    """Start a PostgreSQL server of our own (scripts/pg-temp.sh), create a database, yield its URL,
    and stop and remove the server afterwards, whatever happened."""
    folder = tempfile.mkdtemp(prefix="tongban-bench-pg-")
    script = str(ROOT / "scripts" / "pg-temp.sh")
    # The project's own script and the system's psql, with arguments we build: nothing untrusted.
    subprocess.run([script, "start", folder, str(port)], check=True)  # noqa: S603
    try:
        psql(port, "postgres", "CREATE DATABASE bench")
        yield f"postgres://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run([script, "stop", folder], check=False)  # noqa: S603


def psql(port: int, database: str, sql: str) -> str:
    command = ["psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
    result = subprocess.run(  # noqa: S603
        [*command, "-d", database, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def django_setup(database_url: str, **extra_env: str) -> dict[str, str]:
    """Point Django at the benchmark database, set it up and migrate; returns the environment a
    server process needs to reach the same database."""
    var_dir = tempfile.mkdtemp(prefix="tongban-bench-var-")
    atexit.register(shutil.rmtree, var_dir, ignore_errors=True)
    env = {
        "SECRET_KEY": "bench-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "TONGBAN_VAR_DIR": var_dir,
        "DATABASE_URL": database_url,
        # A settings module of one's own (importing tongban.settings) tries a change without
        # editing the project.
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tongban.settings"),
        **extra_env,
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


@dataclass
class County:
    """The world the benchmarks work in; `departments[0]` is the approver's (the busiest)."""

    world: Any
    departments: list[Any]
    applicant_ids: list[int]


def county_load(*, applicants: int = 1) -> County:
    """The test world of the cases app (a county, a hall and its clerk, two departments with
    approvers and heads, a published item with a parallel stage), plus departments up to
    DEPARTMENTS and a pool of applicants."""
    from tongban.cases.tests.factories import make_world
    from tongban.org.models import Applicant
    from tongban.org.tests.factories import ApplicantFactory, DepartmentFactory

    world = make_world()
    more = [
        DepartmentFactory(region=world.main.region, name=f"第{n}局")
        for n in range(3, DEPARTMENTS + 1)
    ]
    extra = Applicant.objects.bulk_create(
        ApplicantFactory.build(id_number=_id_number(n), name=f"申请人{n}")
        for n in range(1, applicants)
    )
    return County(
        world=world,
        departments=[world.main, world.other, *more],
        applicant_ids=[world.applicant.pk, *(a.pk for a in extra)],
    )


def _id_number(serial: int) -> str:
    """A valid resident ID number, different for every serial: region, birth date, sequence."""
    from stdnum.cn import ric

    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=serial)
    base = f"430981{born:%Y%m%d}{serial % 1000:03d}"
    return base + ric.calc_check_digit(base)


def _pick(column: str, spread: list[tuple[str, float]]) -> str:
    """A CASE expression choosing a status from a cumulative spread by the value of `column`."""
    arms = " ".join(f"WHEN {column} < {share} THEN '{status}'" for status, share in spread[:-1])
    return f"CASE {arms} ELSE '{spread[-1][0]}' END"


def cases_generate(*, county: County, count: int, seed: float = 0.42) -> dict[str, int]:
    """Write `count` cases with their steps in bulk, spread over three years and over the
    departments (the first department gets about a quarter, the last about 3 %), then ANALYZE.

    Closed cases have every step passed (or none, when refused or withdrawn before acceptance);
    cases of the last OPEN_WINDOW_DAYS are mostly open: an accepted case has the steps of one
    stage active with their due dates (some already past), a suspended case's active steps have
    no due date (the clock is stopped), a submitted case has no steps yet. Returns row counts."""
    from django.db import connection

    world = county.world
    version = world.item
    definitions = {d.order: d for d in version.steps.all()}
    department_ids = [d.pk for d in county.departments]
    applicant_ids = county.applicant_ids
    with connection.cursor() as cursor:
        # Bulk load as a restore would: no per-row foreign-key triggers (every id written below
        # exists), secondary indexes built once at the end instead of row by row.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("SELECT setseed(%s)", [seed])
        dropped = _drop_secondary_indexes(cursor, ["cases_case", "cases_step"])
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_seed AS
            SELECT g,
                   now() - make_interval(secs => (%(count)s - g)::float8 * %(span)s / %(count)s)
                       AS created_at,
                   (%(departments)s::bigint[])[1 + floor({DEPARTMENTS} * random() ^ 2)::int]
                       AS department_id,
                   (%(departments)s::bigint[])[1 + floor({DEPARTMENTS} * random())::int]
                       AS partner_id,
                   (%(applicants)s::bigint[])[1 + floor(%(applicant_count)s * random())::int]
                       AS applicant_id,
                   random() AS roll, random() AS stage_roll, random() AS due_roll
            FROM generate_series(1, %(count)s) AS g
            """,
            {
                "count": count,
                "span": HISTORY_DAYS * 86400,
                "departments": department_ids,
                "applicants": applicant_ids,
                "applicant_count": len(applicant_ids),
            },
        )
        recent = f"created_at > now() - interval '{OPEN_WINDOW_DAYS} days'"
        cursor.execute(
            f"""
            ALTER TABLE bench_seed ADD COLUMN status text;
            UPDATE bench_seed SET status = CASE WHEN {recent} THEN {_pick("roll", OPEN_SPREAD)}
                                           ELSE {_pick("roll", CLOSED_SPREAD)} END;
            """
        )
        base = _one(cursor, "SELECT coalesce(max(id), 0) FROM cases_case")
        cursor.execute(
            """
            INSERT INTO cases_case (
                id, number, query_code, title, channel, status, form_data, outputs,
                created_at, submitted_at, accepted_at, decided_at, completed_at, delivered_at,
                closed_at, promised_limit, legal_limit, limit_unit, prereview_due, promised_due,
                legal_due, suspended_since, extended_days, clock, supplement_count, visits,
                commitment, commitment_text, decision, decision_reason, refusal_basis,
                result_name, result_number, delivery_method, delivery_detail, close_reason,
                applicant_id, created_by_id, department_id, hall_id, region_id, version_id)
            SELECT %(base)s + g,
                   'B' || to_char(created_at, 'YYYYMMDD') || lpad(g::text, 8, '0'),
                   upper(substr(md5(g::text), 1, 8)),
                   %(title)s,
                   CASE WHEN g %% 3 = 0 THEN 'online' ELSE 'window' END,
                   status,
                   '{"name": "王五", "mobile": "13800138000"}'::jsonb,
                   '{}'::jsonb,
                   created_at,
                   created_at,
                   accepted,
                   CASE WHEN decided THEN accepted + interval '6 days' END,
                   CASE WHEN decided THEN accepted + interval '6 days' END,
                   CASE WHEN status = 'delivered' THEN accepted + interval '8 days' END,
                   CASE WHEN status IN ('delivered', 'denied', 'refused', 'withdrawn',
                                        'terminated') THEN created_at + interval '8 days' END,
                   10, 20, 'working',
                   CASE WHEN status = 'submitted' THEN created_at + interval '1 day' END,
                   CASE WHEN accepted IS NOT NULL AND status <> 'suspended'
                        THEN accepted + interval '14 days' END,
                   CASE WHEN accepted IS NOT NULL AND status <> 'suspended'
                        THEN accepted + interval '28 days' END,
                   CASE WHEN status = 'suspended' THEN accepted + interval '2 days' END,
                   0,
                   CASE WHEN accepted IS NULL THEN '[]'::jsonb
                        ELSE jsonb_build_array(jsonb_build_object(
                            't', 'start', 'at', to_json(accepted) #>> '{}')) END,
                   0,
                   CASE WHEN g %% 3 = 0 THEN 0 ELSE 1 END,
                   false, '',
                   CASE WHEN status = 'denied' THEN 'denied'
                        WHEN decided THEN 'approved' ELSE '' END,
                   '', '', '', '',
                   CASE WHEN status = 'delivered' THEN 'window' ELSE '' END,
                   '', '',
                   applicant_id, %(clerk)s, department_id, %(hall)s, %(region)s, %(version)s
            FROM (SELECT *,
                         CASE WHEN status IN ('submitted', 'refused', 'withdrawn') THEN NULL
                              ELSE created_at + interval '1 hour' END AS accepted,
                         status IN ('completed', 'delivered', 'denied') AS decided
                  FROM bench_seed) AS seed
            """,
            {
                "base": base,
                "title": version.name,
                "clerk": world.clerk.pk,
                "hall": world.hall.pk,
                "region": version.item.region_id,
                "version": version.pk,
            },
        )
        # Four steps like the test item's: 受理 at the window (stage 1), 审查 in the case's
        # department beside 部门意见 in a partner department (stage 2, parallel), 决定 by the
        # head (stage 3). An accepted case has stage 2 or stage 3 active.
        steps = [
            (1, 1, "受理", "window_clerk", "review", 0, "department_id", definitions.get(1)),
            (2, 2, "审查", "approver", "review", 3, "department_id", definitions.get(2)),
            (3, 2, "部门意见", "approver", "review", 5, "partner_id", definitions.get(4)),
            (4, 3, "决定", "department_head", "decision", 2, "department_id", definitions.get(5)),
        ]
        for order, stage, name, role, kind, limit, department_column, definition in steps:
            cursor.execute(
                f"""
                INSERT INTO cases_step (
                    "order", stage, name, role, kind, "limit", status, started_at, due,
                    finished_at, clock, opinion, denial_proposed, case_id, definition_id,
                    department_id, handled_by_id)
                SELECT %(order)s, %(stage)s, %(name)s, %(role)s, %(kind)s, %(limit)s, state,
                       CASE WHEN state IN ('active', 'passed') THEN started END,
                       CASE WHEN state = 'active' AND status = 'accepted'
                            THEN due_soon
                            WHEN state = 'passed' THEN started + make_interval(days => %(limit)s)
                       END,
                       CASE WHEN state = 'passed' THEN started + interval '1 day' END,
                       CASE WHEN state IN ('active', 'passed')
                            THEN jsonb_build_array(jsonb_build_object(
                                't', 'start', 'at', to_json(started) #>> '{{}}'))
                            ELSE '[]'::jsonb END,
                       CASE WHEN state = 'passed' THEN '同意' ELSE '' END,
                       false, %(base)s + g, %(definition)s, {department_column},
                       CASE WHEN state = 'passed' THEN %(handler)s END
                FROM (SELECT *,
                             created_at + interval '1 hour'
                                 + make_interval(days => 3 * (%(stage)s - 1)) AS started,
                             -- Most running steps are within their limit; about one in twelve
                             -- is past it (red) and one in twelve on its last day (yellow).
                             date_trunc('hour', now())
                                 + make_interval(days => floor(due_roll * 12)::int - 1,
                                                 hours => floor(stage_roll * 10)::int)
                                 AS due_soon,
                             CASE
                               WHEN status NOT IN ('accepted', 'suspended') THEN 'passed'
                               WHEN %(stage)s = 1 THEN 'passed'
                               WHEN stage_roll < 0.6 THEN
                                    CASE WHEN %(stage)s = 2 THEN 'active' ELSE 'waiting' END
                               ELSE CASE WHEN %(stage)s = 2 THEN 'passed' ELSE 'active' END
                             END AS state
                      FROM bench_seed
                      WHERE status NOT IN ('submitted', 'refused', 'withdrawn')) AS seed
                """,
                {
                    "order": order,
                    "stage": stage,
                    "name": name,
                    "role": role,
                    "kind": kind,
                    "limit": limit,
                    "definition": definition.pk if definition else None,
                    "base": base,
                    "handler": world.approver.pk,
                },
            )
        cursor.execute("DROP TABLE bench_seed")
        for statement in dropped:
            cursor.execute(statement)
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
            "(SELECT max(id) FROM cases_case))"
        )
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE cases_step")
        cursor.execute("ANALYZE org_applicant")
        counts = {}
        for table in ("cases_case", "cases_step"):
            counts[table] = _one(cursor, f"SELECT count(*) FROM {table}")
        counts["active steps"] = _one(
            cursor, "SELECT count(*) FROM cases_step WHERE status = 'active'"
        )
        counts["active steps of the approver's department"] = _one(
            cursor,
            "SELECT count(*) FROM cases_step WHERE status = 'active' AND department_id = %s",
            [department_ids[0]],
        )
    return counts


def _one(cursor: Any, sql: str, params: Any = None) -> Any:
    cursor.execute(sql, params)
    return cursor.fetchone()[0]


def _drop_secondary_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the plain indexes of the tables (not the ones behind primary keys or unique
    constraints) and return the statements that recreate them exactly as the migrations made them."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [tables],
    )
    rows = cursor.fetchall()
    for name, _definition in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


def cases_clear() -> None:
    """Remove every case (and, through the cascade, steps, materials, …); the event log stays."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_case CASCADE")


def machine(cursor: Any) -> list[str]:
    """The lines that say what the figures were measured on."""
    memory = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    version = _one(cursor, "SHOW server_version")
    names = [
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "max_connections",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "jit",
    ]
    settings = []
    for name in names:
        settings.append(f"{name}={_one(cursor, f'SHOW {name}')}")
    return [
        f"machine: {model}, {os.cpu_count()} CPU, {memory} RAM, "
        f"Python {platform.python_version()}, load average "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        f"PostgreSQL {version} on loopback: {', '.join(settings)}",
    ]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
