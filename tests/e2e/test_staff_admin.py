"""The system administrator creates staff accounts; mistakes are shown next to the field at fault."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

NEW_PASSWORD = "Qionghu-2026-gongan"


@pytest.fixture
def staff_form(page: Page, demo_org, sign_in: Callable[..., None]) -> Page:
    """The admin's 新增工作人员 form, reached through the navigation as a person would."""
    sign_in("admin")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="组织机构").click()
    page.get_by_role("link", name="新增工作人员").click()
    expect(page.get_by_role("heading", name="新增工作人员")).to_be_visible()
    return page


def fill_staff_form(
    page: Page, *, username: str, full_name: str, role: str, department: str = ""
) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("姓名").fill(full_name)
    page.get_by_label("手机号码").fill("13907370001")
    page.get_by_label("初始密码").fill(NEW_PASSWORD)
    page.get_by_label("角色").select_option(label=role)
    page.get_by_label("区划范围").select_option(label="430981 沅江市")
    page.get_by_label("部门").select_option(label=department or "---------")


def field(page: Page, label: str) -> Locator:
    """The block of one form field: its label, its input and the errors shown under it."""
    return page.locator(".field", has=page.get_by_label(label))


def submit(page: Page) -> None:
    page.get_by_role("button", name="创建").click()


def test_duplicate_username_is_refused_and_the_form_keeps_what_was_typed(staff_form: Page) -> None:
    page = staff_form

    # when: 张伟 already signs in as shenpi
    fill_staff_form(
        page, username="shenpi", full_name="张卫", role="审批人员", department="沅江市公安局"
    )
    submit(page)

    # then
    expect(field(page, "用户名").locator(".error")).to_contain_text("已被使用")
    expect(page.locator(".field .error")).to_have_count(1)
    expect(page.get_by_label("用户名")).to_have_value("shenpi")
    expect(page.get_by_label("姓名")).to_have_value("张卫")
    expect(page.get_by_label("手机号码")).to_have_value("13907370001")
    expect(page.get_by_label("角色")).to_have_value("approver")
    expect(page.get_by_label("部门").locator("option:checked")).to_have_text("沅江市公安局")
    expect(page.get_by_role("heading", name="新增工作人员")).to_be_visible()


def test_approver_without_department_is_refused_until_one_is_chosen(staff_form: Page) -> None:
    page = staff_form

    # when
    fill_staff_form(page, username="lisi", full_name="李四", role="审批人员")
    submit(page)

    # then
    expect(field(page, "部门").locator(".error")).to_have_text("该角色必须指定部门。")
    expect(page.get_by_label("用户名")).to_have_value("lisi")
    expect(page.get_by_label("初始密码")).to_have_value("")  # a password is never sent back

    # when: the department is added; nothing of the refused attempt was kept, so the name is free
    page.get_by_label("部门").select_option(label="沅江市公安局")
    page.get_by_label("初始密码").fill(NEW_PASSWORD)
    submit(page)

    # then
    expect(page.get_by_role("status")).to_have_text("已创建工作人员 李四。")


def test_new_approver_is_created_and_can_sign_in(
    staff_form: Page, sign_in: Callable[..., None]
) -> None:
    page = staff_form

    # when
    fill_staff_form(
        page, username="lisi", full_name="李四", role="审批人员", department="沅江市公安局"
    )
    submit(page)

    # then: back on the organisation page, with the new colleague listed
    expect(page.get_by_role("status")).to_have_text("已创建工作人员 李四。")
    expect(page.get_by_test_id("role-home")).to_have_attribute("data-page", "org")
    row = page.get_by_role("row").filter(has_text="lisi")
    expect(row).to_contain_text("李四")
    expect(row).to_contain_text("审批人员（沅江市公安局）")

    # when
    page.get_by_role("button", name="退出").click()
    sign_in("lisi", NEW_PASSWORD)

    # then
    expect(page.get_by_test_id("role-home")).to_have_attribute("data-page", "inbox")
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation.get_by_role("link", name="审批待办")).to_have_attribute(
        "aria-current", "page"
    )
    expect(navigation.get_by_role("link", name="组织机构")).to_have_count(0)
    expect(page.get_by_test_id("current-user")).to_have_text("李四")
    expect(page.get_by_text("审批人员 · 沅江市 · 沅江市公安局")).to_be_visible()
