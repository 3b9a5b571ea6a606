"""Electronic supervision by hand: a case turns yellow and then red on the board while the (held)
clock passes its due date, without reloading the page; the supervisor issues a 督办 from the
overdue list, the department replies and the supervisor closes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tongban.cases import services as case_services
from tongban.cases.tests.factories import FORM, make_world
from tongban.core.now import frozen
from tongban.org.tests.factories import TEST_PASSWORD


@pytest.fixture
def world(transactional_db: None):
    return make_world()


@pytest.fixture
def quick_refresh(settings):
    # The board polls every 60 s; the test cannot wait that long between two colours.
    settings.SUPERVISION_BOARD_REFRESH_SECONDS = 1


def counts_of(page: Page, department: str):
    return page.get_by_test_id("board-table").locator(f'tr[data-department="{department}"]')


def test_a_case_turns_yellow_then_red_and_is_directed_answered_and_closed(
    page: Page, new_page: Callable[..., Page], sign_in, world, quick_refresh
) -> None:
    # given: a case accepted today, due in ten working days
    case = case_services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )
    case_services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    department = world.main.name

    with frozen(case.promised_due - dt.timedelta(days=30)) as clock:
        # when: the supervisor opens the board well before the due date
        sign_in(world.supervisor.username, TEST_PASSWORD)
        page.get_by_test_id("board-link").click()
        row = counts_of(page, department)
        expect(row.locator('[data-count="green"]')).to_have_text("1")
        # a mark that a full page load would wipe out
        page.evaluate("window.stillTheSamePage = true")

        # then: on its last working day it turns yellow, by itself
        clock.set(case.promised_due - dt.timedelta(hours=2))
        expect(row.locator('[data-count="yellow"]')).to_have_text("1")
        expect(row.locator('[data-count="green"]')).to_have_text("0")

        # and past the due date red, with the case in the overdue list
        clock.set(case.promised_due + dt.timedelta(hours=1))
        expect(row.locator('[data-count="red"]')).to_have_text("1")
        overdue = page.get_by_test_id("board-overdue").locator(f'tr[data-case="{case.number}"]')
        expect(overdue.get_by_test_id("days-overdue")).to_have_text("1 个工作日")
        expect(overdue).to_contain_text("审查")
        assert page.evaluate("window.stillTheSamePage") is True
        # the charts were drawn (ECharts puts a canvas into each chart box)
        expect(page.locator("#chart-departments canvas")).to_have_count(1)

        # when: the supervisor issues a directive from the overdue list
        overdue.get_by_role("link", name="督办").click()
        expect(page.get_by_test_id("directive-case")).to_contain_text(case.number)
        page.get_by_label("督办要求").fill("请说明超期原因，两个工作日内办结。")
        page.get_by_label("答复时限（工作日）").fill("2")
        page.get_by_role("button", name="发出督办").click()
        expect(page.get_by_role("status")).to_have_text("督办已发出。")
        expect(page.get_by_test_id("directive-status")).to_have_text("待答复")
        directive_url = page.url

        # then: the department's approver finds it in the inbox and replies
        approver = new_page()
        approver.goto("/")
        approver.get_by_label("用户名").fill(world.approver.username)
        approver.get_by_label("密码").fill(TEST_PASSWORD)
        approver.get_by_role("button", name="登录", exact=True).click()
        approver.goto("/supervision/directives/")
        approver.get_by_test_id("directive-list").get_by_role("link").first.click()
        expect(approver.get_by_test_id("directive-text")).to_have_text(
            "请说明超期原因，两个工作日内办结。"
        )
        approver.get_by_label("答复内容").fill("现场核查已完成，明日作出决定。")
        approver.get_by_role("button", name="提交答复").click()
        expect(approver.get_by_role("status")).to_have_text("答复已提交。")
        expect(approver.get_by_test_id("directive-status")).to_have_text("已答复")

        # and the supervisor accepts the answer
        page.goto(directive_url)
        expect(page.get_by_test_id("directive-thread")).to_contain_text("现场核查已完成")
        page.get_by_label("通过，督办办结").check()
        page.get_by_role("button", name="提交审核").click()
        expect(page.get_by_role("status")).to_have_text("督办已办结。")
        expect(page.get_by_test_id("directive-status")).to_have_text("已办结")


def test_the_board_fits_a_phone(new_page: Callable[..., Page], world) -> None:
    # Imported here: without the app installed this module must still load (and skip).
    from tongban.supervision.services import directive_issue

    # an overdue case and a directive, so that every table has a row to lay out
    case = case_services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )
    case_services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    directive_issue(
        actor=world.supervisor, department=world.main, text="请说明原因", limit_days=2, case=case
    )
    phone = new_page(viewport={"width": 390, "height": 844})
    phone.goto("/")
    phone.get_by_label("用户名").fill(world.supervisor.username)
    phone.get_by_label("密码").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="登录", exact=True).click()
    with frozen(case.promised_due + dt.timedelta(days=3)):
        for path, part in [
            ("/supervision/board/", "board-overdue"),
            ("/supervision/directives/", "directive-list"),
            ("/supervision/grades/", "grades"),
        ]:
            phone.goto(path)
            expect(phone.get_by_test_id(part).locator("tbody tr").first).to_be_visible()
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, path
