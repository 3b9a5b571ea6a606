"""Applying online, on a phone: sign in with an SMS code, fill the form generated from the item's
schema, correct a field, upload a PDF, save a draft, resume it, submit, answer the one supplement
notice, and follow the case on the public tracking page without signing in.

The staff side (supplement request, acceptance, steps, decision) runs through the services here:
its pages are tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tongban.cases import services
from tongban.cases.models import Case
from tongban.cases.tests.factories import make_world
from tongban.cases.workflow import StepStatus

from .test_portal import ask_for_code, enter_code

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n% a scanned application form\n"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_world()


@pytest.fixture
def scan(tmp_path: Path) -> Callable[[str], Path]:
    def make(name: str) -> Path:
        path = tmp_path / name
        path.write_bytes(PDF)
        return path

    return make


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def field_of(page: Page, label: str):
    return page.locator(".field", has=page.get_by_label(label))


def pass_every_step(world, case: Case) -> None:
    """The back office: every active step is passed (or decided) by its department."""
    while True:
        active = list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))
        if not active:
            return
        for step in active:
            if step.kind == "decision":
                services.step_decide(actor=world.head, step=step, approve=True, reason="符合条件")
            else:
                approver = (
                    world.other_approver if step.department_id == world.other.pk else world.approver
                )
                services.step_pass(actor=approver, step=step, opinion="同意")


def test_citizen_applies_online_supplements_once_and_tracks_the_case(
    new_page, world, sms_outbox, scan
) -> None:
    page = new_page(viewport=PHONE)

    # given: signed in on the portal with the code the SMS brought
    enter_code(page, ask_for_code(page, sms_outbox))
    expect(page.get_by_role("heading", name="我的办事", exact=True)).to_be_visible()

    # when: the applicant applies and mistypes the mobile number
    page.goto(f"/apply/{world.item.item.local_code}/")
    expect(page.get_by_role("combobox", name="申请人")).to_contain_text("王五")
    page.get_by_label("姓名").fill("王五")
    page.get_by_label("联系电话").fill("1380013")
    page.get_by_role("button", name="提交申请").click()

    # then: the error sits next to the field, and what was typed is still there
    expect(field_of(page, "联系电话").locator(".error")).to_have_text(
        "手机号码应为 11 位数字，以 1 开头。"
    )
    expect(page.get_by_label("姓名")).to_have_value("王五")
    no_sideways_scroll(page)

    # when: corrected, with the application form scanned, saved as a draft
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_label("申请书", exact=True).set_input_files(scan("申请书.pdf"))
    page.get_by_role("button", name="保存草稿").click()

    # then
    expect(page.get_by_role("status")).to_contain_text("草稿已保存")
    expect(field_of(page, "申请书").locator("..")).to_contain_text("申请书.pdf")

    # when: resumed later from 我的办件 and submitted with the second material
    page.goto("/portal/")
    page.get_by_role("link", name="我的办件").click()
    page.get_by_role("link", name="继续填写").click()
    expect(page.get_by_label("联系电话")).to_have_value("13800138000")
    page.get_by_label("场所证明", exact=True).set_input_files(scan("场所证明.pdf"))
    page.get_by_role("button", name="提交申请").click()

    # then: the number and the query code, prominently, and the SMS that carries them
    expect(page.get_by_role("heading", name="申请已提交")).to_be_visible()
    case = Case.objects.get()
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)
    expect(page.get_by_test_id("query-code")).to_have_text(case.query_code)
    assert case.query_code in sms_outbox[-1].text
    no_sideways_scroll(page)

    # when: the department asks, once, for a clearer copy of the premises proof
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[
            {"kind": "material", "key": "premises", "name": "场所证明", "problem": "复印件不清晰"}
        ],
    )
    page.get_by_role("link", name="查看办件").click()

    # then: the notice lists what is wrong; the applicant hands in a new copy
    expect(page.get_by_test_id("status")).to_have_text("待补正")
    expect(page.get_by_test_id("supplement-items")).to_contain_text("场所证明：复印件不清晰")
    page.get_by_label("场所证明", exact=True).set_input_files(scan("场所证明-清晰.pdf"))
    page.get_by_role("button", name="提交补正").click()
    expect(page.get_by_role("status")).to_have_text("补正材料已提交，请等待审查。")
    expect(page.get_by_test_id("status")).to_have_text("待受理")
    expect(page.get_by_test_id("timeline")).to_contain_text(
        "要求补正（一次性告知）：场所证明：复印件不清晰"
    )

    # when: accepted, worked by both departments in parallel and decided
    services.case_accept(actor=world.clerk, case=case)
    page.reload()
    expect(page.get_by_test_id("holders")).to_contain_text("市场监督管理局")
    case.refresh_from_db()
    pass_every_step(world, case)

    # then: anyone holding the number and the query code sees the result, without signing in
    stranger = new_page(viewport=PHONE)
    stranger.goto(f"/track/?number={case.number}&code={case.query_code}")
    expect(stranger.get_by_test_id("status")).to_have_text("已办结")
    timeline = stranger.get_by_test_id("timeline")
    expect(timeline).to_contain_text("已受理，承诺办结期限")
    expect(timeline).to_contain_text("消防救援大队已完成“部门意见”")
    expect(timeline).to_contain_text("已办结（准予）")
    expect(stranger.get_by_test_id("track-result")).to_contain_text("王*")
    expect(stranger.get_by_test_id("track-result")).not_to_contain_text("王五")
    expect(stranger.get_by_test_id("current-user")).to_have_count(0)
    no_sideways_scroll(stranger)

    # and a mistyped code says only that it is wrong
    stranger.goto(f"/track/?number={case.number}&code=WRONG234")
    expect(stranger.get_by_test_id("track-error")).to_have_text("办件编号或查询码不正确")
    assert re.fullmatch(r"[0-9A-Z]{8}", case.query_code)


@pytest.fixture
def opening_a_company(demo_org, settings, tmp_path):
    from tongban.catalog.demo import load_demo_catalogue

    settings.MEDIA_ROOT = tmp_path
    load_demo_catalogue()
    return "430981-YJS-001"


def test_a_new_citizen_applies_for_opening_a_company_in_one_go(
    new_page, opening_a_company, sms_outbox, scan
) -> None:
    page = new_page(viewport=PHONE)
    enter_code(page, ask_for_code(page, sms_outbox, mobile="13900139000"))

    # given: a first-time user, who has no applicant yet, opens the bundle's apply page
    page.goto(f"/apply/bundle/{opening_a_company}/")
    expect(page.get_by_role("heading", name="先登记申请人")).to_be_visible()
    page.get_by_label("姓名或单位名称").fill("赵六")
    page.get_by_label("身份证号码").fill("11010519491231002X")
    page.get_by_role("button", name="保存申请人").click()
    expect(page.get_by_role("status")).to_contain_text("申请人信息已保存")

    # when: one form and one set of materials for the four items
    answers = {
        "企业名称": "沅江市通办科技有限公司",
        "法定代表人（负责人）": "赵六",
        "申请人身份证号码": "11010519491231002X",
        "联系电话": "13900139000",
        "注册资本（万元）": "100",
        "住所": "沅江市琼湖街道",
        "经营范围": "软件开发",
        "参保职工人数": "5",
    }
    for label, value in answers.items():
        page.get_by_role("textbox", name=label).fill(value)
    page.get_by_label("企业类型").select_option("有限责任公司")
    page.get_by_label("刻制印章种类").select_option("法定名称章")
    page.get_by_label("发票种类").select_option("数电发票（普通发票）")
    expect(page.locator("[data-material=id-card]")).to_contain_text("免提交：由电子证照库调取")
    for material in ("公司登记（备案）申请书", "公司章程", "住所（经营场所）使用证明"):
        page.get_by_label(material, exact=True).set_input_files(scan(f"{material}.pdf"))
    no_sideways_scroll(page)
    page.get_by_role("button", name="提交申请").click()

    # then: one case number for the whole 一件事
    expect(page.get_by_role("heading", name="申请已提交")).to_be_visible()
    parent = Case.objects.get(parent__isnull=True)
    expect(page.get_by_test_id("case-number")).to_have_text(parent.number)

    # when: the window accepts it; the items that need nothing start at once
    services.case_accept(actor=demo_clerk(), case=parent)
    page.get_by_role("link", name="查看办件").click()

    # then: one case, each item's status, one timeline
    expect(page.get_by_test_id("status")).to_have_text("办理中")
    parts = page.get_by_test_id("parts")
    expect(parts.get_by_role("listitem")).to_have_count(4)
    expect(parts.get_by_role("listitem").filter(has_text="公司设立登记")).to_contain_text("办理中")
    expect(parts.get_by_role("listitem").filter(has_text="公章刻制备案")).to_contain_text(
        "待前置事项"
    )
    expect(page.get_by_test_id("timeline").get_by_text("提交申请")).to_have_count(1)
    no_sideways_scroll(page)


def demo_clerk():
    from tongban.org.models import User

    return User.objects.get(username="chuangkou")
