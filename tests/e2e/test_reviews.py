"""好差评 in the browser: an applicant gives a bad review from the portal case page on a phone, the
department verifies with them, rectifies and replies, the applicant re-rates; on another bad review
the department head's appeal is upheld by a supervisor and the public figures change.

The cases themselves are decided through the services: their pages are tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tongban.org.tests.factories import TEST_PASSWORD
from tongban.reviews import services
from tongban.reviews.models import Evaluation
from tongban.reviews.tests.factories import concluded_case, make_world

from .test_portal import ask_for_code, enter_code

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(transactional_db):
    return make_world()


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def sign_in_staff(page: Page, username: str) -> None:
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录", exact=True).click()


def good_rate_of(page: Page, department: str):
    return page.locator(f'tr[data-department="{department}"] [data-testid="good-rate"]')


def test_a_bad_review_is_verified_rectified_replied_and_re_rated_and_an_appeal_moves_the_figures(
    new_page: Callable[..., Page], world, sms_outbox
) -> None:
    case = concluded_case(world)
    phone = new_page(viewport=PHONE)

    # given: the applicant, signed in on their phone, opens the decided case
    sms_outbox.clear()  # the case's own messages; the sign-in code comes next
    enter_code(phone, ask_for_code(phone, sms_outbox))
    phone.goto(f"/portal/cases/{case.pk}/")

    # when: they rate the completion 非常不满意 and forget to say why
    phone.get_by_role("link", name="评价本次服务").click()
    phone.get_by_label("办结服务").check()
    phone.get_by_label("非常不满意").check()
    phone.get_by_label("多次跑动").check()
    phone.get_by_role("button", name="提交评价").click()

    # then: the reason is asked for next to the field, and nothing chosen is lost
    expect(phone.locator('.error[data-field="text"]')).to_have_text(
        "不满意的评价请写明具体情况，以便整改。"
    )
    expect(phone.get_by_label("非常不满意")).to_be_checked()
    expect(phone.get_by_label("多次跑动")).to_be_checked()
    no_sideways_scroll(phone)

    # when: they write what happened
    phone.get_by_label("具体情况").fill("为同一份材料跑了三次窗口")
    phone.get_by_role("button", name="提交评价").click()

    # then: back on the case page, told when the department will call and reply
    expect(phone.get_by_role("status")).to_contain_text("感谢您的评价。我们将于")
    expect(phone.get_by_test_id("review-box")).to_contain_text("非常不满意")
    no_sideways_scroll(phone)

    # when: the department's approver verifies with the applicant, rectifies and replies
    desk = new_page()
    sign_in_staff(desk, world.approver.username)
    desk.goto("/reviews/department/")
    desk.get_by_role("link", name=case.number).click()
    expect(desk.get_by_test_id("review-text")).to_have_text("为同一份材料跑了三次窗口")
    desk.get_by_label("回访核实情况").fill("已电话回访，申请人反映属实")
    desk.get_by_role("button", name="记录核实情况").click()
    expect(desk.get_by_role("status")).to_contain_text("已记录回访核实情况")
    desk.get_by_label("整改情况及回复（将公开）").fill("已实行一次性告知，并向您致歉")
    desk.get_by_role("button", name="回复申请人").click()

    # then
    expect(desk.get_by_test_id("state")).to_have_text("已整改回复")
    assert "再评价一次" in sms_outbox[-1].text

    # when: the applicant reads the reply and re-rates, once
    phone.goto(f"/portal/cases/{case.pk}/")
    expect(phone.get_by_test_id("reply")).to_contain_text("已实行一次性告知，并向您致歉")
    phone.get_by_role("link", name="再次评价").click()
    phone.get_by_label("满意", exact=True).check()
    phone.get_by_role("button", name="提交评价").click()

    # then: both ratings are on record, and there is nothing more to rate for the completion
    expect(phone.get_by_role("status")).to_have_text("感谢您的评价！")
    expect(phone.get_by_test_id("evaluations")).to_contain_text("再次评价")
    desk.reload()
    expect(desk.get_by_test_id("state")).to_have_text("已办结")
    expect(desk.get_by_test_id("rerating")).to_contain_text("满意")
    assert Evaluation.objects.filter(case=case).count() == 2

    # given: another applicant's bad review, which the department head appeals with evidence
    other = services.evaluation_by_applicant(
        actor=world.citizen,
        case=concluded_case(world),
        occasion="completion",
        level="very_dissatisfied",
        tags=["attitude"],
        text="工作人员态度恶劣",
    )
    services.appeal_file(
        actor=world.head, rectification=other.rectification, evidence="窗口录像显示接待规范"
    )
    public = new_page(viewport=PHONE)
    public.goto("/reviews/public/")
    expect(good_rate_of(public, "市场监督管理局")).to_have_text("50%")
    expect(public.get_by_test_id("bad-reviews")).to_contain_text("工作人员态度恶劣")
    expect(public.get_by_test_id("bad-reviews")).to_contain_text("王*")
    no_sideways_scroll(public)

    # when: the supervisor upholds the appeal
    supervisor = new_page()
    sign_in_staff(supervisor, world.supervisor.username)
    supervisor.goto("/reviews/appeals/")
    supervisor.get_by_label("申诉成立（差评不计入统计）").check()
    supervisor.get_by_label("复核理由").fill("录像证实评价与事实不符")
    supervisor.get_by_role("button", name="提交复核结论").click()

    # then: the review leaves the figures and the public list, and stays on record
    expect(supervisor.get_by_role("status")).to_contain_text("申诉成立")
    public.reload()
    expect(good_rate_of(public, "市场监督管理局")).to_have_text("100%")
    expect(public.get_by_test_id("bad-reviews")).not_to_contain_text("工作人员态度恶劣")
    assert Evaluation.objects.get(pk=other.pk).excluded_from_statistics
