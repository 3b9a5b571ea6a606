"""How fast cases are created through the API, against pgbench inserting rows of the same shape at
the same concurrency into the same PostgreSQL server, side by side in one run.

Run by hand from the repository root (never as a test; the figures go to docs/BENCHMARKS.md):

    python bench/bench_case_create.py                      # 4 clients, 2 rounds of 30 s each
    python bench/bench_case_create.py --concurrency 8 --seconds 20 --profile 200

It starts a throwaway PostgreSQL server (scripts/pg-temp.sh), migrates, loads the cases app's test
county (a hall with its window clerk, a published item with its steps, materials and form) and
starts the application under gunicorn: WORKERS processes (default 2 × CPUs + 1) with threads
(gthread, so that clients keep their connections alive), persistent database connections. Then,
in rounds:

- ours: CONCURRENCY client threads (http.client, keep-alive, a new connection every
  RECONNECT_EVERY requests) POST /api/v1/cases as the clerk
  (a bearer token when the API takes one, else a signed-in session with its CSRF token): a window
  case for the item, an existing applicant found by ID number, the form filled in and submitted at
  once. Only 201 answers count.
- pgbench: bench/pgbench_case_insert.sql at the same concurrency for the same time: the rows one
  API creation writes, as bare SQL (the number counter upsert, the case row, its two material rows,
  its "created" and "submitted" events); the ratio is against this. The earlier, smaller script
  (bench/pgbench_case_insert_earlier.sql: counter, case, one event) runs beside it, so that figures
  stay comparable with earlier runs.

Before each side's turn the tables both write are vacuumed and analysed, so that neither pays for
the autovacuum the other's rows set off. It reports both rates and their ratio, and the CPU each side used per case (the gunicorn
workers, the PostgreSQL server, the client), read from /proc. With --profile N it also creates N
cases in-process through the same endpoint (Django's test client) under cProfile and lists the
SQL one creation issues, to show where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from case_data import (
    ROOT,
    county_load,
    django_setup,
    free_port,
    machine,
    throwaway_postgres,
)

PGBENCH_SCRIPT = Path(__file__).with_name("pgbench_case_insert.sql")
PGBENCH_EARLIER = Path(__file__).with_name("pgbench_case_insert_earlier.sql")
# Requests a client thread sends on one connection before it opens another (see fire()).
RECONNECT_EVERY = 20
FORM = {"name": "王五", "mobile": "13800138000"}
TICKS = os.sysconf("SC_CLK_TCK")


# --- CPU accounting from /proc ---------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def cpu_seconds(parent: int) -> float:
    """CPU used by a process tree: the parent, the children it has reaped, the living children."""
    fields = _stat(parent)
    ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    for child in _children(parent):
        try:
            ticks += sum(int(x) for x in _stat(child)[11:13])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / TICKS


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def postmaster_pid(database_url: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data = cursor.fetchone()[0]
    return int(Path(data, "postmaster.pid").read_text().splitlines()[0])


# --- the application server ----------------------------------------------------------------------


def gunicorn_start(
    env: dict[str, str], *, port: int, workers: int, threads: int, worker_class: str = "gthread"
) -> Any:
    folder = Path(tempfile.mkdtemp(prefix="tongban-bench-gunicorn-"))
    log_path = folder / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "tongban.wsgi",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        f"--threads={threads}",
        f"--bind=127.0.0.1:{port}",
        "--keep-alive=30",
        "--log-level=warning",
    ]
    with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn 启动失败，见 {log_path}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/v1/openapi.json")
            connection.getresponse().read()
            connection.close()
            return process, str(log_path)
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn 60 秒内没有应答")


# --- the client --------------------------------------------------------------------------------------


@dataclass
class Credentials:
    kind: str
    headers: dict[str, str]


def credentials_for(user: Any) -> list[Credentials]:
    """A bearer token when the project has them, and a signed-in session as the fallback."""
    from django.test import Client

    found = []
    try:
        from tongban.org.tokens import api_token_create
    except ImportError:
        pass
    else:
        _row, token = api_token_create(user=user, name="bench")
        found.append(Credentials("bearer token", {"Authorization": f"Bearer {token}"}))
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    csrf = "b" * 32  # an unmasked secret: Django compares cookie and header
    found.append(
        Credentials(
            "session",
            {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf},
        )
    )
    return found


def create_body(world: Any) -> bytes:
    return json.dumps(
        {
            "item": world.item.pk,
            "applicant": {"id_number": world.applicant.id_number},
            "channel": "window",
            "hall_id": world.hall.pk,
            "form": FORM,
        }
    ).encode()


def post_once(port: int, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/api/v1/cases", body=body, headers=_headers(headers))
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    connection.close()
    return response.status, text


def _headers(extra: dict[str, str]) -> dict[str, str]:
    return {"Content-Type": "application/json", "Host": "127.0.0.1", **extra}


def fire(
    *,
    port: int,
    headers: dict[str, str],
    body: bytes,
    concurrency: int,
    seconds: float,
    reconnect_every: int = RECONNECT_EVERY,
) -> dict[str, Any]:
    """CONCURRENCY threads, each on a keep-alive connection, posting until the time is up.

    Each thread opens a new connection every RECONNECT_EVERY requests: a gunicorn worker keeps
    the connections it accepted, and which worker accepts is chance, so with connections kept for
    a whole round two clients sharing one worker process (one interpreter lock) while another
    stood idle halved the rate of some rounds against others. A new connection goes to a worker
    that is free to accept; one connection per RECONNECT_EVERY requests costs the client little."""
    created = [0] * concurrency
    failed: list[Counter[int]] = [Counter() for _ in range(concurrency)]
    start = threading.Barrier(concurrency + 1)
    stop_at = [0.0]
    all_headers = _headers(headers)

    def worker(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        sent = 0
        while time.perf_counter() < stop_at[0]:
            if sent and reconnect_every and sent % reconnect_every == 0:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            sent += 1
            try:
                connection.request("POST", "/api/v1/cases", body=body, headers=all_headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failed[n][0] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            if response.status == 201:
                created[n] += 1
            else:
                failed[n][response.status] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    failures: Counter[int] = Counter()
    for counter in failed:
        failures.update(counter)
    return {"created": sum(created), "elapsed": elapsed, "failures": dict(failures)}


def pgbench(
    *,
    port: int,
    ids: dict[str, Any],
    concurrency: int,
    seconds: int,
    script: Path = PGBENCH_SCRIPT,
) -> dict[str, Any]:
    command = [
        "pgbench",
        "-n",
        "-M",
        "simple",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        "postgres",
        "-f",
        str(script),
        "-c",
        str(concurrency),
        "-j",
        str(min(concurrency, os.cpu_count() or 1)),
        "-T",
        str(seconds),
    ]
    for name, value in ids.items():
        command += ["-D", f"{name}={value}"]
    command.append("bench")
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"pgbench 失败：\n{result.stdout}\n{result.stderr}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    assert tps and done, result.stdout
    return {
        "tps": float(tps.group(1)),
        "transactions": int(done.group(1)),
        "failed": int(failed.group(1)) if failed else 0,
    }


# --- where the time goes ---------------------------------------------------------------------------


def shape(sql: str) -> str:
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
    return re.sub(r"\(\?(, \?)+\)", "(…)", sql)


def profile(*, credentials: Credentials, body: bytes, count: int) -> None:
    """Create COUNT cases in-process through the endpoint under cProfile; list one creation's SQL."""
    from django.db import connection
    from django.test import Client

    client = Client()
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in credentials.headers.items()
        if k != "Cookie"
    }
    if "Cookie" in credentials.headers:
        for part in credentials.headers["Cookie"].split("; "):
            name, value = part.split("=", 1)
            client.cookies[name] = value

    def create() -> None:
        response = client.post(
            "/api/v1/cases", data=body, content_type="application/json", **headers
        )
        assert response.status_code == 201, response.content[:500]

    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    for _ in range(10):
        create()
    with connection.execute_wrapper(record):
        create()
    print(f"\n== one creation through the endpoint issues {len(statements)} SQL statements")
    for sql, times in Counter(shape(s) for s in statements).most_common():
        print(f"   {times:3}× {sql[:160]}")

    durations = []
    profiler = cProfile.Profile()
    for _ in range(count):
        began = time.perf_counter()
        profiler.enable()
        create()
        profiler.disable()
        durations.append(time.perf_counter() - began)
    print(
        f"\n== {count} creations in-process (one at a time, under cProfile): median "
        f"{statistics.median(durations) * 1000:.1f} ms each"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # tongban's own functions first: which part of the request the time is spent under.
    stats.sort_stats("cumulative").print_stats(r"tongban/(cases|core|org|catalog|timelimits)/", 30)
    stats.sort_stats("tottime").print_stats(15)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


# --- the run -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    # Gunicorn's own advice, (2 × CPUs) + 1: each client's keep-alive connection stays with the
    # worker that accepted it, so with as many workers as CPUs two of the four often shared one
    # process (one interpreter lock) while another stood idle.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--port", type=int, default=0, help="PostgreSQL port (default: a free one)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn's worker class")
    parser.add_argument(
        "--reconnect-every",
        type=int,
        default=RECONNECT_EVERY,
        help="requests per client connection (0: one connection for the whole round)",
    )
    parser.add_argument("--profile", type=int, default=0, help="also profile N creations")
    args = parser.parse_args()

    with throwaway_postgres(args.port or free_port()) as database_url:
        # Persistent connections, as a production deployment runs; files without a manifest.
        # The SMS log backend's lines would bury the report: warnings only.
        env = django_setup(
            database_url,
            DATABASE_CONN_MAX_AGE="600",
            STATICFILES_MANIFEST="false",
            LOG_LEVEL="WARNING",
        )
        from django.db import connection

        from tongban.core.models import Event

        with connection.cursor() as cursor:
            for line in machine(cursor):
                print(line)
        county = county_load()
        world = county.world
        body = create_body(world)
        http_port = free_port()
        server, log = gunicorn_start(
            env,
            port=http_port,
            workers=args.workers,
            threads=args.concurrency,
            worker_class=args.worker_class,
        )
        try:
            chosen = None
            for credentials in credentials_for(world.clerk):
                status, text = post_once(http_port, credentials.headers, body)
                if status == 201:
                    chosen = credentials
                    break
                print(f"{credentials.kind}: HTTP {status} {text[:300]}")
            if chosen is None:
                raise SystemExit(f"创建办件的接口不可用；服务器日志见 {log}")
            print(
                f"gunicorn: {args.workers} workers × {args.concurrency} threads "
                f"({args.worker_class}), persistent database connections; clients: "
                f"{args.concurrency} threads, keep-alive (a new connection every "
                f"{args.reconnect_every or '∞'} requests), {chosen.kind}"
            )
            ids = {
                "region_code": world.item.item.region.code,
                "region": world.item.item.region_id,
                "version": world.item.pk,
                "department": world.main.pk,
                "hall": world.hall.pk,
                "applicant": world.applicant.pk,
                "clerk": world.clerk.pk,
            }
            for n, requirement in enumerate(world.item.materials.order_by("order"), start=1):
                ids[f"requirement{n}"] = requirement.pk
            fire(
                port=http_port,
                headers=chosen.headers,
                body=body,
                concurrency=args.concurrency,
                seconds=5,
            )
            for script in (PGBENCH_SCRIPT, PGBENCH_EARLIER):
                pgbench(
                    port=_port_of(database_url),
                    ids=ids,
                    concurrency=args.concurrency,
                    seconds=3,
                    script=script,
                )
            _check_same_rows()
            postmaster = postmaster_pid(database_url)
            ours_rates, theirs_rates, earlier_rates = [], [], []
            for round_number in range(1, args.rounds + 1):
                _settle()
                cpu_before = (cpu_seconds(server.pid), cpu_seconds(postmaster), own_cpu_seconds())
                submitted_before = Event.objects.filter(kind="case.submitted").count()
                ours = fire(
                    port=http_port,
                    headers=chosen.headers,
                    body=body,
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                    reconnect_every=args.reconnect_every,
                )
                cpu_after = (cpu_seconds(server.pid), cpu_seconds(postmaster), own_cpu_seconds())
                submitted = Event.objects.filter(kind="case.submitted").count() - submitted_before
                rate = ours["created"] / ours["elapsed"]
                ours_rates.append(rate)
                app, db, client = (
                    (after - before) / max(ours["created"], 1) * 1000
                    for before, after in zip(cpu_before, cpu_after, strict=True)
                )
                print(
                    f"\n== round {round_number}\n"
                    f"   API:     {ours['created']:6} cases in {ours['elapsed']:.1f} s = "
                    f"{rate:7.1f} /s   (errors: {ours['failures'] or 'none'}; "
                    f"{submitted} cases found in the database)\n"
                    f"            CPU per case: gunicorn {app:.1f} ms, PostgreSQL {db:.2f} ms, "
                    f"client {client:.2f} ms"
                )
                _settle()
                db_before = cpu_seconds(postmaster)
                theirs = pgbench(
                    port=_port_of(database_url),
                    ids=ids,
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                )
                # pgbench's server processes end with it; their CPU counts once the server has
                # reaped them.
                time.sleep(2)
                db_cpu = (cpu_seconds(postmaster) - db_before) / max(theirs["transactions"], 1)
                theirs_rates.append(theirs["tps"])
                _settle()
                earlier = pgbench(
                    port=_port_of(database_url),
                    ids=ids,
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                    script=PGBENCH_EARLIER,
                )
                earlier_rates.append(earlier["tps"])
                print(
                    f"   pgbench: {theirs['transactions']:6} cases in {args.seconds} s = "
                    f"{theirs['tps']:7.1f} /s   (failed: {theirs['failed']}); "
                    f"CPU per case: PostgreSQL {db_cpu * 1000:.2f} ms\n"
                    f"   pgbench, earlier script (case + one event): {earlier['tps']:7.1f} /s\n"
                    f"   ratio API / pgbench: {rate / theirs['tps']:.3f} "
                    f"(against the earlier script: {rate / earlier['tps']:.3f})"
                )
            ours_rate = statistics.median(ours_rates)
            theirs_rate = statistics.median(theirs_rates)
            earlier_rate = statistics.median(earlier_rates)
            print(
                f"\n== summary over {args.rounds} rounds of {args.seconds} s at concurrency "
                f"{args.concurrency}\n"
                f"   API {ours_rate:.1f} cases/s, pgbench {theirs_rate:.1f} cases/s, "
                f"ratio {ours_rate / theirs_rate:.3f} (required ≥ 0.15); against the earlier "
                f"script ({earlier_rate:.1f} cases/s): {ours_rate / earlier_rate:.3f}"
            )
            if args.profile:
                profile(credentials=chosen, body=body, count=args.profile)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            connection.close()
        # Kept when the run failed (SystemExit above), to read what the server said.
        shutil.rmtree(Path(log).parent, ignore_errors=True)


def _settle() -> None:
    """Vacuum and analyse the tables both sides write, before each side's turn: otherwise the
    autovacuum that the previous turn's rows set off runs during the next turn, on whichever side
    happens to come next (the PostgreSQL CPU per case jumped from 2 to 12 ms in such rounds)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) cases_case, cases_casematerial, core_event, cases_casenumbercounter"
        )


def _check_same_rows() -> None:
    """The API's cases and pgbench's have the same material rows (the warm-up wrote both)."""
    from tongban.cases.models import CaseMaterial

    shapes = set(
        CaseMaterial.objects.values_list(
            "material_type", "name", "required", "tolerable", "status", "owed_by", "checked"
        ).distinct()
    )
    if len(shapes) != 2:
        raise SystemExit(f"pgbench 写入的材料行与接口写入的不一致：{sorted(shapes)}")


def _port_of(database_url: str) -> int:
    return int(database_url.rsplit(":", 1)[1].split("/", 1)[0])


if __name__ == "__main__":
    main()
