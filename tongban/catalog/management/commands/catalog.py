"""`tongban catalog`: the catalogue as an Excel workbook (layout: docs/catalogue-xlsx.md).

tongban catalog export FILE.xlsx [--region CODE]
tongban catalog import FILE.xlsx [--dry-run]
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog import xlsx
from tongban.catalog.selectors import version_list_published
from tongban.org.models import Region


class Command(BaseCommand):
    help = "事项目录的 Excel 交换：导出（export）或导入（import）工作簿。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{export,import}")
        exporting = actions.add_parser("export", help="把事项目录导出为 Excel 工作簿")
        exporting.add_argument("file", help="要写入的 .xlsx 文件")
        exporting.add_argument(
            "--region", default="", help="只导出该区划（含下级）的事项，例如 430981"
        )
        importing = actions.add_parser("import", help="从 Excel 工作簿导入事项目录")
        importing.add_argument("file", help="要读取的 .xlsx 文件")
        importing.add_argument("--dry-run", action="store_true", help="只检查并显示，不保存")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if options["action"] == "export":
            self._export(path, options["region"])
        else:
            self._import(path, dry_run=options["dry_run"])

    def _export(self, path: Path, code: str) -> None:
        versions = None
        if code:
            region = Region.objects.filter(code=code).first()
            if region is None:
                raise CommandError(f"没有区划代码为 {code} 的区划。")
            versions = version_list_published(region=region)
        try:
            path.write_bytes(xlsx.catalog_export_bytes(versions=versions))
        except OSError as exc:
            raise CommandError(f"无法写入 {path}：{exc}") from None
        self.stdout.write(self.style.SUCCESS(f"已导出到 {path}。"))

    def _import(self, path: Path, *, dry_run: bool) -> None:
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}。")
        report = xlsx.catalog_import(actor=None, file=path, dry_run=dry_run)
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            raise CommandError(report.summary)
        for change in report.changes:
            if change.action != xlsx.UNCHANGED:
                self.stdout.write(
                    f"{change.action_label}  {change.sheet}  {change.key}  {change.name}"
                )
        self.stdout.write(self.style.SUCCESS(report.summary))
