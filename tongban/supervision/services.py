"""Every write of electronic supervision: the card sweep with its alerts, and 督办 directives.

The sweep emits "turned yellow" / "turned red" once per clock of each object: the `CardAlert` row
(unique per clock, object and colour) is inserted first, in the transaction that appends the event,
and the text messages leave after commit. A second sweep racing for the same row waits for the
first one's insert and then gets an IntegrityError, so it appends and sends nothing.

Directives change state through `_move` only (locked row, `workflow.ALLOWED_TRANSITIONS`, event on
the directive and, when it is about a case, on the case's chain).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.now import now
from tongban.core.services import event_append
from tongban.core.sms import send_sms
from tongban.org.models import Department, Role, User
from tongban.org.services import PermissionDeniedError
from tongban.timelimits.calendar import DayUnit
from tongban.timelimits.clock import Start, fold
from tongban.timelimits.selectors import calendar_for

from . import permissions, selectors
from .models import (
    CardAlert,
    CardClock,
    CardColour,
    Directive,
    DirectiveReply,
    ReplyKind,
)
from .workflow import DirectiveStatus, can_move

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500
# The order the sweep walks the clocks: the gravest first, so a short run still alerts on them.
SWEEP_CLOCKS = (
    CardClock.LEGAL,
    CardClock.PROMISED,
    CardClock.PREREVIEW,
    CardClock.TOLERANCE,
    CardClock.STEP,
    CardClock.DIRECTIVE,
)


class DirectiveStateError(ValidationError):
    """The directive is not in a state for this action (usually someone acted first)."""


# --- alerts ----------------------------------------------------------------------------------------

_ALERT_TEXTS = {
    CardColour.YELLOW: "【通办】黄牌预警：%(what)s将于%(due)s到期，请抓紧办理。",
    CardColour.RED: "【通办】红牌：%(what)s已超过期限（%(due)s），请立即办理。",
}
_CLOCK_WHAT = {
    CardClock.PROMISED: "办件 %(number)s（%(title)s）的承诺办结期限",
    CardClock.LEGAL: "办件 %(number)s（%(title)s）的法定办结期限",
    CardClock.PREREVIEW: "网上申请 %(number)s（%(title)s）的预审期限",
    CardClock.TOLERANCE: "办件 %(number)s（%(title)s）的容缺材料补齐期限",
    CardClock.STEP: "办件 %(number)s 的“%(step)s”环节",
    CardClock.DIRECTIVE: "督办 #%(number)s（%(title)s）的答复期限",
}


def alert_recipients(*, department: Department, red: bool, heads_only: bool = False) -> list[str]:
    """Mobiles to alert: the department's staff (or only its heads), and for red the supervisors
    of the department's region and the regions above it. Each number once."""
    staff = User.objects.filter(is_active=True, roles__department=department).exclude(mobile="")
    if heads_only:
        staff = staff.filter(roles__role=Role.DEPARTMENT_HEAD)
    mobiles = list(staff.values_list("mobile", flat=True).distinct())
    if red:
        supervisors = (
            User.objects.filter(
                is_active=True,
                roles__role=Role.SUPERVISOR,
                roles__region__code__in=permissions.supervisor_region_codes_over(department.region),
            )
            .exclude(mobile="")
            .values_list("mobile", flat=True)
            .distinct()
        )
        mobiles.extend(supervisors)
    return sorted(set(mobiles))


def _send_on_commit(mobiles: list[str], text: str) -> None:
    def send() -> None:
        for mobile in mobiles:
            try:
                send_sms(mobile=mobile, text=text)
            except Exception:  # a gateway outage must not undo the record of the card
                logger.exception("card alert SMS to %s failed", mobile)

    transaction.on_commit(send)


def _alert_once(
    *,
    clock: str,
    colour: str,
    object_id: int,
    case: Any,
    department: Department,
    due: datetime,
    step_name: str = "",
    directive: Directive | None = None,
) -> bool:
    """Record, announce and send one card alert; False when it was already sent."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = CardAlert.objects.create(
                    clock=clock,
                    colour=colour,
                    object_id=object_id,
                    case=case,
                    department=department,
                    step_name=step_name,
                    due=due,
                    created_at=now(),
                )
        except IntegrityError:
            return False  # sent before, or by a sweep running beside this one
        payload = {
            "clock": clock,
            "step": step_name,
            "department_id": department.pk,
            # The name as it was: the timeline reads it without looking the department up.
            "department": department.name,
        }
        if directive is not None:
            event_append(subject=directive, kind=f"directive.card_{colour}", payload=payload)
        if case is not None:
            kind = (
                "case.legal_overdue"
                if clock == CardClock.LEGAL and colour == CardColour.RED
                else f"case.card_{colour}"
            )
            if directive is not None:
                payload = {**payload, "directive_id": directive.pk}
            event_append(subject=case, kind=kind, payload=payload)
        escalation = directive is not None and colour == CardColour.RED
        mobiles = alert_recipients(department=department, red=colour == CardColour.RED)
        if escalation:
            mobiles = sorted(
                set(mobiles)
                | set(alert_recipients(department=department, red=False, heads_only=True))
            )
        alert.recipients = len(mobiles)
        alert.save(update_fields=["recipients"])
        what = _CLOCK_WHAT[CardClock(clock)] % {
            "number": directive.pk if directive is not None else getattr(case, "number", ""),
            "title": directive.subject_label
            if directive is not None
            else getattr(case, "title", ""),
            "step": step_name,
        }
        text = _ALERT_TEXTS[CardColour(colour)] % {
            "what": what,
            "due": timezone.localtime(due).strftime("%Y年%m月%d日 %H:%M"),
        }
        _send_on_commit(mobiles, text)
    return True


@dataclass
class SweepResult:
    alerts: dict[str, int] = field(default_factory=dict)
    escalated: int = 0

    @property
    def total(self) -> int:
        return sum(self.alerts.values())


def card_sweep(*, at: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepResult:
    """Alert every clock that turned yellow or red since it was last swept, once each; escalate
    directives left unanswered past their due date. Safe to run again, or twice at once."""
    at = at or now()
    boundary = selectors.card_boundary(at=at)
    result = SweepResult()
    for clock in SWEEP_CLOCKS:
        for colour in (CardColour.RED, CardColour.YELLOW):
            after = 0
            while True:
                rows = selectors.sweep_candidates(
                    clock=clock, colour=colour, boundary=boundary, after=after, limit=batch
                )
                for row in rows:
                    if _sweep_one(clock, colour, row):
                        key = f"{clock}.{colour}"
                        result.alerts[key] = result.alerts.get(key, 0) + 1
                if len(rows) < batch:
                    break
                after = rows[-1].pk
    # Apart from the red alert (sent once per directive): a directive sent back and left
    # unanswered again is escalated again.
    for directive in selectors.directives_to_escalate(at=at):
        if _escalate(directive, at=at):
            result.escalated += 1
    return result


def _sweep_one(clock: str, colour: str, row: Any) -> bool:
    if clock == CardClock.STEP:
        return _alert_once(
            clock=clock,
            colour=colour,
            object_id=row.pk,
            case=row.case,
            department=row.department,
            due=row.due,
            step_name=row.name,
        )
    if clock == CardClock.DIRECTIVE:
        return _alert_once(
            clock=clock,
            colour=colour,
            object_id=row.pk,
            case=row.case,
            department=row.department,
            due=row.due,
            directive=row,
        )
    return _alert_once(
        clock=clock,
        colour=colour,
        object_id=row.pk,
        case=row,
        department=row.department,
        due=case_due(clock, row),
    )


def case_due(clock: str, case: Any) -> datetime:
    """The due date a case-wide clock (promised, legal, pre-review, 容缺) runs to."""
    return {
        CardClock.PROMISED: case.promised_due,
        CardClock.LEGAL: case.legal_due,
        CardClock.PREREVIEW: case.prereview_due,
        CardClock.TOLERANCE: case.tolerance_due,
    }[CardClock(clock)]


# --- directives ------------------------------------------------------------------------------------


def _directive_due(department: Department, start: datetime, limit_days: int) -> datetime:
    # The same clock as a case's: the start day does not count, due at the end of the last day.
    state = fold(
        [Start(at=timezone.localtime(start), limit=limit_days, unit=DayUnit.WORKING.value)],
        calendar_for(department.region),
    )
    assert state.due is not None
    return state.due


def _locked(directive: Directive) -> Directive:
    return (
        Directive.objects.select_for_update(of=("self",))
        .select_related("department__region", "case", "item__entry")
        .get(pk=directive.pk)
    )


def _event(directive: Directive, kind: str, actor: Any, payload: dict[str, Any]) -> None:
    body = {
        "directive_id": directive.pk,
        "status": directive.status,
        "department_id": directive.department_id,
        "department": directive.department.name,
        **payload,
    }
    event_append(subject=directive, kind=f"directive.{kind}", actor=actor, payload=body)
    if directive.case is not None:
        # The case's timeline shows the directive's life beside the case's own events.
        event_append(
            subject=directive.case, kind=f"case.directive_{kind}", actor=actor, payload=body
        )


def _move(directive: Directive, target: str, *, actor: Any, kind: str, payload: dict) -> None:
    if not can_move(directive.status, target):
        raise DirectiveStateError(
            _("该督办当前为“%(status)s”，不能再%(action)s；请刷新页面查看最新情况。")
            % {"status": directive.get_status_display(), "action": _action_name(kind)}
        )
    before = directive.status
    directive.status = target
    directive.save()
    _event(directive, kind, actor, {"from": before, "to": target, **payload})


def _action_name(kind: str) -> str:
    return {
        "replied": _("答复"),
        "closed": _("办结"),
        "returned": _("退回"),
        "escalated": _("升级"),
    }.get(kind, kind)


def directive_issue(
    *,
    actor: Any,
    department: Department,
    text: str,
    limit_days: int,
    case: Any = None,
    item: Any = None,
    pattern: str = "",
) -> Directive:
    """督办: a supervisor orders a department to act on a case, an item or a pattern."""
    if not permissions.can_issue_directive(actor, department):
        raise PermissionDeniedError(_("您无权向该部门发出督办。"))
    errors: dict[str, list[str]] = {}
    if not text.strip():
        errors["text"] = [_("请写明督办要求。")]
    if not 1 <= limit_days <= 30:
        errors["limit_days"] = [_("答复时限应为 1 至 30 个工作日。")]
    if case is None and item is None and not pattern.strip():
        errors["pattern"] = [_("请说明督办的问题（或从办件、事项发起督办）。")]
    if len(pattern.strip()) > 200:
        errors["pattern"] = [_("督办问题最多 200 个字。")]
    if errors:
        raise ValidationError(errors)
    issued_at = now()
    with transaction.atomic():
        directive = Directive.objects.create(
            case=case,
            item=item,
            pattern=pattern.strip(),
            department=department,
            text=text.strip(),
            limit_days=limit_days,
            issued_by=actor,
            issued_at=issued_at,
            due=_directive_due(department, issued_at, limit_days),
        )
        _event(
            directive,
            "issued",
            actor,
            {
                "limit_days": limit_days,
                "due": timezone.localtime(directive.due).isoformat(),
                "text": directive.text,
            },
        )
        mobiles = alert_recipients(department=department, red=False)
        _send_on_commit(
            mobiles,
            _("【通办】督办通知：%(what)s，请于%(due)s前在系统中答复。")
            % {
                "what": directive.subject_label,
                "due": timezone.localtime(directive.due).strftime("%Y年%m月%d日"),
            },
        )
    return directive


def directive_reply(*, actor: Any, directive: Directive, text: str) -> DirectiveReply:
    """The department answers: what it did about it."""
    if not text.strip():
        raise ValidationError({"text": [_("请填写答复内容。")]})
    with transaction.atomic():
        directive = _locked(directive)
        if not permissions.can_reply(actor, directive):
            raise PermissionDeniedError(_("只有责任部门的人员可以答复该督办。"))
        reply = DirectiveReply.objects.create(
            directive=directive,
            kind=ReplyKind.REPLY,
            author=actor,
            text=text.strip(),
            created_at=now(),
        )
        _move(
            directive,
            DirectiveStatus.REPLIED,
            actor=actor,
            kind="replied",
            payload={"reply_id": reply.pk, "text": reply.text, "on_time": now() <= directive.due},
        )
    return reply


def directive_close(*, actor: Any, directive: Directive, accept: bool, note: str = "") -> Directive:
    """The supervisor accepts the answer (办结) or sends it back with a note and a new limit."""
    if not accept and not note.strip():
        raise ValidationError({"note": [_("退回时请写明理由。")]})
    with transaction.atomic():
        directive = _locked(directive)
        if not permissions.can_close(actor, directive):
            raise PermissionDeniedError(_("您无权审核该督办。"))
        at = now()
        DirectiveReply.objects.create(
            directive=directive,
            kind=ReplyKind.ACCEPTED if accept else ReplyKind.RETURNED,
            author=actor,
            text=note.strip() or _("答复已审核，督办办结。"),
            created_at=at,
        )
        if accept:
            directive.closed_at = at
            _move(
                directive,
                DirectiveStatus.CLOSED,
                actor=actor,
                kind="closed",
                payload={"text": note.strip()},
            )
        else:
            # A new limit from today: the department gets the same time again to redo it.
            directive.due = _directive_due(directive.department, at, directive.limit_days)
            _move(
                directive,
                DirectiveStatus.ISSUED,
                actor=actor,
                kind="returned",
                payload={
                    "text": note.strip(),
                    "due": timezone.localtime(directive.due).isoformat(),
                },
            )
    return directive


def _escalate(directive: Directive, *, at: datetime) -> bool:
    """Unanswered past its due date: the directive goes to the department head (the red alert,
    sent with it, reaches the heads). False when it was answered or escalated meanwhile."""
    with transaction.atomic():
        directive = _locked(directive)
        if directive.status != DirectiveStatus.ISSUED or directive.due >= at:
            return False
        directive.escalated_at = at
        _move(
            directive,
            DirectiveStatus.ESCALATED,
            actor=None,
            kind="escalated",
            payload={"due": timezone.localtime(directive.due).isoformat()},
        )
    return True
