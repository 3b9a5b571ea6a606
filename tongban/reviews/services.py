"""Every write of 好差评: evaluations, their rectification, appeals. One transaction each.

The rules (DESIGN.md §4 "好差评"): only the applicant rates — signed in to the portal, with the
case's query code, through a signed SMS / window link, or by their answer to a hotline callback
that an agent records; a staff member rating for them is refused and the attempt recorded on the
case. One evaluation per case and service occasion, once the case has reached it; a second is
refused, and so is one racing the first (the unique constraint decides). A bad review opens a
rectification with a verify and a reply deadline in working days; after the reply the applicant may
re-rate once (a new row; the first stays). An upheld appeal flags the review out of the statistics.

A refusal stores nothing but its event, which is committed even though the call then raises.
Nothing here renders a page or reads a request.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases.models import Case
from tongban.cases.selectors import review_case_get
from tongban.cases.services import CaseStateError
from tongban.core.services import event_append
from tongban.core.sms import send_sms
from tongban.org.services import PermissionDeniedError
from tongban.timelimits.clock import Start, fold
from tongban.timelimits.selectors import calendar_for

from . import permissions
from .models import (
    BAD_LEVELS,
    Appeal,
    AppealDecision,
    Channel,
    Evaluation,
    Level,
    Occasion,
    ReasonTag,
    Rectification,
)
from .workflow import RectificationState, can_move

logger = logging.getLogger(__name__)

LINK_SALT = "tongban.reviews.link"


class ReviewStateError(CaseStateError):
    """The case or the rectification does not allow this now (not reached, already rated …)."""


# --- settings -----------------------------------------------------------------------------------


def verify_days() -> int:
    return int(getattr(settings, "REVIEWS_VERIFY_DAYS", 1))


def rectify_days() -> int:
    return int(getattr(settings, "REVIEWS_RECTIFY_DAYS", 5))


def link_max_age_seconds() -> int:
    return int(getattr(settings, "REVIEWS_LINK_MAX_AGE_DAYS", 30)) * 86400


# --- occasions and links -----------------------------------------------------------------------


def occasion_reached(case: Case, occasion: str) -> bool:
    """Acceptance is rated once the case was accepted; completion once it was decided."""
    if occasion == Occasion.ACCEPTANCE:
        return case.accepted_at is not None
    if occasion == Occasion.COMPLETION:
        return case.completed_at is not None
    return False


def link_token(*, case: Case, occasion: str) -> str:
    """The signed part of an SMS or window link: names the case and occasion, expires."""
    return signing.dumps({"c": case.pk, "o": occasion}, salt=LINK_SALT, compress=True)


def _claimed_case_id(token: str) -> int | None:
    """The case a token that failed its signature says it is for, to record the attempt there."""
    try:
        value = token.rsplit(":", 2)[0]
        compressed = value.startswith(".")
        raw = signing.b64_decode(value.lstrip(".").encode())
        data = json.loads(zlib.decompress(raw) if compressed else raw)
        return int(data["c"])
    except Exception:  # a forgery may be any bytes at all
        return None


def link_open(*, token: str, actor: Any = None) -> tuple[Case, str]:
    """The case and occasion of a signed link, or a refusal (recorded on the case it names)."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=link_max_age_seconds())
    except signing.SignatureExpired:
        case = _case_or_none(_claimed_case_id(token))
        message = _("评价链接已过期，请通过办件查询码或“我的办件”评价。")
        if case is not None:
            _refuse(case, actor=actor, reason="expired_link", message=message)
        raise PermissionDeniedError(message) from None
    except signing.BadSignature:
        case = _case_or_none(_claimed_case_id(token))
        message = _("评价链接无效，请核对短信中的链接。")
        if case is not None:
            _refuse(case, actor=actor, reason="forged_link", message=message)
        raise PermissionDeniedError(message) from None
    case = _case_or_none(data.get("c"))
    occasion = str(data.get("o", ""))
    if case is None or occasion not in Occasion.values:
        raise PermissionDeniedError(_("评价链接无效，请核对短信中的链接。"))
    return case, occasion


def _case_or_none(case_id: Any) -> Case | None:
    if not isinstance(case_id, int):
        return None
    return review_case_get(case_id=case_id)


# --- refusals ----------------------------------------------------------------------------------


def _refuse(
    case: Case,
    *,
    actor: Any,
    reason: str,
    message: str,
    occasion: str = "",
    channel: str = "",
    level: str = "",
    error: type[Exception] = PermissionDeniedError,
) -> NoReturn:
    """Record the refused attempt on the case, committed on its own, then raise."""
    who = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        event_append(
            subject=case,
            kind="review.refused_attempt",
            actor=who,
            payload={
                "number": case.number,
                "reason": reason,
                "occasion": occasion,
                "channel": channel,
                "level": level,
                "message": message,
            },
        )
    raise error(message)


def _state_refusal(case: Case, **kwargs: Any) -> NoReturn:
    _refuse(case, error=ReviewStateError, **kwargs)


# --- evaluating --------------------------------------------------------------------------------


def _clean(level: str, tags: Sequence[str], text: str) -> tuple[list[str], str]:
    errors: dict[str, list[str]] = {}
    if level not in Level.values:
        errors["level"] = [_("请选择评价等级。")]
    tags = list(dict.fromkeys(str(t) for t in tags))
    unknown = [t for t in tags if t not in ReasonTag.values]
    text = text.strip()
    if unknown:
        errors["tags"] = [_("未知的差评原因：%(tags)s。") % {"tags": "、".join(unknown)}]
    if level in BAD_LEVELS:
        if not tags and "tags" not in errors:
            errors["tags"] = [_("不满意的评价请至少选择一项原因。")]
        if not text:
            errors["text"] = [_("不满意的评价请写明具体情况，以便整改。")]
    else:
        # Reasons belong to bad reviews only: a good one keeps what was said, without tags.
        tags = []
    if len(text) > 500:
        errors["text"] = [_("评价内容最多 500 字。")]
    if errors:
        raise ValidationError(errors)
    return tags, text


def _due_after(case: Case, at: datetime, days: int) -> datetime:
    state = fold(
        [Start(at=timezone.localtime(at), limit=days, unit="working")], calendar_for(case.region)
    )
    assert state.due is not None
    return state.due


def _evaluate(
    case: Case,
    *,
    occasion: str,
    level: str,
    tags: Sequence[str],
    text: str,
    channel: str,
    actor: Any,
    rated_by: Any = None,
    recorded_by: Any = None,
) -> Evaluation:
    """The checks every channel shares, then one evaluation (or re-rating) stored."""
    refusal = {"actor": actor, "occasion": occasion, "channel": channel, "level": level}
    if occasion not in Occasion.values:
        raise ValidationError({"occasion": [_("请选择评价的服务环节。")]})
    if case.parent_id is not None:
        _state_refusal(case, reason="bundle_part", message=_("一件事请在主件上评价。"), **refusal)
    if not occasion_reached(case, occasion):
        label = Occasion(occasion).label
        _state_refusal(
            case,
            reason="not_reached",
            message=_("办件 %(number)s 尚未完成%(occasion)s，暂不能评价。")
            % {"number": case.number, "occasion": label},
            **refusal,
        )
    first = (
        Evaluation.objects.filter(case=case, occasion=occasion, rerating_of__isnull=True)
        .select_related("rectification")
        .first()
    )
    rectification = getattr(first, "rectification", None) if first else None
    rerating = (
        first is not None
        and rectification is not None
        and rectification.state == RectificationState.REPLIED
        and not Evaluation.objects.filter(rerating_of=first).exists()
    )
    if first is not None and not rerating:
        _duplicate(case, **refusal)
    clean_tags, clean_text = _clean(level, tags, text)
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                case=case,
                occasion=occasion,
                level=level,
                tags=clean_tags,
                text=clean_text,
                channel=channel,
                department_id=case.department_id,
                region_id=case.region_id,
                rated_by=rated_by,
                recorded_by=recorded_by,
                rerating_of=first if rerating else None,
            )
            if rerating:
                assert rectification is not None
                _close_on_rerating(rectification, evaluation, actor=rated_by or recorded_by)
            elif evaluation.is_bad:
                _open_rectification(evaluation, case, actor=rated_by or recorded_by)
            # On the case's own chain: its timeline tells the applicant and staff of the review.
            event_append(
                subject=case,
                kind="review.rerated" if rerating else "review.submitted",
                actor=rated_by or recorded_by,
                payload={
                    "number": case.number,
                    "evaluation": evaluation.pk,
                    "occasion": occasion,
                    "level": level,
                    "tags": clean_tags,
                    "text": clean_text,
                    "channel": channel,
                    "rerating_of": first.pk if rerating and first else None,
                },
            )
    except IntegrityError:
        # Another submission for the same occasion committed first: exactly one is stored.
        _duplicate(case, **refusal)
    return evaluation


def _duplicate(case: Case, **refusal: Any) -> NoReturn:
    _state_refusal(
        case,
        reason="duplicate",
        message=_("办件 %(number)s 的这项服务已经评价过，每项服务只能评价一次。")
        % {"number": case.number},
        **refusal,
    )


def _refuse_staff(case: Case, *, actor: Any, occasion: str, channel: str, level: str) -> None:
    """A staff account never rates for an applicant, whatever door it uses."""
    if permissions.is_staff_account(actor):
        _refuse(
            case,
            actor=actor,
            reason="staff",
            message=_("工作人员不能代替申请人评价；请申请人本人评价，热线回访由坐席记录。"),
            occasion=occasion,
            channel=channel,
            level=level,
        )


def evaluation_by_applicant(
    *, actor: Any, case: Case, occasion: str, level: str, tags: Sequence[str] = (), text: str = ""
) -> Evaluation:
    """The applicant, signed in to the portal, rates their own case."""
    _refuse_staff(case, actor=actor, occasion=occasion, channel=Channel.PORTAL, level=level)
    if not permissions.is_case_applicant(actor, case):
        _refuse(
            case,
            actor=actor,
            reason="not_applicant",
            message=_("只有申请人本人可以评价该办件。"),
            occasion=occasion,
            channel=Channel.PORTAL,
            level=level,
        )
    return _evaluate(
        case,
        occasion=occasion,
        level=level,
        tags=tags,
        text=text,
        channel=Channel.PORTAL,
        actor=actor,
        rated_by=actor,
    )


def evaluation_by_query_code(
    *,
    actor: Any,
    case: Case,
    occasion: str,
    level: str,
    tags: Sequence[str] = (),
    text: str = "",
) -> Evaluation:
    """Whoever holds the case's number and query code (the applicant's notice or SMS) rates it.

    The caller found `case` with `tongban.cases.selectors.case_for_tracking`: holding the code is
    the proof. A staff account is refused even with the code (a clerk has seen it at the window).
    """
    _refuse_staff(case, actor=actor, occasion=occasion, channel=Channel.QUERY_CODE, level=level)
    return _evaluate(
        case,
        occasion=occasion,
        level=level,
        tags=tags,
        text=text,
        channel=Channel.QUERY_CODE,
        actor=actor,
        rated_by=actor if permissions.is_case_applicant(actor, case) else None,
    )


def evaluation_by_link(
    *,
    actor: Any,
    token: str,
    level: str,
    tags: Sequence[str] = (),
    text: str = "",
    channel: str = Channel.SMS,
) -> Evaluation:
    """A signed, expiring link (SMS, or the window device's QR code) names the case and occasion."""
    if channel not in (Channel.SMS, Channel.DEVICE):
        raise ValidationError({"channel": [_("评价渠道无效。")]})
    case, occasion = link_open(token=token, actor=actor)
    _refuse_staff(case, actor=actor, occasion=occasion, channel=channel, level=level)
    return _evaluate(
        case,
        occasion=occasion,
        level=level,
        tags=tags,
        text=text,
        channel=channel,
        actor=actor,
        rated_by=actor if permissions.is_case_applicant(actor, case) else None,
    )


def evaluation_by_hotline(
    *, actor: Any, case: Case, occasion: str, level: str, tags: Sequence[str] = (), text: str = ""
) -> Evaluation:
    """A hotline agent records the applicant's answer to a callback (回访), as they said it."""
    if not permissions.can_record_hotline(actor, case):
        _refuse(
            case,
            actor=actor,
            reason="not_hotline_agent",
            message=_("只有热线坐席可以记录申请人的回访评价；工作人员不能代替申请人评价。"),
            occasion=occasion,
            channel=Channel.HOTLINE,
            level=level,
        )
    return _evaluate(
        case,
        occasion=occasion,
        level=level,
        tags=tags,
        text=text,
        channel=Channel.HOTLINE,
        actor=actor,
        recorded_by=actor,
    )


# --- rectification -----------------------------------------------------------------------------


def _open_rectification(evaluation: Evaluation, case: Case, *, actor: Any) -> Rectification:
    now = evaluation.created_at
    verify_due = _due_after(case, now, verify_days())
    rectification = Rectification.objects.create(
        evaluation=evaluation,
        department_id=evaluation.department_id,
        region_id=evaluation.region_id,
        state=RectificationState.OPENED,
        opened_at=now,
        verify_due=verify_due,
        reply_due=max(_due_after(case, now, rectify_days()), verify_due),
        due=verify_due,
    )
    event_append(
        subject=rectification,
        kind="review.rectification_opened",
        actor=actor,
        payload={
            "case": case.number,
            "department_id": evaluation.department_id,
            "verify_due": timezone.localtime(rectification.verify_due).isoformat(),
            "reply_due": timezone.localtime(rectification.reply_due).isoformat(),
        },
    )
    return rectification


def _locked(rectification: Rectification) -> Rectification:
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("evaluation__case__applicant", "region", "department")
        .get(pk=rectification.pk)
    )


def _due_in(rectification: Rectification, state: str) -> datetime | None:
    if state == RectificationState.OPENED:
        return rectification.verify_due
    if state == RectificationState.VERIFIED:
        return rectification.reply_due
    return None


def _move(
    rectification: Rectification,
    target: str,
    *,
    actor: Any,
    kind: str,
    action: str,
    payload: dict[str, Any] | None = None,
) -> None:
    if not can_move(rectification.state, target):
        raise ReviewStateError(
            _("该差评整改当前为“%(state)s”，不能%(action)s。请刷新页面查看最新状态。")
            % {"state": rectification.get_state_display(), "action": action}
        )
    before = rectification.state
    rectification.state = target
    if target != RectificationState.APPEALED:
        rectification.due = _due_in(rectification, target)
    if target == RectificationState.CLOSED:
        rectification.closed_at = timezone.now()
    rectification.save()
    event_append(
        subject=rectification,
        kind=f"review.{kind}",
        actor=actor,
        payload={"from": before, "to": target, **(payload or {})},
    )


def _close_on_rerating(rectification: Rectification, rerating: Evaluation, *, actor: Any) -> None:
    rectification = _locked(rectification)
    _move(
        rectification,
        RectificationState.CLOSED,
        actor=actor,
        kind="closed",
        action=_("办结"),
        payload={"rerating": rerating.pk, "level": rerating.level},
    )


def _case_event(
    rectification: Rectification, kind: str, actor: Any, payload: dict[str, Any]
) -> None:
    """The steps the applicant hears of also go on the case's timeline."""
    case = rectification.evaluation.case
    event_append(
        subject=case,
        kind=kind,
        actor=actor,
        payload={"number": case.number, "rectification": rectification.pk, **payload},
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


def rectification_verify(*, actor: Any, rectification: Rectification, note: str) -> Rectification:
    """回访核实: the department called the applicant back and writes down what it found."""
    if not note.strip():
        raise ValidationError({"note": [_("请填写回访核实情况。")]})
    with transaction.atomic():
        rectification = _locked(rectification)
        _require(permissions.can_handle(actor, rectification), _("您无权处理该差评。"))
        rectification.verified_at = timezone.now()
        rectification.verified_by = actor
        rectification.verification_note = note.strip()
        _move(
            rectification,
            RectificationState.VERIFIED,
            actor=actor,
            kind="verified",
            action=_("核实"),
            payload={"on_time": rectification.verified_at <= rectification.verify_due},
        )
        _case_event(
            rectification, "review.verified", actor, {"text": rectification.verification_note}
        )
    return rectification


def rectification_reply(*, actor: Any, rectification: Rectification, reply: str) -> Rectification:
    """整改回复: what was done, in words the applicant (and the public page) reads."""
    if not reply.strip():
        raise ValidationError({"reply": [_("请填写整改情况及回复内容。")]})
    with transaction.atomic():
        rectification = _locked(rectification)
        _require(permissions.can_handle(actor, rectification), _("您无权处理该差评。"))
        now = timezone.now()
        rectification.replied_at = now
        rectification.replied_by = actor
        rectification.reply = reply.strip()
        rectification.replied_in_time = now <= rectification.reply_due
        _move(
            rectification,
            RectificationState.REPLIED,
            actor=actor,
            kind="replied",
            action=_("回复"),
            payload={"on_time": rectification.replied_in_time},
        )
        _case_event(rectification, "review.rectified", actor, {"reply": rectification.reply})
        _tell_applicant_of_reply(rectification)
    return rectification


def _tell_applicant_of_reply(rectification: Rectification) -> None:
    """The applicant hears of the reply by SMS, with a link to re-rate when links are on."""
    case = rectification.evaluation.case
    mobile = case.applicant.mobile
    if not mobile:
        return
    text = _("【通办】您对办件 %(number)s 的评价已收到整改回复，可再评价一次。") % {
        "number": case.number
    }
    base = getattr(settings, "REVIEWS_PUBLIC_BASE_URL", "")
    if base:
        token = link_token(case=case, occasion=rectification.evaluation.occasion)
        text += f" {base.rstrip('/')}/reviews/rate/?t={token}"

    def send() -> None:
        try:
            send_sms(mobile=mobile, text=text)
        except Exception:  # an SMS outage must not undo a committed reply
            logger.exception("SMS for the reply to case %s failed", case.number)

    transaction.on_commit(send)


def appeal_file(*, actor: Any, rectification: Rectification, evidence: str) -> Appeal:
    """申诉: the department head shows the review false, with evidence; once per review."""
    if not evidence.strip():
        raise ValidationError({"evidence": [_("请写明申诉理由及证据。")]})
    with transaction.atomic():
        rectification = _locked(rectification)
        _require(permissions.can_appeal(actor, rectification), _("只有部门负责人可以提出申诉。"))
        if Appeal.objects.filter(rectification=rectification).exists():
            raise ReviewStateError(_("该差评已申诉过一次，不能再次申诉。"))
        rectification.state_before_appeal = rectification.state
        _move(
            rectification,
            RectificationState.APPEALED,
            actor=actor,
            kind="appeal_filed",
            action=_("申诉"),
            payload={"evidence": evidence.strip()},
        )
        appeal = Appeal.objects.create(
            rectification=rectification, evidence=evidence.strip(), filed_by=actor
        )
    return appeal


def appeal_decide(*, actor: Any, appeal: Appeal, uphold: bool, reason: str) -> Appeal:
    """复核: upheld takes the review out of the statistics (never the record); rejected returns the
    rectification to where it stood, its deadlines unchanged."""
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明复核理由。")]})
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("rectification__region")
            .get(pk=appeal.pk)
        )
        _require(permissions.can_decide_appeal(actor, appeal), _("只有监察人员可以复核申诉。"))
        if appeal.decision:
            raise ReviewStateError(_("该申诉已复核，不能重复复核。"))
        rectification = _locked(appeal.rectification)
        appeal.decision = AppealDecision.UPHELD if uphold else AppealDecision.REJECTED
        appeal.decision_reason = reason.strip()
        appeal.decided_by = actor
        appeal.decided_at = timezone.now()
        appeal.save()
        if uphold:
            evaluation = rectification.evaluation
            evaluation.excluded_from_statistics = True
            evaluation.save(update_fields=["excluded_from_statistics"])
            event_append(
                subject=evaluation,
                kind="review.excluded_from_statistics",
                actor=actor,
                payload={"appeal": appeal.pk, "reason": appeal.decision_reason},
            )
            target = str(RectificationState.CLOSED)
        else:
            target = str(rectification.state_before_appeal or RectificationState.OPENED)
        _move(
            rectification,
            target,
            actor=actor,
            kind="appeal_upheld" if uphold else "appeal_rejected",
            action=_("复核"),
            payload={"reason": appeal.decision_reason},
        )
    return appeal


# --- invitations -------------------------------------------------------------------------------


def invitation_send(*, case: Case, occasion: str, base_url: str) -> bool:
    """Text the applicant a signed link to rate; once per case and occasion, even when two sweeps
    run at once (the unique constraint decides). True if this call sent it."""
    from .models import Invitation

    mobile = case.applicant.mobile
    if not mobile:
        return False
    try:
        with transaction.atomic():
            Invitation.objects.create(case=case, occasion=occasion)
            token = link_token(case=case, occasion=occasion)
            text = _("【通办】您的办件“%(title)s”（%(number)s）已办结，欢迎评价：%(url)s") % {
                "title": case.title,
                "number": case.number,
                "url": f"{base_url.rstrip('/')}/reviews/rate/?t={token}",
            }

            def send() -> None:
                try:
                    send_sms(mobile=mobile, text=text)
                except Exception:
                    logger.exception("review invitation SMS for case %s failed", case.number)

            transaction.on_commit(send)
    except IntegrityError:
        return False
    return True
