"""好差评 pages: rating (portal, query code, signed link), the public figures, the department's bad
reviews and their rectification, the supervisor's appeals and tracing, and the window's QR code.

Views translate HTTP and call `tongban.reviews.services` / `selectors`; they never save a row. A
rectification or case the caller may not see is a 404. A refused rating shows the service's message
above the form, with what was typed kept; a mistake in the form shows next to its field.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from tongban.cases import selectors as case_selectors
from tongban.cases.models import Case
from tongban.cases.services import CaseStateError
from tongban.core.qrcode import qr_svg
from tongban.core.types import AuthenticatedHttpRequest
from tongban.org.models import Role
from tongban.org.services import PermissionDeniedError
from tongban.web.decorators import applicant_required, staff_required
from tongban.web.forms import add_service_errors

from . import selectors, services
from .forms import (
    AppealDecisionForm,
    AppealForm,
    CaseCodeForm,
    EvaluationForm,
    NoteForm,
    PeriodForm,
    ReplyForm,
)
from .models import BAD_LEVELS, Channel, Evaluation
from .workflow import RectificationState

# --- rating ------------------------------------------------------------------------------------


def _occasion_choices(case: Case) -> list[tuple[str, str]]:
    return [
        (o.occasion, _("%(label)s（再次评价）") % {"label": o.label} if o.rerate else o.label)
        for o in selectors.occasions_to_rate(case=case)
    ]


def _submit(form: EvaluationForm, call: Any) -> tuple[Evaluation | None, int]:
    """Call the service with the form's answers; its refusals and mistakes land on the form."""
    if not form.is_valid():
        return None, 400
    data = form.cleaned_data
    try:
        evaluation = call(
            occasion=data["occasion"],
            level=data.get("level") or "",
            tags=data.get("tags") or [],
            text=data.get("text") or "",
        )
    except PermissionDeniedError as exc:
        form.add_error(None, str(exc))
        return None, 403
    except CaseStateError as exc:
        form.add_error(None, exc.messages)
        return None, 409
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None, 400
    return evaluation, 200


def _thanks(evaluation: Evaluation) -> str:
    if evaluation.level in BAD_LEVELS and evaluation.rerating_of_id is None:
        rectification = evaluation.rectification
        return _("感谢您的评价。我们将于%(verify)s前回访核实，%(reply)s前整改并回复您。") % {
            "verify": timezone.localtime(rectification.verify_due).strftime("%Y年%m月%d日"),
            "reply": timezone.localtime(rectification.reply_due).strftime("%Y年%m月%d日"),
        }
    return _("感谢您的评价！")


@applicant_required
@require_http_methods(["GET", "POST"])
@never_cache
def portal_rate(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    """The applicant, signed in, rates their case (reached from the portal case page)."""
    case = case_selectors.portal_case_of(actor=request.user, case_id=case_id)
    if case is None:
        raise Http404
    choices = _occasion_choices(case)
    rerate = [o.occasion for o in selectors.occasions_to_rate(case=case) if o.rerate]
    form = EvaluationForm(
        request.POST or None, occasions=choices, preferred=rerate[0] if rerate else ""
    )
    status = 200
    if request.method == "POST":
        evaluation, status = _submit(
            form,
            lambda **answer: services.evaluation_by_applicant(
                actor=request.user, case=case, **answer
            ),
        )
        if evaluation is not None:
            messages.success(request, _thanks(evaluation))
            return redirect("cases:portal_case", case_id=case.pk)
    context = {
        "case": case,
        "form": form,
        "choices": choices,
        "evaluations": selectors.evaluations_of_case(case=case),
        "action": reverse("reviews:portal_rate", args=[case.pk]),
        "back": reverse("cases:portal_case", args=[case.pk]),
    }
    return render(request, "reviews/rate.html", context, status=status)


RATE_MAX_FAILURES = 10
RATE_WINDOW_SECONDS = 600


def _failures_key(request: HttpRequest) -> str:
    return f"reviews:rate-failures:{request.META.get('REMOTE_ADDR', '')}"


def _rate_failed(request: HttpRequest) -> None:
    key = _failures_key(request)
    if not cache.add(key, 1, RATE_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, RATE_WINDOW_SECONDS)


@require_http_methods(["GET", "POST"])
@never_cache
def rate(request: HttpRequest) -> HttpResponse:
    """Rating without signing in: by case number and query code (the tracking page links here), or
    by a signed link (`t`) from an SMS or the window's QR code. Wrong codes are throttled."""
    source = request.POST if request.method == "POST" else request.GET
    # A form posted to the link's own address carries the token in the query string.
    token = source.get("t") or request.GET.get("t", "")
    via = (
        Channel.DEVICE
        if (source.get("via") or request.GET.get("via")) == Channel.DEVICE
        else Channel.SMS
    )
    context: dict[str, Any] = {"token": token, "via": via}
    if token:
        try:
            case, occasion = services.link_open(token=token, actor=request.user)
        except PermissionDeniedError as exc:
            context["refused"] = str(exc)
            return render(request, "reviews/rate_public.html", context, status=403)
        choices = [c for c in _occasion_choices(case) if c[0] == occasion]

        def call(**answer: Any) -> Evaluation:
            answer.pop("occasion", None)
            return services.evaluation_by_link(
                actor=request.user, token=token, channel=via, **answer
            )
    else:
        if cache.get(_failures_key(request), 0) >= RATE_MAX_FAILURES:
            context["blocked"] = True
            response = render(request, "reviews/rate_public.html", context, status=429)
            response["Retry-After"] = str(RATE_WINDOW_SECONDS)
            return response
        asked = "number" in source or "code" in source
        code_form = CaseCodeForm(source if asked else None)
        context["code_form"] = code_form
        found = None
        if asked and code_form.is_valid():
            found = case_selectors.case_for_tracking(
                number=code_form.cleaned_data["number"], query_code=code_form.cleaned_data["code"]
            )
        if found is None:
            if asked:
                _rate_failed(request)
                context["not_found"] = True
            return render(
                request, "reviews/rate_public.html", context, status=404 if asked else 200
            )
        case = found
        choices = _occasion_choices(case)
        context["hidden"] = {"number": case.number, "code": code_form.cleaned_data["code"]}

        def call(**answer: Any) -> Evaluation:
            return services.evaluation_by_query_code(actor=request.user, case=case, **answer)

    is_post = request.method == "POST" and "level" in request.POST
    rerate = [o.occasion for o in selectors.occasions_to_rate(case=case) if o.rerate]
    form = EvaluationForm(
        request.POST if is_post else None,
        occasions=choices or [("", "")],
        preferred=rerate[0] if rerate else "",
    )
    status = 200
    if is_post:
        evaluation, status = _submit(form, call)
        if evaluation is not None:
            context.update(case=case, thanks=_thanks(evaluation))
            return render(request, "reviews/rate_public.html", context)
    context.update(
        case=case,
        form=form,
        choices=choices,
        applicant=case_selectors.name_masked(case.applicant.name),
        evaluations=selectors.evaluations_of_case(case=case),
    )
    return render(request, "reviews/rate_public.html", context, status=status)


# --- the window's QR code ----------------------------------------------------------------------


@staff_required()
@require_safe
def device(request: HttpRequest, case_id: int) -> HttpResponse:
    """The window shows the applicant a QR code (or an evaluation device opens the link): the
    applicant rates on their own phone, never on the clerk's session."""
    case = case_selectors.case_get_visible(actor=request.user, case_id=case_id)
    if case is None:
        raise Http404
    codes = []
    for option in selectors.occasions_to_rate(case=case):
        token = services.link_token(case=case, occasion=option.occasion)
        url = request.build_absolute_uri(
            reverse("reviews:rate") + "?" + urlencode({"t": token, "via": Channel.DEVICE})
        )
        codes.append({"label": option.label, "url": url, "svg": qr_svg(url, title=option.label)})
    return render(request, "reviews/device.html", {"case": case, "codes": codes})


# --- the public page ---------------------------------------------------------------------------


def _period(form: PeriodForm) -> tuple[date, date]:
    today = timezone.localdate()
    start, end = today.replace(month=1, day=1), today
    if form.is_bound and form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or end
    return start, end


@require_safe
def public(request: HttpRequest) -> HttpResponse:
    """好差评公示: per department 好评率 and 差评整改率, and the bad reviews with the replies."""
    from django.conf import settings

    region_code = getattr(settings, "PORTAL_REGION_CODE", "") or ""
    form = PeriodForm(request.GET or None)
    start, end = _period(form)
    context = {
        "form": form,
        "start": start,
        "end": end,
        "figures": selectors.department_review_figures(region_code, start, end),
        "reviews": selectors.public_bad_reviews(region_code=region_code),
    }
    return render(request, "reviews/public.html", context)


# --- the department's bad reviews --------------------------------------------------------------

HANDLERS = (Role.APPROVER, Role.DEPARTMENT_HEAD, Role.SUPERVISOR, Role.SYSADMIN)


@staff_required(*HANDLERS)
@require_safe
def department_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in RectificationState.values:
        state = ""
    rows = selectors.rectification_list_visible_to(actor=request.user, state=state or None)
    context = {
        "title": _("差评整改"),
        "rows": [
            {
                "r": r,
                "card": case_selectors.card_of(r.due, region=r.region) if r.due else None,
            }
            for r in rows
        ],
        "states": RectificationState.choices,
        "chosen": state,
    }
    return render(request, "reviews/department_list.html", context)


def _rectification_or_404(request: HttpRequest, pk: int) -> Any:
    rectification = selectors.rectification_get_visible(actor=request.user, pk=pk)
    if rectification is None:
        raise Http404(_("没有找到该差评。"))
    return rectification


def _render_rectification(
    request: HttpRequest,
    rectification: Any,
    *,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    from . import permissions

    bound = bound or {}
    user = request.user
    state = rectification.state
    appeal = selectors.rectification_appeal(rectification=rectification)
    handle = permissions.can_handle(user, rectification)
    context = {
        "title": _("差评整改"),
        "r": rectification,
        "e": rectification.evaluation,
        "case": rectification.evaluation.case,
        "card": case_selectors.card_of(rectification.due, region=rectification.region)
        if rectification.due
        else None,
        "appeal": appeal,
        "rerating": selectors.rectification_rerating(rectification=rectification),
        "verify_form": bound.get("verify") or NoteForm(prefix="verify")
        if handle and state == RectificationState.OPENED
        else None,
        "reply_form": bound.get("reply") or ReplyForm(prefix="reply")
        if handle and state == RectificationState.VERIFIED
        else None,
        "appeal_form": bound.get("appeal") or AppealForm(prefix="appeal")
        if appeal is None
        and permissions.can_appeal(user, rectification)
        and state
        in (RectificationState.OPENED, RectificationState.VERIFIED, RectificationState.REPLIED)
        else None,
    }
    return render(request, "reviews/rectification.html", context, status=status)


@staff_required(*HANDLERS)
@require_safe
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_rectification(request, _rectification_or_404(request, pk))


def _act(
    request: HttpRequest, rectification: Any, key: str, form: Any, call: Any, success: str
) -> HttpResponse:
    if not form.is_valid():
        return _render_rectification(request, rectification, bound={key: form}, status=400)
    try:
        call(form.cleaned_data)
    except PermissionDeniedError as exc:
        form.add_error(None, str(exc))
        return _render_rectification(request, rectification, bound={key: form}, status=403)
    except CaseStateError as exc:
        messages.error(request, " ".join(exc.messages))
        return _render_rectification(
            request, _rectification_or_404(request, rectification.pk), status=409
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _render_rectification(request, rectification, bound={key: form}, status=400)
    messages.success(request, success)
    return redirect("reviews:rectification", pk=rectification.pk)


@staff_required(*HANDLERS)
@require_POST
def rectification_verify(request: HttpRequest, pk: int) -> HttpResponse:
    rectification = _rectification_or_404(request, pk)
    return _act(
        request,
        rectification,
        "verify",
        NoteForm(request.POST, prefix="verify"),
        lambda d: services.rectification_verify(
            actor=request.user, rectification=rectification, note=d["note"]
        ),
        _("已记录回访核实情况，请在期限内整改并回复。"),
    )


@staff_required(*HANDLERS)
@require_POST
def rectification_reply(request: HttpRequest, pk: int) -> HttpResponse:
    rectification = _rectification_or_404(request, pk)
    return _act(
        request,
        rectification,
        "reply",
        ReplyForm(request.POST, prefix="reply"),
        lambda d: services.rectification_reply(
            actor=request.user, rectification=rectification, reply=d["reply"]
        ),
        _("整改回复已发送给申请人，申请人可再评价一次。"),
    )


@staff_required(*HANDLERS)
@require_POST
def rectification_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    rectification = _rectification_or_404(request, pk)
    return _act(
        request,
        rectification,
        "appeal",
        AppealForm(request.POST, prefix="appeal"),
        lambda d: services.appeal_file(
            actor=request.user, rectification=rectification, evidence=d["evidence"]
        ),
        _("申诉已提交，等待监察人员复核。"),
    )


# --- the supervisor's side ---------------------------------------------------------------------


def _render_appeals(
    request: HttpRequest, *, bound: dict[int, Any] | None = None, status: int = 200
) -> HttpResponse:
    bound = bound or {}
    appeals = selectors.appeals_pending_for(actor=request.user)
    rows = [
        {"a": a, "form": bound.get(a.pk) or AppealDecisionForm(prefix=f"a{a.pk}")} for a in appeals
    ]
    return render(
        request, "reviews/appeals.html", {"title": _("申诉复核"), "rows": rows}, status=status
    )


@staff_required(Role.SUPERVISOR)
@require_safe
def appeal_list(request: HttpRequest) -> HttpResponse:
    return _render_appeals(request)


@staff_required(Role.SUPERVISOR)
@require_POST
def appeal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = selectors.appeal_get_pending_visible(actor=request.user, pk=pk)
    if appeal is None:
        raise Http404(_("没有找到该申诉。"))
    form = AppealDecisionForm(request.POST, prefix=f"a{pk}")
    if form.is_valid():
        try:
            services.appeal_decide(
                actor=request.user,
                appeal=appeal,
                uphold=form.cleaned_data["decision"] == "upheld",
                reason=form.cleaned_data["reason"],
            )
        except CaseStateError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("reviews:appeals")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            upheld = form.cleaned_data["decision"] == "upheld"
            messages.success(
                request,
                _("申诉成立，该差评不再计入统计（记录保留）。") if upheld else _("已驳回申诉。"),
            )
            return redirect("reviews:appeals")
    return _render_appeals(request, bound={pk: form}, status=400)


@staff_required(Role.SUPERVISOR)
@require_safe
def tracing(request: HttpRequest) -> HttpResponse:
    """溯源: bad reviews and yellow/red cards that meet on one case, staff member, item, department."""
    form = PeriodForm(request.GET or None)
    start, end = _period(form)
    traced = selectors.tracing_for(actor=request.user, start=start, end=end)
    sections = [
        ("case", _("同一办件")),
        ("staff", _("同一工作人员")),
        ("item", _("同一事项")),
        ("department", _("同一部门")),
    ]
    context = {
        "title": _("差评溯源"),
        "form": form,
        "start": start,
        "end": end,
        "sections": [{"kind": k, "label": label, "rows": traced[k]} for k, label in sections],
    }
    return render(request, "reviews/tracing.html", context)
