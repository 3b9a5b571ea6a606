"""Sign-in pages, each role's home page and the applicants' portal home. Services decide."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongban.cases import selectors as case_selectors
from tongban.catalog import selectors as catalog_selectors
from tongban.core.types import AuthenticatedHttpRequest
from tongban.org import permissions, selectors, services
from tongban.org.models import AccountKind, Role

from .decorators import applicant_required, staff_required
from .forms import ApplicantForm, CodeForm, MobileForm, StaffSignInForm, add_service_errors

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(selectors.home_url_for(user=request.user))
    form = StaffSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_sign_in(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except services.SignInError as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend=MODEL_BACKEND)
            return redirect(selectors.home_url_for(user=user))
    return render(request, "web/sign_in.html", {"form": form})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    was_applicant = getattr(request.user, "kind", None) == AccountKind.APPLICANT
    logout(request)
    messages.success(request, _("您已安全退出。"))
    return redirect("web:portal_sign_in" if was_applicant else "web:sign_in")


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:sign_in")
    return redirect(selectors.home_url_for(user=request.user))


@require_http_methods(["GET", "POST"])
def portal_sign_in(request: HttpRequest) -> HttpResponse:
    """Step 1 asks for the mobile number and sends a code; step 2 takes the code."""
    if getattr(request.user, "kind", None) == AccountKind.APPLICANT:
        return redirect("web:portal_home")
    posted = request.method == "POST"
    step = request.POST.get("step", "mobile")
    mobile_form = MobileForm(request.POST if posted and step == "mobile" else None)
    code_form = CodeForm(request.POST if posted and step == "code" else None)
    code_sent = False
    if request.method == "POST" and step == "mobile" and mobile_form.is_valid():
        try:
            services.login_code_send(mobile=mobile_form.cleaned_data["mobile"])
        except ValidationError as exc:
            add_service_errors(mobile_form, exc)
        else:
            code_sent = True
            code_form = CodeForm(initial={"mobile": mobile_form.cleaned_data["mobile"]})
    elif request.method == "POST" and step == "code":
        code_sent = True
        if code_form.is_valid():
            try:
                account = services.login_code_verify(
                    mobile=code_form.cleaned_data["mobile"], code=code_form.cleaned_data["code"]
                )
            except ValidationError as exc:
                add_service_errors(code_form, exc)
            else:
                login(request, account, backend=MODEL_BACKEND)
                return redirect("web:portal_home")
    context = {"mobile_form": mobile_form, "code_form": code_form, "code_sent": code_sent}
    return render(request, "web/portal_sign_in.html", context)


@applicant_required
@require_http_methods(["GET", "POST"])
def portal_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApplicantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.applicant_register(
                actor=request.user, account=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("申请人信息已保存。"))
            return redirect("web:portal_home")
    applicants = selectors.applicant_list_for_account(account=request.user)
    return render(request, "web/portal_home.html", {"form": form, "applicants": applicants})


def _role_page(
    request: HttpRequest, template: str, roles: tuple[str, ...], title: str
) -> HttpResponse:
    user = request.user
    context = {
        "title": title,
        "assignments": [a for a in permissions.assignments_of(user) if a.role in roles],
        "departments": selectors.department_list_visible_to(actor=user),
        "halls": selectors.hall_list_visible_to(actor=user),
        "staff": selectors.staff_list_visible_to(actor=user),
    }
    return render(request, template, context)


@staff_required(Role.WINDOW_CLERK)
def workbench(request: HttpRequest) -> HttpResponse:
    """The clerk's home: applications waiting for their one answer, results waiting to be handed
    over, and the way to start a case for someone standing at the window."""
    user = request.user
    answer_queue = case_selectors.answer_queue_for(actor=user)
    context = {
        "title": _("窗口工作台"),
        "assignments": [a for a in permissions.assignments_of(user) if a.role == Role.WINDOW_CLERK],
        "halls": selectors.hall_list_visible_to(actor=user),
        "answer_queue": [
            {"case": c, "card": case_selectors.card_of(c.prereview_due, region=c.region)}
            for c in answer_queue
        ],
        "to_deliver": case_selectors.concluded_waiting_delivery_for(actor=user),
    }
    return render(request, "web/workbench.html", context)


def _inbox_after(raw: str) -> tuple[str, int] | None:
    due, _sep, last = raw.rpartition("|")
    return (due, int(last)) if last.isdigit() else None


@staff_required(Role.APPROVER, Role.DEPARTMENT_HEAD)
def inbox(request: HttpRequest) -> HttpResponse:
    """The department's active steps, soonest due first, with their cards; heads also see the
    extension requests waiting for them."""
    user = request.user
    limit = case_selectors.PAGE_SIZE
    rows = case_selectors.inbox_rows_for(
        actor=user, after=_inbox_after(request.GET.get("after", "")), limit=limit + 1
    )
    # One row more than a page tells whether there is a next page, without counting.
    next_after = ""
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_after = f"{last.due.isoformat() if last.due else ''}|{last.step_id}"
    context = {
        "title": _("审批待办"),
        "assignments": [
            a
            for a in permissions.assignments_of(user)
            if a.role in (Role.APPROVER, Role.DEPARTMENT_HEAD)
        ],
        # Rendered by {% inbox_rows %}: see tongban/web/templatetags/web_inbox.py for why.
        "steps": rows,
        "next_after": next_after,
        "extensions": case_selectors.extension_requests_pending_for(actor=user),
    }
    return render(request, "web/inbox.html", context)


@staff_required(Role.SUPERVISOR)
def supervision(request: HttpRequest) -> HttpResponse:
    """The supervisor's home: the board's totals at a glance, the way to the board, directives and
    grades, and the departments and halls of the region."""
    from tongban.supervision.selectors import board_for

    board = board_for(actor=request.user)
    user = request.user
    context = {
        "title": _("电子监察"),
        "assignments": [a for a in permissions.assignments_of(user) if a.role == Role.SUPERVISOR],
        "departments": selectors.department_list_visible_to(actor=user),
        "halls": selectors.hall_list_visible_to(actor=user),
        "board": board,
    }
    return render(request, "web/supervision.html", context)


@staff_required(Role.CATALOGUE_ADMIN)
def catalogue(request: HttpRequest) -> HttpResponse:
    department = request.GET.get("department", "")
    rows = catalog_selectors.item_rows_visible_to(
        actor=request.user, department_id=int(department) if department.isdigit() else None
    )
    context = {
        "title": _("事项管理"),
        "assignments": [
            a for a in permissions.assignments_of(request.user) if a.role == Role.CATALOGUE_ADMIN
        ],
        "departments": selectors.department_list_visible_to(actor=request.user),
        "chosen_department": department,
        "rows": rows,
    }
    return render(request, "web/catalogue.html", context)


@staff_required(Role.HOTLINE_AGENT)
def hotline_desk(request: HttpRequest) -> HttpResponse:
    return _role_page(request, "web/hotline_desk.html", (Role.HOTLINE_AGENT,), _("12345坐席"))


@staff_required(Role.HOTLINE_HANDLER)
def hotline_handling(request: HttpRequest) -> HttpResponse:
    roles = (Role.HOTLINE_HANDLER,)
    return _role_page(request, "web/hotline_handling.html", roles, _("工单承办"))
