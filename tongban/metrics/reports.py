"""The dashboard's tables as Excel workbooks, and a period's report as a PDF a bureau can send
upward. Reads only: everything comes from a `selectors.Dashboard` already scoped by permissions.

Each table is defined once (`TABLES`): the same rows fill the workbook's cells and the report's
tables, so a figure reads the same wherever it travels.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from tongban.core.pdf import render_pdf, static_stylesheet

from .definitions import DAYS, INDICATORS, RATIO
from .selectors import TREND_KEYS, Dashboard, Figure, scope_names
from .svg import bar_chart_svg, line_chart_svg

PRINT_STYLESHEET = "metrics/report-print.css"
GRADE_COLOURS = {
    "excellent": "#1e7d32",
    "good": "#0b5cad",
    "pass": "#b7791f",
    "fail": "#c53030",
    None: "#9aa5b1",
}


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    # Column index -> the unit of the figure in that column, for number formats.
    units: dict[int, str]


def _value(figure: Figure) -> float | None:
    return figure.value


def target_text(figure: Figure) -> str:
    if figure.target is None:
        return ""
    sign = "≥" if figure.higher_is_better else "≤"
    if figure.unit == RATIO:
        return f"{sign} {figure.target * 100:g}%"
    return f"{sign} {figure.target:g}"


def _meets(figure: Figure) -> str:
    if figure.meets_target is None:
        return ""
    return _("达标") if figure.meets_target else _("未达标")


def figures_table(dashboard: Dashboard) -> Table:
    rows = [
        [f.name, f.numerator, f.denominator, _value(f), target_text(f), _meets(f)]
        for f in dashboard.figures
    ]
    return Table(
        "indicators",
        _("主要指标"),
        [_("指标"), _("分子"), _("分母"), _("数值"), _("目标"), _("是否达标")],
        rows,
        {3: "by-row"},
    )


def ranking_table(dashboard: Dashboard) -> Table:
    name = str(INDICATORS[dashboard.ranking_key].name)
    year, quarter = dashboard.grade_quarter
    grade_header = _("%(y)d年第%(q)d季度评定") % {"y": year, "q": quarter}
    rows = [
        [
            n,
            r.department.name,
            r.figure.numerator,
            r.figure.denominator,
            r.figure.value,
            r.grade_label,
        ]
        for n, r in enumerate(dashboard.ranking, start=1)
    ]
    return Table(
        "ranking",
        _("部门排名：%(name)s") % {"name": name},
        [_("名次"), _("部门"), _("分子"), _("分母"), name, grade_header],
        rows,
        {4: INDICATORS[dashboard.ranking_key].unit},
    )


def trends_table(dashboard: Dashboard) -> Table:
    months = [point for point, _f in dashboard.trends[TREND_KEYS[0]]]
    header = [_("月份")]
    for key in TREND_KEYS:
        header += [str(INDICATORS[key].name), _("分子"), _("分母")]
    header += [_("红牌数"), _("黄牌数"), _("差评数")]
    series = {key: dict(points) for key, points in dashboard.trends.items()}
    cards = dict(dashboard.cards_and_reviews)
    rows = []
    for month in months:
        row: list[Any] = [f"{month.year}-{month.month:02d}"]
        for key in TREND_KEYS:
            f = series[key][month]
            row += [f.value, f.numerator, f.denominator]
        row += [
            cards[month]["red_cards"].numerator,
            cards[month]["yellow_cards"].numerator,
            cards[month]["bad_review_count"].numerator,
        ]
        rows.append(row)
    return Table(
        "trends",
        _("按月趋势"),
        header,
        rows,
        {1 + 3 * n: RATIO for n in range(len(TREND_KEYS))},
    )


def claimed_table(dashboard: Dashboard) -> Table:
    yes, no = _("是"), _("否")
    rows = [
        [
            r.item.local_code,
            r.item.entry.name,
            r.cases,
            r.claimed_visits,
            r.mean_visits,
            r.p90_visits,
            yes if r.claimed_immediate else no,
            r.same_day_share,
            yes if r.claimed_full_online else no,
            r.full_online_share,
            r.promised_limit,
            r.p90_days_taken,
            "；".join(r.flags),
        ]
        for r in dashboard.claimed
    ]
    return Table(
        "claimed",
        _("承诺与实际"),
        [
            _("事项编码"),
            _("事项名称"),
            _("办结件数"),
            _("承诺跑动次数"),
            _("平均跑动次数"),
            _("九成办件跑动不超过"),
            _("申报即办"),
            _("当日办结占比"),
            _("申报全程网办"),
            _("网上零跑动占比"),
            _("承诺时限（工作日）"),
            _("九成办件用时不超过（工作日）"),
            _("问题"),
        ],
        rows,
        {4: DAYS, 7: RATIO, 9: RATIO},
    )


TABLES: dict[str, Callable[[Dashboard], Table]] = {
    "indicators": figures_table,
    "ranking": ranking_table,
    "trends": trends_table,
    "claimed": claimed_table,
}

NUMBER_FORMATS = {RATIO: "0.0%", DAYS: "0.00"}


def workbook_bytes(
    *, dashboard: Dashboard, table_key: str, period_label: str, scope_label: str
) -> bytes:
    """One table as an .xlsx: a title row, the period and scope, the header, then the rows
    (numbers as numbers; shares as fractions shown in percent)."""
    table = TABLES[table_key](dashboard)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31].replace("：", " ")
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([_("统计期间"), period_label, dashboard.start, dashboard.end])
    sheet.append([_("统计范围"), scope_label])
    sheet.append(table.header)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0F4F8")
    units = [f.unit for f in dashboard.figures] if table.key == "indicators" else []
    for n, row in enumerate(table.rows):
        sheet.append(row)
        for column, unit in table.units.items():
            unit = units[n] if unit == "by-row" else unit
            if unit in NUMBER_FORMATS:
                sheet.cell(row=sheet.max_row, column=column + 1).number_format = NUMBER_FORMATS[
                    unit
                ]
    for column in range(1, len(table.header) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 16 if column > 1 else 22
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scope_label_of(dashboard: Dashboard) -> str:
    names = scope_names(dashboard.scope)
    return "，".join(f"{what}：{name}" for what, name in names) or _("全部")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def figure_text(figure: Figure) -> str:
    if figure.value is None:
        return "—"
    if figure.unit == RATIO:
        return percent(figure.value)
    if figure.unit == DAYS:
        return f"{figure.value:.2f}"
    return f"{figure.value:.0f}"


def display_rows(table: Table, row_units: Sequence[str] = ()) -> list[list[str]]:
    """The table's cells as the report prints them: shares in percent, days to two places."""
    out = []
    for n, row in enumerate(table.rows):
        cells = []
        for column, cell in enumerate(row):
            unit = table.units.get(column)
            unit = row_units[n] if unit == "by-row" and row_units else unit
            if cell is None:
                cells.append("—")
            elif unit == RATIO:
                cells.append(percent(cell))
            elif unit == DAYS:
                cells.append(f"{cell:.2f}")
            elif isinstance(cell, float) and cell.is_integer():
                cells.append(f"{cell:.0f}")
            else:
                cells.append(str(cell))
        out.append(cells)
    return out


def report_charts(dashboard: Dashboard) -> dict[str, str]:
    """The report's charts as SVG strings: the ranking's bars coloured by grade, the trends."""
    ranked = [r for r in dashboard.ranking if r.figure.denominator][:15]
    unit = INDICATORS[dashboard.ranking_key].unit
    months = [f"{p.month}月" for p, _f in dashboard.trends[TREND_KEYS[0]]]
    cards = dashboard.cards_and_reviews
    return {
        "ranking": bar_chart_svg(
            labels=[r.department.name for r in ranked],
            values=[r.figure.value for r in ranked],
            colours=[GRADE_COLOURS.get(r.grade, GRADE_COLOURS[None]) for r in ranked],
            percent=unit == RATIO,
        ),
        "trends": line_chart_svg(
            labels=months,
            series=[
                (str(INDICATORS[key].name).split("（")[0], [f.value for _p, f in points])
                for key, points in dashboard.trends.items()
            ],
            percent=True,
        ),
        "cards": line_chart_svg(
            labels=months,
            series=[
                (_("红牌"), [float(f["red_cards"].numerator) for _p, f in cards]),
                (_("黄牌"), [float(f["yellow_cards"].numerator) for _p, f in cards]),
                (_("差评"), [float(f["bad_review_count"].numerator) for _p, f in cards]),
            ],
        ),
    }


def report_pdf(
    *,
    dashboard: Dashboard,
    period_label: str,
    issuer: str,
    generated_on: date | None = None,
) -> bytes:
    """The period's report: title, period, scope, headline figures with their numerators and
    denominators, the department ranking with grades, the monthly trends, as an A4 PDF."""
    html = render_to_string(
        "metrics/report_pdf.html",
        {
            "dashboard": dashboard,
            "period_label": period_label,
            "scope_label": scope_label_of(dashboard),
            "issuer": issuer,
            "generated_on": generated_on or timezone.localdate(),
            "figures": [(f, figure_text(f), target_text(f), _meets(f)) for f in dashboard.figures],
            "ranking": ranking_table(dashboard),
            "ranking_rows": display_rows(ranking_table(dashboard)),
            "trends": trends_table(dashboard),
            "trend_rows": display_rows(trends_table(dashboard)),
            "charts": report_charts(dashboard),
            "ranking_unit": INDICATORS[dashboard.ranking_key].unit,
        },
    )
    return render_pdf(html=html, stylesheets=[static_stylesheet(PRINT_STYLESHEET)])
