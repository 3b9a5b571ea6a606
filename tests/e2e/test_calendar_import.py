"""The system administrator imports next year's State Council holiday notice through the pages."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import Page, expect

from tongban.timelimits.models import CalendarYear
from tongban.timelimits.tests.test_models_services import (
    BAD_NOTICE_2027,
    BROKEN_SENTENCE,
    NOTICE_2027,
)


@pytest.fixture
def seeded_calendar(transactional_db: None) -> None:
    """The national days the migrations seed. Browser tests empty the database after each test,
    so the same seeding runs again here when an earlier test has removed the rows."""
    if not CalendarYear.objects.exists():
        seed = importlib.import_module("tongban.timelimits.migrations.0002_seed_national_days")
        seed.seed_national_days(django_apps, None)


@pytest.fixture
def calendar_page(page: Page, seeded_calendar, demo_org, sign_in: Callable[..., None]) -> Page:
    """The admin on the calendar page, reached through the navigation as a person would."""
    sign_in("admin")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作日历").click()
    expect(page.get_by_role("heading", name="工作日历", exact=True)).to_be_visible()
    # The heading is there before the deferred scripts have run; a year picked before htmx has
    # bound the form would change nothing.
    page.wait_for_load_state("load")
    return page


def open_import(page: Page) -> None:
    page.get_by_role("link", name="导入节假日通知", exact=True).click()
    expect(page.get_by_role("heading", name="导入节假日通知")).to_be_visible()


def test_the_admin_imports_the_2027_notice_and_the_calendar_names_its_days(
    calendar_page: Page,
) -> None:
    page = calendar_page

    # given 2027 is chosen and not covered yet (switched in place by htmx)
    page.get_by_label("年份").select_option("2027")
    expect(page.get_by_role("heading", name="2027年 · 湖南省益阳市沅江市")).to_be_visible()
    expect(page).to_have_url("/calendar/?year=2027&region=430981")
    banner = page.get_by_role("alert").filter(has_text="2027年节假日安排尚未导入")
    expect(banner).to_be_visible()

    # when the notice is pasted and previewed
    open_import(page)
    page.get_by_label("通知全文").fill(NOTICE_2027)
    page.get_by_role("button", name="预览").click()

    # then the year is shown with every arranged day highlighted, and nothing is saved yet
    expect(page.get_by_role("heading", name="预览：2027年节假日安排")).to_be_visible()
    expect(page.get_by_test_id("preview-summary")).to_contain_text(
        "28 天放假，5 天调休上班。该年尚未导入，确认后即作为该年的全国安排。"
    )
    october = page.get_by_role("region", name="2027年十月")
    expect(october.locator("td.off")).to_have_count(7)
    expect(october.locator('td[data-date="2027-10-09"]')).to_have_class("weekend work changed")
    expect(october.locator('td[data-date="2027-10-09"]')).to_have_text("9班")
    expect(october.get_by_text("国庆节 休：10月1日—7日")).to_be_visible()
    expect(page.locator("td.changed")).to_have_count(33)
    assert not CalendarYear.objects.filter(year=2027).exists()

    # when
    page.get_by_role("button", name="确认导入").click()

    # then back on the calendar of 2027, with the days named and the banner gone
    expect(page).to_have_url("/calendar/?year=2027&region=")
    expect(page.get_by_role("status")).to_have_text(
        "已导入2027年节假日安排：28 天放假，5 天调休上班。"
    )
    expect(page.get_by_role("heading", name="2027年 · 全国")).to_be_visible()
    expect(page.get_by_test_id("year-summary")).to_contain_text(
        "28 天放假，5 天调休上班 · 来源：国务院通知"
    )
    expect(page.get_by_text("2027年节假日安排尚未导入")).to_have_count(0)
    october = page.get_by_role("region", name="2027年十月")
    expect(october.locator('td[data-date="2027-10-01"]')).to_have_attribute(
        "title", "2027年10月1日 星期五 国庆节 休"
    )
    expect(october.get_by_text("国庆节 休：10月1日—7日")).to_be_visible()
    expect(october.get_by_text("调休上班（国庆节）：10月9日")).to_be_visible()
    expect(
        page.get_by_role("region", name="2027年二月").get_by_text("春节 休：2月5日—12日")
    ).to_be_visible()


def test_a_notice_with_a_wrong_weekday_is_refused_with_the_sentence_quoted(
    calendar_page: Page,
) -> None:
    page = calendar_page
    open_import(page)

    # when
    page.get_by_label("通知全文").fill(BAD_NOTICE_2027)
    page.get_by_role("button", name="预览").click()

    # then
    expect(page.locator(".field .error")).to_have_text(
        f"2027年10月9日是星期六，不是通知所写的星期五。问题所在：「{BROKEN_SENTENCE}」"
    )
    expect(page.get_by_label("通知全文")).to_have_value(BAD_NOTICE_2027)
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert not CalendarYear.objects.filter(year=2027).exists()
