"""督办: issue, reply, close or send back, escalation; the case's timeline shows each step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from tongban.cases.selectors import case_timeline
from tongban.org.services import PermissionDeniedError
from tongban.supervision import selectors, services
from tongban.supervision.models import CardAlert
from tongban.supervision.tests.helpers import accepted_case
from tongban.supervision.workflow import DirectiveStatus

pytestmark = pytest.mark.django_db


def issue(world, **kwargs):
    options = {"department": world.main, "text": "请说明超期原因并尽快办结", "limit_days": 2}
    options.update(kwargs)
    return services.directive_issue(actor=world.supervisor, **options)


def test_issue_reply_close_and_the_case_timeline(world, clock):
    case = accepted_case(world)
    directive = issue(world, case=case)
    assert directive.status == DirectiveStatus.ISSUED
    assert directive.due > clock.at

    services.directive_reply(actor=world.approver, directive=directive, text="已补办，明日办结")
    services.directive_close(actor=world.supervisor, directive=directive, accept=True)

    directive.refresh_from_db()
    assert directive.status == DirectiveStatus.CLOSED and directive.closed_at is not None
    kinds = [e.kind for e in case_timeline(case=case)]
    assert kinds[-3:] == [
        "case.directive_issued",
        "case.directive_replied",
        "case.directive_closed",
    ]
    assert [r.kind for r in selectors.directive_replies(directive=directive)] == [
        "reply",
        "accepted",
    ]


def test_send_back_gives_a_new_limit_and_needs_a_reason(world, clock):
    directive = issue(world, pattern="审查环节多次超期")
    services.directive_reply(actor=world.head, directive=directive, text="已整改")
    with pytest.raises(ValidationError) as refused:
        services.directive_close(actor=world.supervisor, directive=directive, accept=False)
    assert "退回时请写明理由" in refused.value.message_dict["note"][0]
    clock.advance(dt.timedelta(days=7))
    services.directive_close(
        actor=world.supervisor, directive=directive, accept=False, note="未说明原因"
    )
    directive.refresh_from_db()
    assert directive.status == DirectiveStatus.ISSUED
    assert directive.due > clock.at


def test_only_the_department_replies_and_only_a_supervisor_issues(world):
    directive = issue(world, pattern="窗口态度")
    with pytest.raises(PermissionDeniedError):
        services.directive_reply(actor=world.other_approver, directive=directive, text="x")
    with pytest.raises(PermissionDeniedError):
        services.directive_issue(
            actor=world.head, department=world.main, text="x", limit_days=1, pattern="x"
        )
    assert (
        selectors.directive_get_visible(actor=world.other_approver, directive_id=directive.pk)
        is None
    )
    assert (
        selectors.directive_get_visible(actor=world.approver, directive_id=directive.pk)
        == directive
    )


def test_bad_input_names_each_field(world):
    with pytest.raises(ValidationError) as refused:
        services.directive_issue(
            actor=world.supervisor, department=world.main, text=" ", limit_days=0
        )
    assert set(refused.value.message_dict) == {"text", "limit_days", "pattern"}


def test_a_reply_after_close_is_refused_with_a_clear_message(world):
    directive = issue(world, pattern="x")
    services.directive_reply(actor=world.approver, directive=directive, text="已办")
    services.directive_close(actor=world.supervisor, directive=directive, accept=True)
    with pytest.raises(services.DirectiveStateError, match="已办结"):
        services.directive_reply(actor=world.approver, directive=directive, text="再答")


def test_unanswered_past_due_is_escalated_once_with_a_red_card(
    world, clock, sms_outbox, django_capture_on_commit_callbacks
):
    world.head.mobile = "13900000002"
    world.head.save(update_fields=["mobile"])
    case = accepted_case(world)
    directive = issue(world, case=case)
    clock.set(directive.due + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.card_sweep()
        second = services.card_sweep()
    assert (first.escalated, second.escalated) == (1, 0)
    directive.refresh_from_db()
    assert directive.status == DirectiveStatus.ESCALATED
    assert (
        CardAlert.objects.filter(clock="directive", object_id=directive.pk, colour="red").count()
        == 1
    )
    assert any("督办" in m.text and m.mobile == "13900000002" for m in sms_outbox)
    assert "case.directive_escalated" in [e.kind for e in case_timeline(case=case)]
    # the department still answers an escalated directive
    services.directive_reply(actor=world.approver, directive=directive, text="已办结")
    directive.refresh_from_db()
    assert directive.status == DirectiveStatus.REPLIED
