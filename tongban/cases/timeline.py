"""Case events as sentences a person reads, for three audiences.

One writer per event kind, so the clerk's page, the applicant's page and the public tracking page
cannot drift apart. The audience decides how much a sentence says:

- staff see everything: opinions, reasons, who acted, supervision and reviews;
- the applicant sees what concerns them: reasons given to them, their own review, never the
  departments' internal opinions, requests or supervision;
- the public (anyone holding the number and the query code) sees progress only: no names, no
  opinion or reason text, no ID or mobile numbers, nothing about supervision or reviews.

A writer returns None when its audience need not see the event at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.catalog.models import SpecialProcedureKind
from tongban.catalog.selectors import field_labels
from tongban.core.models import Event
from tongban.org.models import Department

from . import selectors
from .models import Case, Channel, DeliveryMethod


class Audience(StrEnum):
    STAFF = "staff"
    APPLICANT = "applicant"
    PUBLIC = "public"


STAFF = Audience.STAFF
APPLICANT = Audience.APPLICANT
PUBLIC = Audience.PUBLIC


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str
    part: str  # the bundle item it concerns ("" for the application as a whole)
    who: str = ""  # who acted; only ever filled for staff


Writer = Callable[[dict[str, Any], Audience], str | None]


def generic_sentence() -> str:
    """What an event nobody has written a sentence for reads as; never its raw payload."""
    return _("办件信息已更新")


# --- pieces --------------------------------------------------------------------------------------


def _day(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y年%m月%d日")


def _choice(choices: Any, value: Any, default: str = "") -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return default


def _items_text(items: Iterable[dict[str, Any]]) -> str:
    return "；".join(f"{i.get('name') or i.get('key')}：{i.get('problem')}" for i in items)


def _with_reason(text: str, reason: Any) -> str:
    return _("%(text)s：%(reason)s") % {"text": text, "reason": reason} if reason else text


_CLOCKS = {
    "promised": gettext_lazy("承诺办结期限"),
    "legal": gettext_lazy("法定办结期限"),
    "prereview": gettext_lazy("网上预审期限"),
    "tolerance": gettext_lazy("容缺材料补齐期限"),
    "step": gettext_lazy("环节期限"),
    "directive": gettext_lazy("督办答复期限"),
}


def _clock(p: dict[str, Any]) -> str:
    """Which deadline a card is about: a step's names the step and its department."""
    label = str(_CLOCKS.get(p.get("clock", ""), _("办理期限")))
    if p.get("step"):
        step = f"“{p['step']}”"
        where = f"{p['department']}{step}" if p.get("department") else step
        return _("%(where)s的%(label)s") % {"where": where, "label": label}
    return label


# The reviews app names the five levels of DESIGN §好差评; a level not listed is shown as written.
_LEVELS = {
    "very_satisfied": gettext_lazy("非常满意"),
    "satisfied": gettext_lazy("满意"),
    "basic": gettext_lazy("基本满意"),
    "basically_satisfied": gettext_lazy("基本满意"),
    "dissatisfied": gettext_lazy("不满意"),
    "very_dissatisfied": gettext_lazy("非常不满意"),
    "5": gettext_lazy("非常满意"),
    "4": gettext_lazy("满意"),
    "3": gettext_lazy("基本满意"),
    "2": gettext_lazy("不满意"),
    "1": gettext_lazy("非常不满意"),
}


def _level(p: dict[str, Any]) -> str:
    level = str(p.get("level", ""))
    return str(_LEVELS[level]) if level in _LEVELS else level


# --- the case's own events -----------------------------------------------------------------------


def _created(p: dict[str, Any], a: Audience) -> str:
    if a != STAFF:
        return _("创建申请")
    where = _("在%(hall)s") % {"hall": p["hall"]} if p.get("hall") else ""
    return _("%(where)s创建办件（%(channel)s）") % {
        "where": where,
        "channel": _choice(Channel, p.get("channel")),
    }


def _accepted(p: dict[str, Any], a: Audience) -> str:
    text = _("已按告知承诺制受理") if p.get("commitment") else _("已受理")
    if p.get("tolerated"):
        text += _("，容缺材料：%(names)s，须于%(day)s前补齐") % {
            "names": "、".join(p["tolerated"]),
            "day": _day(p.get("owed_by")),
        }
    if p.get("promised_due"):
        text += _("，承诺办结期限%(day)s") % {"day": _day(p["promised_due"])}
    return text


def _refused(p: dict[str, Any], a: Audience) -> str:
    if a == PUBLIC or not p.get("reason"):
        return _("不予受理")
    return _("不予受理：%(reason)s（依据：%(basis)s）") % {
        "reason": p["reason"],
        "basis": p.get("basis", ""),
    }


def _supplement_requested(p: dict[str, Any], a: Audience) -> str:
    items = p.get("items") or []
    if a == PUBLIC or not items:
        return _("要求补正材料（一次性告知）")
    if a == STAFF and p.get("sequence"):
        return _("发出第%(n)s次补正告知（一次性告知）：%(items)s") % {
            "n": p["sequence"],
            "items": _items_text(items),
        }
    return _("要求补正（一次性告知）：%(items)s") % {"items": _items_text(items)}


def _supplemented(p: dict[str, Any], a: Audience) -> str:
    if a == STAFF:
        return _("申请人到窗口提交补正材料") if p.get("visit") else _("申请人提交补正材料")
    return _("已提交补正材料")


def _steps_started(p: dict[str, Any], a: Audience) -> str:
    steps = p.get("steps") or []
    if not steps:
        return _("进入审批环节")
    if a == STAFF:
        return _("环节开始：%(steps)s") % {
            "steps": "、".join(
                _("%(name)s（%(department)s，期限%(day)s）")
                % {
                    "name": s.get("name", ""),
                    "department": s.get("department", ""),
                    "day": _day(s.get("due")),
                }
                for s in steps
            )
        }
    started = "、".join(f"{s.get('department', '')}“{s.get('name', '')}”" for s in steps)
    return _("开始办理：%(steps)s") % {"steps": started}


def _step_passed(p: dict[str, Any], a: Audience) -> str:
    names = {"department": p.get("department", ""), "step": p.get("step", "")}
    if a == STAFF:
        return _with_reason(_("%(department)s通过“%(step)s”") % names, p.get("opinion"))
    # An approver's opinion is the department's internal work, not news for the applicant.
    return _("%(department)s已完成“%(step)s”") % names


def _step_returned(p: dict[str, Any], a: Audience) -> str:
    text = _("“%(step)s”退回“%(to)s”重新办理") % {"step": p.get("step", ""), "to": p.get("to", "")}
    return _with_reason(text, p.get("reason")) if a == STAFF else text


def _decided(p: dict[str, Any], a: Audience) -> str:
    if p.get("decision", "approved") == "approved":
        text = _("作出准予决定")
    else:
        text = _("作出不予许可决定")
    return f"“{p['step']}”{text}" if a == STAFF and p.get("step") else text


def _post_checked(p: dict[str, Any], a: Audience) -> str:
    text = _("告知承诺核查：符合承诺") if p.get("passed") else _("告知承诺核查：不符合承诺")
    return _with_reason(text, p.get("note")) if a == STAFF else text


def _suspended(p: dict[str, Any], a: Audience) -> str:
    names = {
        "kind": _choice(SpecialProcedureKind, p.get("procedure"), _("特别程序")),
        "days": p.get("expected_days", ""),
    }
    if a == STAFF:
        return _("启动特别程序“%(kind)s”：%(reason)s，预计%(days)s个工作日") % {
            **names,
            "reason": p.get("reason", ""),
        }
    return _("进入特别程序（%(kind)s），预计%(days)s个工作日，期间不计入办理时限") % names


def _resumed(p: dict[str, Any], a: Audience) -> str:
    text = _("特别程序结束，恢复计时")
    if p.get("promised_due"):
        text += _("，承诺办结期限%(day)s") % {"day": _day(p["promised_due"])}
    return text


def _extension_requested(p: dict[str, Any], a: Audience) -> str | None:
    if a != STAFF:
        return None  # a request between departments; the applicant hears of a granted one
    return _with_reason(
        _("申请延期%(days)s个工作日") % {"days": p.get("days", "")}, p.get("reason")
    )


def _extension_granted(p: dict[str, Any], a: Audience) -> str:
    text = _("依法延期%(days)s个工作日") % {"days": p.get("days", "")}
    if p.get("legal_due"):
        text += _("，法定办结期限%(day)s") % {"day": _day(p["legal_due"])}
    return text


def _delivery(p: dict[str, Any], a: Audience) -> str:
    method = _choice(DeliveryMethod, p.get("method"))
    # The detail is a tracking number or a hall: the applicant's and the clerk's, not the public's.
    detail = p.get("detail", "") if a != PUBLIC else ""
    return "，".join(part for part in (method, detail) if part)


def _delivered(p: dict[str, Any], a: Audience) -> str:
    how = _delivery(p, a)
    return _("办理结果已送达（%(how)s）") % {"how": how} if how else _("办理结果已送达")


def _served(p: dict[str, Any], a: Audience) -> str:
    how = _delivery(p, a)
    return _("决定文书已送达（%(how)s）") % {"how": how} if how else _("决定文书已送达")


def _closed_with_reason(text: Any) -> Writer:
    """Withdrawn, terminated, revoked: the reason concerns the applicant, not the public."""

    def write(p: dict[str, Any], a: Audience) -> str:
        return str(text) if a == PUBLIC else _with_reason(str(text), p.get("reason"))

    return write


def _input_filled(p: dict[str, Any], a: Audience) -> str:
    if a != STAFF:
        return _("已取得前置事项的办理结果")
    return _("由%(source)s的办理结果填入“%(key)s”：%(value)s") % {
        "source": p.get("from", ""),
        "key": p.get("label") or p.get("key", ""),
        "value": p.get("value", ""),
    }


def _staff_only(write: Callable[[dict[str, Any]], str]) -> Writer:
    return lambda p, a: write(p) if a == STAFF else None


def _not_public(write: Callable[[dict[str, Any]], str]) -> Writer:
    return lambda p, a: write(p) if a != PUBLIC else None


def _same(text: Any) -> Writer:
    return lambda p, a: str(text)


# --- what other apps append on a case ------------------------------------------------------------


def _directive(text: Any) -> Writer:
    def write(p: dict[str, Any]) -> str:
        sentence = str(text) % {
            "department": p.get("department", ""),
            "due": _day(p.get("due")),
        }
        return _with_reason(sentence, p.get("text"))

    return _staff_only(write)


def _review_submitted(p: dict[str, Any], a: Audience) -> str | None:
    if a == PUBLIC:
        return None
    text = _("您的评价：%(level)s") if a == APPLICANT else _("申请人评价：%(level)s")
    text = text % {"level": _level(p)}
    return _with_reason(text, p.get("text")) if a == STAFF else text


def _review_rectified(p: dict[str, Any], a: Audience) -> str | None:
    if a == PUBLIC:
        return None
    text = _("您反映的问题已整改") if a == APPLICANT else _("差评已整改")
    # The reply is written to the applicant, so they read it too.
    return _with_reason(text, p.get("reply") or p.get("text"))


_WRITERS: dict[str, Writer] = {
    "case.created": _created,
    "case.submitted": _same(gettext_lazy("提交申请")),
    "case.material_uploaded": _not_public(
        lambda p: _("上传材料“%(material)s”") % {"material": p.get("material", "")}
    ),
    "case.accepted": _accepted,
    "case.refused": _refused,
    "case.supplement_requested": _supplement_requested,
    "case.one_time_notice_breached": _staff_only(
        lambda p: _("第%(n)s次要求补正，不符合一次性告知要求") % {"n": p.get("sequence", "")}
    ),
    "case.supplemented": _supplemented,
    "case.waiting": _same(gettext_lazy("等待前置事项办结后开始")),
    "case.steps_started": _steps_started,
    "case.step_passed": _step_passed,
    "case.step_returned": _step_returned,
    "case.denial_proposed": _staff_only(
        lambda p: _with_reason(
            _("“%(step)s”建议不予许可") % {"step": p.get("step", "")}, p.get("reason")
        )
    ),
    "case.decided": _decided,
    "case.completed": _same(gettext_lazy("已办结（准予）")),
    "case.denied": _same(gettext_lazy("已办结（不予许可）")),
    "case.post_check_scheduled": lambda p, a: (
        _("安排告知承诺核查，期限%(day)s") % {"day": _day(p.get("due"))}
    ),
    "case.post_checked": _post_checked,
    "case.revoked": _closed_with_reason(gettext_lazy("办理结果已撤销")),
    "case.suspended": _suspended,
    "case.resumed": _resumed,
    "case.extension_requested": _extension_requested,
    "case.extension_granted": _extension_granted,
    "case.extension_refused": _staff_only(
        lambda p: _("不批准延期%(days)s个工作日") % {"days": p.get("days", "")}
    ),
    "case.tolerated_supplied": lambda p, a: (
        _("已补齐容缺材料“%(material)s”") % {"material": p.get("material", "")}
    ),
    "case.ready_for_pickup": lambda p, a: (
        _("办理结果可到%(hall)s领取") % {"hall": p.get("hall") or _("办理大厅")}
    ),
    "case.delivered": _delivered,
    "case.served": _served,
    "case.withdrawn": _closed_with_reason(gettext_lazy("申请人撤回申请")),
    "case.terminated": _closed_with_reason(gettext_lazy("办件终止")),
    "case.input_filled": _input_filled,
    # Supervision: the clock's cards and 督办 are the administration's business, for staff only.
    "case.card_yellow": _staff_only(
        lambda p: _("%(clock)s仅剩最后一个工作日（黄牌）") % {"clock": _clock(p)}
    ),
    "case.card_red": _staff_only(lambda p: _("%(clock)s已超期（红牌）") % {"clock": _clock(p)}),
    "case.legal_overdue": _staff_only(
        lambda p: _("已超过法定期限：%(clock)s") % {"clock": _clock(p)}
    ),
    "case.directive_issued": _directive(gettext_lazy("督办%(department)s，限%(due)s前回复")),
    "case.directive_replied": _directive(gettext_lazy("%(department)s回复督办")),
    "case.directive_closed": _directive(gettext_lazy("督办办结（%(department)s）")),
    "case.directive_escalated": _directive(gettext_lazy("%(department)s逾期未回复督办，已升级")),
    "case.directive_returned": _directive(
        gettext_lazy("督办退回%(department)s重新办理，限%(due)s前回复")
    ),
    # 好差评: the applicant sees their own review and what came of it; the public sees none.
    "review.submitted": _review_submitted,
    "review.rerated": _review_submitted,
    "review.refused_attempt": _staff_only(
        lambda p: _("一次评价未被接受（%(level)s）") % {"level": _level(p)}
    ),
    "review.verified": _staff_only(lambda p: _with_reason(_("差评已回访核实"), p.get("text"))),
    "review.rectified": _review_rectified,
}

# A bundle's parts repeat what their parent says about the application as a whole.
PART_ECHOES = frozenset(
    {
        "case.submitted",
        "case.supplement_requested",
        "case.supplemented",
        "case.refused",
        "case.withdrawn",
        "case.delivered",
        "case.material_uploaded",
    }
)


def known_kinds() -> frozenset[str]:
    return frozenset(_WRITERS)


def sentence(kind: str, payload: dict[str, Any], *, audience: Audience) -> str | None:
    """One event as a sentence for the audience; None for what it need not see."""
    write = _WRITERS.get(kind)
    if write is None:
        # A new kind of the case's own progress still shows that something happened; another
        # app's unknown kind may be internal, so only staff see it until it has a sentence.
        if audience == STAFF or kind.startswith("case."):
            return generic_sentence()
        return None
    try:
        return write(payload, audience)
    except (KeyError, TypeError, ValueError):
        # An event written before its payload grew a key still reads as a sentence.
        return generic_sentence()


def describe_event(event: Event, *, audience: Audience) -> str | None:
    return sentence(event.kind, event.payload or {}, audience=audience)


def _with_department_names(events: list[Event]) -> dict[int, str]:
    ids = {
        e.payload["department_id"]
        for e in events
        if isinstance(e.payload, dict)
        and isinstance(e.payload.get("department_id"), int)
        and not e.payload.get("department")
    }
    if not ids:
        return {}
    return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))


def _with_field_labels(events: list[Event]) -> dict[str, str]:
    """The form field labels of the keys that bundle results filled in (出生医学证明编号)."""
    keys = {
        e.payload["key"]
        for e in events
        if e.kind == "case.input_filled" and isinstance(e.payload, dict) and e.payload.get("key")
    }
    return field_labels(keys=keys) if keys else {}


def timeline_of(case: Case, *, audience: Audience) -> list[TimelineEntry]:
    """The case's timeline (a bundle's with its parts') as the audience reads it."""
    titles = {str(part.pk): part.title for part in selectors.case_parts_of(case=case)}
    events = selectors.case_timeline(case=case)
    departments = _with_department_names(events)
    labels = _with_field_labels(events)
    entries = []
    for event in events:
        part = titles.get(event.subject_id, "")
        if part and event.kind in PART_ECHOES:
            continue
        payload = dict(event.payload or {})
        if payload.get("department_id") in departments:
            payload["department"] = departments[payload["department_id"]]
        if event.kind == "case.input_filled" and payload.get("key") in labels:
            payload["label"] = labels[payload["key"]]
        text = sentence(event.kind, payload, audience=audience)
        if text:
            who = event.actor_label if audience == STAFF else ""
            entries.append(TimelineEntry(event.occurred_at, text, part, who))
    return entries
