"""The staff case pages through the Django client: the window, the answer, every action on the case
page, who sees what, and what a person sees when something goes wrong."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tongban.cases import selectors, services
from tongban.cases.models import Case, CaseMaterial, MaterialStatus, Step, SupplementRequest
from tongban.cases.workflow import CaseStatus, StepStatus
from tongban.core import now as core_now
from tongban.org.models import Applicant
from tongban.org.tests.factories import valid_id_number

from .factories import FORM, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def window_case(world) -> Case:
    return services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )


def accepted_case(world) -> Case:
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    return case


def active(case):
    return list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))


def text_of(response) -> str:
    return response.content.decode()


def error_for(response, field: str) -> list[str]:
    pattern = rf'<p class="error" data-field="{field}">([^<]*)</p>'
    return re.findall(pattern, text_of(response))


# --- the window ------------------------------------------------------------------------------


def test_clerk_finds_items_of_the_hall_by_name(world):
    clerk = client_for(world.clerk)

    page = clerk.get("/cases/new/", {"q": world.item.name[:2]})
    none = clerk.get("/cases/new/", {"q": "没有这个事项"})

    assert page.status_code == 200
    assert f'href="?version={world.item.pk}"' in text_of(page)
    assert f'href="?version={world.item.pk}"' not in text_of(none)
    assert "没有符合条件的事项" in text_of(none)


def test_only_clerks_open_the_window(world):
    assert client_for(world.approver).get("/cases/new/").status_code == 403


def new_case_post(world, **applicant):
    data = {
        "applicant-kind": "natural",
        "applicant-identifier": valid_id_number(777),
        "applicant-name": "赵六",
        "applicant-mobile": "13900139000",
        "form-name": "赵六",
        "form-mobile": "13900139000",
    }
    data.update({f"applicant-{k}": v for k, v in applicant.items()})
    return client_for(world.clerk).post(f"/cases/new/?version={world.item.pk}", data)


def test_clerk_registers_a_new_applicant_and_starts_the_case(world):
    response = new_case_post(world)

    case = Case.objects.get()
    assert response.status_code == 302
    assert response.url == f"/cases/{case.pk}/answer/"
    assert case.applicant.name == "赵六"
    assert case.applicant.id_number == valid_id_number(777)
    assert case.applicant.mobile == "13900139000"
    assert case.hall == world.hall and case.channel == "window"
    assert case.status == CaseStatus.SUBMITTED and case.visits == 1


def test_a_known_applicant_is_found_by_id_number_in_any_form(world):
    # given: the number typed with spaces and a lower-case check character
    typed = " ".join([world.applicant.id_number[:6], world.applicant.id_number[6:].lower()])

    response = new_case_post(world, identifier=typed, name="")

    assert response.status_code == 302
    assert Case.objects.get().applicant == world.applicant
    assert Applicant.objects.count() == 1


def test_a_wrong_id_number_is_named_and_what_was_typed_stays(world):
    response = new_case_post(world, identifier="430981199503152022")

    assert response.status_code == 400
    assert error_for(response, "identifier") == ["身份证号码校验位不正确，请核对。"]
    assert 'value="430981199503152022"' in text_of(response)
    assert 'value="赵六"' in text_of(response)
    assert not Case.objects.exists()


def test_an_unknown_applicant_needs_a_name_to_be_registered(world):
    response = new_case_post(world, name="")

    assert response.status_code == 400
    assert error_for(response, "name") == ["未找到该申请人，请填写姓名或单位名称以登记。"]
    assert not Case.objects.exists() and Applicant.objects.count() == 1


def test_the_item_form_is_checked_like_everywhere_else(world):
    response = client_for(world.clerk).post(
        f"/cases/new/?version={world.item.pk}",
        {
            "applicant-kind": "natural",
            "applicant-identifier": world.applicant.id_number,
            "form-name": "王五",
            "form-mobile": "12345",
        },
    )

    assert response.status_code == 400
    assert error_for(response, "mobile") == ["手机号码应为 11 位数字，以 1 开头。"]
    assert not Case.objects.exists()


# --- the one answer ----------------------------------------------------------------------------


def answer(world, case, answer, user=None, client=None, **data):
    client = client or client_for(user or world.clerk)
    return client.post(f"/cases/{case.pk}/answer/", {"answer": answer, **data})


def material(case, material_type) -> CaseMaterial:
    return case.materials.get(material_type=material_type)


def test_accept_with_the_ticked_checklist(world):
    case = window_case(world)
    application = material(case, "application")

    clerk = client_for(world.clerk)

    response = answer(world, case, "accept", client=clerk, checklist=[application.pk])

    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    application.refresh_from_db()
    assert application.status == MaterialStatus.PROVIDED and application.checked
    page = text_of(clerk.get(response.url))
    assert "已受理。" in page
    assert 'data-step="审查" data-status="active"' in page


def test_one_supplement_notice_lists_every_material_and_field_at_once(world):
    case = window_case(world)
    premises = material(case, "premises")

    response = answer(
        world,
        case,
        "supplement",
        **{f"problem_m{premises.pk}": "缺少场所证明", "problem_fname": "姓名与身份证不一致"},
    )

    assert response.status_code == 302
    [notice] = SupplementRequest.objects.filter(case=case)
    assert [(i["name"], i["problem"]) for i in notice.items] == [
        ("场所证明", "缺少场所证明"),
        ("姓名", "姓名与身份证不一致"),
    ]
    page = text_of(client_for(world.clerk).get(f"/cases/{case.pk}/"))
    assert (
        "发出第1次补正告知（一次性告知）：场所证明：缺少场所证明；姓名：姓名与身份证不一致" in page
    )
    assert "申请人到窗口补正" in page


def test_a_supplement_with_nothing_listed_is_refused(world):
    case = window_case(world)

    response = answer(world, case, "supplement")

    assert response.status_code == 400
    assert "请至少列出一项需要补正的材料或内容。" in text_of(response)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_the_applicant_returns_to_the_window_with_the_supplement(world):
    case = window_case(world)
    services.case_request_supplement(
        actor=world.clerk, case=case, items=[{"kind": "field", "key": "name", "problem": "有误"}]
    )

    response = client_for(world.clerk).post(
        f"/cases/{case.pk}/supplement/",
        {"supplement-name": "王五五", "supplement-mobile": "13800138000"},
    )

    assert response.status_code == 302 and response.url == f"/cases/{case.pk}/answer/"
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.visits == 2
    assert case.form_data["name"] == "王五五"


def test_a_problem_named_in_a_supplement_notice_leaves_the_material_once_it_is_accepted(world):
    case = window_case(world)
    premises = material(case, "premises")
    answer(world, case, "supplement", **{f"problem_m{premises.pk}": "缺少场所证明"})
    materials_while_owed = re.search(
        r'<section class="card" id="materials">.*?</section>',
        text_of(client_for(world.clerk).get(f"/cases/{case.pk}/")),
        re.S,
    )
    assert materials_while_owed is not None and "缺少场所证明" in materials_while_owed.group(0)

    services.case_supplement_submit(actor=world.clerk, case=case)
    answer(world, case, "accept", checklist=[m.pk for m in case.materials.all()])

    page = text_of(client_for(world.clerk).get(f"/cases/{case.pk}/"))
    materials = re.search(r'<section class="card" id="materials">.*?</section>', page, re.S)
    assert materials is not None and "缺少场所证明" not in materials.group(0)
    supplements = re.search(r'<section class="card" id="supplements">.*?</section>', page, re.S)
    assert supplements is not None and "缺少场所证明" in supplements.group(0)


def test_tolerated_acceptance_needs_a_date_and_changes_nothing_without_it(world):
    case = window_case(world)
    premises = material(case, "premises")

    response = answer(world, case, "tolerate", tolerated=[premises.pk])

    assert response.status_code == 400
    assert error_for(response, "owed_by") == ["请填写容缺材料的补齐日期。"]
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert material(case, "premises").status == MaterialStatus.PENDING

    owed = timezone.localdate() + dt.timedelta(days=10)
    response = answer(world, case, "tolerate", tolerated=[premises.pk], owed_by=owed.isoformat())

    assert response.status_code == 302
    premises.refresh_from_db()
    assert premises.status == MaterialStatus.TOLERATED and premises.owed_by == owed


def test_commitment_records_the_text_and_decides(world):
    case = window_case(world)

    blank = answer(world, case, "commit")
    done = answer(world, case, "commit", commitment_text="本人承诺符合条件")

    assert blank.status_code == 400
    assert error_for(blank, "commitment_text") == ["请记录申请人签署的承诺内容。"]
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED and case.commitment_text == "本人承诺符合条件"


def test_refusal_needs_reason_and_basis(world):
    case = window_case(world)

    blank = answer(world, case, "refuse", reason="不属于本机关职权范围")
    done = answer(
        world, case, "refuse", reason="不属于本机关职权范围", basis="行政许可法第三十二条"
    )

    assert blank.status_code == 400
    assert error_for(blank, "basis") == ["请填写不予受理的法律依据。"]
    assert "不属于本机关职权范围</textarea>" in text_of(blank)
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REFUSED


def test_the_second_answer_is_a_conflict_with_a_way_to_reload(world):
    case = accepted_case(world)

    response = answer(world, case, "refuse", reason="x", basis="y")

    assert response.status_code == 409
    assert f"办件 {case.number} 当前为“办理中”，不能不予受理。" in text_of(response)
    assert f'href="/cases/{case.pk}/"' in text_of(response)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_who_may_answer(world):
    case = window_case(world)

    supervisor = answer(world, case, "accept", user=world.supervisor)
    stranger = answer(world, case, "accept", user=world.stranger)

    assert supervisor.status_code == 403
    assert "您无权受理该办件。" in text_of(supervisor)
    assert stranger.status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


# --- the case page: who sees it, and which buttons -------------------------------------------


def test_case_page_permission_matrix(world):
    case = accepted_case(world)
    url = f"/cases/{case.pk}/"

    pages = {
        name: client_for(getattr(world, name)).get(url)
        for name in ("clerk", "approver", "other_approver", "head", "supervisor", "stranger")
    }

    assert {n: r.status_code for n, r in pages.items()} == {
        "clerk": 200,
        "approver": 200,
        "other_approver": 200,  # its department holds the parallel step
        "head": 200,
        "supervisor": 200,
        "stranger": 404,
    }
    assert f'action="/cases/{case.pk}/steps/' in text_of(pages["approver"])
    assert "data-action" not in text_of(pages["supervisor"])
    assert 'id="actions"' not in text_of(pages["supervisor"])
    # The parallel department sees the case but cannot work the review step.
    assert 'data-action="pass"' not in text_of(pages["other_approver"])


def test_case_page_header_and_steps(world):
    case = accepted_case(world)

    page = text_of(client_for(world.clerk).get(f"/cases/{case.pk}/"))

    assert case.number in page
    assert "王五（138****8000）" in page and "13800138000" not in page
    assert "窗口受理" in page
    assert timezone.localtime(case.promised_due).strftime("%Y年%m月%d日") in page
    assert 'data-card="green"' in page
    assert page.count("并联") == 2  # both steps of the parallel stage are marked
    assert '<dd data-testid="visits">1</dd>' in page


@pytest.mark.parametrize(
    ("after_due", "shown", "tag"),
    [(False, "按时办结", "on_time"), (True, "超期办结", "late")],
)
def test_a_decided_case_shows_whether_it_was_in_time_not_a_card(world, after_due, shown, tag):
    case = accepted_case(world)
    due = case.promised_due
    done = due + dt.timedelta(hours=2) if after_due else due - dt.timedelta(hours=2)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.DELIVERED, completed_at=done)

    with core_now.frozen(due + dt.timedelta(days=30)):  # long past the due date
        page = text_of(client_for(world.clerk).get(f"/cases/{case.pk}/"))

    promised = re.search(r'<dd data-testid="promised-due">(.*?)</dd>', page, re.S)
    assert promised is not None
    assert shown in promised.group(1) and f'data-timeliness="{tag}"' in promised.group(1)
    assert "data-card" not in promised.group(1)
    legal = re.search(r'<dd data-testid="legal-due">(.*?)</dd>', page, re.S)
    assert legal is not None and "data-card" not in legal.group(1)


def test_timeline_reads_as_sentences(world):
    case = accepted_case(world)

    page = text_of(client_for(world.clerk).get(f"/cases/{case.pk}/"))
    timeline = page[page.index('id="timeline"') :]

    assert "创建办件（窗口受理）" in timeline
    assert "已受理，承诺办结期限" in timeline
    assert "环节开始：审查（市场监督管理局，期限" in timeline
    assert "{" not in timeline and "case." not in timeline


# --- step actions ----------------------------------------------------------------------------


def test_pass_a_step(world):
    case = accepted_case(world)
    [review] = active(case)

    response = client_for(world.approver).post(
        f"/cases/{case.pk}/steps/{review.pk}/pass/", {f"s{review.pk}-pass-opinion": "材料齐全"}
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == StepStatus.PASSED and review.opinion == "材料齐全"
    assert [s.name for s in active(case)] == ["现场核查", "部门意见"]


def test_pass_without_opinion_is_a_field_error(world):
    case = accepted_case(world)
    [review] = active(case)

    response = client_for(world.approver).post(
        f"/cases/{case.pk}/steps/{review.pk}/pass/", {f"s{review.pk}-pass-opinion": " "}
    )

    assert response.status_code == 400
    assert error_for(response, "opinion")
    review.refresh_from_db()
    assert review.status == StepStatus.ACTIVE


def test_a_step_of_another_department_is_forbidden_and_a_stranger_gets_404(world):
    case = accepted_case(world)
    [review] = active(case)
    url = f"/cases/{case.pk}/steps/{review.pk}/pass/"
    data = {f"s{review.pk}-pass-opinion": "同意"}

    other = client_for(world.other_approver).post(url, data)
    stranger = client_for(world.stranger).post(url, data)

    assert other.status_code == 403 and "您无权办理该环节。" in text_of(other)
    assert stranger.status_code == 404
    review.refresh_from_db()
    assert review.status == StepStatus.ACTIVE


def test_a_step_passed_by_someone_else_first_is_a_conflict(world):
    case = accepted_case(world)
    [review] = active(case)
    services.step_pass(actor=world.head, step=review, opinion="同意")

    response = client_for(world.approver).post(
        f"/cases/{case.pk}/steps/{review.pk}/pass/", {f"s{review.pk}-pass-opinion": "同意"}
    )

    assert response.status_code == 409
    assert "环节“审查”当前为“已通过”，不能通过。" in text_of(response)


def test_return_to_an_earlier_step(world):
    case = accepted_case(world)
    [review] = active(case)
    services.step_pass(actor=world.approver, step=review, opinion="通过")
    _site, other = active(case)

    page = text_of(client_for(world.other_approver).get(f"/cases/{case.pk}/"))
    response = client_for(world.other_approver).post(
        f"/cases/{case.pk}/steps/{other.pk}/return/",
        {f"s{other.pk}-return-to_step": review.pk, f"s{other.pk}-return-reason": "需重新审查"},
    )

    assert "退回到此前的环节" in page
    assert response.status_code == 302
    assert [s.name for s in active(case)] == ["审查"]


def test_propose_denial(world):
    case = accepted_case(world)
    [review] = active(case)

    response = client_for(world.approver).post(
        f"/cases/{case.pk}/steps/{review.pk}/propose-denial/",
        {f"s{review.pk}-deny-reason": "不符合条件"},
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.denial_proposed and review.status == StepStatus.PASSED


def to_decision(world, case):
    for step in active(case):
        services.step_pass(actor=world.approver, step=step, opinion="通过")
    for step in active(case):
        approver = world.other_approver if step.department_id == world.other.pk else world.approver
        services.step_pass(actor=approver, step=step, opinion="通过")
    [decision] = active(case)
    return decision


def test_head_decides_and_an_approver_may_not(world):
    case = accepted_case(world)
    decision = to_decision(world, case)
    url = f"/cases/{case.pk}/steps/{decision.pk}/decide/"

    approver_page = text_of(client_for(world.approver).get(f"/cases/{case.pk}/"))
    by_approver = client_for(world.approver).post(url, {"approve": "1"})
    denied_blank = client_for(world.head).post(url, {"approve": "0"})
    approved = client_for(world.head).post(
        url, {"approve": "1", f"s{decision.pk}-decide-result_number": "沅许〔2026〕1号"}
    )

    assert 'data-action="decide"' not in approver_page
    assert by_approver.status_code == 403
    assert denied_blank.status_code == 400
    assert error_for(denied_blank, "reason") == ["不予许可须写明理由。"]
    assert approved.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED and case.result_number == "沅许〔2026〕1号"


# --- clock: special procedures and extensions ------------------------------------------------


def test_suspend_and_resume(world):
    case = accepted_case(world)
    [review] = active(case)
    approver = client_for(world.approver)
    url = f"/cases/{case.pk}/suspend/"

    too_long = approver.post(
        url, {"suspend-kind": "hearing", "suspend-reason": "听证", "suspend-expected_days": 30}
    )
    started = approver.post(
        url, {"suspend-kind": "hearing", "suspend-reason": "听证", "suspend-expected_days": 10}
    )
    blocked = approver.post(
        f"/cases/{case.pk}/steps/{review.pk}/pass/", {f"s{review.pk}-pass-opinion": "同意"}
    )
    page = text_of(approver.get(f"/cases/{case.pk}/"))
    resumed = approver.post(f"/cases/{case.pk}/resume/")

    assert too_long.status_code == 400
    assert error_for(too_long, "expected_days") == ["该特别程序最长 20 天。"]
    assert started.status_code == 302
    assert blocked.status_code == 409 and "特别程序中" in text_of(blocked)
    assert "结束特别程序，恢复计时" in page
    assert "启动特别程序“听证”：听证，预计10个工作日" in page
    assert resumed.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_extension_requested_by_approver_granted_by_head(world):
    case = accepted_case(world)
    approver = client_for(world.approver)
    head = client_for(world.head)

    too_many = approver.post(
        f"/cases/{case.pk}/extension/", {"extension-days": 11, "extension-reason": "复杂"}
    )
    asked = approver.post(
        f"/cases/{case.pk}/extension/", {"extension-days": 10, "extension-reason": "情况复杂"}
    )
    extension = case.extensions.get()
    inbox = text_of(head.get("/inbox/"))
    by_approver = approver.post(
        f"/cases/{case.pk}/extensions/{extension.pk}/decide/", {"grant": "1"}
    )
    granted = head.post(f"/cases/{case.pk}/extensions/{extension.pk}/decide/", {"grant": "1"})
    again = head.post(f"/cases/{case.pk}/extensions/{extension.pk}/decide/", {"grant": "1"})

    assert too_many.status_code == 400
    assert error_for(too_many, "days") == ["最多可延长 10 天。"]
    assert asked.status_code == 302
    assert "待审批的延期申请" in inbox and case.number in inbox
    assert by_approver.status_code == 403 and "只有部门负责人可以批准延期。" in text_of(by_approver)
    assert granted.status_code == 302
    assert Case.objects.get(pk=case.pk).extended_days == 10
    assert again.status_code == 409 and "该延期申请已处理。" in text_of(again)


# --- the end of a case -------------------------------------------------------------------------


def completed_case(world) -> Case:
    case = accepted_case(world)
    services.step_decide(actor=world.head, step=to_decision(world, case), approve=True)
    case.refresh_from_db()
    return case


def test_deliver_by_mail_needs_a_tracking_number(world):
    case = completed_case(world)
    clerk = client_for(world.clerk)

    blank = clerk.post(f"/cases/{case.pk}/deliver/", {"deliver-method": "mail"})
    mailed = clerk.post(
        f"/cases/{case.pk}/deliver/",
        {"deliver-method": "mail", "deliver-detail": "SF1234567890"},
    )

    assert blank.status_code == 400
    assert error_for(blank, "detail") == ["邮寄送达请填写快递单号。"]
    assert mailed.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.delivery_detail == "SF1234567890"
    assert case.visits == 1  # by mail: no trip


def test_pickup_notice_and_window_delivery(world, sms_outbox, django_capture_on_commit_callbacks):
    case = completed_case(world)
    clerk = client_for(world.clerk)

    workbench = text_of(clerk.get("/workbench/"))
    with django_capture_on_commit_callbacks(execute=True):
        pickup = clerk.post(f"/cases/{case.pk}/pickup/")
    delivered = clerk.post(f"/cases/{case.pk}/deliver/", {"deliver-method": "window"})
    twice = clerk.post(f"/cases/{case.pk}/deliver/", {"deliver-method": "window"})

    assert case.number in workbench[workbench.index('data-testid="to-deliver"') :]
    assert pickup.status_code == 302
    assert any("结果已可领取" in m.text for m in sms_outbox)
    assert delivered.status_code == 302
    assert Case.objects.get(pk=case.pk).visits == 2
    assert twice.status_code == 409


def test_tolerated_material_supplied_at_the_window(world):
    case = window_case(world)
    premises = material(case, "premises")
    services.case_accept(
        actor=world.clerk,
        case=case,
        tolerated=[premises],
        owed_by=timezone.localdate() + dt.timedelta(days=7),
    )

    response = client_for(world.clerk).post(f"/cases/{case.pk}/materials/{premises.pk}/supply/")

    assert response.status_code == 302
    premises.refresh_from_db()
    assert premises.status == MaterialStatus.PROVIDED
    assert Case.objects.get(pk=case.pk).visits == 2


def test_terminate_needs_a_reason(world):
    case = accepted_case(world)
    approver = client_for(world.approver)

    blank = approver.post(f"/cases/{case.pk}/terminate/", {"terminate-reason": ""})
    done = approver.post(f"/cases/{case.pk}/terminate/", {"terminate-reason": "申请人已死亡"})

    assert blank.status_code == 400
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.TERMINATED


def test_post_check_that_fails_revokes(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case, commitment=True, commitment_text="承诺")

    page = text_of(client_for(world.approver).get(f"/cases/{case.pk}/"))
    response = client_for(world.approver).post(
        f"/cases/{case.pk}/post-check/", {"post_check-passed": "0", "post_check-note": "不符合"}
    )

    assert "告知承诺核查（期限" in page
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REVOKED


# --- lists and homes ---------------------------------------------------------------------------


def test_case_list_filters_and_pages_without_counting(world, monkeypatch):
    first, second, third = window_case(world), window_case(world), window_case(world)
    services.case_accept(actor=world.clerk, case=first)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    clerk = client_for(world.clerk)

    page_one = text_of(clerk.get("/cases/"))
    page_two = text_of(clerk.get("/cases/", {"after": second.pk}))
    accepted = text_of(clerk.get("/cases/", {"status": "accepted"}))

    assert third.number in page_one and second.number in page_one
    assert first.number not in page_one
    assert f"after={second.pk}" in page_one and "下一页" in page_one
    assert first.number in page_two and "下一页" not in page_two
    assert first.number in accepted and second.number not in accepted
    assert client_for(world.stranger).get("/cases/").status_code == 200
    assert first.number not in text_of(client_for(world.stranger).get("/cases/"))


def test_workbench_queue_and_inbox_cards(world):
    waiting = window_case(world)
    case = accepted_case(world)

    workbench = text_of(client_for(world.clerk).get("/workbench/"))
    inbox = text_of(client_for(world.approver).get("/inbox/"))
    other_inbox = text_of(client_for(world.other_approver).get("/inbox/"))

    assert "新建办件" in workbench and 'href="/cases/new/"' in workbench
    assert f'href="/cases/{waiting.pk}/answer/"' in workbench
    assert case.number in inbox and 'data-step="审查"' in inbox and 'data-card="green"' in inbox
    assert case.number not in other_inbox
    assert "办件查询" in workbench


# --- 一件事 at the window ------------------------------------------------------------------------


def filled(spec) -> str:
    """A valid answer for one field of an item's form."""
    from tongban.org.tests.factories import valid_credit_code

    return {
        "number": "100",
        "date": "2026-01-05",
        "id_number": valid_id_number(31),
        "credit_code": valid_credit_code(31),
        "mobile": "13800138000",
        "choice": spec.choices[0] if spec.choices else "",
    }.get(spec.field_type, "沅江测试")


def test_open_a_business_bundle_at_the_window_and_the_credit_code_flows(demo):
    from tongban.catalog.demo import load_demo_catalogue
    from tongban.catalog.models import Bundle
    from tongban.catalog.selectors import bundle_merged_form
    from tongban.org.models import User
    from tongban.org.tests.factories import valid_credit_code

    load_demo_catalogue()
    bundle = Bundle.objects.get(code="430981-YJS-001")
    clerk = client_for(User.objects.get(username="chuangkou"))
    data = {
        "applicant-kind": "natural",
        "applicant-identifier": valid_id_number(88),
        "applicant-name": "钱七",
        "applicant-mobile": "13700137000",
    }
    data.update({f"form-{s.key}": filled(s) for s in bundle_merged_form(bundle=bundle)})

    # when: one application at the window, answered once
    created = clerk.post(f"/cases/new/?bundle={bundle.pk}", data)
    parent = Case.objects.get(bundle=bundle)
    accepted = clerk.post(f"/cases/{parent.pk}/answer/", {"answer": "accept"})

    # then: four children; the licence starts, the others wait for it
    assert created.status_code == 302, error_for(created, "")
    assert accepted.status_code == 302
    children = {c.title: c for c in parent.children.all()}
    assert len(children) == 4
    licence = children["公司设立登记"]
    assert licence.status == CaseStatus.ACCEPTED
    assert {c.status for t, c in children.items() if t != "公司设立登记"} == {CaseStatus.WAITING}
    page = text_of(clerk.get(f"/cases/{parent.pk}/"))
    assert all(f'data-child="{title}"' in page for title in children)

    # when: the licence's department enters the credit code as it decides
    approver = client_for(User.objects.get(username="shenpi"))
    [step] = active(licence)
    licence_page = text_of(approver.get(f"/cases/{licence.pk}/"))
    code = valid_credit_code(4242)
    passed = approver.post(
        f"/cases/{licence.pk}/steps/{step.pk}/pass/",
        {f"s{step.pk}-pass-opinion": "准予登记", f"s{step.pk}-pass-out_credit_code": code},
    )

    # then: the three dependants start with the credit code in their forms
    assert "统一社会信用代码" in licence_page
    assert passed.status_code == 302
    for title, child in children.items():
        child.refresh_from_db()
        if title != "公司设立登记":
            assert child.status == CaseStatus.ACCEPTED, title
            assert child.form_data["credit_code"] == code
    seal = children["公章刻制备案"]
    seal_page = text_of(client_for(User.objects.get(username="gongan")).get(f"/cases/{seal.pk}/"))
    assert f"由{licence.number}的办理结果填入“统一社会信用代码”：{code}" in seal_page
    assert "credit_code" not in seal_page.split("办理过程")[-1]
    decided = text_of(approver.get(f"/cases/{licence.pk}/"))
    outputs = re.search(r'<dd data-testid="outputs">(.*?)</dd>', decided, re.S)
    assert outputs is not None and f"统一社会信用代码：{code}" in outputs.group(1)


def test_inbox_pages_by_due_date(world, monkeypatch):
    first, second = accepted_case(world), accepted_case(world)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 1)
    approver = client_for(world.approver)

    page_one = text_of(approver.get("/inbox/"))
    [link] = re.findall(r'href="\?after=([^"]+)"', page_one)
    page_two = text_of(approver.get(f"/inbox/?after={link}"))

    # Both are due the same day: the older step comes first, the newer on the next page.
    assert first.number in page_one and second.number not in page_one
    assert second.number in page_two and first.number not in page_two
    assert "下一页" not in page_two


def test_inbox_rows_show_the_case_its_masked_applicant_and_the_card(world):
    on_time, late = accepted_case(world), accepted_case(world)
    [step] = active(late)
    Step.objects.filter(pk=step.pk).update(due=timezone.now() - dt.timedelta(days=1))

    inbox = text_of(client_for(world.approver).get("/inbox/"))
    [late_row] = re.findall(rf"<tr[^>]*>(?:(?!</tr>).)*{late.number}.*?</tr>", inbox, re.S)
    [on_time_row] = re.findall(rf"<tr[^>]*>(?:(?!</tr>).)*{on_time.number}.*?</tr>", inbox, re.S)

    assert f'href="/cases/{late.pk}/"' in late_row and late.title in late_row
    assert "王*" in late_row and "王五" not in inbox
    assert 'data-card="red"' in late_row and "红牌·已超期" in late_row
    assert 'data-card="green"' in on_time_row and step.department.name in late_row


def test_the_inbox_asks_the_same_queries_for_one_row_or_many(world, django_assert_max_num_queries):
    accepted_case(world)
    approver = client_for(world.approver)
    approver.get("/inbox/")
    with django_assert_max_num_queries(6) as one_row:
        approver.get("/inbox/")
    for _ in range(3):
        accepted_case(world)
    with django_assert_max_num_queries(len(one_row.captured_queries)):
        page = text_of(approver.get("/inbox/"))
    assert page.count('data-card="green"') == 4
