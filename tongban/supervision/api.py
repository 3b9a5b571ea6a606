"""Supervision endpoints: translate JSON in and out, call one service or selector, nothing else.

Mounted at /api/v1/supervision. A directive or department outside the caller's view is a 404; the
board for someone who watches no department is a 403 (the board's existence is no secret).
Errors are JSON with Chinese messages (handlers in tongban/api.py).
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from tongban.core.types import AuthenticatedHttpRequest

from . import permissions, selectors, services
from .models import CardClock, Directive

router = Router(tags=["电子监察"])


class BoardParams(Schema):
    department: int | None = None
    item: int | None = None
    clock: CardClock = CardClock.PROMISED


class DepartmentCardsOut(Schema):
    department_id: int
    department: str
    red: int
    yellow: int
    green: int
    suspended: int


class OverdueOut(Schema):
    case_id: int
    number: str
    item: str
    department: str
    holder: str
    due: datetime
    working_days_overdue: int


class BoardOut(Schema):
    at: datetime
    clock: str
    yellow_days: int
    yellow_from: datetime | None = Field(
        description="到期时间早于此刻（且未超期）即为黄牌；各区划日历不同时为空"
    )
    uncovered_years: list[int]
    departments: list[DepartmentCardsOut]
    most_overdue: list[OverdueOut]


@router.get("/board", response=BoardOut, summary="红黄绿牌看板：各部门各颜色的数量与超期最久的办件")
def board(request: AuthenticatedHttpRequest, params: Query[BoardParams]) -> dict:
    if not permissions.can_view_board(request.user):
        raise HttpError(403, _("您无权查看电子监察看板。"))
    result = selectors.board_for(
        actor=request.user,
        clock=params.clock,
        department_id=params.department,
        item_id=params.item,
    )
    if result is None:
        raise HttpError(404, _("未找到请求的对象。"))
    return {
        "at": result.at,
        "clock": result.clock,
        "yellow_days": result.boundary.days,
        "yellow_from": result.boundary.single_limit,
        "uncovered_years": sorted(result.boundary.uncovered_years),
        "departments": [
            {
                "department_id": r.department_id,
                "department": r.name,
                "red": r.red,
                "yellow": r.yellow,
                "green": r.green,
                "suspended": r.suspended,
            }
            for r in result.rows
        ],
        "most_overdue": [
            {
                "case_id": o.case_id,
                "number": o.number,
                "item": o.item,
                "department": o.department,
                "holder": o.holder,
                "due": o.due,
                "working_days_overdue": o.days_overdue,
            }
            for o in result.overdue
        ],
    }


class DirectiveOut(Schema):
    id: int
    status: str
    department_id: int
    case_id: int | None
    item_id: int | None
    pattern: str
    text: str
    limit_days: int
    issued_at: datetime
    due: datetime
    card: str | None


class DirectiveIn(Schema):
    department_id: int | None = None
    case_id: int | None = None
    pattern: str = Field("", max_length=200)
    text: str = Field(max_length=2000)
    limit_days: int = Field(ge=1, le=30)


class ReplyIn(Schema):
    text: str = Field(max_length=2000)


class CloseIn(Schema):
    accept: bool
    note: str = Field("", max_length=2000)


def _out(directive: Directive) -> dict:
    return {
        "id": directive.pk,
        "status": directive.status,
        "department_id": directive.department_id,
        "case_id": directive.case_id,
        "item_id": directive.item_id,
        "pattern": directive.pattern,
        "text": directive.text,
        "limit_days": directive.limit_days,
        "issued_at": directive.issued_at,
        "due": directive.due,
        "card": selectors.directive_card(directive=directive),
    }


def _visible(request: AuthenticatedHttpRequest, directive_id: int) -> Directive:
    directive = selectors.directive_get_visible(actor=request.user, directive_id=directive_id)
    if directive is None:
        raise HttpError(404, _("未找到请求的对象。"))
    return directive


@router.get(
    "/directives", response=list[DirectiveOut], summary="督办列表（本部门收到的或辖区内发出的）"
)
def directive_list(request: AuthenticatedHttpRequest, status: str | None = None) -> list[dict]:
    return [_out(d) for d in selectors.directive_list_for(actor=request.user, status=status)]


@router.get("/directives/{directive_id}", response=DirectiveOut, summary="一条督办")
def directive_get(request: AuthenticatedHttpRequest, directive_id: int) -> dict:
    return _out(_visible(request, directive_id))


@router.post("/directives", response={201: DirectiveOut}, summary="发出督办")
def directive_create(request: AuthenticatedHttpRequest, payload: DirectiveIn) -> Status:
    from tongban.cases.selectors import case_visible_for_directive

    case = None
    if payload.case_id is not None:
        case = case_visible_for_directive(actor=request.user, case_id=payload.case_id)
        if case is None:
            raise HttpError(404, _("未找到请求的对象。"))
    department_id = payload.department_id or (case.department_id if case else None)
    departments = {d.pk: d for d in selectors.directive_departments_for(actor=request.user)}
    if department_id is None or department_id not in departments:
        raise HttpError(404, _("未找到请求的部门。"))
    directive = services.directive_issue(
        actor=request.user,
        department=departments[department_id],
        text=payload.text,
        limit_days=payload.limit_days,
        case=case,
        pattern=payload.pattern,
    )
    return Status(201, _out(directive))


@router.post("/directives/{directive_id}/reply", response=DirectiveOut, summary="部门答复督办")
def directive_reply(request: AuthenticatedHttpRequest, directive_id: int, payload: ReplyIn) -> dict:
    directive = _visible(request, directive_id)
    try:
        services.directive_reply(actor=request.user, directive=directive, text=payload.text)
    except services.DirectiveStateError as exc:
        raise HttpError(409, " ".join(exc.messages)) from None
    return _out(_visible(request, directive_id))


@router.post(
    "/directives/{directive_id}/close", response=DirectiveOut, summary="审核答复：办结或退回"
)
def directive_close(request: AuthenticatedHttpRequest, directive_id: int, payload: CloseIn) -> dict:
    directive = _visible(request, directive_id)
    try:
        services.directive_close(
            actor=request.user, directive=directive, accept=payload.accept, note=payload.note
        )
    except services.DirectiveStateError as exc:
        raise HttpError(409, " ".join(exc.messages)) from None
    return _out(_visible(request, directive_id))
