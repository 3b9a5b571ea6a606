"""A case at the window, by hand, from the applicant standing at the counter to the result handed
over: one supplement notice, acceptance, review, two departments in parallel, a special procedure,
an extension, the head's decision, delivery, and the public tracking page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tongban.cases.models import Case
from tongban.cases.tests.factories import make_world
from tongban.cases.workflow import CaseStatus
from tongban.org.tests.factories import TEST_PASSWORD, valid_id_number

NEW_APPLICANT_ID = valid_id_number(4242)


@pytest.fixture
def world(transactional_db: None):
    return make_world()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()


def expect_status(page: Page, text: str) -> None:
    expect(page.get_by_test_id("case-status")).to_have_text(text)


def open_case_from_inbox(page: Page, number: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审批待办").click()
    page.get_by_test_id("inbox-steps").get_by_role("link", name=number).first.click()
    expect(page.get_by_test_id("case-number")).to_have_text(number)


def pass_step(page: Page, step: str, opinion: str) -> None:
    actions = page.locator(f'[data-step-actions="{step}"]')
    actions.locator('[data-action="pass"]').get_by_label("办理意见").fill(opinion)
    actions.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(f"环节“{step}”已通过。")


def test_a_case_at_the_window_from_counter_to_delivery(
    page: Page, new_page: Callable[..., Page], sign_in, world
) -> None:
    # given: the clerk at the counter
    sign_in(world.clerk.username, TEST_PASSWORD)
    expect(page.get_by_test_id("role-home")).to_have_attribute("data-page", "workbench")

    # when: the clerk finds the item and starts a case for someone never seen before
    page.get_by_role("link", name="新建办件").click()
    page.get_by_label("事项名称").fill(world.item.name)
    page.get_by_role("button", name="搜索").click()
    page.get_by_test_id("item-list").get_by_role("link", name=world.item.name).click()
    page.get_by_label("身份证号码或统一社会信用代码").fill(NEW_APPLICANT_ID)
    page.get_by_label("姓名或单位名称（新申请人填写）").fill("赵六")
    page.get_by_label("手机号码（新申请人填写）").fill("13900139000")
    page.get_by_label(re.compile(r"^姓名\*?$")).fill("赵六")
    page.get_by_label("联系电话").fill("13900139000")
    page.get_by_role("button", name="创建办件并核验材料").click()

    # then: the answer screen, with the materials to check
    expect(page.get_by_role("heading", name="材料核验")).to_be_visible()
    case = Case.objects.get(applicant__id_number=NEW_APPLICANT_ID)
    number = case.number

    # when: the premises certificate is missing: one notice lists it
    page.locator('[data-material="申请书"]').get_by_label("已收取核验").check()
    page.get_by_label("“场所证明”的问题").fill("缺少场所证明，请提供租赁合同")
    page.get_by_role("button", name="出具一次性补正告知").click()

    # then
    expect(page.get_by_role("status")).to_have_text("已出具一次性补正告知。")
    expect_status(page, "待补正")
    expect(page.get_by_test_id("supplement-count")).to_have_text("1")
    expect(page.locator("#timeline")).to_contain_text(
        "发出第1次补正告知（一次性告知）：场所证明：缺少场所证明，请提供租赁合同"
    )

    # when: the applicant comes back with it; the clerk takes it and accepts
    page.get_by_role("button", name="收取补正材料").click()
    expect(page.get_by_role("heading", name="材料核验")).to_be_visible()
    for material in ("申请书", "场所证明"):
        page.locator(f'[data-material="{material}"]').get_by_label("已收取核验").check()
    page.get_by_role("button", name="受理", exact=True).click()

    # then: accepted, two visits so far, the review step with its department
    expect(page.get_by_role("status")).to_have_text("已受理。")
    expect_status(page, "办理中")
    expect(page.get_by_test_id("visits")).to_have_text("2")
    expect(page.locator('[data-step="审查"]')).to_have_attribute("data-status", "active")
    expect(page.get_by_test_id("notices-link")).to_be_visible()
    sign_out(page)

    # when: the approver reviews, then works the main department's parallel step
    sign_in(world.approver.username, TEST_PASSWORD)
    open_case_from_inbox(page, number)
    pass_step(page, "审查", "材料齐全，符合法定形式")
    expect(page.locator('[data-step="现场核查"]')).to_have_attribute("data-status", "active")
    expect(page.locator('[data-step="部门意见"]')).to_have_attribute("data-status", "active")
    pass_step(page, "现场核查", "现场符合要求")
    sign_out(page)

    # when: the other department passes its parallel step
    sign_in(world.other_approver.username, TEST_PASSWORD)
    open_case_from_inbox(page, number)
    expect(page.locator('[data-step-actions="现场核查"]')).to_have_count(0)
    pass_step(page, "部门意见", "消防意见：同意")
    expect(page.locator('[data-step="决定"]')).to_have_attribute("data-status", "active")
    sign_out(page)

    # when: the approver starts a hearing, ends it, and asks for an extension
    sign_in(world.approver.username, TEST_PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_text("启动特别程序（暂停计时）").click()
    suspend = page.locator('[data-action="suspend"]')
    suspend.get_by_label(re.compile(r"^特别程序\*?$")).select_option(label="听证")
    suspend.get_by_label("事由").fill("申请人要求听证")
    suspend.get_by_label("预计时长（工作日）").fill("5")
    suspend.get_by_role("button", name="启动特别程序").click()
    expect_status(page, "特别程序中")
    expect(page.get_by_test_id("promised-due")).to_have_text("特别程序中，暂停计时")
    page.get_by_role("button", name="结束特别程序，恢复计时").click()
    expect_status(page, "办理中")
    expect(page.locator("#timeline")).to_contain_text("特别程序结束，恢复计时")
    page.get_by_text("申请延期", exact=True).click()
    extension = page.locator('[data-action="extension"]')
    extension.get_by_label("延长天数（工作日）").fill("10")
    extension.get_by_label("延期理由").fill("听证后需补充核查")
    extension.get_by_role("button", name="提交延期申请").click()
    expect(page.get_by_role("status")).to_have_text("延期申请已提交，待部门负责人审批。")
    legal_before = page.get_by_test_id("legal-due").inner_text()
    sign_out(page)

    # when: the head grants the extension from the inbox and approves at the decision step
    sign_in(world.head.username, TEST_PASSWORD)
    requests = page.get_by_test_id("extension-requests")
    expect(requests).to_contain_text("申请延期 10 个工作日")
    requests.get_by_role("link").first.click()
    page.get_by_role("button", name="批准延期").click()
    expect(page.get_by_role("status")).to_have_text("已批准延期。")
    expect(page.get_by_test_id("legal-due")).not_to_have_text(legal_before)
    decide = page.locator('[data-action="decide"]')
    decide.get_by_label("结果文号").fill("沅许〔2026〕8号")
    decide.get_by_role("button", name="准予").click()
    expect(page.get_by_role("status")).to_have_text("已作出准予决定。")
    expect_status(page, "已办结")
    sign_out(page)

    # when: the clerk hands the result over at the window
    sign_in(world.clerk.username, TEST_PASSWORD)
    page.get_by_test_id("to-deliver").get_by_role("link", name=number).click()
    deliver = page.locator('[data-action="deliver"]')
    deliver.get_by_label("送达方式").select_option(label="窗口领取")
    deliver.get_by_role("button", name="确认送达").click()

    # then: delivered; the applicant came four times (apply, supplement, the hearing, pickup)
    expect(page.get_by_role("status")).to_have_text("办理结果已送达。")
    expect_status(page, "已送达")
    expect(page.get_by_test_id("visits")).to_have_text("4")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.extended_days == 10

    # then: the notices of the case are listed for staff
    page.get_by_test_id("notices-link").click()
    expect(page.get_by_text("受理通知书").first).to_be_visible()
    expect(page.get_by_text("补正材料通知书").first).to_be_visible()

    # then: anyone with the number and query code can follow it without signing in
    public = new_page()
    public.goto(f"/track/?number={number}&code={case.query_code}")
    expect(public.get_by_text(number).first).to_be_visible()
    expect(public.get_by_text("已送达").first).to_be_visible()

    # then: the case page fits a phone without sideways scrolling
    phone = new_page(viewport={"width": 390, "height": 844})
    phone.goto("/")
    phone.get_by_label("用户名").fill(world.clerk.username)
    phone.get_by_label("密码").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="登录", exact=True).click()
    phone.goto(f"/cases/{case.pk}/")
    expect(phone.get_by_test_id("case-status")).to_have_text("已送达")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_open_a_business_at_the_window_as_one_case(page: Page, sign_in, demo_org) -> None:
    from tongban.catalog.demo import load_demo_catalogue
    from tongban.catalog.models import Bundle
    from tongban.catalog.selectors import bundle_merged_form
    from tongban.org.tests.factories import valid_credit_code

    # given: the demo county's catalogue and its 开办企业一件事
    load_demo_catalogue()
    bundle = Bundle.objects.get(code="430981-YJS-001")
    sign_in("chuangkou")

    # when: the clerk starts the bundle for a founder and fills its one form
    page.get_by_role("link", name="新建办件").click()
    page.get_by_label("事项名称").fill("开办企业")
    page.get_by_role("button", name="搜索").click()
    page.get_by_test_id("bundle-list").get_by_role("link", name="开办企业一件事").click()
    page.get_by_label("身份证号码或统一社会信用代码").fill(valid_id_number(515))
    page.get_by_label("姓名或单位名称（新申请人填写）").fill("钱七")
    page.get_by_label("手机号码（新申请人填写）").fill("13700137000")
    for spec in bundle_merged_form(bundle=bundle):
        field = page.locator(f"#id_form-{spec.key}")
        if spec.field_type == "choice":
            field.select_option(index=1)
        else:
            field.fill(
                {
                    "number": "100",
                    "date": "2026-01-05",
                    "id_number": valid_id_number(515),
                    "mobile": "13700137000",
                }.get(spec.field_type, "沅江钱七商贸有限公司")
            )
    page.get_by_role("button", name="创建办件并核验材料").click()
    page.get_by_role("button", name="受理", exact=True).click()

    # then: one case with four parts; only the business licence has started
    expect_status(page, "办理中")
    children = page.locator("#children")
    expect(children.locator('[data-child="公司设立登记"]')).to_contain_text("办理中")
    for title in ("公章刻制备案", "发票领用", "社会保险登记（单位参保）"):
        expect(children.locator(f'[data-child="{title}"]')).to_contain_text("待前置事项")
    parent_url = page.url
    sign_out(page)

    # when: 市场监管局 grants the licence and enters its credit code
    code = valid_credit_code(515)
    sign_in("shenpi")
    page.get_by_test_id("inbox-steps").get_by_role("link").first.click()
    actions = page.locator('[data-step-actions="审查决定"]')
    actions.get_by_label("办理意见").fill("准予设立登记")
    actions.get_by_label("统一社会信用代码（供").fill(code)
    actions.get_by_role("button", name="通过", exact=True).click()
    expect_status(page, "已办结")
    sign_out(page)

    # then: the three dependent items start, carrying the credit code
    sign_in("chuangkou")
    page.goto(parent_url)
    for title in ("公章刻制备案", "发票领用", "社会保险登记（单位参保）"):
        expect(children.locator(f'[data-child="{title}"]')).to_contain_text("办理中")
    expect(page.locator("#timeline")).to_contain_text(f"填入“统一社会信用代码”：{code}")
    children.get_by_role("link", name="公章刻制备案").click()
    expect(page.locator("#timeline")).to_contain_text(f"填入“统一社会信用代码”：{code}")
