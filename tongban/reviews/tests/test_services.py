"""好差评 through the services: who may rate, when, how often; rectification, re-rating, appeal."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from tongban.core.eventlog import verify_event_log
from tongban.core.selectors import event_list_for
from tongban.org.models import Role
from tongban.org.services import PermissionDeniedError
from tongban.reviews import selectors, services
from tongban.reviews.models import Evaluation, Rectification
from tongban.reviews.workflow import RectificationState
from tongban.timelimits.selectors import calendar_for

from .factories import accepted_case, concluded_case, make_world, staff, window_case

pytestmark = pytest.mark.django_db

BAD = {
    "level": "very_dissatisfied",
    "tags": ["attitude", "many_trips"],
    "text": "窗口态度差，跑了三次",
}


def today():
    """Beijing's date now: read at each use, for a run that passes midnight must not hold yesterday."""
    return timezone.localdate()


@pytest.fixture
def world():
    return make_world()


def refusals(case):
    return [e.payload for e in event_list_for(subject=case) if e.kind == "review.refused_attempt"]


def rate(world, case, occasion="completion", **answer):
    return services.evaluation_by_applicant(
        actor=world.citizen, case=case, occasion=occasion, **(answer or {"level": "satisfied"})
    )


def test_the_applicant_rates_a_decided_case_once_from_the_portal(world):
    case = concluded_case(world)

    evaluation = rate(world, case, level="very_satisfied", text="很快")

    assert evaluation.channel == "portal" and evaluation.rated_by == world.citizen
    assert evaluation.department == world.main
    assert not Rectification.objects.exists()
    assert selectors.bad_review_counts([world.main.pk], today(), today()) == {world.main.pk: (0, 1)}


def test_a_clerk_rating_for_the_applicant_is_refused_and_the_attempt_recorded(world):
    case = concluded_case(world)

    with pytest.raises(PermissionDeniedError, match="工作人员不能代替申请人评价"):
        services.evaluation_by_query_code(
            actor=world.clerk, case=case, occasion="completion", level="very_satisfied"
        )
    with pytest.raises(PermissionDeniedError, match="工作人员不能代替申请人评价"):
        services.evaluation_by_applicant(
            actor=world.clerk, case=case, occasion="completion", level="satisfied"
        )

    assert not Evaluation.objects.exists()
    assert [(p["reason"], p["channel"]) for p in refusals(case)] == [
        ("staff", "query_code"),
        ("staff", "portal"),
    ]
    [event] = [e for e in event_list_for(subject=case) if e.kind == "review.refused_attempt"][:1]
    assert event.actor == world.clerk
    assert verify_event_log().intact


def test_someone_elses_portal_account_is_refused(world):
    from tongban.org.models import AccountKind
    from tongban.org.tests.factories import UserFactory

    case = concluded_case(world)
    other = UserFactory(kind=AccountKind.APPLICANT, mobile="13900139000")

    with pytest.raises(PermissionDeniedError, match="只有申请人本人"):
        services.evaluation_by_applicant(
            actor=other, case=case, occasion="completion", level="satisfied"
        )

    assert not Evaluation.objects.exists()
    assert [p["reason"] for p in refusals(case)] == ["not_applicant"]


def test_an_occasion_not_reached_is_refused(world):
    submitted = window_case(world)
    accepted = accepted_case(world)

    with pytest.raises(services.ReviewStateError, match="尚未完成受理服务"):
        rate(world, submitted, occasion="acceptance")
    with pytest.raises(services.ReviewStateError, match="尚未完成办结服务"):
        rate(world, accepted, occasion="completion")
    rate(world, accepted, occasion="acceptance")

    assert [e.occasion for e in Evaluation.objects.all()] == ["acceptance"]
    assert [p["reason"] for p in refusals(submitted)] == ["not_reached"]
    assert [p["reason"] for p in refusals(accepted)] == ["not_reached"]


def test_a_denied_case_can_be_rated_for_its_completion(world):
    case = concluded_case(world, approve=False)
    assert rate(world, case).occasion == "completion"


def test_a_second_evaluation_of_the_same_occasion_is_refused(world):
    case = concluded_case(world)
    rate(world, case, level="satisfied")

    with pytest.raises(services.ReviewStateError, match="已经评价过"):
        services.evaluation_by_query_code(
            actor=None, case=case, occasion="completion", level="very_satisfied"
        )

    assert [e.level for e in Evaluation.objects.all()] == ["satisfied"]
    assert [p["reason"] for p in refusals(case)] == ["duplicate"]


def test_a_bad_review_needs_reason_tags_and_text(world):
    case = concluded_case(world)

    with pytest.raises(ValidationError) as error:
        rate(world, case, level="dissatisfied", tags=[], text=" ")

    assert set(error.value.message_dict) == {"tags", "text"}
    with pytest.raises(ValidationError, match="未知的差评原因"):
        rate(world, case, level="dissatisfied", tags=["lazy"], text="慢")
    assert not Evaluation.objects.exists()
    # A form mistake is not a refused attempt: the applicant corrects it and tries again.
    assert refusals(case) == []


def test_a_signed_link_rates_its_case_until_it_expires(world, monkeypatch):
    case = concluded_case(world)
    token = services.link_token(case=case, occasion="completion")
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - 31 * 86400)
    old_token = services.link_token(case=case, occasion="completion")
    monkeypatch.undo()

    with pytest.raises(PermissionDeniedError, match="评价链接已过期"):
        services.evaluation_by_link(actor=None, token=old_token, level="satisfied")
    evaluation = services.evaluation_by_link(
        actor=None, token=token, level="basically_satisfied", channel="device"
    )

    assert evaluation.channel == "device" and evaluation.occasion == "completion"
    assert [p["reason"] for p in refusals(case)] == ["expired_link"]


def test_a_forged_link_is_refused_and_recorded_on_the_case_it_names(world):
    case = concluded_case(world)
    token = services.link_token(case=case, occasion="completion")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    with pytest.raises(PermissionDeniedError, match="评价链接无效"):
        services.evaluation_by_link(actor=None, token=forged, level="satisfied")
    with pytest.raises(PermissionDeniedError, match="评价链接无效"):
        services.evaluation_by_link(actor=None, token="not-a-link", level="satisfied")

    assert not Evaluation.objects.exists()
    assert [p["reason"] for p in refusals(case)] == ["forged_link"]


def test_a_hotline_agent_records_the_applicants_answer_and_no_one_else_may(world):
    case = concluded_case(world)
    agent = staff(Role.HOTLINE_AGENT)

    with pytest.raises(PermissionDeniedError, match="只有热线坐席"):
        services.evaluation_by_hotline(
            actor=world.approver, case=case, occasion="completion", level="very_satisfied"
        )
    evaluation = services.evaluation_by_hotline(
        actor=agent, case=case, occasion="completion", **BAD
    )

    assert evaluation.channel == "hotline" and evaluation.recorded_by == agent
    assert evaluation.rated_by is None
    assert [(p["reason"], p["channel"]) for p in refusals(case)] == [
        ("not_hotline_agent", "hotline")
    ]


def test_a_bundle_part_is_rated_on_its_parent_only(world):
    case = concluded_case(world)
    # A part is any case with a parent; the rule does not depend on the bundle's items.
    from tongban.cases.models import Case

    Case.objects.filter(pk=case.pk).update(parent=concluded_case(world))
    case.refresh_from_db()
    with pytest.raises(services.ReviewStateError, match="主件"):
        rate(world, case)


def test_a_bad_review_opens_a_rectification_with_working_day_deadlines(world):
    case = concluded_case(world)

    evaluation = rate(world, case, **BAD)

    rectification = evaluation.rectification
    calendar = calendar_for(case.region)
    opened = timezone.localtime(evaluation.created_at).date()
    assert rectification.state == RectificationState.OPENED
    assert rectification.department == world.main
    assert timezone.localtime(rectification.verify_due).date() == calendar.add_working_days(
        opened, 1
    )
    assert timezone.localtime(rectification.reply_due).date() == calendar.add_working_days(
        opened, 5
    )
    assert rectification.due == rectification.verify_due
    assert selectors.bad_review_counts([world.main.pk], today(), today()) == {world.main.pk: (1, 1)}


def test_verify_reply_then_the_applicant_re_rates_once(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    case = concluded_case(world)
    first = rate(world, case, **BAD)
    rectification = first.rectification

    with pytest.raises(services.ReviewStateError, match="已经评价过"):
        rate(world, case, level="satisfied")
    with pytest.raises(PermissionDeniedError):
        services.rectification_verify(
            actor=world.other_approver, rectification=rectification, note="x"
        )
    services.rectification_verify(
        actor=world.approver, rectification=rectification, note="已电话回访，情况属实"
    )
    rectification.refresh_from_db()
    assert rectification.state == "verified" and rectification.due == rectification.reply_due
    with django_capture_on_commit_callbacks(execute=True):
        services.rectification_reply(
            actor=world.approver,
            rectification=rectification,
            reply="已对窗口人员批评教育，推行一次告知",
        )
    rectification.refresh_from_db()
    assert rectification.state == "replied" and rectification.replied_in_time is True
    assert rectification.due is None
    assert case.number in sms_outbox[-1].text and "再评价一次" in sms_outbox[-1].text

    second = rate(world, case, level="satisfied")

    assert second.rerating_of == first
    rectification.refresh_from_db()
    assert rectification.state == "closed"
    assert Evaluation.objects.filter(pk=first.pk, level="very_dissatisfied").exists()
    # The applicant's last word counts: one evaluation, a good one.
    assert selectors.bad_review_counts([world.main.pk], today(), today()) == {world.main.pk: (0, 1)}
    with pytest.raises(services.ReviewStateError, match="已经评价过"):
        rate(world, case, level="very_satisfied")
    assert Evaluation.objects.count() == 2
    kinds = [e.kind for e in event_list_for(subject=rectification)]
    assert kinds == [
        "review.rectification_opened",
        "review.verified",
        "review.replied",
        "review.closed",
    ]


def test_an_upheld_appeal_leaves_the_figures_but_never_the_record(world):
    bad_case, good_case = concluded_case(world), concluded_case(world)
    bad = rate(world, bad_case, **BAD)
    rate(world, good_case, level="very_satisfied")
    [before] = selectors.department_review_figures("430981", today(), today())
    assert (before.evaluations, before.good, before.bad, before.good_rate) == (2, 1, 1, 0.5)

    with pytest.raises(PermissionDeniedError, match="部门负责人"):
        services.appeal_file(actor=world.approver, rectification=bad.rectification, evidence="x")
    appeal = services.appeal_file(
        actor=world.head, rectification=bad.rectification, evidence="监控录像显示申请人当日未到窗口"
    )
    with pytest.raises(PermissionDeniedError, match="监察人员"):
        services.appeal_decide(actor=world.head, appeal=appeal, uphold=True, reason="x")
    services.appeal_decide(
        actor=world.supervisor, appeal=appeal, uphold=True, reason="录像证实评价与事实不符"
    )

    bad.refresh_from_db()
    assert bad.excluded_from_statistics and bad.level == "very_dissatisfied"
    assert bad.rectification.state == "closed"
    assert selectors.bad_review_counts([world.main.pk], today(), today()) == {world.main.pk: (0, 1)}
    [after] = selectors.department_review_figures("430981", today(), today())
    assert (after.evaluations, after.good, after.good_rate) == (1, 1, 1.0)
    assert "review.excluded_from_statistics" in [e.kind for e in event_list_for(subject=bad)]
    with pytest.raises(services.ReviewStateError, match="已复核"):
        services.appeal_decide(actor=world.supervisor, appeal=appeal, uphold=False, reason="再议")


def test_a_rejected_appeal_returns_the_rectification_where_it_stood(world):
    bad = rate(world, concluded_case(world), **BAD)
    services.rectification_verify(
        actor=world.approver, rectification=bad.rectification, note="属实"
    )
    appeal = services.appeal_file(actor=world.head, rectification=bad.rectification, evidence="无")

    services.appeal_decide(actor=world.supervisor, appeal=appeal, uphold=False, reason="证据不足")

    rectification = Rectification.objects.get(pk=bad.rectification.pk)
    assert rectification.state == "verified" and rectification.due == rectification.reply_due
    assert not Evaluation.objects.get(pk=bad.pk).excluded_from_statistics
    with pytest.raises(services.ReviewStateError, match="申诉过一次"):
        services.appeal_file(actor=world.head, rectification=rectification, evidence="再申诉")


def test_the_rectification_rate_counts_replies_made_by_their_deadline(world):
    on_time = rate(world, concluded_case(world), **BAD).rectification
    late = rate(world, concluded_case(world), **BAD).rectification
    Rectification.objects.filter(pk=late.pk).update(
        verify_due=timezone.now() - dt.timedelta(days=2),
        reply_due=timezone.now() - dt.timedelta(days=1),
    )
    for rectification in (on_time, late):
        services.rectification_verify(
            actor=world.approver, rectification=rectification, note="核实"
        )
        services.rectification_reply(
            actor=world.approver, rectification=rectification, reply="已整改"
        )
    later = timezone.now() + dt.timedelta(days=30)

    [figures] = selectors.department_review_figures(
        "430981", today() - dt.timedelta(days=3), today() + dt.timedelta(days=20), at=later
    )

    assert (figures.bad_due, figures.bad_in_time, figures.rectify_rate) == (2, 1, 0.5)


def test_the_case_timeline_tells_the_applicant_of_their_review_and_only_staff_of_refusals(world):
    from tongban.cases.timeline import Audience, timeline_of

    case = concluded_case(world)
    with pytest.raises(PermissionDeniedError):
        services.evaluation_by_query_code(
            actor=world.clerk, case=case, occasion="completion", level="very_satisfied"
        )
    bad = rate(world, case, **BAD)
    services.rectification_verify(
        actor=world.approver, rectification=bad.rectification, note="属实"
    )
    services.rectification_reply(
        actor=world.approver, rectification=bad.rectification, reply="已向您致歉并改进"
    )

    def texts(audience):
        return [entry.text for entry in timeline_of(case, audience=audience)]

    applicant, staff_view, public = (
        texts(Audience.APPLICANT),
        texts(Audience.STAFF),
        texts(Audience.PUBLIC),
    )
    assert "您的评价：非常不满意" in applicant
    assert any("您反映的问题已整改" in t and "已向您致歉并改进" in t for t in applicant)
    assert not any("未被接受" in t or "回访" in t for t in applicant)
    assert "一次评价未被接受（非常满意）" in staff_view
    assert not any("评价" in t or "整改" in t for t in public)


def test_the_supervision_board_reads_the_running_rectification_clock(world):
    waiting = rate(world, concluded_case(world), **BAD).rectification
    replied = rate(world, concluded_case(world), **BAD).rectification
    services.rectification_verify(actor=world.approver, rectification=replied, note="属实")
    services.rectification_reply(actor=world.approver, rectification=replied, reply="已整改")

    rows = list(selectors.rectification_clock_rows(region_code="430981"))

    assert rows == [waiting]
    assert rows[0].due == rows[0].verify_due and rows[0].department_id == world.main.pk
