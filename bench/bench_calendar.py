"""How fast the working-day calendar answers, against walking day by day in the same run.

Run by hand from the repository root (never as a test; the figures go to docs/BENCHMARKS.md):

    python bench/bench_calendar.py

It builds the national calendar from chinesecalendar (2004–2026), then times add_working_days and
working_days_between on random dates in 2020–2026 with n in 0..60, best of three runs, and the same
calls answered by a plain day-by-day loop over the same holiday sets.
"""

import os
import platform
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

# Runs from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import chinese_calendar

from tongban.timelimits.calendar import WorkCalendar

CALLS = 1_000_000
NAIVE_CALLS = 50_000
RUNS = 3


def naive_add_working_days(start: date, n: int, days_off: set[date], extra: set[date]) -> date:
    """What one writes without an index: step a day at a time and ask the holiday sets."""

    def is_workday(d: date) -> bool:
        return d in extra if d.weekday() >= 5 else d not in days_off

    day = start
    while not is_workday(day):
        day += timedelta(days=1)
    if day != start:
        n -= 1  # the first working day after a day off is already the first day counted
    for _ in range(max(n, 0)):
        day += timedelta(days=1)
        while not is_workday(day):
            day += timedelta(days=1)
    return day


def best_of(runs: int, work) -> float:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        timings.append(time.perf_counter() - began)
    return min(timings)


def processor_name() -> str:
    name = platform.processor()
    if name:
        return name
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main() -> None:
    calendar = WorkCalendar(
        days_off=chinese_calendar.holidays,
        extra_workdays=chinese_calendar.workdays,
        covered_years=range(2004, 2027),
    )
    days_off, extra = set(chinese_calendar.holidays), set(chinese_calendar.workdays)

    rng = random.Random(20261123)
    first, last = date(2020, 1, 1).toordinal(), date(2026, 9, 30).toordinal()
    starts = [date.fromordinal(rng.randint(first, last)) for _ in range(CALLS)]
    counts = [rng.randint(0, 60) for _ in range(CALLS)]
    ends = [s + timedelta(days=rng.randint(0, 90)) for s in starts]
    pairs = list(zip(starts, counts, strict=True))
    spans = list(zip(starts, ends, strict=True))

    # The answers must agree before their speed means anything.
    for start, n in pairs[:NAIVE_CALLS]:
        assert calendar.add_working_days(start, n) == naive_add_working_days(
            start, n, days_off, extra
        ), (start, n)

    add = calendar.add_working_days
    between = calendar.working_days_between
    add_seconds = best_of(RUNS, lambda: [add(s, n) for s, n in pairs])
    between_seconds = best_of(RUNS, lambda: [between(a, b) for a, b in spans])
    naive_pairs = pairs[:NAIVE_CALLS]
    naive_seconds = best_of(
        RUNS, lambda: [naive_add_working_days(s, n, days_off, extra) for s, n in naive_pairs]
    )

    add_rate = CALLS / add_seconds
    naive_rate = NAIVE_CALLS / naive_seconds
    print(f"python {platform.python_version()} ({platform.python_implementation()})")
    print(f"processor: {processor_name()}; os.cpu_count() = {os.cpu_count()}")
    print(f"calendar 2004–2026; starts 2020-01-01..2026-09-30; n in 0..60; best of {RUNS}")
    print(f"add_working_days      {CALLS:>9,} calls  {add_rate:>12,.0f} calls/s")
    print(f"working_days_between  {CALLS:>9,} calls  {CALLS / between_seconds:>12,.0f} calls/s")
    print(f"naive day-by-day add  {NAIVE_CALLS:>9,} calls  {naive_rate:>12,.0f} calls/s")
    print(f"indexed / naive: {add_rate / naive_rate:.0f}x")


if __name__ == "__main__":
    main()
