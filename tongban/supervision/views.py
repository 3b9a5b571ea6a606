"""Supervision pages: the board, directives (issue, inbox, answer, close) and quarterly grades.

Views translate HTTP and call selectors and services; nothing here decides. A directive, case or
department outside the caller's view is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tongban.cases.selectors import case_visible_for_directive
from tongban.core.now import localdate
from tongban.core.types import AuthenticatedHttpRequest
from tongban.org.models import Role
from tongban.org.services import PermissionDeniedError
from tongban.web.decorators import staff_required
from tongban.web.forms import add_service_errors

from . import permissions, selectors, services
from .forms import BoardFilterForm, CloseForm, DirectiveForm, QuarterForm, ReplyForm
from .models import CardClock

BOARD_ROLES = (Role.SUPERVISOR, Role.SYSADMIN, Role.DEPARTMENT_HEAD)
DIRECTIVE_ROLES = (Role.SUPERVISOR, Role.APPROVER, Role.DEPARTMENT_HEAD)


def _chart_data(board: selectors.Board) -> dict[str, Any]:
    rows = [r for r in board.rows if r.total]
    return {
        "departments": [r.name for r in rows],
        "red": [r.red for r in rows],
        "yellow": [r.yellow for r in rows],
        "green": [r.green for r in rows],
        "suspended": [r.suspended for r in rows],
        "weeks": [w["week"] for w in board.weekly_red],
        "weekly_red": [w["count"] for w in board.weekly_red],
    }


@require_GET
@staff_required(*BOARD_ROLES)
def board(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The board; an htmx poll (every 60 s) asks for the counts part only."""
    if not permissions.can_view_board(request.user):
        raise PermissionDenied
    choices = selectors.board_filter_choices(actor=request.user)
    form = BoardFilterForm(
        request.GET or None, departments=choices["departments"], items=choices["items"]
    )
    department_id = item_id = None
    clock = CardClock.PROMISED.value
    if form.is_bound and form.is_valid():
        department_id = form.cleaned_data["department"]
        item_id = form.cleaned_data["item"]
        clock = form.cleaned_data["clock"] or clock
    result = selectors.board_for(
        actor=request.user, clock=clock, department_id=department_id, item_id=item_id
    )
    if result is None:
        raise Http404
    context = {
        "title": _("电子监察看板"),
        "form": form,
        "board": result,
        "clock_label": CardClock(clock).label,
        "chart": _chart_data(result),
        "query": request.GET.urlencode(),
        "refresh_seconds": int(getattr(settings, "SUPERVISION_BOARD_REFRESH_SECONDS", 60)),
        "can_issue": any(
            a.role == Role.SUPERVISOR for a in permissions.assignments_of(request.user)
        ),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "board-live":
        return render(request, "supervision/_board_live.html", context)
    return render(request, "supervision/board.html", context)


@require_GET
@staff_required(*DIRECTIVE_ROLES)
def directive_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    directives = selectors.directive_list_for(actor=request.user)
    rows = [(d, selectors.directive_card(directive=d)) for d in directives]
    return render(
        request,
        "supervision/directive_list.html",
        {
            "title": _("督办"),
            "rows": rows,
            "can_issue": bool(selectors.directive_departments_for(actor=request.user)),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Role.SUPERVISOR)
def directive_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Issue a directive; from a case page with ?case=<id> (the case's department by default)."""
    departments = {d.pk: d for d in selectors.directive_departments_for(actor=request.user)}
    case = None
    case_param = request.GET.get("case", "")
    if case_param:
        if not case_param.isdigit():
            raise Http404
        case = case_visible_for_directive(actor=request.user, case_id=int(case_param))
        if case is None:
            raise Http404
    form = DirectiveForm(
        request.POST or None,
        departments=[(pk, d.name) for pk, d in departments.items()],
        initial={"department": case.department_id if case else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            directive = services.directive_issue(
                actor=request.user,
                department=departments[form.cleaned_data["department"]],
                text=form.cleaned_data["text"],
                limit_days=form.cleaned_data["limit_days"],
                case=case,
                pattern=form.cleaned_data["pattern"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDeniedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("督办已发出。"))
            return redirect("supervision:directive", pk=directive.pk)
    return render(
        request,
        "supervision/directive_new.html",
        {"title": _("发出督办"), "form": form, "case": case},
    )


def _directive_or_404(request: AuthenticatedHttpRequest, pk: int) -> Any:
    directive = selectors.directive_get_visible(actor=request.user, directive_id=pk)
    if directive is None:
        raise Http404
    return directive


def _directive_page(
    request: AuthenticatedHttpRequest,
    directive: Any,
    *,
    reply_form: ReplyForm | None = None,
    close_form: CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    from .workflow import AWAITING_REPLY, DirectiveStatus

    user = request.user
    can_reply = directive.status in AWAITING_REPLY and permissions.can_reply(user, directive)
    can_close = directive.status == DirectiveStatus.REPLIED and permissions.can_close(
        user, directive
    )
    context = {
        "title": _("督办 #%(id)s") % {"id": directive.pk},
        "directive": directive,
        "card": selectors.directive_card(directive=directive),
        "replies": selectors.directive_replies(directive=directive),
        "reply_form": (reply_form or ReplyForm()) if can_reply else None,
        "close_form": (close_form or CloseForm()) if can_close else None,
    }
    return render(request, "supervision/directive_detail.html", context, status=status)


@require_GET
@staff_required(*DIRECTIVE_ROLES)
def directive_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _directive_page(request, _directive_or_404(request, pk))


@require_POST
@staff_required(*DIRECTIVE_ROLES)
def directive_reply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    directive = _directive_or_404(request, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.directive_reply(
                actor=request.user, directive=directive, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDeniedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("答复已提交。"))
            return redirect("supervision:directive", pk=pk)
    return _directive_page(request, directive, reply_form=form, status=422)


@require_POST
@staff_required(Role.SUPERVISOR)
def directive_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    directive = _directive_or_404(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            services.directive_close(
                actor=request.user,
                directive=directive,
                accept=accept,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDeniedError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("督办已办结。") if accept else _("已退回部门重新办理。"))
            return redirect("supervision:directive", pk=pk)
    return _directive_page(request, directive, close_form=form, status=422)


@require_GET
@staff_required(Role.SUPERVISOR, Role.SYSADMIN)
def grades(request: AuthenticatedHttpRequest) -> HttpResponse:
    today = localdate()
    default = {"year": today.year, "quarter": (today.month - 1) // 3 + 1}
    form = QuarterForm(request.GET or default)
    year, quarter = default["year"], default["quarter"]
    if form.is_valid():
        year, quarter = form.cleaned_data["year"], form.cleaned_data["quarter"]
    rows, reviews_available = selectors.grades_for(actor=request.user, year=year, quarter=quarter)
    return render(
        request,
        "supervision/grades.html",
        {
            "title": _("部门季度评定"),
            "form": form,
            "rows": rows,
            "year": year,
            "quarter": quarter,
            "reviews_available": reviews_available,
            "thresholds": selectors.grading_thresholds(),
        },
    )
