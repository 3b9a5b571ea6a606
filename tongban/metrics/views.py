"""Metrics pages: the leadership dashboard, the cases behind a figure, and the exports.

Views translate HTTP and call selectors and reports; nothing here decides. Someone who may see no
figures gets a 403; a scope outside their view (or a figure that does not exist) is a 404; a bad
period is the form again, with the values typed and a Chinese message naming the field.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tongban.core.pdf import attachment_header
from tongban.core.types import AuthenticatedHttpRequest
from tongban.web.decorators import staff_required

from . import permissions, reports, selectors
from .definitions import CATALOGUE, INDICATORS, RATIO
from .forms import DashboardForm, initial_data
from .selectors import Dashboard, Scope

PARTS = {
    "numerator": _("计入分子的办件"),
    "denominator": _("分母中的全部办件"),
    "rest": _("未计入分子的办件"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _form(request: AuthenticatedHttpRequest) -> DashboardForm:
    if not permissions.can_view_metrics(request.user):
        raise PermissionDenied
    choices = selectors.scope_choices_for(actor=request.user)
    data = request.GET if request.GET else initial_data(timezone.localdate())
    return DashboardForm(data, choices=choices)


def _scope(request: AuthenticatedHttpRequest, form: DashboardForm) -> Scope:
    scope = permissions.scope_for(request.user, form.requested_scope)
    if scope is None:
        raise Http404
    return scope


def _query(start: date, end: date, scope: Scope, **extra: Any) -> str:
    """The query string that names a period as dates and a scope, for links and exports."""
    params: dict[str, Any] = {"period": "custom", "start": start, "end": end}
    for name, value in (
        ("region", scope.region_code),
        ("department", scope.department_id),
        ("item", scope.item_id),
        ("hall", scope.hall_id),
        ("channel", scope.channel),
    ):
        if value not in (None, ""):
            params[name] = value
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return urlencode(params)


def _drill(key: str, part: str, start: date, end: date, scope: Scope) -> str:
    return reverse("metrics:cases") + "?" + _query(start, end, scope, key=key, part=part)


def _point_end(point: date, end: date) -> date:
    """The last day a monthly point counts: its month's, or the period's if that comes first."""
    following = (point.replace(day=28) + timedelta(days=4)).replace(day=1)
    return min(following - timedelta(days=1), end)


def _chart_data(board: Dashboard) -> dict[str, Any]:
    """What the charts draw, with the drill-down address of every bar, point and slice."""
    scope = board.scope
    trend_end = max(point for point, _f in board.trends[selectors.TREND_KEYS[0]])
    trend_end = _point_end(trend_end, board.end)
    months = [point for point, _f in board.trends[selectors.TREND_KEYS[0]]]
    ranking_unit = INDICATORS[board.ranking_key].unit
    ranked = [r for r in board.ranking if r.figure.denominator]
    return {
        "months": [f"{m.year}-{m.month:02d}" for m in months],
        "trends": [
            {
                "name": str(INDICATORS[key].name),
                "data": [None if f.value is None else round(f.value * 100, 1) for _p, f in points],
                "urls": [
                    _drill(key, "denominator", p, _point_end(p, trend_end), scope)
                    for p, _f in points
                ],
            }
            for key, points in board.trends.items()
        ],
        "cards": [
            {
                "key": key,
                "name": str(INDICATORS[key].name),
                "data": [int(figures[key].numerator) for _p, figures in board.cards_and_reviews],
                "urls": [
                    _drill(key, "numerator", p, _point_end(p, trend_end), scope)
                    for p, _figures in board.cards_and_reviews
                ],
            }
            for key in ("red_cards", "yellow_cards", "bad_review_count")
        ],
        "channels": [
            {
                "name": share.label,
                "value": share.cases,
                "url": _drill("online_rate", share.part, board.start, board.end, scope),
            }
            for share in board.channels
        ],
        "ranking": {
            "name": str(INDICATORS[board.ranking_key].name),
            "percent": ranking_unit == RATIO,
            "departments": [r.department.name for r in ranked],
            "values": [
                None
                if r.figure.value is None
                else (round(r.figure.value * 100, 1) if ranking_unit == RATIO else r.figure.value)
                for r in ranked
            ],
            "grades": [r.grade_label for r in ranked],
            "colours": [
                reports.GRADE_COLOURS.get(r.grade, reports.GRADE_COLOURS[None]) for r in ranked
            ],
            "urls": [
                _drill(
                    board.ranking_key,
                    "denominator",
                    board.start,
                    board.end,
                    Scope(
                        region_code=scope.region_code,
                        department_id=r.department.pk,
                        channel=scope.channel,
                    ),
                )
                for r in ranked
            ],
        },
    }


def _figure_cards(board: Dashboard) -> list[dict[str, Any]]:
    out = []
    for figure in board.figures:
        definition = INDICATORS[figure.key]
        drill = definition.kind != CATALOGUE
        out.append(
            {
                "figure": figure,
                "text": reports.figure_text(figure),
                "target": reports.target_text(figure),
                "description": definition.description,
                "numerator_url": _drill(
                    figure.key, "numerator", board.start, board.end, board.scope
                )
                if drill
                else None,
                "denominator_url": _drill(
                    figure.key, "denominator", board.start, board.end, board.scope
                )
                if drill
                else None,
            }
        )
    return out


@require_GET
@staff_required()
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The leadership dashboard; the pickers ask htmx for the figures part only."""
    form = _form(request)
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx and htmx.target == "dashboard-live")
    context: dict[str, Any] = {"title": _("政务服务统计分析"), "form": form}
    if not form.is_valid():
        template = "metrics/_dashboard_live.html" if partial else "metrics/dashboard.html"
        return render(request, template, context, status=422)
    scope = _scope(request, form)
    start, end = form.dates
    board = selectors.dashboard_for(
        actor=request.user, start=start, end=end, scope=scope, ranking_key=form.ranking_key
    )
    query = _query(start, end, scope, ranking=form.ranking_key)
    context.update(
        {
            "board": board,
            "period_label": form.period_label,
            "scope_label": reports.scope_label_of(board),
            "cards": _figure_cards(board),
            "chart": _chart_data(board),
            "query": query,
            "report_query": urlencode({**request.GET.dict(), "ranking": form.ranking_key})
            if request.GET
            else query,
            "ranking_unit": INDICATORS[board.ranking_key].unit,
            "claimed_rows": [
                (
                    r,
                    _drill(
                        "completed_count",
                        "numerator",
                        start,
                        end,
                        Scope(
                            region_code=scope.region_code,
                            department_id=scope.department_id,
                            item_id=r.item.pk,
                            hall_id=scope.hall_id,
                            channel=scope.channel,
                        ),
                    ),
                )
                for r in board.claimed
            ],
            "ranking_rows": [
                (
                    n,
                    r,
                    _drill(
                        board.ranking_key,
                        "denominator",
                        start,
                        end,
                        Scope(
                            region_code=scope.region_code,
                            department_id=r.department.pk,
                            channel=scope.channel,
                        ),
                    ),
                )
                for n, r in enumerate(board.ranking, start=1)
            ],
        }
    )
    if partial:
        return render(request, "metrics/_dashboard_live.html", context)
    return render(request, "metrics/dashboard.html", context)


@require_GET
@staff_required()
def cases(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The cases behind one figure (or one part of it) for a period and scope."""
    key, part = request.GET.get("key", ""), request.GET.get("part", "numerator")
    definition = INDICATORS.get(key)
    if definition is None or definition.kind == CATALOGUE or part not in PARTS:
        raise Http404
    form = _form(request)
    context: dict[str, Any] = {
        "title": _("%(name)s：办件明细") % {"name": definition.name},
        "form": form,
        "definition": definition,
        "part_label": PARTS[part],
    }
    if not form.is_valid():
        return render(request, "metrics/cases.html", context, status=422)
    scope = _scope(request, form)
    start, end = form.dates
    rows = selectors.case_rows_behind(key=key, part=part, start=start, end=end, scope=scope)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context.update(
        {
            "page": page,
            "start": start,
            "end": end,
            "period_label": form.period_label,
            "scope_label": "，".join(f"{w}：{n}" for w, n in selectors.scope_names(scope))
            or _("全部"),
            "parts": [(p, label, _drill(key, p, start, end, scope)) for p, label in PARTS.items()],
            "part": part,
            "page_query": _query(start, end, scope, key=key, part=part),
            "back": reverse("metrics:dashboard") + "?" + _query(start, end, scope),
            "counts_events": key
            in (
                "red_cards",
                "yellow_cards",
                "good_review_rate",
                "bad_review_count",
                "rectified_rate",
            ),
        }
    )
    return render(request, "metrics/cases.html", context)


def _resolved(request: AuthenticatedHttpRequest) -> tuple[DashboardForm, Dashboard | None]:
    form = _form(request)
    if not form.is_valid():
        return form, None
    scope = _scope(request, form)
    start, end = form.dates
    board = selectors.dashboard_for(
        actor=request.user, start=start, end=end, scope=scope, ranking_key=form.ranking_key
    )
    return form, board


def _bad_period(request: AuthenticatedHttpRequest, form: DashboardForm) -> HttpResponse:
    return render(
        request,
        "metrics/dashboard.html",
        {"title": _("政务服务统计分析"), "form": form},
        status=422,
    )


@require_GET
@staff_required()
def export_xlsx(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One of the dashboard's tables as an Excel workbook."""
    table = request.GET.get("table", "indicators")
    if table not in reports.TABLES:
        raise Http404
    form, board = _resolved(request)
    if board is None:
        return _bad_period(request, form)
    content = reports.workbook_bytes(
        dashboard=board,
        table_key=table,
        period_label=form.period_label,
        scope_label=reports.scope_label_of(board),
    )
    response = HttpResponse(content, content_type=XLSX)
    name = _("%(table)s-%(period)s.xlsx") % {
        "table": reports.TABLES[table](board).title.split("：")[0],
        "period": form.period_label,
    }
    response["Content-Disposition"] = attachment_header(
        name, fallback=f"metrics-{table}-{board.start}-{board.end}.xlsx"
    )
    return response


@require_GET
@staff_required()
def report_pdf(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The period's report as a PDF: figures, ranking and trends for the chosen scope."""
    form, board = _resolved(request)
    if board is None:
        return _bad_period(request, form)
    pdf = reports.report_pdf(
        dashboard=board,
        period_label=form.period_label,
        issuer=getattr(request.user, "display_name", "") or request.user.get_username(),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = _("政务服务运行报告-%(period)s.pdf") % {"period": form.period_label}
    response["Content-Disposition"] = attachment_header(
        name, fallback=f"metrics-report-{board.start}-{board.end}.pdf"
    )
    return response
