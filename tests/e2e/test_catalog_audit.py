"""The catalogue admin reviews the audit's findings, narrows them down and takes them away in Excel."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tongban.catalog.tests.factories import make_version
from tongban.org import demo
from tongban.org.models import Department, Region


@pytest.fixture
def planted_items(demo_org: list[demo.DemoLogin]) -> None:
    """Three published items of 沅江市 with one contradiction each: two serious, one warning."""
    county = Region.objects.get(code=demo.COUNTY_CODE)
    market = Department.objects.get(region=county, code="SCJG")
    civil = Department.objects.get(region=county, code="MZ")
    reviewed = {"guide_reviewed_at": timezone.localdate()}
    make_version(
        region=county,
        department=market,
        content={**reviewed, "name": "食品经营许可", "legal_limit": 20, "promised_limit": 25},
    )
    make_version(
        region=county,
        department=civil,
        content={**reviewed, "name": "结婚登记", "legal_limit": 1, "promised_limit": 0},
        children={"fees": [{"name": "工本费", "standard": "9元/件"}]},
    )
    make_version(
        region=county,
        department=civil,
        content={**reviewed, "name": "高龄津贴申领", "legal_limit": 20, "promised_limit": 15},
    )


def test_the_catalogue_admin_filters_the_findings_and_downloads_them(
    page: Page, planted_items: None, sign_in: Callable[..., None]
) -> None:
    # given the catalogue admin on the audit page
    sign_in("shixiang")
    page.goto("/items/audit/")
    expect(page.get_by_role("heading", name="事项目录审查", exact=True)).to_be_visible()
    findings = page.get_by_test_id("audit-findings").locator("tbody tr")
    expect(findings).to_have_count(3)
    expect(page.get_by_test_id("audit-summary")).to_have_text("共 3 项问题：严重 2，警告 1，提示 0")

    # when only the serious findings are asked for (the table is replaced in place by htmx)
    page.get_by_label("严重程度").select_option(label="严重")

    # then
    expect(page).to_have_url("/items/audit/?department=&severity=error&rule=")
    expect(findings).to_have_count(2)
    expect(page.get_by_test_id("audit-summary")).to_have_text("共 2 项问题：严重 2，警告 0，提示 0")
    expect(findings.first).to_contain_text(
        "承诺时限 25 个工作日超过法定时限 20 个工作日：承诺时限应不超过法定时限。"
    )
    expect(findings.nth(1)).to_contain_text("收费项目“工本费”没有收费依据")
    expect(page.get_by_label("严重程度")).to_have_value("error")
    counts = page.get_by_test_id("audit-rule-counts")
    expect(counts.locator('tr[data-rule="promised_over_legal"] td').last).to_have_text("1")
    expect(counts.locator('tr[data-rule="compression_below_target"] td').last).to_have_text("0")

    # when the filtered findings are exported
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value

    # then the workbook holds the two serious findings under Chinese headers
    assert download.suggested_filename.endswith(".xlsx")
    # openpyxl knows a workbook by its file name, and Playwright's temporary file has none.
    sheet = load_workbook(BytesIO(download.path().read_bytes())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["严重程度", "规则代码", "规则"]
    assert [(r[0], r[2], r[7]) for r in rows[1:]] == [
        ("严重", "承诺时限超过法定时限", "食品经营许可"),
        ("严重", "收费无依据", "结婚登记"),
    ]

    # when the page is reloaded, the filter keeps its value
    page.reload()
    expect(page.get_by_label("严重程度")).to_have_value("error")
    expect(findings).to_have_count(2)
