"""`tongban demo`: a realistic year of demo cases for the demo county, as the services write them
(tongban.cases.yeardemo; the fast path is checked against them, docs/decisions/0015)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tongban.cases import yeardemo

STATUS_NAMES = {
    "submitted": "待受理",
    "supplement": "待补正",
    "accepted": "办理中",
    "suspended": "特别程序中",
    "completed": "已办结",
    "delivered": "已送达",
    "denied": "不予许可",
    "refused": "不予受理",
    "withdrawn": "已撤回",
    "terminated": "已终止",
    "revoked": "已撤销",
}
OUTLIER_NAMES = {
    "hall": "全程网办事项，半数申请人仍到窗口办理",
    "trips": "承诺最多跑一次，窗口申请人多回大厅取件",
    "slow": "常常超过承诺时限办结",
}


class Command(BaseCommand):
    help = (
        "生成一年的演示办件：沅江市的演示机构和事项目录（缺少时先载入），按工作日、节假日、"
        "事项和渠道的规律分布，全部经由业务服务按模拟时间写入。同一种子生成相同的数据。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--cases", type=int, default=3000, help="办件数量（默认 3000）。")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）。")
        parser.add_argument(
            "--year", type=int, default=None, help="生成该自然年的办件；默认为截至昨天的 365 天。"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="只在演示机构已载入且还没有任何办件时生成（make run 使用）。",
        )
        parser.add_argument(
            "--plain",
            action="store_true",
            help="每一步都调用业务服务、各自提交并发送通知（用于核对快速路径写入的数据是否一致）。",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tongban.cases.models import Case
        from tongban.catalog import demo as catalog_demo
        from tongban.org import demo as org_demo

        cases, seed = options["cases"], options["seed"]
        if cases < 1:
            raise CommandError("办件数量至少为 1。")
        if options["if_empty"]:
            # make run: a first start of the demo gets its year; a real organisation never does.
            if Case.objects.exists():
                self.stdout.write("数据库中已有办件，未生成演示办件。")
                return
            if not org_demo.is_loaded():
                self.stdout.write("数据库中不是演示机构，未生成演示办件。")
                return
        if not org_demo.is_loaded():
            org_demo.load_demo_organisation()
            self.stdout.write("已载入演示机构：湖南省益阳市沅江市。")
        if not catalog_demo.is_loaded():
            catalog_demo.load_demo_catalogue()
            self.stdout.write("已载入演示事项目录。")
        today = timezone.localdate()
        if options["year"] is not None and options["year"] >= today.year + 1:
            raise CommandError("只能生成已经开始的年份的办件。")
        start, end = yeardemo.period_of(options["year"], today)
        config = yeardemo.Config(
            cases=cases,
            seed=seed,
            start=start,
            end=end,
            fast=not options["plain"],
            progress=_Progress(self.stderr),
        )
        summary = yeardemo.generate(config)
        self.stderr.write("")
        self._report(summary, start, end)

    def _report(self, summary: yeardemo.Summary, start: date, end: date) -> None:
        total = summary.cases
        rate = total / summary.seconds if summary.seconds else 0.0
        self.stdout.write(
            f"已生成演示办件 {total} 件（{start:%Y年%m月%d日}至{end:%Y年%m月%d日}），"
            f"用时 {summary.seconds:.0f} 秒，每秒 {rate:.0f} 件。"
        )
        parts = [
            f"{STATUS_NAMES.get(status, status)} {count}"
            for status, count in sorted(summary.by_status.items(), key=lambda p: -p[1])
        ]
        self.stdout.write("按状态：" + "，".join(parts) + "。")
        online = 100 * summary.online / total if total else 0
        self.stdout.write(
            f"其中一件事 {summary.bundles} 件；网上申请 {summary.online} 件（{online:.0f}%），"
            f"补正 {summary.supplements} 次"
            f"（其中第二次补正 {summary.second_supplements} 次），超期办结 {summary.overdue} 件。"
        )
        self.stdout.write(
            f"评价 {summary.evaluations} 条，其中差评 {summary.bad_reviews} 条；"
            f"红黄牌预警 {summary.card_alerts} 次。"
        )
        if summary.outliers:
            from tongban.catalog.models import ServiceItem

            names = ServiceItem.objects.select_related("entry").in_bulk(summary.outliers.values())
            planted = [
                f"{names[pk].entry.name}（{OUTLIER_NAMES[kind]}）"
                for kind, pk in summary.outliers.items()
                if pk in names
            ]
            self.stdout.write("有意设置的承诺与实际不符事项：" + "；".join(planted) + "。")


class _Progress:
    """One line on stderr, rewritten in place: cases done / N, rate, time left."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r已生成 {done}/{total} 件，每秒 {rate:.0f} 件，预计还需 {left:.0f} 秒   ", ending=""
        )
        self.stream.flush()
