"""The exports: each dashboard table as Excel, opened back with openpyxl and checked against the
selectors; the period's report as a PDF, read back with pdftotext; bad requests refused."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.test import Client
from openpyxl import load_workbook

from tongban.metrics import rollup, selectors
from tongban.metrics.selectors import Scope
from tongban.metrics.svg import bar_chart_svg, line_chart_svg
from tongban.org.models import Role
from tongban.org.tests.factories import RoleAssignmentFactory, UserFactory
from tongban.supervision.services import card_sweep

from .factories import County, make_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def county() -> County:
    county = make_county()
    card_sweep()
    rollup.rollup_rebuild()
    return county


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def period(county: County) -> dict[str, str]:
    return {"period": "custom", "start": county.start.isoformat(), "end": county.end.isoformat()}


def figures_of(county: County) -> dict[str, selectors.Figure]:
    scope = Scope(region_code=county.world.main.region.code)
    return {f.key: f for f in selectors.indicators(start=county.start, end=county.end, scope=scope)}


def sheet_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content)).active


def test_the_indicator_table_in_excel_holds_the_selectors_figures(county):
    client = client_of(county.world.supervisor)
    sheet = sheet_of(client.get("/metrics/export.xlsx", {**period(county), "table": "indicators"}))
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "主要指标"
    assert rows[2][1] == f"区划：{county.world.main.region.name}"
    assert rows[3][:4] == ("指标", "分子", "分母", "数值")
    by_name = {row[0]: row for row in rows[4:]}
    expected = figures_of(county)
    for key in selectors.HEADLINE_KEYS:
        figure = expected[key]
        _name, numerator, denominator, value, _target, _meets = by_name[figure.name]
        assert (numerator, denominator) == (figure.numerator, figure.denominator)
        assert value == pytest.approx(figure.value)
    on_time = by_name["按时办结率"]
    assert on_time[1:] == (2, 3, pytest.approx(2 / 3), "≥ 99%", "未达标")
    assert (
        sheet.cell(row=4 + 1 + selectors.HEADLINE_KEYS.index("online_rate"), column=4).number_format
        == "0.0%"
    )


def test_the_ranking_trends_and_claimed_tables_travel_too(county):
    client = client_of(county.world.supervisor)
    ranking = list(
        sheet_of(
            client.get("/metrics/export.xlsx", {**period(county), "table": "ranking"})
        ).iter_rows(values_only=True)
    )
    expected = selectors.department_ranking(
        key="on_time_rate",
        start=county.start,
        end=county.end,
        region_code=county.world.main.region.code,
    )
    first = ranking[4]
    assert first[:4] == (1, expected[0][0].name, 2, 3)
    assert first[4] == pytest.approx(2 / 3)
    trends = list(
        sheet_of(
            client.get("/metrics/export.xlsx", {**period(county), "table": "trends"})
        ).iter_rows(values_only=True)
    )
    header = trends[3]
    completed_column = header.index("按时办结率")
    rows = trends[4:]
    assert sum(r[completed_column + 2] for r in rows) == 3  # every completed case in some month
    claimed = list(
        sheet_of(
            client.get("/metrics/export.xlsx", {**period(county), "table": "claimed"})
        ).iter_rows(values_only=True)
    )
    [item] = claimed[4:]
    assert item[0] == county.world.item.item.local_code
    assert (item[2], item[3], item[5]) == (3, 1, 3)
    assert "跑动" in item[12]


def test_an_export_of_no_such_table_or_outside_the_view_is_refused(county):
    client = client_of(county.world.approver)
    assert (
        client.get("/metrics/export.xlsx", {**period(county), "table": "salaries"}).status_code
        == 404
    )
    other = client.get(
        "/metrics/export.xlsx", {**period(county), "department": county.world.other.pk}
    )
    assert other.status_code == 404
    bad = client.get(
        "/metrics/export.xlsx", {"period": "custom", "start": "2026-02-30", "end": "2026-03-01"}
    )
    assert bad.status_code == 422 and "起始日期：应为 YYYY-MM-DD" in bad.content.decode()
    hotline = UserFactory()
    RoleAssignmentFactory(user=hotline, role=Role.HOTLINE_AGENT, region=county.world.main.region)
    assert client_of(hotline).get("/metrics/report.pdf").status_code == 403


def pdf_text(content: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(content)
        tool = shutil.which("pdftotext")
        assert tool, "pdftotext (poppler-utils) is needed to read the report back"
        return subprocess.run(
            [tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout


def test_the_report_pdf_states_period_scope_figures_with_their_parts_and_the_ranking(county):
    client = client_of(county.world.supervisor)
    response = client.get("/metrics/report.pdf", {"period": "month", "month": "2026-11"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "2026年11月政务服务运行报告" in text
    assert "统计期间：2026-11-01 至 2026-11-30" in text
    assert f"统计范围：区划：{county.world.main.region.name}" in text
    scope = Scope(region_code=county.world.main.region.code)
    from datetime import date

    november = {
        f.key: f
        for f in selectors.indicators(start=date(2026, 11, 1), end=date(2026, 11, 30), scope=scope)
    }
    lines = text.splitlines()
    for key in ("accepted_count", "on_time_rate", "online_rate"):
        figure = november[key]
        line = next(line for line in lines if line.strip().startswith(figure.name))
        numbers = line.split()
        assert numbers[2:4] == [f"{figure.numerator:.0f}", f"{figure.denominator:.0f}"], line
    on_time = next(line for line in lines if line.strip().startswith("按时办结率"))
    value = november["on_time_rate"].value
    assert (f"{value * 100:.1f}%" if value is not None else "—") in on_time
    assert "部门排名：按时办结率" in text and county.world.main.name in text
    assert "按月趋势" in text


def test_the_report_refuses_a_bad_month_in_chinese(county):
    response = client_of(county.world.supervisor).get("/metrics/report.pdf", {"month": "11/2026"})
    assert response.status_code == 422
    assert "月份：应为 YYYY-MM 格式的月份" in response.content.decode()
    assert 'value="11/2026"' in response.content.decode()


def test_the_charts_are_svg_drawn_from_the_numbers():
    bars = bar_chart_svg(labels=["甲局", "乙局<"], values=[0.5, None], percent=True)
    assert bars.startswith("<svg") and "50.0%" in bars and "乙局&lt;" in bars and "—" in bars
    line = line_chart_svg(labels=["10月", "11月", "12月"], series=[("网办率", [0.2, None, 0.9])])
    # a missing month breaks the line: two dots, no polyline across the gap
    assert line.count("<circle") == 2 and "<polyline" not in line
