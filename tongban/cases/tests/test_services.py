"""The life of a case through the services: answers, steps, clock, bundle, visits, events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tongban.cases import services
from tongban.cases.models import Case, CaseMaterial, MaterialStatus
from tongban.cases.selectors import card_of, case_timeline, inbox_for
from tongban.cases.workflow import CaseStatus, StepStatus
from tongban.core.eventlog import verify_event_log
from tongban.org.models import Role
from tongban.org.services import PermissionDeniedError
from tongban.timelimits.clock import Card
from tongban.timelimits.selectors import calendar_for

from .factories import FORM, make_world, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def window_case(world, **kwargs):
    return services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
        **kwargs,
    )


def active(case):
    return list(case.steps.filter(status=StepStatus.ACTIVE).order_by("order"))


def test_window_case_numbered_by_region_and_day_and_counts_the_visit(world):
    first = window_case(world)
    second = window_case(world)
    today = timezone.localdate().strftime("%Y%m%d")
    assert first.number == f"430981{today}00001"
    assert second.number == f"430981{today}00002"
    assert first.status == CaseStatus.SUBMITTED
    assert first.visits == 1
    assert len(first.query_code) == 8


def test_accept_starts_steps_in_stages_and_parallel_steps_together(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    calendar = calendar_for(case.region)
    accepted_on = timezone.localtime(case.accepted_at).date()
    assert timezone.localtime(case.promised_due).date() == calendar.add_working_days(
        accepted_on, 10
    )
    assert timezone.localtime(case.legal_due).date() == calendar.add_working_days(accepted_on, 20)
    [review] = active(case)
    assert review.name == "审查"
    assert inbox_for(actor=world.approver) == [review]
    assert inbox_for(actor=world.other_approver) == []

    services.step_pass(actor=world.approver, step=review, opinion="材料齐全")
    parallel = active(case)
    assert [s.name for s in parallel] == ["现场核查", "部门意见"]
    assert {s.department_id for s in parallel} == {world.main.pk, world.other.pk}
    assert [s.name for s in inbox_for(actor=world.other_approver)] == ["部门意见"]

    services.step_pass(actor=world.other_approver, step=parallel[1], opinion="同意")
    assert [s.name for s in active(case)] == ["现场核查"]
    services.step_pass(actor=world.approver, step=parallel[0], opinion="核查通过")
    [decision] = active(case)
    assert decision.name == "决定"
    with pytest.raises(PermissionDeniedError):
        services.step_decide(actor=world.approver, step=decision, approve=True)
    services.step_decide(actor=world.head, step=decision, approve=True, reason="符合条件")
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert case.decision == "approved"
    assert case.result_name == "测试许可证"

    services.case_deliver(actor=world.clerk, case=case, method="window")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED
    assert case.visits == 2
    kinds = [e.kind for e in case_timeline(case=case)]
    assert kinds[:3] == ["case.created", "case.submitted", "case.accepted"]
    assert kinds[-1] == "case.delivered"
    assert verify_event_log().intact


def test_the_second_answer_is_refused_with_a_clear_message(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    with pytest.raises(services.CaseStateError, match="办理中"):
        services.case_refuse(actor=world.clerk, case=case, reason="x", basis="y")


def test_supplement_twice_is_recorded_as_a_breach(world, sms_outbox):
    case = window_case(world)
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[{"kind": "material", "key": "premises", "problem": "缺少"}],
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENT
    assert case.materials.get(material_type="premises").status == MaterialStatus.MISSING
    services.case_supplement_submit(actor=world.clerk, case=case)
    case.refresh_from_db()
    assert case.visits == 2
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[{"kind": "field", "key": "name", "problem": "姓名有误"}],
    )
    kinds = [e.kind for e in case_timeline(case=case)]
    assert kinds.count("case.supplement_requested") == 2
    assert kinds.count("case.one_time_notice_breached") == 1


def test_suspend_moves_every_due_date_by_the_working_days_suspended(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    [review] = active(case)
    case.refresh_from_db()
    before_case, before_step = case.promised_due, review.due
    services.case_suspend(
        actor=world.approver, case=case, kind="expert_review", reason="专家评审", expected_days=5
    )
    case.refresh_from_db()
    review.refresh_from_db()
    assert case.status == CaseStatus.SUSPENDED and case.promised_due is None and review.due is None
    with pytest.raises(services.CaseStateError, match="特别程序"):
        services.step_pass(actor=world.approver, step=review, opinion="x")
    services.case_resume(actor=world.approver, case=case)
    case.refresh_from_db()
    review.refresh_from_db()
    # Suspended and resumed on the same day: nothing moves.
    assert case.promised_due == before_case and review.due == before_step


def test_extension_is_granted_once_by_a_head_within_the_allowed_days(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    legal_before = case.legal_due
    with pytest.raises(ValidationError, match="最多可延长 10 天"):
        services.extension_request(actor=world.approver, case=case, days=11, reason="复杂")
    extension = services.extension_request(
        actor=world.approver, case=case, days=10, reason="情况复杂"
    )
    with pytest.raises(PermissionDeniedError):
        services.extension_decide(actor=world.approver, extension=extension, grant=True)
    services.extension_decide(actor=world.head, extension=extension, grant=True)
    case.refresh_from_db()
    calendar = calendar_for(case.region)
    assert timezone.localtime(case.legal_due).date() == calendar.add_working_days(
        timezone.localtime(legal_before).date(), 10
    )
    with pytest.raises(services.CaseStateError, match="已延期一次"):
        services.extension_request(actor=world.approver, case=case, days=1, reason="再延")


def test_tolerated_material_blocks_approval_until_supplied(world):
    case = window_case(world)
    premises = case.materials.get(material_type="premises")
    services.case_accept(
        actor=world.clerk,
        case=case,
        tolerated=[premises],
        owed_by=timezone.localdate() + dt.timedelta(days=7),
    )
    case.refresh_from_db()
    assert case.tolerance_due is not None
    for step in active(case):
        services.step_pass(actor=world.approver, step=step, opinion="通过")
    for step in active(case):
        approver = world.other_approver if step.department_id == world.other.pk else world.approver
        services.step_pass(actor=approver, step=step, opinion="通过")
    [decision] = active(case)
    with pytest.raises(ValidationError, match="容缺材料尚未补齐"):
        services.step_decide(actor=world.head, step=decision, approve=True)
    services.tolerated_material_supply(actor=world.clerk, material=premises)
    services.step_decide(actor=world.head, step=decision, approve=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED and case.tolerance_due is None and case.visits == 2


def test_commitment_decides_at_once_and_a_failed_check_revokes(world):
    case = window_case(world)
    services.case_accept(
        actor=world.clerk, case=case, commitment=True, commitment_text="本人承诺符合条件"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED and case.commitment
    assert case.post_check.due > case.completed_at
    services.post_check_record(actor=world.approver, case=case, passed=False, note="经核查不符合")
    case.refresh_from_db()
    assert case.status == CaseStatus.REVOKED


def test_online_draft_then_submit_needs_the_files(world):
    case = services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data={"name": "王五"},
        submit=False,
    )
    assert case.status == CaseStatus.DRAFT
    with pytest.raises(ValidationError) as error:
        services.case_submit(actor=world.citizen, case=case)
    assert "mobile" in error.value.message_dict
    services.case_draft_save(actor=world.citizen, case=case, form_data=FORM)
    with pytest.raises(ValidationError) as error:
        services.case_submit(actor=world.citizen, case=case)
    assert "material-application" in error.value.message_dict
    for material in case.materials.all():
        services.upload_add(
            actor=world.citizen,
            case=case,
            material=material,
            name="a.pdf",
            content=b"%PDF-1.4 test",
        )
    services.case_submit(actor=world.citizen, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.prereview_due is not None and case.visits == 0


def test_denial_at_the_decision_step(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    [review] = active(case)
    services.step_propose_denial(actor=world.approver, step=review, reason="不符合条件")
    for step in active(case):
        approver = world.other_approver if step.department_id == world.other.pk else world.approver
        services.step_pass(actor=approver, step=step, opinion="同意")
    [decision] = active(case)
    services.step_decide(actor=world.head, step=decision, approve=False, reason="不符合法定条件")
    case.refresh_from_db()
    assert case.status == CaseStatus.DENIED and case.completed_at is not None


def test_return_to_an_earlier_step(world):
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    [review] = active(case)
    services.step_pass(actor=world.approver, step=review, opinion="通过")
    site, other = active(case)
    services.step_return(
        actor=world.other_approver, step=other, to_step=review, reason="材料需重审"
    )
    assert [s.name for s in active(case)] == ["审查"]
    site.refresh_from_db()
    assert site.status == StepStatus.WAITING


def test_strangers_cannot_act(world):
    case = window_case(world)
    with pytest.raises(PermissionDeniedError):
        services.case_accept(actor=world.stranger, case=case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    assert not CaseMaterial.objects.filter(case=case, status=MaterialStatus.TOLERATED).exists()


def test_the_applicant_gets_an_sms_at_acceptance_after_commit(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    case = window_case(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_accept(actor=world.clerk, case=case)
    case.refresh_from_db()
    message = sms_outbox[-1]
    due = timezone.localtime(case.promised_due).strftime("%Y年%m月%d日")
    assert message.mobile == "13800138000"
    assert case.number in message.text and "已受理" in message.text and due in message.text


def test_an_unanswered_online_application_turns_yellow_then_red(world):
    case = services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data=FORM,
        submit=False,
    )
    for material in case.materials.all():
        services.upload_add(
            actor=world.citizen, case=case, material=material, name="a.pdf", content=b"%PDF-1.4 x"
        )
    services.case_submit(actor=world.citizen, case=case)
    case.refresh_from_db()
    due = case.prereview_due
    calendar = calendar_for(case.region)
    last_day = timezone.localtime(due).date()
    assert last_day == calendar.add_working_days(timezone.localdate(case.submitted_at), 1)
    morning_of_last_day = timezone.make_aware(dt.datetime.combine(last_day, dt.time(9)))
    assert card_of(due, region=case.region, at=case.submitted_at) == Card.GREEN
    assert card_of(due, region=case.region, at=morning_of_last_day) == Card.YELLOW
    assert card_of(due, region=case.region, at=due + dt.timedelta(seconds=1)) == Card.RED


def online_case(world):
    case = services.case_create(
        actor=world.citizen,
        applicant=world.applicant,
        channel="online",
        version=world.item,
        form_data={"name": "王五", "mobile": "12"},
        submit=False,
    )
    return case


def test_a_submission_names_every_wrong_field_and_missing_file_at_once(world):
    case = online_case(world)
    with pytest.raises(ValidationError) as error:
        services.case_submit(actor=world.citizen, case=case)
    assert {"mobile", "material-application", "material-premises"} <= set(error.value.message_dict)


def test_a_material_named_in_the_supplement_notice_needs_a_new_file(world):
    case = online_case(world)
    services.case_draft_save(actor=world.citizen, case=case, form_data=FORM)
    for material in case.materials.all():
        services.upload_add(
            actor=world.citizen, case=case, material=material, name="a.pdf", content=b"%PDF-1.4 x"
        )
    services.case_submit(actor=world.citizen, case=case)
    services.case_request_supplement(
        actor=world.clerk,
        case=case,
        items=[{"kind": "material", "key": "premises", "problem": "复印件不清晰"}],
    )
    with pytest.raises(ValidationError, match="复印件不清晰"):
        services.case_supplement_submit(actor=world.citizen, case=case)
    premises = case.materials.get(material_type="premises")
    services.upload_add(
        actor=world.citizen, case=case, material=premises, name="b.pdf", content=b"%PDF-1.4 y"
    )
    services.case_supplement_submit(actor=world.citizen, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED and case.visits == 0


def test_department_systems_receive_the_case_events_of_their_department(world):
    from tongban.webhooks.models import WebhookDelivery
    from tongban.webhooks.services import webhook_endpoint_create

    endpoint = webhook_endpoint_create(
        department=world.other,
        name="消防审批系统",
        url="http://127.0.0.1:9/hook",
        actor=staff(Role.SYSADMIN),
        kinds=["case.steps_started", "case.completed"],
    )
    case = window_case(world)
    services.case_accept(actor=world.clerk, case=case)
    # 消防 holds a step of the case from acceptance on, so its system follows the case from then.
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    [review] = active(case)
    services.step_pass(actor=world.approver, step=review, opinion="通过")
    # The parallel stage reaches 消防: its system hears of it without anyone typing the case twice.
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).latest("created_at")
    assert delivery.event_kind == "case.steps_started"
    assert delivery.body["event"]["kind"] == "case.steps_started"
    data = delivery.body["data"]
    assert data["case"]["number"] == case.number
    assert "部门意见" in [s["name"] for s in data["payload"]["steps"]]
