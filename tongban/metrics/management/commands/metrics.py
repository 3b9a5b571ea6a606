"""`tongban metrics`: the indicator rollups.

tongban metrics rebuild [--since YYYY-MM-DD]   recompute every day from a date (default: all)
tongban metrics update                         recompute the days touched since the last run
tongban metrics status                         where the rollups stand
"""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.metrics import rollup


class Command(BaseCommand):
    help = "统计指标汇总表：重建（rebuild）、增量更新（update）或查看状态（status）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{rebuild,update,status}"
        )
        rebuilding = actions.add_parser("rebuild", help="从某日起（默认全部）重新计算每日汇总")
        rebuilding.add_argument("--since", default="", help="起始日期 YYYY-MM-DD")
        actions.add_parser("update", help="重新计算上次运行以来涉及的日期")
        actions.add_parser("status", help="显示汇总进度")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rebuild":
            self._rebuild(options["since"])
        elif action == "update":
            result = rollup.rollup_pending()
            self.stdout.write(
                self.style.SUCCESS(f"已处理 {result.events} 条事件，重算 {len(result.days)} 天。")
            )
        else:
            status = rollup.rollup_status()
            self.stdout.write(f"已处理到事件：#{status['last_event_id']}")
            self.stdout.write(f"待处理事件：{status['pending_events']}")
            self.stdout.write(f"上次增量更新：{status['last_run_at'] or '从未'}")
            self.stdout.write(f"上次重建：{status['last_rebuild_at'] or '从未'}")
            self.stdout.write(
                f"汇总日期范围：{status['first_day'] or '—'} 至 {status['last_day'] or '—'}"
            )
            self.stdout.write(
                f"日汇总行数：{status['day_rows']}，月汇总行数：{status['month_rows']}"
            )

    def _rebuild(self, raw_since: str) -> None:
        since = None
        if raw_since:
            try:
                since = date.fromisoformat(raw_since)
            except ValueError:
                raise CommandError(f"--since 应为 YYYY-MM-DD 格式的日期：{raw_since}") from None
        started = time.monotonic()
        interactive = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False
        last_shown = [0.0]

        def progress(done: int, total: int, day: date) -> None:
            now = time.monotonic()
            if done != total and now - last_shown[0] < 1.0:
                return
            last_shown[0] = now
            line = f"{day} {done}/{total} 天（{done * 100 // max(total, 1)}%）"
            if interactive:
                sys.stdout.write(f"\r{line}")
                sys.stdout.flush()
            else:
                self.stdout.write(line)

        days = rollup.rollup_rebuild(since=since, progress=progress)
        if interactive and days:
            sys.stdout.write("\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"已重建 {days} 天的汇总，用时 {time.monotonic() - started:.1f} 秒。"
            )
        )
