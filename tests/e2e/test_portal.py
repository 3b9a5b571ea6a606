"""Applicants sign in with their mobile number and a one-time code, then register who applies."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from stdnum.cn import ric

from tongban.core.sms import SentMessage

MOBILE = "13800138000"
# 沅江市 (430981) exists since 1994, so a person born there in 1996 can hold this number.
PLACEHOLDER_ID = "43098119960101123X"
VALID_ID = PLACEHOLDER_ID[:-1] + ric.calc_check_digit(PLACEHOLDER_ID)
WRONG_CHECK_DIGIT_ID = "430981199503152022"


def ask_for_code(page: Page, outbox: list[SentMessage], mobile: str = MOBILE) -> str:
    """Ask for a code on the portal's sign-in page and read it from the text message."""
    page.goto("/portal/sign-in/")
    page.get_by_label("手机号码").fill(mobile)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_text("验证码已发送到您的手机")).to_be_visible()
    # The message leaves when the code's transaction commits, before the page above is answered.
    assert [m.mobile for m in outbox] == [mobile]
    match = re.search(r"验证码为 (\d{6})", outbox[-1].text)
    assert match, outbox[-1].text
    return match.group(1)


def enter_code(page: Page, code: str) -> None:
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="登录", exact=True).click()


def test_applicant_signs_in_with_mobile_and_one_time_code(page: Page, sms_outbox) -> None:
    # given
    code = ask_for_code(page, sms_outbox)
    expect(page.get_by_label("手机号码")).to_have_value(MOBILE)

    # when
    enter_code(page, code)

    # then
    expect(page.get_by_role("heading", name="我的办事", exact=True)).to_be_visible()
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation.get_by_role("link", name="我的办事")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_text("还没有登记申请人")).to_be_visible()

    # when
    page.get_by_role("button", name="退出").click()

    # then: back to the applicants' sign-in, not the staff one
    expect(page.get_by_role("heading", name="群众和企业登录")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("您已安全退出。")


def test_wrong_code_is_refused(page: Page, sms_outbox) -> None:
    # given
    code = ask_for_code(page, sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    # when
    enter_code(page, wrong)

    # then
    code_field = page.locator(".field", has=page.get_by_label("验证码"))
    expect(code_field.locator(".error")).to_have_text("验证码不正确。")
    expect(page.get_by_role("heading", name="群众和企业登录")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)

    # when: the right code still works (one wrong try does not burn it)
    enter_code(page, code)

    # then
    expect(page.get_by_role("heading", name="我的办事", exact=True)).to_be_visible()


def test_applicant_corrects_an_invalid_id_number_and_is_listed(page: Page, sms_outbox) -> None:
    # given: signed in on the portal
    code = ask_for_code(page, sms_outbox)
    enter_code(page, code)
    expect(page.get_by_role("heading", name="登记申请人")).to_be_visible()
    expect(page.get_by_label("申请人类型")).to_have_value("natural")

    # when: a number whose check digit is wrong
    page.get_by_label("姓名或单位名称").fill("李四")
    page.get_by_label("身份证号码").fill(WRONG_CHECK_DIGIT_ID)
    page.get_by_role("button", name="保存").click()

    # then: the error sits next to the ID field, and what was typed is still there
    id_field = page.locator(".field", has=page.get_by_label("身份证号码"))
    expect(id_field.locator(".error")).to_have_text("身份证号码校验位不正确，请核对。")
    expect(page.get_by_label("姓名或单位名称")).to_have_value("李四")
    expect(page.get_by_label("身份证号码")).to_have_value(WRONG_CHECK_DIGIT_ID)
    expect(page.get_by_text("还没有登记申请人")).to_be_visible()

    # when
    page.get_by_label("身份证号码").fill(VALID_ID)
    page.get_by_role("button", name="保存").click()

    # then
    expect(page.get_by_role("status")).to_have_text("申请人信息已保存。")
    row = page.get_by_role("row").filter(has_text="李四")
    expect(row).to_contain_text("自然人")
    expect(row).to_contain_text(VALID_ID)
    expect(page.locator(".field .error")).to_have_count(0)
