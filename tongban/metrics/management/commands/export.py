"""`tongban export cases --from YYYY-MM-DD --to YYYY-MM-DD --format csv|xlsx [--output FILE]`:
the cases of a period as a file from which every case indicator can be recomputed (the columns
are documented in docs/indicators.md). CSV goes to standard output unless --output names a
file; progress and the summary go to standard error."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongban.metrics import exports

WHAT = ("cases",)


class Command(BaseCommand):
    # argparse needs a str here; the messages below go through gettext.
    help = "导出办件明细（cases）为 CSV 或 Excel，列的含义见 docs/indicators.md。"

    def add_arguments(self, parser: Any) -> None:
        # Checked in handle() rather than by argparse, so that every mistake is told in Chinese.
        parser.add_argument("what", nargs="?", default="", help=_("导出什么：cases（办件）"))
        parser.add_argument("--from", dest="start", default="", help=_("起始日期 YYYY-MM-DD（含）"))
        parser.add_argument("--to", dest="end", default="", help=_("截止日期 YYYY-MM-DD（含）"))
        parser.add_argument("--format", default="csv", help=_("文件格式：csv（默认）或 xlsx"))
        parser.add_argument("--output", default="", help=_("写入的文件；不指定时 CSV 写到标准输出"))

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        if what not in WHAT:
            raise CommandError(
                _("请指定导出对象：%(choices)s（收到：%(what)s）。")
                % {"choices": "、".join(WHAT), "what": what or _("空")}
            )
        start = _day(options["start"], "--from")
        end = _day(options["end"], "--to")
        if start > end:
            raise CommandError(_("--from 不能晚于 --to。"))
        fmt = options["format"].lower()
        if fmt not in exports.FORMATS:
            raise CommandError(
                _("--format 应为 csv 或 xlsx（收到：%(format)s）。") % {"format": options["format"]}
            )
        output = options["output"]
        if fmt == "xlsx" and not output:
            raise CommandError(_("xlsx 格式需要用 --output 指定写入的文件。"))

        export = exports.case_export_rows(start=start, end=end, progress=_Progress(self.stderr))
        if fmt == "xlsx" and export.total > exports.XLSX_MAX_ROWS:
            raise CommandError(
                _("共 %(n)d 件，超出 Excel 工作表的行数上限，请改用 --format csv 或缩短期间。")
                % {"n": export.total}
            )
        started = time.monotonic()
        try:
            if fmt == "xlsx":
                written = exports.write_xlsx(export.rows, output)
            elif output:
                with Path(output).open("w", encoding="utf-8", newline="") as stream:
                    written = exports.write_csv(export.rows, stream)
            else:
                written = exports.write_csv(export.rows, _TextOut(self.stdout))
        except OSError as error:
            raise CommandError(
                _("无法写入 %(output)s：%(error)s") % {"output": output, "error": error.strerror}
            ) from None
        self.stderr.write(
            _("已导出 %(n)d 件办件（%(start)s 至 %(end)s）%(where)s，用时 %(seconds).1f 秒。")
            % {
                "n": written,
                "start": start,
                "end": end,
                "where": _("到 %(output)s") % {"output": output} if output else "",
                "seconds": time.monotonic() - started,
            }
        )


def _day(raw: str, option: str) -> date:
    if not raw:
        raise CommandError(
            _("请用 %(option)s 指定日期，格式 YYYY-MM-DD，例如 2026-01-31。") % {"option": option}
        )
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            _("%(option)s 应为 YYYY-MM-DD 格式的日期，例如 2026-01-31（收到：%(raw)s）。")
            % {"option": option, "raw": raw}
        ) from None


class _TextOut:
    """Django's OutputWrapper as the plain text stream the csv module writes to (it would add
    a line ending to every write)."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class _Progress:
    """For exports that take more than a second: done / total on standard error, at most once
    a second, rewritten in place on a terminal."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = 0.0
        self.interactive = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < 1.0 or (done < total and now - self.shown < 1.0):
            return
        self.shown = now
        line = _("已导出 %(done)d/%(total)d 件（%(percent)d%%）") % {
            "done": done,
            "total": total,
            "percent": done * 100 // max(total, 1),
        }
        if self.interactive:
            self.stream.write(f"\r{line}", ending="\n" if done >= total else "")
        else:
            self.stream.write(line)
        self.stream.flush()
