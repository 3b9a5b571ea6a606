"""好差评 endpoints: the figures per department, and a hotline agent recording a callback's rating.

Translate JSON in and out and call one service or selector. Errors are JSON with Chinese messages
(handlers in tongban/api.py): a refusal by the services is a 403 (who) or 409 (when, or twice).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from tongban.cases import selectors as case_selectors
from tongban.core.types import AuthenticatedHttpRequest
from tongban.org.permissions import departments_visible_to

from . import selectors, services
from .models import Evaluation, Level, Occasion, ReasonTag

router = Router(tags=["好差评"])


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


class FiguresParams(Schema):
    department: int | None = Field(None, description="部门编号；不填为调用者可见的全部部门")
    from_: date | None = Field(None, alias="from", description="起始日期（含），默认本年 1 月 1 日")
    to: date | None = Field(None, description="截止日期（含），默认今天")


class DepartmentFiguresOut(Schema):
    department_id: int
    department: str
    evaluations: int
    good: int
    bad: int
    good_rate: float | None = Field(description="好评率：（非常满意+满意）/评价数")
    bad_due: int = Field(description="整改回复期限已到的差评数")
    bad_in_time: int = Field(description="其中按期整改回复的差评数")
    rectify_rate: float | None = Field(description="差评整改率：按期整改数/到期差评数")


class FiguresOut(Schema):
    from_: date = Field(alias="from")
    to: date
    departments: list[DepartmentFiguresOut]


class HotlineEvaluationIn(Schema):
    case: str = Field(description="办件编号")
    occasion: Occasion = Occasion.COMPLETION
    level: Level
    tags: list[ReasonTag] = Field(default_factory=list, max_length=6)
    text: str = Field("", max_length=500)


class RectificationOut(Schema):
    state: str
    state_label: str
    verify_due: str
    reply_due: str


class EvaluationOut(Schema):
    id: int
    case: str
    occasion: str
    level: str
    level_label: str
    tags: list[str]
    text: str
    channel: str
    created_at: str
    rerating_of: int | None
    rectification: RectificationOut | None


def _iso(moment: Any) -> str:
    return timezone.localtime(moment).isoformat()


def _evaluation_out(evaluation: Evaluation) -> dict[str, Any]:
    rectification = getattr(evaluation, "rectification", None)
    return {
        "id": evaluation.pk,
        "case": evaluation.case.number,
        "occasion": evaluation.occasion,
        "level": evaluation.level,
        "level_label": evaluation.get_level_display(),
        "tags": evaluation.tags,
        "text": evaluation.text,
        "channel": evaluation.channel,
        "created_at": _iso(evaluation.created_at),
        "rerating_of": evaluation.rerating_of_id,
        "rectification": {
            "state": rectification.state,
            "state_label": rectification.get_state_display(),
            "verify_due": _iso(rectification.verify_due),
            "reply_due": _iso(rectification.reply_due),
        }
        if rectification is not None
        else None,
    }


@router.get(
    "/reviews/figures",
    response={200: FiguresOut, 404: ErrorOut, 422: ErrorOut},
    summary="好评率与差评整改率",
    description="调用者可见部门在期间内的好评率和差评整改率；申诉成立的差评不计入，改评后以改评为准。",
    by_alias=True,
)
def figures(request: AuthenticatedHttpRequest, params: Query[FiguresParams]) -> dict:
    today = timezone.localdate()
    start = params.from_ or today.replace(month=1, day=1)
    end = params.to or today
    if end < start:
        from django.core.exceptions import ValidationError

        raise ValidationError({"to": [_("截止日期不能早于起始日期。")]})
    visible = departments_visible_to(request.user)
    if params.department is not None:
        visible = visible.filter(pk=params.department)
        if not visible.exists():
            raise HttpError(404, _("未找到部门 %(id)s。") % {"id": params.department})
    rows = selectors.department_review_figures(
        "", start, end, department_ids=list(visible.values_list("pk", flat=True))
    )
    return {
        "from": start,
        "to": end,
        "departments": [
            {
                "department_id": f.department_id,
                "department": f.department,
                "evaluations": f.evaluations,
                "good": f.good,
                "bad": f.bad,
                "good_rate": f.good_rate,
                "bad_due": f.bad_due,
                "bad_in_time": f.bad_in_time,
                "rectify_rate": f.rectify_rate,
            }
            for f in rows
        ],
    }


@router.post(
    "/reviews",
    response={201: EvaluationOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="记录热线回访评价",
    description="热线坐席回访申请人后记录其评价（渠道为热线）；其他工作人员不能代申请人评价，"
    "尝试会被拒绝并记入办件日志。",
)
def hotline_evaluation(
    request: AuthenticatedHttpRequest, payload: HotlineEvaluationIn
) -> Status[dict]:
    case = case_selectors.case_get_by_number_visible(actor=request.user, number=payload.case)
    if case is None:
        raise HttpError(404, _("未找到办件 %(number)s。") % {"number": payload.case})
    evaluation = services.evaluation_by_hotline(
        actor=request.user,
        case=case,
        occasion=payload.occasion,
        level=payload.level,
        tags=[str(t) for t in payload.tags],
        text=payload.text,
    )
    return Status(201, _evaluation_out(evaluation))
