"""The cases API as a department system or a clerk's script uses it: the whole life of a case,
every bad input answered in Chinese JSON without changing anything, and keyset pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial, Step, Upload
from tongban.cases.selectors import case_timeline
from tongban.cases.workflow import CaseStatus, StepStatus
from tongban.catalog.models import Bundle
from tongban.catalog.tests.factories import make_version
from tongban.core.eventlog import verify_event_log
from tongban.org.models import Applicant
from tongban.timelimits.selectors import calendar_for

from .factories import FORM, make_world

pytestmark = pytest.mark.django_db

NEW_PERSON = "11010519491231002X"  # a valid resident ID number nobody in the world holds
PDF = b"%PDF-1.4 test document"


@pytest.fixture
def world():
    return make_world()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any = None) -> Any:
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json")


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(f"/api/v1{path}", params)


def moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def local_date(text: str) -> dt.date:
    return timezone.localtime(dt.datetime.fromisoformat(text)).date()


def window_payload(world, **overrides: Any) -> dict[str, Any]:
    return {
        "item": world.item.item.local_code,
        "applicant": {"id_number": world.applicant.id_number},
        "channel": "window",
        "hall_id": world.hall.pk,
        "form": FORM,
        **overrides,
    }


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
    return case


def active_step(body: dict[str, Any], name: str) -> dict[str, Any]:
    [step] = [s for s in body["steps"] if s["name"] == name and s["status"] == "active"]
    return step


# --- the whole path -----------------------------------------------------------------------------


def test_a_window_case_through_its_whole_life(world, sms_outbox):
    clerk, approver, other = (
        client_for(world.clerk),
        client_for(world.approver),
        client_for(world.other_approver),
    )
    head = client_for(world.head)

    # A clerk starts a case for a person the hall has never seen: found by ID number, or registered.
    created = post(
        clerk,
        "/cases",
        window_payload(
            world,
            applicant={
                "id_number": " 110105 19491231 002x ",
                "name": "赵六",
                "mobile": "13912345678",
            },
            form={"name": "赵六", "mobile": "13912345678"},
        ),
    )
    assert created.status_code == 201, created.content
    case = created.json()
    number = case["number"]
    assert case["status"] == "submitted" and case["status_label"] == "待受理"
    assert case["channel"] == "window" and case["visits"] == 1
    assert case["item"]["version_id"] == world.item.pk
    assert case["department"]["name"] == "市场监督管理局"
    assert case["applicant"]["name"] == "赵六"
    assert case["applicant"]["mobile"] == "139****5678"
    assert case["applicant"]["identifier"] == "110105********002X"
    assert Applicant.objects.get(id_number=NEW_PERSON).mobile == "13912345678"

    # One supplement notice listing everything, then the applicant brings it to the window.
    premises = next(m for m in case["materials"] if m["material_type"] == "premises")
    asked = post(
        clerk,
        f"/cases/{number}/supplement",
        {"items": [{"kind": "material", "key": str(premises["id"]), "problem": "缺少场所证明"}]},
    )
    assert asked.status_code == 200, asked.content
    assert asked.json()["status"] == "supplement" and asked.json()["supplement_count"] == 1
    back = post(clerk, f"/cases/{number}/supplement-submit")
    assert back.status_code == 200, back.content
    assert back.json()["status"] == "submitted" and back.json()["visits"] == 2

    # Accepted with the checklist ticked: both clocks start on the region's working days.
    checklist = {str(m["id"]): True for m in case["materials"]}
    accepted = post(clerk, f"/cases/{number}/accept", {"checklist": checklist})
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    calendar = calendar_for(Case.objects.get(number=number).region)
    accepted_on = local_date(body["accepted_at"])
    assert local_date(body["promised_due"]) == calendar.add_working_days(accepted_on, 10)
    assert local_date(body["legal_due"]) == calendar.add_working_days(accepted_on, 20)
    assert body["card"] == "green"
    assert {m["status"] for m in body["materials"]} == {"provided"}
    review = active_step(body, "审查")
    assert local_date(review["due"]) == calendar.add_working_days(accepted_on, 3)

    # 审查 in the main department, then two departments at the same time.
    passed = post(approver, f"/cases/{number}/steps/{review['id']}/pass", {"opinion": "材料齐全"})
    assert passed.status_code == 200, passed.content
    site, fire = active_step(passed.json(), "现场核查"), active_step(passed.json(), "部门意见")
    assert site["stage"] == fire["stage"]
    assert {site["department"]["id"], fire["department"]["id"]} == {world.main.pk, world.other.pk}
    inbox = get(other, "/inbox").json()["items"]
    assert [(i["case_number"], i["step"]) for i in inbox] == [(number, "部门意见")]

    # A special procedure stops every clock; resumed the same day, nothing moves.
    suspended = post(
        approver,
        f"/cases/{number}/suspend",
        {"kind": "expert_review", "reason": "组织专家评审", "expected_days": 5},
    )
    assert suspended.status_code == 200, suspended.content
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["promised_due"] is None and suspended.json()["card"] is None
    assert active_step(suspended.json(), "部门意见")["due"] is None
    resumed = post(approver, f"/cases/{number}/resume")
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["promised_due"] == body["promised_due"]
    assert active_step(resumed.json(), "部门意见")["due"] == fire["due"]

    # An approver asks for an extension, the head grants it: the legal limit moves 10 working days.
    requested = post(approver, f"/cases/{number}/extensions", {"days": 10, "reason": "情况复杂"})
    assert requested.status_code == 201, requested.content
    extension = requested.json()["extension"]
    assert extension["granted"] is None
    granted = post(head, f"/cases/{number}/extensions/{extension['id']}/decide", {"grant": True})
    assert granted.status_code == 200, granted.content
    after = granted.json()
    assert after["extended_days"] == 10
    assert local_date(after["legal_due"]) == calendar.add_working_days(
        local_date(body["legal_due"]), 10
    )
    assert after["extensions"][0]["granted"] is True

    # Both parallel steps pass, the head decides, the applicant collects it at the window.
    fire_passed = post(other, f"/cases/{number}/steps/{fire['id']}/pass", {"opinion": "同意"})
    assert fire_passed.status_code == 200, fire_passed.content
    last = post(approver, f"/cases/{number}/steps/{site['id']}/pass", {"opinion": "核查通过"})
    decision = active_step(last.json(), "决定")
    decided = post(
        head,
        f"/cases/{number}/steps/{decision['id']}/decide",
        {"approve": True, "reason": "符合法定条件", "result_number": "沅市监许〔2026〕1号"},
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "completed" and decided.json()["decision"] == "approved"
    assert decided.json()["result_number"] == "沅市监许〔2026〕1号"
    delivered = post(clerk, f"/cases/{number}/deliver", {"method": "window"})
    assert delivered.status_code == 200, delivered.content

    final = get(approver, f"/cases/{number}").json()
    assert final["status"] == "delivered" and final["visits"] == 3
    assert [s["status"] for s in final["steps"]] == ["passed"] * 5
    kinds = [e["kind"] for e in final["events"]]
    assert kinds[:3] == ["case.created", "case.submitted", "case.supplement_requested"]
    for kind in ("case.accepted", "case.suspended", "case.resumed", "case.extension_granted"):
        assert kinds.count(kind) == 1
    assert kinds[-1] == "case.delivered"
    accepted_event = next(e for e in final["events"] if e["kind"] == "case.accepted")
    assert accepted_event["actor"] == world.clerk.display_name
    assert accepted_event["payload"]["promised_due"] is not None
    assert verify_event_log().intact


def test_an_online_draft_uploads_files_and_is_submitted_by_the_citizen(world):
    citizen = client_for(world.citizen)

    draft = post(
        citizen,
        "/cases",
        {"item": world.item.pk, "channel": "online", "form": FORM, "submit": False},
    )
    assert draft.status_code == 201, draft.content
    case = draft.json()
    assert case["status"] == "draft" and case["applicant"]["name"] == "王五"

    missing = post(citizen, f"/cases/{case['number']}/submit")
    assert missing.status_code == 422
    assert missing.json()["errors"]["material-application"] == ["请上传“申请书”。"]

    for material in case["materials"]:
        uploaded = citizen.post(
            f"/api/v1/cases/{case['number']}/materials/{material['id']}/files",
            {"file": _file("申请书.pdf", PDF)},
        )
        assert uploaded.status_code == 201, uploaded.content
        assert uploaded.json()["content_type"] == "application/pdf"
        assert uploaded.json()["size"] == len(PDF)
    submitted = post(citizen, f"/cases/{case['number']}/submit")
    assert submitted.status_code == 200, submitted.content
    body = submitted.json()
    assert body["status"] == "submitted" and body["visits"] == 0
    assert body["prereview_due"] is not None and body["card"] in ("green", "yellow")
    assert all(len(m["files"]) == 1 for m in body["materials"])

    # Online, the implementing department answers (网上预审).
    answered = post(client_for(world.approver), f"/cases/{case['number']}/accept")
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == "accepted"


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_a_denial_carries_its_reason_and_legal_basis(world):
    head = client_for(world.head)
    case = accepted_case(world)
    for _stage in range(2):  # 审查, then the two parallel steps: the decision step is next
        for step in Step.objects.filter(case=case, status=StepStatus.ACTIVE):
            by_other = step.department_id == world.other.pk
            actor = world.other_approver if by_other else world.approver
            services.step_pass(actor=actor, step=step, opinion="同意")
    decision = active_step(get(head, f"/cases/{case.number}").json(), "决定")

    denied = post(
        head,
        f"/cases/{case.number}/steps/{decision['id']}/decide",
        {
            "approve": False,
            "reason": "经营场所不符合要求",
            "basis": "《食品经营许可管理办法》第十一条",
        },
    )

    assert denied.status_code == 200, denied.content
    body = denied.json()
    assert (body["status"], body["decision"]) == ("denied", "denied")
    assert body["decision_reason"] == "经营场所不符合要求"
    assert body["basis"] == "《食品经营许可管理办法》第十一条"


def test_a_department_system_acts_with_its_bearer_token_without_a_csrf_cookie(world):
    from tongban.org.tokens import api_token_create

    case = accepted_case(world)
    _token_row, token = api_token_create(user=world.approver, name="市场监管业务系统")
    review = Step.objects.get(case=case, status=StepStatus.ACTIVE)
    system = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.approver)
    path = f"/api/v1/cases/{case.number}/steps/{review.pk}/pass"

    refused = browser.post(path, {"opinion": "同意"}, content_type="application/json")
    passed = system.post(path, {"opinion": "同意"}, content_type="application/json")

    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF 校验失败：请刷新页面后重试；程序调用请使用接口令牌。"}
    assert passed.status_code == 200, passed.content
    assert next(s for s in passed.json()["steps"] if s["id"] == review.pk)["status"] == "passed"
    event = next(e for e in passed.json()["events"] if e["kind"] == "case.step_passed")
    assert event["actor"] == world.approver.display_name
    assert system.get(f"/api/v1/cases/{window_case(world).number}").status_code == 200
    stranger = Client(headers={"Authorization": "Bearer tb_00000000_forged"})
    assert stranger.get(f"/api/v1/cases/{case.number}").status_code == 401


def test_refusal_denial_withdrawal_termination_and_the_post_check(world):
    clerk, approver, head = (
        client_for(world.clerk),
        client_for(world.approver),
        client_for(world.head),
    )
    refused = window_case(world)
    response = post(
        clerk,
        f"/cases/{refused.number}/refuse",
        {"reason": "不属于本机关职权", "basis": "行政许可法第三十二条"},
    )
    assert response.status_code == 200 and response.json()["status"] == "refused"
    assert response.json()["basis"] == "行政许可法第三十二条"

    denied = accepted_case(world)
    body = get(approver, f"/cases/{denied.number}").json()
    review = active_step(body, "审查")
    proposed = post(
        approver, f"/cases/{denied.number}/steps/{review['id']}/propose-denial", {"reason": "不符"}
    )
    assert proposed.status_code == 200
    assert next(s for s in proposed.json()["steps"] if s["id"] == review["id"])["denial_proposed"]

    terminated = accepted_case(world)
    response = post(
        approver, f"/cases/{terminated.number}/terminate", {"reason": "申请人企业已注销"}
    )
    assert response.status_code == 200 and response.json()["status"] == "terminated"
    assert response.json()["close_reason"] == "申请人企业已注销"

    withdrawn = window_case(world)
    response = post(
        client_for(world.citizen), f"/cases/{withdrawn.number}/withdraw", {"reason": "不办了"}
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    committed = window_case(world)
    response = post(
        clerk,
        f"/cases/{committed.number}/accept",
        {"commitment": True, "commitment_text": "本人承诺符合条件"},
    )
    assert response.json()["status"] == "completed" and response.json()["commitment"] is True
    checked = post(
        head, f"/cases/{committed.number}/post-check", {"passed": False, "note": "经核查不符"}
    )
    assert checked.status_code == 200 and checked.json()["status"] == "revoked"


def test_a_step_is_returned_to_an_earlier_one(world):
    approver, other = client_for(world.approver), client_for(world.other_approver)
    case = accepted_case(world)
    body = get(approver, f"/cases/{case.number}").json()
    review = active_step(body, "审查")
    body = post(
        approver, f"/cases/{case.number}/steps/{review['id']}/pass", {"opinion": "通过"}
    ).json()
    fire = active_step(body, "部门意见")

    returned = post(
        other,
        f"/cases/{case.number}/steps/{fire['id']}/return",
        {"to_step": review["id"], "reason": "消防意见需补充审查"},
    )

    assert returned.status_code == 200, returned.content
    assert [s["name"] for s in returned.json()["steps"] if s["status"] == "active"] == ["审查"]
    later = post(
        other,
        f"/cases/{case.number}/steps/{fire['id']}/return",
        {"to_step": review["id"], "reason": "再退一次"},
    )
    # The step was returned a moment ago: it is no longer active.
    assert later.status_code == 409
    assert "当前为“已退回”" in later.json()["detail"]


def test_a_bundle_is_applied_for_by_its_code_and_shows_its_items():
    from tongban.catalog.demo import load_demo_catalogue
    from tongban.catalog.selectors import bundle_merged_form
    from tongban.org.models import Hall, User

    load_demo_catalogue()
    clerk = client_for(User.objects.get(username="chuangkou"))
    hall = Hall.objects.get(name="沅江市政务服务中心")
    bundle = Bundle.objects.get(code="430981-YJS-001")
    form = {
        spec.key: spec.choices[0] if spec.choices else "1"
        for spec in bundle_merged_form(bundle=bundle)
    }
    form.update(mobile="13800138000", id_number="430981199503152021", employees="5")

    response = post(
        clerk,
        "/cases",
        {
            "bundle": bundle.code,
            "applicant": {"id_number": "430981199503152021"},
            "channel": "window",
            "hall_id": hall.pk,
            "form": form,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["bundle"] == "430981-YJS-001" and body["item"] is None
    assert {c["title"] for c in body["children"]} == {
        "公司设立登记",
        "公章刻制备案",
        "发票领用",
        "社会保险登记（单位参保）",
    }
    child = get(clerk, f"/cases/{body['children'][0]['number']}").json()
    assert child["parent"] == body["number"] and child["status"] == "submitted"


def test_an_unexpected_failure_is_a_logged_json_500(world, monkeypatch, caplog):
    case = window_case(world)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("tongban.cases.selectors.case_get_by_number_visible", broken)
    response = get(client_for(world.clerk), f"/cases/{case.number}")

    assert response.status_code == 500
    assert response.json() == {"detail": "服务器内部错误，请稍后重试；问题已记录。"}
    assert "the database went away" in caplog.text


def test_djangos_own_refusals_keep_their_status_in_json(world, monkeypatch):
    from django.core.exceptions import PermissionDenied, SuspiciousOperation

    case = window_case(world)
    clerk = client_for(world.clerk)
    for error, status, message in (
        (PermissionDenied, 403, "您无权进行此操作。"),
        (SuspiciousOperation, 400, "请求无效。"),
    ):

        def refuse(exc: type[Exception] = error, **kwargs: Any) -> None:
            raise exc()

        monkeypatch.setattr("tongban.cases.selectors.case_get_by_number_visible", refuse)
        response = get(clerk, f"/cases/{case.number}")
        assert (response.status_code, response.json()) == (status, {"detail": message})


# --- bad input at every door -------------------------------------------------------------------


def test_without_signing_in_every_route_answers_401_in_chinese(world):
    case = window_case(world)
    anonymous = Client()
    for response in (
        anonymous.get("/api/v1/cases"),
        anonymous.get(f"/api/v1/cases/{case.number}"),
        post(anonymous, f"/cases/{case.number}/accept"),
    ):
        assert response.status_code == 401
        assert response.json() == {
            "detail": "请先登录，或在 Authorization 头中提供有效的接口令牌。"
        }


@pytest.mark.parametrize(
    ("change", "status", "field", "message"),
    [
        ({"item": "no-such-code"}, 404, None, "未找到实施编码为 no-such-code 的事项。"),
        ({"item": 999999}, 404, None, "未找到事项版本 999999。"),
        ({"item": None, "bundle": "NOPE"}, 404, None, "未找到编码为 NOPE 的一件事。"),
        ({"item": None}, 422, "__all__", "请选择一个事项或一件事。"),
        ({"channel": "fax"}, 422, "channel", "可选值：'window' or 'online'。"),
        ({"channel": None}, 422, "channel", "此项为必填项。"),
        ({"hall_id": None}, 422, "hall_id", "窗口受理须指明受理大厅。"),
        ({"hall_id": 999999}, 422, "hall_id", "未知的大厅，或您不在该大厅工作。"),
        ({"hall_id": "一号厅"}, 422, "hall_id", "请填写整数。"),
        ({"submit": "maybe"}, 422, "submit", "请填写 true 或 false。"),
        ({"form": {"name": "王五"}}, 422, "form.mobile", None),
        ({"form": {"name": "王五", "mobile": "12345"}}, 422, "form.mobile", None),
        ({"form": []}, 422, "form", "应为 JSON 对象。"),
        (
            {"applicant": {"id_number": "110105194912310021"}},
            422,
            "applicant.id_number",
            "身份证号码校验位不正确，请核对。",
        ),
        ({"applicant": {"id_number": NEW_PERSON}}, 422, "applicant.name", "请填写名称。"),
        (
            {"applicant": {}},
            422,
            "applicant.id_number",
            "请填写申请人的身份证号码或统一社会信用代码。",
        ),
        ({"applicant": None}, 422, "applicant", "请填写申请人。"),
        (
            {"applicant": {"credit_code": "91110000600037341L", "name": "某公司"}},
            422,
            "applicant.legal_representative",
            "请填写法定代表人。",
        ),
        (
            {"applicant": {"id_number": NEW_PERSON, "credit_code": "91110000600037341L"}},
            422,
            "applicant.credit_code",
            "身份证号码和统一社会信用代码只填写一个。",
        ),
    ],
)
def test_a_bad_application_is_answered_in_chinese_and_creates_nothing(
    world, change, status, field, message
):
    payload = {k: v for k, v in {**window_payload(world), **change}.items() if v is not None}

    response = post(client_for(world.clerk), "/cases", payload)

    assert response.status_code == status, response.content
    body = response.json()
    if field is None:
        assert body == {"detail": message}
    else:
        assert field in body["errors"], body
        if message is not None:
            assert body["errors"][field] == [message]
        assert message is None or message in body["detail"]
    assert not Case.objects.exists()
    assert not Applicant.objects.filter(id_number=NEW_PERSON).exists()


def test_an_unpublished_item_cannot_be_applied_for(world):
    draft = make_version(region=world.main.region, department=world.main, publish=False)

    response = post(client_for(world.clerk), "/cases", window_payload(world, item=draft.pk))

    assert response.status_code == 422
    assert response.json()["errors"] == {"item": ["该事项当前未发布，不能申请。"]}


def test_malformed_json_is_a_chinese_400_and_changes_nothing(world):
    clerk = client_for(world.clerk)
    case = window_case(world)

    for path in ("/api/v1/cases", f"/api/v1/cases/{case.number}/accept"):
        response = clerk.post(path, '{"item": "x",', content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"detail": "请求内容不是有效的 JSON。"}
    not_an_object = clerk.post("/api/v1/cases", "[1, 2]", content_type="application/json")
    assert not_an_object.status_code == 422
    assert Case.objects.get().status == CaseStatus.SUBMITTED


def test_an_oversize_body_is_a_chinese_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = window_payload(world, form={**FORM, "notes": "很长" * 1000})

    response = post(client_for(world.clerk), "/cases", payload)

    assert response.status_code == 413
    assert response.json() == {"detail": "请求内容过大。"}
    assert not Case.objects.exists()


def test_the_second_answer_is_a_409_with_the_current_status(world):
    clerk = client_for(world.clerk)
    case = window_case(world)
    assert post(clerk, f"/cases/{case.number}/accept").status_code == 200

    again = post(clerk, f"/cases/{case.number}/refuse", {"reason": "x", "basis": "y"})

    assert again.status_code == 409
    assert again.json() == {
        "detail": f"办件 {case.number} 当前为“办理中”，不能不予受理。请刷新页面查看最新状态。"
    }
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_someone_elses_case_is_a_404_and_a_visible_but_forbidden_one_a_403(world):
    case = window_case(world)
    stranger = client_for(world.stranger)
    missing = f"未找到办件 {case.number}。"

    assert get(stranger, f"/cases/{case.number}").status_code == 404
    response = post(stranger, f"/cases/{case.number}/accept")
    assert response.status_code == 404 and response.json() == {"detail": missing}
    assert get(stranger, "/cases").json() == {"items": [], "next": None}
    assert get(client_for(world.clerk), "/cases/430981209901010000001").status_code == 404

    # A supervisor sees the case but does not answer it.
    forbidden = post(client_for(world.supervisor), f"/cases/{case.number}/accept")
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "您无权受理该办件。"}
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_another_citizens_case_is_a_404(world):
    from tongban.org.models import AccountKind
    from tongban.org.tests.factories import ApplicantFactory, UserFactory

    neighbour = UserFactory(username="neighbour", kind=AccountKind.APPLICANT, mobile="13700137000")
    ApplicantFactory(name="邻居", mobile="13700137000", account=neighbour)
    case = window_case(world)

    response = post(client_for(neighbour), f"/cases/{case.number}/withdraw")

    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    # Nor may a citizen apply in someone else's name.
    other = post(
        client_for(neighbour),
        "/cases",
        {
            "item": world.item.pk,
            "channel": "online",
            "applicant": {"id_number": world.applicant.id_number},
            "form": FORM,
        },
    )
    assert other.status_code == 422
    assert other.json()["errors"] == {"applicant": ["只能以本人账号名下的申请人身份申请。"]}


def test_unknown_steps_extensions_and_materials_are_404s(world):
    approver = client_for(world.approver)
    case = accepted_case(world)
    elsewhere = accepted_case(world)
    foreign_step = Step.objects.filter(case=elsewhere, status=StepStatus.ACTIVE).get()

    for path in (
        f"/cases/{case.number}/steps/999999/pass",
        f"/cases/{case.number}/steps/{foreign_step.pk}/pass",
        f"/cases/{case.number}/extensions/999999/decide",
    ):
        response = post(approver, path, {"opinion": "x", "grant": True})
        assert response.status_code == 404, path
        assert response.json()["detail"].startswith("该办件没有编号为")
    foreign_step.refresh_from_db()
    assert foreign_step.status == StepStatus.ACTIVE

    upload = client_for(world.clerk).post(
        f"/api/v1/cases/{case.number}/materials/999999/files", {"file": _file("a.pdf", PDF)}
    )
    assert upload.status_code == 404
    assert not Upload.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "status", "errors"),
    [
        ("accept", {"tolerated": ["场所证明"]}, 422, {"tolerated.0": ["请填写整数。"]}),
        ("accept", {"tolerated": [999999]}, 422, {"tolerated": ["所选材料不属于该办件。"]}),
        ("accept", {"owed_by": "下周"}, 422, {"owed_by": ["请填写日期，格式为 YYYY-MM-DD。"]}),
        (
            "accept",
            {"commitment": True},
            422,
            {"commitment_text": ["请记录申请人签署的承诺内容。"]},
        ),
        (
            "refuse",
            {},
            422,
            {"reason": ["请填写不予受理的理由。"], "basis": ["请填写不予受理的法律依据。"]},
        ),
        ("refuse", {"reason": "x" * 2001, "basis": "y"}, 422, {"reason": ["最多 2000 个字符。"]}),
        ("supplement", {"items": []}, 422, {"items": ["请至少列出一项需要补正的材料或内容。"]}),
        (
            "supplement",
            {"items": [{"key": "premises"}]},
            422,
            {"items": ["请为每一项补正内容写明问题。"]},
        ),
        (
            "supplement",
            {"items": [{"kind": "photo", "problem": "x"}]},
            422,
            {"items.0.kind": ["可选值：'material' or 'field'。"]},
        ),
        ("supplement-submit", {}, 409, None),
        ("terminate", {"reason": " "}, 422, {"reason": ["请填写终止原因。"]}),
        ("deliver", {"method": "window"}, 409, None),
    ],
)
def test_bad_answers_are_refused_with_the_field_named(world, path, body, status, errors):
    case = window_case(world)

    response = post(client_for(world.clerk), f"/cases/{case.number}/{path}", body)

    assert response.status_code == status, response.content
    if errors is not None:
        assert response.json()["errors"] == errors
    else:
        assert "当前为“待受理”" in response.json()["detail"]
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED and case.supplement_count == 0
    assert [e.kind for e in case_timeline(case=case)] == ["case.created", "case.submitted"]


def test_bad_back_office_input_is_refused_and_changes_nothing(world):
    approver, head = client_for(world.approver), client_for(world.head)
    case = accepted_case(world)
    body = get(approver, f"/cases/{case.number}").json()
    review = active_step(body, "审查")

    cases = [
        (
            approver,
            f"steps/{review['id']}/pass",
            {"opinion": "  "},
            422,
            {"opinion": ["请填写办理意见。"]},
        ),
        (
            approver,
            f"steps/{review['id']}/decide",
            {"approve": True},
            422,
            {"__all__": ["该环节不是决定环节。"]},
        ),
        (approver, f"steps/{review['id']}/decide", {}, 422, {"approve": ["此项为必填项。"]}),
        (
            approver,
            f"steps/{review['id']}/return",
            {"to_step": review["id"], "reason": "x"},
            422,
            {"to_step": ["只能退回到本办件此前的审查环节。"]},
        ),
        (
            approver,
            "suspend",
            {"kind": "hearing", "reason": "听证", "expected_days": 30},
            422,
            {"expected_days": ["该特别程序最长 20 天。"]},
        ),
        (
            approver,
            "suspend",
            {"kind": "auction", "reason": "拍卖", "expected_days": 3},
            422,
            {"kind": ["请选择特别程序的种类。"]},
        ),
        (
            approver,
            "suspend",
            {"kind": "tender", "reason": "拍卖", "expected_days": 3},
            422,
            {"kind": ["该事项的办事指南未列出此特别程序。"]},
        ),
        (
            approver,
            "suspend",
            {"kind": "hearing", "reason": "听证", "expected_days": 40000},
            422,
            {"expected_days": ["不能大于 365。"]},
        ),
        (
            approver,
            "extensions",
            {"days": 11, "reason": "复杂"},
            422,
            {"days": ["最多可延长 10 天。"]},
        ),
        (
            approver,
            "extensions",
            {"days": 0, "reason": ""},
            422,
            {"days": ["延长天数至少为 1 天。"], "reason": ["请填写延期理由。"]},
        ),
        (approver, "extensions", {"reason": "复杂"}, 422, {"days": ["此项为必填项。"]}),
        (head, "deliver", {"method": "pigeon"}, 422, {"method": ["请选择送达方式。"]}),
        (head, "post-check", {"passed": True, "note": "ok"}, 409, None),
    ]
    for client, path, payload, status, errors in cases:
        response = post(client, f"/cases/{case.number}/{path}", payload)
        assert response.status_code == status, (path, response.content)
        if errors is not None:
            assert response.json()["errors"] == errors, path
        assert response.json()["detail"]

    review_now = Step.objects.get(pk=review["id"])
    assert review_now.status == StepStatus.ACTIVE and review_now.opinion == ""
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and not case.extensions.exists()


def test_an_approver_cannot_grant_an_extension(world):
    approver = client_for(world.approver)
    case = accepted_case(world)
    extension = services.extension_request(actor=world.approver, case=case, days=5, reason="复杂")

    response = post(
        approver, f"/cases/{case.number}/extensions/{extension.pk}/decide", {"grant": True}
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "只有部门负责人可以批准延期。"}
    extension.refresh_from_db()
    assert extension.granted is None


def test_disguised_oversize_and_missing_files_are_refused(world, settings):
    settings.CASE_UPLOAD_MAX_BYTES = 100
    citizen = client_for(world.citizen)
    case = services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data=FORM,
        submit=False,
    )
    material = case.materials.get(material_type="application")
    url = f"/api/v1/cases/{case.number}/materials/{material.pk}/files"

    answers = [
        (
            citizen.post(url, {"file": _file("证明.pdf", b"MZ\x90\x00 not a pdf")}),
            "不支持的文件类型，请上传 PDF、JPG、PNG、OFD 文件。",
        ),
        (
            citizen.post(url, {"file": _file("photo.jpg", PDF)}),
            "文件内容与扩展名不符（内容是 PDF）。",
        ),
        (
            citizen.post(url, {"file": _file("big.pdf", PDF + b"x" * 200)}),
            "文件超过大小限制（最大 100\xa0字节）。",
        ),
        (citizen.post(url, {"file": _file("empty.pdf", b"")}), None),
        (citizen.post(url, {}), "此项为必填项。"),
    ]
    for response, message in answers:
        assert response.status_code == 422, response.content
        assert "file" in response.json()["errors"]
        if message is not None:
            assert response.json()["errors"]["file"] == [message]
    assert not Upload.objects.exists()
    assert CaseMaterial.objects.get(pk=material.pk).uploads.count() == 0


def test_a_supervisor_who_only_reads_cannot_add_files(world):
    case = window_case(world)
    material = case.materials.first()

    response = client_for(world.supervisor).post(
        f"/api/v1/cases/{case.number}/materials/{material.pk}/files",
        {"file": _file("a.pdf", PDF)},
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "您无权为该办件上传材料。"}
    assert not Upload.objects.exists()


def test_an_unrelated_approver_cannot_start_an_online_case_for_a_citizen(world):
    response = post(
        client_for(world.stranger),
        "/cases",
        {
            "item": world.item.pk,
            "channel": "online",
            "applicant": {"id_number": world.applicant.id_number},
            "form": FORM,
            "submit": False,  # a draft needs no files, so nothing else stops it
        },
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "您无权为申请人提交该事项的网上申请。"}
    assert not Case.objects.exists()


def test_a_window_cannot_start_a_case_for_an_item_its_hall_does_not_accept(world):
    from tongban.org.tests.factories import CityFactory, CountyFactory, DepartmentFactory

    elsewhere = CountyFactory(code="430921", name="南县", parent=CityFactory())
    item = make_version(region=elsewhere, department=DepartmentFactory(region=elsewhere))

    response = post(client_for(world.clerk), "/cases", window_payload(world, item=item.pk))

    assert response.status_code == 422
    assert response.json()["errors"] == {"item": ["本大厅不受理南县的事项。"]}
    assert not Case.objects.exists()


@pytest.mark.parametrize("channel", ["window", "online"])
def test_staff_cannot_leave_a_draft_nobody_on_staff_can_see(world, channel):
    payload = (
        window_payload(world, submit=False)
        if channel == "window"
        else {
            "item": world.item.pk,
            "channel": "online",
            "applicant": {"id_number": world.applicant.id_number},
            "form": FORM,
            "submit": False,
        }
    )
    staff_member = world.clerk if channel == "window" else world.approver

    response = post(client_for(staff_member), "/cases", payload)

    assert response.status_code in (403, 422)
    assert not Case.objects.exists()


# --- lists --------------------------------------------------------------------------------------


def _pages(client: Client, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, after = [], None
    while True:
        response = get(client, path, **params, **({"after": after} if after else {}))
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body["items"])
        after = body["next"]
        if after is None:
            return pages
        assert len(pages) < 20, "the cursor never ends"


def test_the_case_list_pages_by_cursor_without_counting(world):
    numbers = [window_case(world).number for _ in range(7)]
    clerk = client_for(world.clerk)

    with CaptureQueriesContext(connection) as queries:
        pages = _pages(clerk, "/cases", limit=3)

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [row["number"] for page in pages for row in page] == list(reversed(numbers))
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert pages[0][0]["applicant"] == "王五" and pages[0][0]["status"] == "submitted"


def test_a_longer_page_costs_no_more_queries_than_a_short_one(world):
    # More cases than either page shows, so both pages are read the same way (the inbox reads the
    # steps of suspended cases, which have no due date, only once the dated ones run out).
    for _ in range(9):
        accepted_case(world)
    approver = client_for(world.approver)

    for path in ("/cases", "/inbox"):
        sizes = []
        for limit in (2, 7):
            with CaptureQueriesContext(connection) as queries:
                response = get(approver, path, limit=limit)
            assert len(response.json()["items"]) == limit
            sizes.append(len(queries.captured_queries))
        assert sizes[0] == sizes[1], path


def test_the_case_list_filters_by_status_department_and_overdue(world):
    clerk = client_for(world.clerk)
    waiting = window_case(world)
    late, on_time = accepted_case(world), accepted_case(world)
    Case.objects.filter(pk=late.pk).update(promised_due=timezone.now() - dt.timedelta(days=1))

    def numbers(**params: Any) -> list[str]:
        response = get(clerk, "/cases", **params)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["items"]]

    assert numbers(status="submitted") == [waiting.number]
    assert numbers(status="accepted") == [on_time.number, late.number]
    assert numbers(overdue="true") == [late.number]
    cards = [row["card"] for row in get(clerk, "/cases", status="accepted").json()["items"]]
    assert cards == ["green", "red"]
    assert numbers(department=world.main.pk) == [on_time.number, late.number, waiting.number]
    assert numbers(department=world.other.pk) == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": 0}, "limit", "不能小于 1。"),
        ({"limit": 101}, "limit", "不能大于 100。"),
        ({"after": "not-a-cursor"}, "after", "翻页游标无效，请从第一页重新开始。"),
        ({"after": "WyJ4Il0"}, "after", "翻页游标无效，请从第一页重新开始。"),  # ["x"]
        (
            {"after": "WyJ5ZXN0ZXJkYXkiLCAxXQ"},
            "after",
            "翻页游标无效，请从第一页重新开始。",
        ),  # ["yesterday", 1]
        ({"overdue": "perhaps"}, "overdue", "请填写 true 或 false。"),
        ({"department": "市场"}, "department", "请填写整数。"),
        ({"status": "lost"}, "status", None),
    ],
)
def test_bad_list_parameters_name_the_parameter(world, params, field, message):
    for path in ("/cases", "/inbox"):
        if field in ("overdue", "status") and path == "/inbox":
            continue
        response = get(client_for(world.approver), path, **params)
        assert response.status_code == 422, (path, response.content)
        errors = response.json()["errors"]
        assert list(errors) == [field]
        if message is None:
            assert errors[field][0].startswith("可选值：'draft', 'submitted'")
        else:
            assert errors[field] == [message]


def test_the_inbox_pages_by_due_date_and_keeps_suspended_steps_last(world):
    cases = [accepted_case(world) for _ in range(5)]
    services.case_suspend(
        actor=world.approver, case=cases[0], kind="expert_review", reason="评审", expected_days=3
    )
    approver = client_for(world.approver)

    pages = _pages(approver, "/inbox", limit=2)

    rows = [row for page in pages for row in page]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(row["case_number"] for row in rows) == sorted(c.number for c in cases)
    assert rows[-1]["case_number"] == cases[0].number and rows[-1]["due"] is None
    dues = [moment(row["due"]) for row in rows[:-1]]
    assert dues == sorted(dues)
    assert {row["step"] for row in rows} == {"审查"}
    assert get(client_for(world.other_approver), "/inbox").json() == {"items": [], "next": None}


def test_the_inbox_shows_each_steps_card(world):
    green, yellow, red = accepted_case(world), accepted_case(world), accepted_case(world)
    end_of_today = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.max))
    Step.objects.filter(case=yellow, status=StepStatus.ACTIVE).update(due=end_of_today)
    Step.objects.filter(case=red, status=StepStatus.ACTIVE).update(
        due=timezone.now() - dt.timedelta(minutes=1)
    )

    rows = get(client_for(world.approver), "/inbox").json()["items"]

    assert [(row["case_number"], row["card"]) for row in rows] == [
        (red.number, "red"),
        (yellow.number, "yellow"),
        (green.number, "green"),
    ]


# --- the document -------------------------------------------------------------------------------


def test_the_openapi_document_lists_the_case_routes(world):
    response = client_for(world.clerk).get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in [
        ("/api/v1/cases", "post"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{number}", "get"),
        ("/api/v1/inbox", "get"),
        ("/api/v1/cases/{number}/accept", "post"),
        ("/api/v1/cases/{number}/refuse", "post"),
        ("/api/v1/cases/{number}/supplement", "post"),
        ("/api/v1/cases/{number}/supplement-submit", "post"),
        ("/api/v1/cases/{number}/withdraw", "post"),
        ("/api/v1/cases/{number}/terminate", "post"),
        ("/api/v1/cases/{number}/suspend", "post"),
        ("/api/v1/cases/{number}/resume", "post"),
        ("/api/v1/cases/{number}/extensions", "post"),
        ("/api/v1/cases/{number}/extensions/{extension_id}/decide", "post"),
        ("/api/v1/cases/{number}/steps/{step_id}/pass", "post"),
        ("/api/v1/cases/{number}/steps/{step_id}/return", "post"),
        ("/api/v1/cases/{number}/steps/{step_id}/propose-denial", "post"),
        ("/api/v1/cases/{number}/steps/{step_id}/decide", "post"),
        ("/api/v1/cases/{number}/deliver", "post"),
        ("/api/v1/cases/{number}/post-check", "post"),
        ("/api/v1/cases/{number}/materials/{material_id}/files", "post"),
    ]:
        assert method in paths.get(path, {}), (path, method)
    accept = paths["/api/v1/cases/{number}/accept"]["post"]
    assert accept["summary"] == "受理"
    assert {"200", "404", "409", "422"} <= set(accept["responses"])
