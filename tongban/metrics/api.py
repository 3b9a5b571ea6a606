"""Metrics endpoints: translate query parameters in and figures out, nothing else.

Mounted at /api/v1/metrics. Dates are local (Asia/Shanghai) calendar dates, both ends inclusive.
A scope outside the caller's view is a 404; a caller who may see no figures gets a 403.
Errors are JSON with Chinese messages (handlers in tongban/api.py).
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from tongban.cases.models import Channel
from tongban.core.types import AuthenticatedHttpRequest

from . import permissions, selectors
from .selectors import Figure, Scope

router = Router(tags=["统计指标"])

MAX_DAYS = 3660  # ten years: longer periods are almost certainly a typo


class IndicatorParams(Schema):
    # Strings, checked here, so that a bad date gets a Chinese message naming the field.
    from_: str | None = Field(None, alias="from", description="起始日期 YYYY-MM-DD（含）")
    to: str | None = Field(None, description="截止日期 YYYY-MM-DD（含），默认今天")
    region: str | None = None
    department: int | None = None
    item: int | None = None
    hall: int | None = None
    channel: str | None = None
    keys: str | None = Field(None, description="只要这些指标，逗号分隔")


class FigureOut(Schema):
    key: str
    name: str
    numerator: float
    denominator: float
    value: float | None
    unit: str
    target: float | None
    meets_target: bool | None
    higher_is_better: bool


class ScopeOut(Schema):
    region: str | None
    department: int | None
    item: int | None
    hall: int | None
    channel: str | None


class IndicatorsOut(Schema):
    start: date
    end: date
    scope: ScopeOut
    figures: list[FigureOut]


class ItemRealityOut(Schema):
    item_id: int
    item_code: str
    item_name: str
    claimed_visits: int
    claimed_immediate: bool
    claimed_full_online: bool
    promised_limit: int
    cases: int
    mean_visits: float | None
    p90_visits: int | None
    same_day_share: float | None
    full_online_share: float | None
    mean_days_taken: float | None
    p90_days_taken: int | None
    late_share: float | None
    flags: list[str]


class ClaimedVsActualOut(Schema):
    start: date
    end: date
    scope: ScopeOut
    items: list[ItemRealityOut]


def _parse_day(raw: str | None, field: str, label: str, default: date) -> date:
    if raw is None or raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            {
                field: [
                    _("%(label)s应为 YYYY-MM-DD 格式的日期，例如 2026-01-31。") % {"label": label}
                ]
            }
        ) from None


def _period(raw_from: str | None, raw_to: str | None) -> tuple[date, date]:
    today = timezone.localdate()
    end = _parse_day(raw_to, "to", _("截止日期（to）"), today)
    start = _parse_day(raw_from, "from", _("起始日期（from）"), end.replace(day=1))
    if start > end:
        raise ValidationError({"from": [_("起始日期（from）不能晚于截止日期（to）。")]})
    if (end - start).days > MAX_DAYS:
        raise ValidationError({"from": [_("统计期间不能超过十年。")]})
    return start, end


def _scope(request: AuthenticatedHttpRequest, params: IndicatorParams) -> Scope:
    if not permissions.can_view_metrics(request.user):
        raise HttpError(403, _("您无权查看统计指标。"))
    if params.channel and params.channel not in Channel.values:
        raise ValidationError({"channel": [_("申请渠道（channel）应为 online 或 window。")]})
    if params.region is not None and params.region and not params.region.isdigit():
        raise ValidationError({"region": [_("区划代码（region）应为数字。")]})
    requested = Scope(
        region_code=params.region or None,
        department_id=params.department,
        item_id=params.item,
        hall_id=params.hall,
        channel=params.channel or None,
    )
    scope = permissions.scope_for(request.user, requested)
    if scope is None:
        raise HttpError(404, _("未找到请求的对象。"))
    return scope


def _scope_out(scope: Scope) -> dict:
    return {
        "region": scope.region_code,
        "department": scope.department_id,
        "item": scope.item_id,
        "hall": scope.hall_id,
        "channel": scope.channel,
    }


def _figure_out(figure: Figure) -> dict:
    return figure.__dict__


@router.get(
    "/indicators",
    response=IndicatorsOut,
    summary="统计指标：期间（from..to，含两端）和范围内每项指标的分子、分母、数值与目标",
)
def indicators(request: AuthenticatedHttpRequest, params: Query[IndicatorParams]) -> dict:
    start, end = _period(params.from_, params.to)
    scope = _scope(request, params)
    keys = None
    if params.keys:
        keys = [k.strip() for k in params.keys.split(",") if k.strip()]
        unknown = [k for k in keys if k not in selectors.INDICATORS]
        if unknown:
            raise ValidationError(
                {"keys": [_("未知的指标：%(keys)s。") % {"keys": "、".join(unknown)}]}
            )
    figures = selectors.indicators(start=start, end=end, scope=scope, keys=keys)
    return {
        "start": start,
        "end": end,
        "scope": _scope_out(scope),
        "figures": [_figure_out(f) for f in figures],
    }


@router.get(
    "/claimed-vs-actual",
    response=ClaimedVsActualOut,
    summary="承诺与实际：各事项申报的跑动次数、即办、全程网办、承诺时限与办件实际情况对照",
)
def claimed_vs_actual(request: AuthenticatedHttpRequest, params: Query[IndicatorParams]) -> dict:
    start, end = _period(params.from_, params.to)
    scope = _scope(request, params)
    rows = selectors.claimed_vs_actual(start=start, end=end, scope=scope)
    return {
        "start": start,
        "end": end,
        "scope": _scope_out(scope),
        "items": [
            {
                "item_id": r.item.pk,
                "item_code": r.item.local_code,
                "item_name": str(r.item),
                "claimed_visits": r.claimed_visits,
                "claimed_immediate": r.claimed_immediate,
                "claimed_full_online": r.claimed_full_online,
                "promised_limit": r.promised_limit,
                "cases": r.cases,
                "mean_visits": r.mean_visits,
                "p90_visits": r.p90_visits,
                "same_day_share": r.same_day_share,
                "full_online_share": r.full_online_share,
                "mean_days_taken": r.mean_days_taken,
                "p90_days_taken": r.p90_days_taken,
                "late_share": r.late_share,
                "flags": r.flags,
            }
            for r in rows
        ],
    }
