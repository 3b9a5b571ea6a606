"""The leadership dashboard by hand: a supervisor opens it from the navigation, sees the charts
drawn, changes the period, clicks a bar of the department ranking and a figure to reach the cases
behind them, and downloads a table as Excel and the report as PDF. It fits a wall screen, a
laptop and a phone without sideways scrolling."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tongban.metrics import rollup
from tongban.metrics.tests.factories import County, make_county
from tongban.org.tests.factories import TEST_PASSWORD
from tongban.supervision.services import card_sweep


@pytest.fixture
def county(transactional_db: None) -> County:
    county = make_county()
    card_sweep()
    rollup.rollup_rebuild()
    return county


def sign_in_on(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录", exact=True).click()


def test_a_supervisor_reads_the_dashboard_drills_down_and_downloads(page: Page, county) -> None:
    sign_in_on(page, county.world.supervisor.username)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    expect(page.get_by_role("heading", name="政务服务统计分析")).to_be_visible()
    for chart in ("chart-trends", "chart-cards", "chart-channels", "chart-ranking"):
        expect(page.locator(f"#{chart} canvas")).to_have_count(1)

    # when: the period becomes the custom dates that hold every case, without a page load
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("统计周期", exact=True).select_option("custom")
    page.get_by_label("起始日期", exact=True).fill(county.start.isoformat())
    page.get_by_label("截止日期", exact=True).fill(county.end.isoformat())
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_test_id("period")).to_contain_text(
        f"{county.start.isoformat()} 至 {county.end.isoformat()}"
    )
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.get_by_test_id("figure-completed_count")).to_have_text("3")
    expect(page.get_by_test_id("numerator-on_time_rate")).to_have_text("2")
    expect(page.locator("#chart-ranking canvas")).to_have_count(1)

    # when: the supervisor clicks the department's bar in the ranking chart
    page.locator("#chart-ranking").scroll_into_view_if_needed()
    expect(page.locator("#chart-ranking")).to_have_attribute("data-drawn", "true")
    point = page.evaluate(
        """() => {
          const el = document.getElementById('chart-ranking');
          const chart = echarts.getInstanceByDom(el);
          const bar = chart.getOption().series[0].data[0].value;
          const [x, y] = chart.convertToPixel({seriesIndex: 0}, [bar / 2, 0]);
          const box = el.getBoundingClientRect();
          return {x: box.left + x, y: box.top + y};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    # then: the cases the department's on-time rate counts, with links to their pages
    expect(page.get_by_role("heading", name="按时办结率：办件明细")).to_be_visible()
    expect(page.get_by_test_id("drill-count")).to_have_text("3")
    expect(page.get_by_test_id("drill-scope")).to_contain_text(county.world.main.name)
    page.get_by_role("link", name="未计入分子的办件").click()
    expect(page.get_by_test_id("drill-count")).to_have_text("1")
    page.get_by_role("link", name=county.late.number).click()
    expect(page).to_have_url(f"{page.url.split('/cases/')[0]}/cases/{county.late.pk}/")

    # and back on the dashboard a figure leads to its cases too
    page.go_back()
    page.get_by_role("link", name="返回统计分析").click()
    page.get_by_test_id("figure-overdue_count").click()
    expect(page.get_by_test_id("drill-count")).to_have_text("2")
    expect(page.locator(f'tr[data-case="{county.open_overdue.number}"]')).to_be_visible()

    # when: the ranking table and the report are downloaded
    page.get_by_role("link", name="返回统计分析").click()
    with page.expect_download() as excel:
        page.get_by_test_id("export-ranking").click()
    book = load_workbook(io.BytesIO(excel.value.path().read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[4][:4] == (1, county.world.main.name, 2, 3)
    with page.expect_download() as pdf:
        page.get_by_test_id("report-pdf").click()
    assert pdf.value.path().read_bytes()[:5] == b"%PDF-"
    assert pdf.value.suggested_filename.endswith(".pdf")


@pytest.mark.parametrize(
    "viewport",
    [
        {"width": 1920, "height": 1080},
        {"width": 1366, "height": 768},
        {"width": 390, "height": 844},
    ],
    ids=["wall", "laptop", "phone"],
)
def test_the_dashboard_fits_the_screen(new_page: Callable[..., Page], county, viewport) -> None:
    page = new_page(viewport=viewport)
    sign_in_on(page, county.world.supervisor.username)
    page.goto(
        f"/metrics/?period=custom&start={county.start.isoformat()}&end={county.end.isoformat()}"
    )
    expect(page.locator("#chart-ranking canvas")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]
    # every chart is as wide as it can be on the screen, and none is squeezed to nothing
    boxes = page.evaluate(
        "[...document.querySelectorAll('.chart')].map(e => e.getBoundingClientRect().width)"
    )
    assert boxes and all(w >= min(300, viewport["width"] - 60) for w in boxes), boxes
    if viewport["width"] >= 1800:
        # a wall screen shows the headline figures in one or two rows, the charts side by side
        tops = page.evaluate(
            "[...document.querySelectorAll('.figure')].map(e => e.getBoundingClientRect().top)"
        )
        assert len(set(tops)) <= 2
    page.goto(
        "/metrics/cases/?key=accepted_count&period=custom"
        f"&start={county.start.isoformat()}&end={county.end.isoformat()}"
    )
    expect(page.get_by_test_id("drill-cases").locator("tbody tr").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
