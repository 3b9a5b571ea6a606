"""`tongban audit-catalog`: the catalogue audit's findings as a Chinese table or as JSON.

tongban audit-catalog [--format text|json] [--region CODE] [--department ID] [--severity error …]

Findings are a report, not a failure: the command exits with 0 whatever it finds.
"""

from __future__ import annotations

import json
import unicodedata
from argparse import ArgumentParser
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog import audit
from tongban.org.models import Department, Region

COLUMNS = ("严重程度", "规则", "区划", "实施编码", "事项", "部门", "问题及整改建议")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def render_table(findings: Sequence[audit.Finding]) -> str:
    """One line per finding, columns aligned for a terminal; the message, the long part, last."""
    rows = [
        (
            f.severity_label,
            f.rule_title,
            f.region.name,
            f.item.local_code,
            f.version.name,
            f.department.name,
            f.message,
        )
        for f in findings
    ]
    lines = []
    if rows:
        widths = [max(_width(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS) - 1)]
        for row in [COLUMNS, *rows]:
            cells = [_pad(cell, widths[i]) for i, cell in enumerate(row[:-1])]
            lines.append("  ".join([*cells, row[-1]]))
        lines.append("")
    else:
        lines += ["未发现问题。", ""]
    lines.append(audit.summary_line(findings))
    return "\n".join(lines) + "\n"


def render_json(findings: Sequence[audit.Finding]) -> str:
    counts = audit.count_by_severity(findings)
    document = {
        "summary": {"total": len(findings), **counts},
        "findings": [f.as_dict() for f in findings],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


class Command(BaseCommand):
    help = (
        "事项目录审查：找出已发布事项中相互矛盾或缺失的要素（以表格或 JSON 输出，退出码恒为 0）。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--format", choices=["text", "json"], default="text", help="输出格式，默认 text"
        )
        parser.add_argument("--region", default="", help="区划代码，只审查该区划及其下级的事项")
        parser.add_argument("--department", type=int, help="部门编号（ID），只审查该部门的事项")
        parser.add_argument(
            "--severity",
            action="append",
            choices=audit.Severity.values,
            default=[],
            help="只列出该严重程度的问题（error 严重、warning 警告、info 提示），可重复",
        )
        parser.add_argument(
            "--rule",
            action="append",
            choices=list(audit.RULES),
            default=[],
            help="只列出该规则的问题，可重复",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        region = None
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"没有区划代码为 {options['region']} 的区划。")
        departments = None
        if options["department"] is not None:
            departments = Department.objects.filter(pk=options["department"])
            if not departments.exists():
                raise CommandError(f"没有编号为 {options['department']} 的部门。")
        findings = audit.finding_list(
            region=region,
            departments=departments,
            severities=options["severity"],
            rules=options["rule"],
        )
        render = render_json if options["format"] == "json" else render_table
        self.stdout.write(render(findings), ending="")
