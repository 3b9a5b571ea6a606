"""`tongban calendar`: import the State Council's holiday notice, or print a year as month grids.

tongban calendar import-notice FILE [--dry-run]
tongban calendar show YEAR [--region CODE]
"""

from __future__ import annotations

import unicodedata
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tongban.org.models import Region
from tongban.timelimits import selectors, services
from tongban.timelimits.selectors import DayCell, MonthView, YearView

# Each day is four terminal columns: the day's number, then a mark, then a space.
MARK_DAY_OFF = "*"
MARK_WORKDAY = "+"
CELL = 4
MONTH_WIDTH = 7 * CELL
GAP = "  "


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, centre: bool = False) -> str:
    room = max(0, width - _width(text))
    if centre:
        return " " * (room // 2) + text + " " * (room - room // 2)
    return text + " " * room


def _cell(cell: DayCell | None) -> str:
    if cell is None:
        return " " * CELL
    mark = ""
    if cell.entry is not None:
        mark = MARK_DAY_OFF if cell.entry.day_off else MARK_WORKDAY
    return f"{cell.date.day:>2}{mark or ' '} "


def _month_lines(month: MonthView, view: YearView) -> list[str]:
    lines = [_pad(month.title, MONTH_WIDTH, centre=True)]
    lines.append("".join(_pad(w, CELL) for w in view.weekday_names))
    lines.extend("".join(_cell(c) for c in week) for week in month.weeks)
    return lines


def render_year(view: YearView, place: str) -> str:
    out = [f"{view.year}年工作日历 · {place}", ""]
    if not view.covered:
        out += [f"注意：{view.year}年节假日安排尚未导入，以下按周一至周五计算。", ""]
    for row in view.month_rows:
        blocks = [_month_lines(m, view) for m in row]
        height = max(len(b) for b in blocks)
        for i in range(height):
            parts = [_pad(b[i] if i < len(b) else "", MONTH_WIDTH) for b in blocks]
            out.append(GAP.join(parts).rstrip())
        out.append("")
    notes = [f"  {note.text}" for m in view.months for note in m.notes]
    if notes:
        out.append("节假日：")
        out.extend(notes)
        out.append("")
    out.append(
        f"图例：日期后 {MARK_DAY_OFF} 为放假，{MARK_WORKDAY} 为调休上班；"
        "未标记的周六、周日照常休息。"
    )
    if view.covered:
        out.append(f"合计：{view.days_off} 天放假，{view.make_up_workdays} 天调休上班。")
    return "\n".join(out) + "\n"


class Command(BaseCommand):
    help = "工作日历：导入国务院节假日安排通知（import-notice），或按月显示某一年（show）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{import-notice,show}"
        )
        importing = actions.add_parser(
            "import-notice", help="导入国务院办公厅节假日安排通知（UTF-8 文本文件）"
        )
        importing.add_argument("file", help="通知全文的文本文件")
        importing.add_argument("--dry-run", action="store_true", help="只读取并显示，不保存")
        showing = actions.add_parser("show", help="按月显示一年的工作日历")
        showing.add_argument("year", type=int, help="年份，例如 2026")
        showing.add_argument("--region", default="", help="区划代码，例如 430981；默认为全国")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "show":
            self._show(options["year"], options["region"])
        else:
            self._import(Path(options["file"]), dry_run=options["dry_run"])

    def _show(self, year: int, code: str) -> None:
        if not 1 <= year <= 9998:
            raise CommandError(f"年份 {year} 无效。")
        region = None
        if code:
            region = Region.objects.filter(code=code).first()
            if region is None:
                raise CommandError(f"没有区划代码为 {code} 的区划。")
        view = selectors.calendar_year(year=year, region=region)
        self.stdout.write(render_year(view, region.full_name if region else "全国"), ending="")

    def _import(self, path: Path, *, dry_run: bool) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取 {path}：{exc}") from None
        try:
            if dry_run:
                preview = selectors.calendar_notice_preview(text=text)
                self.stdout.write(render_year(preview.view, "全国（预览，未保存）"), ending="")
                if preview.covered_by:
                    self.stdout.write(
                        f"该年已有安排（{preview.covered_by}），导入将替换其中 "
                        f"{preview.replaced_rows} 条记录；与现有安排相比有 "
                        f"{preview.view.changed_days} 天不同。"
                    )
                self.stdout.write("试运行：没有保存任何内容。")
                return
            result = services.calendar_notice_import(actor=None, text=text)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(result.summary))
