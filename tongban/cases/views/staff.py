"""Staff case pages: the window (一窗受理), the case list and the case page with its actions.

Each action posts to its own small view that calls one service. What the service says becomes
HTTP: a ValidationError re-renders the case page with the message next to the field (what was
typed is kept), a PermissionDeniedError is a 404 for someone who cannot see the case and a 403
otherwise, and a CaseStateError (someone acted first) is a 409 with a link to reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tongban.core.validators import normalise_credit_code, normalise_id_number
from tongban.org import services as org_services
from tongban.org.models import ApplicantKind, Role
from tongban.org.permissions import has_role
from tongban.org.services import PermissionDeniedError
from tongban.web.decorators import staff_required
from tongban.web.forms import add_service_errors

from .. import selectors, services
from ..forms import (
    AnswerForm,
    ApplicantForm,
    DecideForm,
    DeliverForm,
    ExtensionRequestForm,
    ItemSearchForm,
    OpinionForm,
    PostCheckForm,
    ReasonForm,
    ReturnForm,
    SuspendForm,
    application_form_class,
)
from ..models import Case, Channel, Extension, MaterialStatus, Step
from ..timeline import Audience, timeline_of
from ..workflow import IN_PROGRESS_STATUSES, CaseStatus, StepStatus

# --- helpers ---------------------------------------------------------------------------------


def _case_or_404(request: HttpRequest, pk: int) -> Case:
    case = selectors.case_get_visible(actor=request.user, case_id=pk)
    if case is None:
        raise Http404(_("没有找到该办件。"))
    return case


def _conflict(request: HttpRequest, case: Case, error: ValidationError) -> HttpResponse:
    context = {"case": case, "message": " ".join(error.messages), "title": _("操作未完成")}
    return render(request, "cases/staff/conflict.html", context, status=409)


def _forbidden(request: HttpRequest, case: Case, error: PermissionDeniedError) -> HttpResponse:
    if selectors.case_get_visible(actor=request.user, case_id=case.pk) is None:
        raise Http404(_("没有找到该办件。"))
    context = {"case": case, "message": str(error), "title": _("无权操作")}
    return render(request, "cases/staff/forbidden.html", context, status=403)


def _mask_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[7:]}" if len(mobile) == 11 else mobile


def _notices_url(case: Case) -> str | None:
    # The notices pages are another part of the case pages; until they exist the link is left out.
    try:
        return reverse("cases:notices", args=[case.pk])
    except NoReverseMatch:
        return None


# --- the case page -----------------------------------------------------------------------------


def _suspend_kinds(case: Case) -> list[str]:
    if case.version is None:
        return []
    return list(case.version.special_procedures.values_list("kind", flat=True))


def _earlier_steps(step: Step, steps: list[Step]) -> list[Step]:
    return [s for s in steps if s.stage < step.stage and s.role != Role.WINDOW_CLERK]


def _step_forms(
    step: Step, case: Case, steps: list[Step], bound: dict[str, forms.Form]
) -> dict[str, forms.Form]:
    p = f"s{step.pk}"
    if step.kind == "decision":
        outputs = selectors.bundle_outputs_needed(case=case)
        return {
            "decide": bound.get(f"decide-{step.pk}")
            or DecideForm(prefix=f"{p}-decide", outputs=outputs)
        }
    result: dict[str, forms.Form] = {
        "pass": bound.get(f"pass-{step.pk}") or _pass_form(None, step, case, steps),
        "deny": bound.get(f"deny-{step.pk}") or ReasonForm(prefix=f"{p}-deny"),
    }
    earlier = _earlier_steps(step, steps)
    if earlier:
        result["return"] = bound.get(f"return-{step.pk}") or ReturnForm(
            prefix=f"{p}-return", earlier=earlier
        )
    return result


def _pass_form(data: Any, step: Step, case: Case, steps: list[Step]) -> OpinionForm:
    # Passing a step of the last stage decides an item that has no head's decision step, so that
    # form also takes the result number and the outputs the bundle's other items wait for.
    final = step.stage == max(s.stage for s in steps)
    outputs = selectors.bundle_outputs_needed(case=case) if final else []
    return OpinionForm(data, prefix=f"s{step.pk}-pass", final=final, outputs=outputs)


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    user = request.user
    actions = selectors.case_actions_for(actor=user, case=case)
    steps = selectors.case_steps(case=case)
    actionable = selectors.steps_actionable_by(actor=user, case=case, steps=steps)
    step_rows = [
        {
            "step": s,
            "card": selectors.card_of(s.due, region=case.region)
            if s.status == StepStatus.ACTIVE
            else None,
            "forms": _step_forms(s, case, steps, bound) if s.pk in actionable else {},
        }
        for s in steps
    ]
    # A card colours a clock that runs; a case the back office no longer holds shows instead
    # whether it was decided in time (a delivered case is not "red" for ever).
    running = case.status in IN_PROGRESS_STATUSES
    children = [
        {
            "case": c,
            "card": selectors.card_of(c.promised_due, region=c.region)
            if c.status in IN_PROGRESS_STATUSES
            else None,
            "timeliness": selectors.case_timeliness(case=c),
        }
        for c in selectors.case_children(case=case)
    ]
    materials = list(case.materials.order_by("id"))
    forms_ = {
        "supplement": bound.get("supplement")
        or (
            application_form_class(case)(prefix="supplement", initial=case.form_data)
            if "supplement" in actions
            else None
        ),
        "suspend": bound.get("suspend")
        or SuspendForm(prefix="suspend", kinds=_suspend_kinds(case)),
        "extension": bound.get("extension") or ExtensionRequestForm(prefix="extension"),
        "deliver": bound.get("deliver") or DeliverForm(prefix="deliver"),
        "terminate": bound.get("terminate") or ReasonForm(prefix="terminate"),
        "post_check": bound.get("post_check") or PostCheckForm(prefix="post_check"),
    }
    context = {
        "title": f"{case.number} {case.title}",
        "case": case,
        "mobile": _mask_mobile(case.applicant.mobile),
        "card": selectors.card_of(case.promised_due, region=case.region) if running else None,
        "legal_card": selectors.card_of(case.legal_due, region=case.region) if running else None,
        "timeliness": selectors.case_timeliness(case=case),
        "output_rows": selectors.case_output_rows(case=case),
        "actions": actions,
        "step_rows": step_rows,
        "children": children,
        "materials": materials,
        "supplements": list(case.supplements.order_by("sequence")),
        "suspensions": list(case.suspensions.order_by("started_at")),
        "open_extension": selectors.case_open_extension(case=case),
        "post_check": selectors.case_open_post_check(case=case),
        "forms": forms_,
        "timeline": timeline_of(case, audience=Audience.STAFF),
        "uncovered_years": selectors.case_uncovered_years(case=case),
        "notices_url": _notices_url(case),
        # 督办 is the supervision app's page; it checks the supervisor's scope itself.
        "can_direct": has_role(request.user, Role.SUPERVISOR) and case.department_id is not None,
        "tolerated_status": MaterialStatus.TOLERATED,
        "show_actions": bool(actions) or bool(actionable),
    }
    return render(request, "cases/staff/case_detail.html", context, status=status)


@staff_required()
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_case(request, _case_or_404(request, pk))


def _act(
    request: HttpRequest,
    case: Case,
    call: Callable[[], Any],
    *,
    success: str,
    form_key: str | None = None,
    form: forms.Form | None = None,
    anchor: str = "",
) -> HttpResponse:
    """Call one service and translate its answer into HTTP (see the module docstring)."""
    if form is not None and not form.is_valid():
        return _render_case(request, case, bound={form_key or "": form}, status=400)
    try:
        call()
    except services.CaseStateError as exc:
        return _conflict(request, case, exc)
    except PermissionDeniedError as exc:
        return _forbidden(request, case, exc)
    except ValidationError as exc:
        if form is None:
            # A button without fields: the message goes above the page, where the button was.
            messages.error(request, " ".join(exc.messages))
            return _render_case(request, case, status=400)
        add_service_errors(form, exc)
        return _render_case(request, case, bound={form_key or "": form}, status=400)
    messages.success(request, success)
    return redirect(reverse("cases:staff_case", args=[case.pk]) + anchor)


def _step_or_404(case: Case, step_pk: int) -> Step:
    step = case.steps.select_related("department").filter(pk=step_pk).first()
    if step is None:
        raise Http404(_("没有找到该环节。"))
    return step


@staff_required()
@require_POST
def step_pass(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    step = _step_or_404(case, step_pk)
    form = _pass_form(request.POST, step, case, selectors.case_steps(case=case))
    return _act(
        request,
        case,
        lambda: services.step_pass(
            actor=request.user,
            step=step,
            opinion=form.cleaned_data["opinion"],
            outputs=form.outputs(),
            result_number=form.cleaned_data.get("result_number", ""),
        ),
        success=_("环节“%(name)s”已通过。") % {"name": step.name},
        form_key=f"pass-{step.pk}",
        form=form,
        anchor="#steps",
    )


@staff_required()
@require_POST
def step_return(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    step = _step_or_404(case, step_pk)
    steps = selectors.case_steps(case=case)
    form = ReturnForm(
        request.POST, prefix=f"s{step.pk}-return", earlier=_earlier_steps(step, steps)
    )

    def call() -> Any:
        target = _step_or_404(case, form.cleaned_data["to_step"])
        return services.step_return(
            actor=request.user, step=step, to_step=target, reason=form.cleaned_data["reason"]
        )

    return _act(
        request,
        case,
        call,
        success=_("已退回到此前的环节。"),
        form_key=f"return-{step.pk}",
        form=form,
        anchor="#steps",
    )


@staff_required()
@require_POST
def step_propose_denial(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    step = _step_or_404(case, step_pk)
    form = ReasonForm(request.POST, prefix=f"s{step.pk}-deny")
    return _act(
        request,
        case,
        lambda: services.step_propose_denial(
            actor=request.user, step=step, reason=form.cleaned_data["reason"]
        ),
        success=_("已提出不予许可的建议，转负责人决定。"),
        form_key=f"deny-{step.pk}",
        form=form,
        anchor="#steps",
    )


@staff_required()
@require_POST
def step_decide(request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    step = _step_or_404(case, step_pk)
    outputs = selectors.bundle_outputs_needed(case=case)
    form = DecideForm(request.POST, prefix=f"s{step.pk}-decide", outputs=outputs)
    approve = request.POST.get("approve") == "1"
    return _act(
        request,
        case,
        lambda: services.step_decide(
            actor=request.user,
            step=step,
            approve=approve,
            reason=form.cleaned_data["reason"],
            outputs=form.outputs(),
            result_number=form.cleaned_data["result_number"],
        ),
        success=_("已作出准予决定。") if approve else _("已作出不予许可决定。"),
        form_key=f"decide-{step.pk}",
        form=form,
    )


@staff_required()
@require_POST
def case_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = SuspendForm(request.POST, prefix="suspend", kinds=_suspend_kinds(case))
    return _act(
        request,
        case,
        lambda: services.case_suspend(
            actor=request.user,
            case=case,
            kind=form.cleaned_data["kind"],
            reason=form.cleaned_data["reason"],
            expected_days=form.cleaned_data["expected_days"],
        ),
        success=_("已启动特别程序，办理时限暂停计算。"),
        form_key="suspend",
        form=form,
    )


@staff_required()
@require_POST
def case_resume(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    return _act(
        request,
        case,
        lambda: services.case_resume(actor=request.user, case=case),
        success=_("特别程序已结束，恢复计时。"),
    )


@staff_required()
@require_POST
def extension_request(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = ExtensionRequestForm(request.POST, prefix="extension")
    return _act(
        request,
        case,
        lambda: services.extension_request(
            actor=request.user,
            case=case,
            days=form.cleaned_data["days"],
            reason=form.cleaned_data["reason"],
        ),
        success=_("延期申请已提交，待部门负责人审批。"),
        form_key="extension",
        form=form,
    )


@staff_required()
@require_POST
def extension_decide(request: HttpRequest, pk: int, extension_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    extension = Extension.objects.filter(case=case, pk=extension_pk).first()
    if extension is None:
        raise Http404(_("没有找到该延期申请。"))
    grant = request.POST.get("grant") == "1"
    return _act(
        request,
        case,
        lambda: services.extension_decide(actor=request.user, extension=extension, grant=grant),
        success=_("已批准延期。") if grant else _("已不予批准延期。"),
    )


@staff_required()
@require_POST
def tolerated_supply(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    material = case.materials.filter(pk=material_pk).first()
    if material is None:
        raise Http404(_("没有找到该材料。"))
    return _act(
        request,
        case,
        lambda: services.tolerated_material_supply(actor=request.user, material=material),
        success=_("容缺材料“%(name)s”已补齐。") % {"name": material.name},
        anchor="#materials",
    )


@staff_required()
@require_POST
def case_pickup(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    return _act(
        request,
        case,
        lambda: services.case_ready_for_pickup(actor=request.user, case=case),
        success=_("已通知申请人领取结果。"),
    )


@staff_required()
@require_POST
def case_deliver(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = DeliverForm(request.POST, prefix="deliver")
    return _act(
        request,
        case,
        lambda: services.case_deliver(
            actor=request.user,
            case=case,
            method=form.cleaned_data["method"],
            detail=form.cleaned_data["detail"],
        ),
        success=_("办理结果已送达。"),
        form_key="deliver",
        form=form,
    )


@staff_required()
@require_POST
def case_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = ReasonForm(request.POST, prefix="terminate")
    return _act(
        request,
        case,
        lambda: services.case_terminate(
            actor=request.user, case=case, reason=form.cleaned_data["reason"]
        ),
        success=_("办件已终止。"),
        form_key="terminate",
        form=form,
    )


@staff_required()
@require_POST
def post_check(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = PostCheckForm(request.POST, prefix="post_check")
    return _act(
        request,
        case,
        lambda: services.post_check_record(
            actor=request.user,
            case=case,
            passed=form.cleaned_data["passed"],
            note=form.cleaned_data["note"],
        ),
        success=_("告知承诺核查已记录。"),
        form_key="post_check",
        form=form,
    )


@staff_required()
@require_POST
def case_supplement(request: HttpRequest, pk: int) -> HttpResponse:
    """The applicant is back at the window with what the notice asked for."""
    case = _case_or_404(request, pk)
    form = application_form_class(case)(request.POST, prefix="supplement")

    def call() -> Any:
        services.case_supplement_submit(actor=request.user, case=case, form_data=form.cleaned_data)

    response = _act(
        request,
        case,
        call,
        success=_("补正材料已收取，请再次答复。"),
        form_key="supplement",
        form=form,
    )
    if response.status_code == 302:
        return redirect("cases:staff_answer", pk=case.pk)
    return response


# --- the window: start a case and answer it ----------------------------------------------------


def _resolve_applicant(request: HttpRequest, form: ApplicantForm) -> Any:
    """The applicant the identifier names, registered first when new; None with form errors."""
    data = form.cleaned_data
    kind = data["kind"]
    try:
        identifier = (
            normalise_id_number(data["identifier"])
            if kind == ApplicantKind.NATURAL
            else normalise_credit_code(data["identifier"])
        )
    except ValidationError as exc:
        form.add_error("identifier", exc.messages)
        return None
    applicant = selectors.applicant_find(identifier=identifier)
    if applicant is not None:
        return applicant
    if not data["name"].strip():
        form.add_error("name", _("未找到该申请人，请填写姓名或单位名称以登记。"))
        return None
    try:
        return org_services.applicant_register(
            actor=request.user,
            kind=kind,
            name=data["name"],
            id_number=identifier if kind == ApplicantKind.NATURAL else "",
            credit_code=identifier if kind == ApplicantKind.LEGAL else "",
            legal_representative=data["legal_representative"],
            mobile=data["mobile"],
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
        for key, texts in errors.items():
            field = "identifier" if key in ("id_number", "credit_code") else key
            form.add_error(field if field in form.fields else None, texts)
        return None


@staff_required(Role.WINDOW_CLERK)
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    search = ItemSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    version_id = request.GET.get("version", "")
    bundle_id = request.GET.get("bundle", "")
    version = bundle = None
    if version_id.isdigit():
        found = selectors.window_versions_for(actor=user, version_id=int(version_id))
        version = found[0] if found else None
    elif bundle_id.isdigit():
        found = selectors.window_bundles_for(actor=user, bundle_id=int(bundle_id))
        bundle = found[0] if found else None
    if version is None and bundle is None:
        if version_id or bundle_id:
            raise Http404(_("本大厅不受理该事项。"))
        context = {
            "title": _("新建办件"),
            "search": search,
            "versions": selectors.window_versions_for(actor=user, query=query),
            "bundles": selectors.window_bundles_for(actor=user, query=query),
        }
        return render(request, "cases/staff/case_new_pick.html", context)

    halls = selectors.window_halls_of(actor=user)
    specs_case = Case(version=version, bundle=bundle)
    form_class = application_form_class(specs_case)
    posted = request.method == "POST"
    applicant_form = ApplicantForm(request.POST if posted else None, prefix="applicant")
    application = form_class(request.POST if posted else None, prefix="form")
    status = 200
    if posted:
        status = 400
        forms_valid = applicant_form.is_valid() and application.is_valid()
        if forms_valid and not halls:
            applicant_form.add_error(None, _("您没有所属的受理大厅，不能在窗口受理。"))
        elif forms_valid:
            applicant = _resolve_applicant(request, applicant_form)
            if applicant is not None:
                try:
                    case = services.case_create(
                        actor=user,
                        applicant=applicant,
                        channel=Channel.WINDOW,
                        version=version,
                        bundle=bundle,
                        form_data=application.cleaned_data,
                        hall=halls[0],
                    )
                except PermissionDeniedError as exc:
                    context = {"message": str(exc), "title": _("无权操作"), "case": None}
                    return render(request, "cases/staff/forbidden.html", context, status=403)
                except ValidationError as exc:
                    add_service_errors(application, exc)
                else:
                    messages.success(
                        request,
                        _("已创建办件 %(number)s，请核验材料并答复。") % {"number": case.number},
                    )
                    return redirect("cases:staff_answer", pk=case.pk)
    context = {
        "title": _("新建办件"),
        "version": version,
        "bundle": bundle,
        "hall": halls[0] if halls else None,
        "applicant_form": applicant_form,
        "application": application,
    }
    return render(request, "cases/staff/case_new.html", context, status=status)


def _answer(form: AnswerForm, case: Case, user: Any, answer: str) -> Any:
    data = form.cleaned_data
    ticked = set(data["checklist"])
    checklist = {m.pk: str(m.pk) in ticked for m in form.materials}
    if answer == "accept":
        return services.case_accept(actor=user, case=case, checklist=checklist)
    if answer == "tolerate":
        if not data["tolerated"]:
            raise ValidationError({"tolerated": [_("请勾选容缺的材料。")]})
        tolerated = services.materials_of(case, [int(i) for i in data["tolerated"]])
        return services.case_accept(
            actor=user,
            case=case,
            tolerated=tolerated,
            owed_by=data["owed_by"],
            checklist=checklist,
        )
    if answer == "commit":
        return services.case_accept(
            actor=user,
            case=case,
            commitment=True,
            commitment_text=data["commitment_text"],
            checklist=checklist,
        )
    if answer == "supplement":
        return services.case_request_supplement(
            actor=user, case=case, items=form.supplement_items()
        )
    if answer == "refuse":
        return services.case_refuse(
            actor=user, case=case, reason=data["reason"], basis=data["basis"]
        )
    raise ValidationError(_("请选择一种答复。"))


_ANSWERED = {
    "accept": _("已受理。"),
    "tolerate": _("已容缺受理。"),
    "commit": _("已按告知承诺受理并作出决定。"),
    "supplement": _("已出具一次性补正告知。"),
    "refuse": _("已作出不予受理决定。"),
}


@staff_required()
@require_http_methods(["GET", "POST"])
def case_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The one answer to an application, on one screen: accept (容缺 / 告知承诺), supplement,
    refuse."""
    case = _case_or_404(request, pk)
    # A GET of a case that is not waiting for an answer shows the case; a POST still goes to the
    # service, which says why it cannot be answered (someone else answered first, or no right).
    answerable = "answer" in selectors.case_actions_for(actor=request.user, case=case)
    if request.method == "GET" and not answerable:
        return redirect("cases:staff_case", pk=case.pk)
    materials = list(case.materials.order_by("id"))
    form = AnswerForm(request.POST or None, case=case, materials=materials)
    status = 200
    if request.method == "POST":
        status = 400
        answer = request.POST.get("answer", "")
        if form.is_valid():
            try:
                _answer(form, case, request.user, answer)
            except services.CaseStateError as exc:
                return _conflict(request, case, exc)
            except PermissionDeniedError as exc:
                return _forbidden(request, case, exc)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, str(_ANSWERED.get(answer, "")))
                return redirect("cases:staff_case", pk=case.pk)
    context = {
        "title": _("答复申请 %(number)s") % {"number": case.number},
        "case": case,
        "form": form,
        "mobile": _mask_mobile(case.applicant.mobile),
        "version": case.version,
        "supplements": list(case.supplements.order_by("sequence")),
    }
    return render(request, "cases/staff/case_answer.html", context, status=status)


# --- the list ------------------------------------------------------------------------------------


@staff_required()
def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "")
    if status not in CaseStatus.values:
        status = ""
    department = request.GET.get("department", "")
    department_id = int(department) if department.isdigit() else None
    overdue = request.GET.get("overdue") == "1"
    after = request.GET.get("after", "")
    rows = selectors.case_list_visible_to(
        actor=user,
        status=status or None,
        department_id=department_id,
        overdue=overdue,
        after=int(after) if after.isdigit() else None,
        limit=selectors.PAGE_SIZE + 1,
    )
    # One row more than a page tells whether a next page exists, without counting.
    has_next = len(rows) > selectors.PAGE_SIZE
    rows = rows[: selectors.PAGE_SIZE]
    next_query = ""
    if has_next:
        query = request.GET.copy()
        query["after"] = str(rows[-1].pk)
        next_query = query.urlencode()
    from tongban.org.selectors import department_list_visible_to

    context = {
        "title": _("办件查询"),
        "rows": [
            {
                "case": c,
                "card": selectors.card_of(c.promised_due, region=c.region)
                if c.status == CaseStatus.ACCEPTED
                else None,
            }
            for c in rows
        ],
        "statuses": CaseStatus.choices,
        "departments": department_list_visible_to(actor=user),
        "chosen": {"status": status, "department": department, "overdue": overdue},
        "next_query": next_query,
    }
    return render(request, "cases/staff/case_list.html", context)
