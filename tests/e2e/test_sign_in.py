"""Staff sign in, land on their role's home page, are kept out of what is not theirs, and sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tongban.org import demo
from tongban.org.models import Department

# username, full name, the home page's data-page, the Chinese label of that page in the navigation
DEMO_STAFF_HOMES = [
    ("admin", "系统管理员", "org", "组织机构"),
    ("chuangkou", "王丽", "workbench", "窗口工作台"),
    ("xiangzhen", "李强", "workbench", "窗口工作台"),
    ("shenpi", "张伟", "inbox", "审批待办"),
    ("fuzeren", "刘洋", "inbox", "审批待办"),
    ("gongan", "陈静", "inbox", "审批待办"),
    ("jiancha", "赵敏", "supervision", "电子监察"),
    ("shixiang", "周杰", "catalogue", "事项管理"),
    ("zuoxi", "吴芳", "hotline_desk", "12345坐席"),
    ("chengban", "孙磊", "hotline_handling", "工单承办"),
]


def expect_sign_in_page(page: Page) -> None:
    expect(page).to_have_title(re.compile("登录"))
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    expect(page.get_by_label("用户名")).to_be_visible()


def test_root_url_shows_the_chinese_sign_in_page(page: Page) -> None:
    # when
    page.goto("/")

    # then
    expect_sign_in_page(page)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_label("密码")).to_have_attribute("type", "password")
    expect(page.get_by_role("link", name="手机验证码登录")).to_be_visible()


@pytest.mark.parametrize(
    ("username", "full_name", "home", "nav_label"),
    DEMO_STAFF_HOMES,
    ids=[row[0] for row in DEMO_STAFF_HOMES],
)
def test_each_demo_role_lands_on_its_home_page_and_signs_out(
    page: Page, demo_org, sign_in, username, full_name, home, nav_label
) -> None:
    # when
    sign_in(username)

    # then: the role's own page, named in the navigation and marked as the current one
    expect(page.get_by_test_id("role-home")).to_have_attribute("data-page", home)
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation.get_by_role("link", name=nav_label)).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("current-user")).to_have_text(full_name)

    # when
    page.get_by_role("button", name="退出").click()

    # then
    expect_sign_in_page(page)
    expect(page.get_by_role("status")).to_have_text("您已安全退出。")
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_wrong_password_is_refused_in_chinese_and_keeps_the_username(
    page: Page, demo_org, sign_in
) -> None:
    # when
    sign_in("shenpi", "not-the-password")

    # then
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("shenpi")
    expect(page.get_by_label("密码")).to_have_value("")
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(
    page: Page, demo_org, sign_in
) -> None:
    # given: four failures leave the account open, saying no more than for an unknown name
    for _ in range(4):
        sign_in("shenpi", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")

    # when
    sign_in("shenpi", "not-the-password")

    # then
    expect(page.get_by_role("alert")).to_contain_text("已锁定")

    # when
    sign_in("shenpi", demo.DEMO_PASSWORD)

    # then
    expect(page.get_by_role("alert")).to_contain_text("已锁定")
    expect_sign_in_page(page)
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_approver_sees_his_own_department_but_not_another(page: Page, demo_org, sign_in) -> None:
    # given: 张伟 approves for 市场监管局
    own = Department.objects.get(short_name="市场监管局")
    other = Department.objects.get(short_name="公安局")
    sign_in("shenpi")

    # when
    response = page.goto(f"/org/departments/{own.pk}/")

    # then
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("沅江市市场监督管理局")

    # when
    response = page.goto(f"/org/departments/{other.pk}/")

    # then: as if it did not exist, with nothing of it shown
    assert response is not None and response.status == 404
    expect(page).to_have_title(re.compile("页面不存在"))
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    expect(page.get_by_text("沅江市公安局")).to_have_count(0)


def test_role_without_access_gets_the_chinese_403_page(page: Page, demo_org, sign_in) -> None:
    # given
    sign_in("shenpi")

    # when
    response = page.goto("/supervision/")

    # then
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    expect(page.get_by_test_id("role-home")).to_have_count(0)
    expect(page.get_by_role("link", name="返回首页")).to_be_visible()


def test_sign_in_page_fits_a_phone_screen(new_page) -> None:
    # given
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)

    # when
    phone.goto("/")

    # then: laid out at the phone's width, with nothing to scroll sideways
    expect_sign_in_page(phone)
    width = phone.evaluate("window.innerWidth")
    scroll_width = phone.evaluate("document.documentElement.scrollWidth")
    assert width == 390
    assert scroll_width <= width
    expect(phone.get_by_role("button", name="登录", exact=True)).to_be_in_viewport()
