"""The applicant's pages: apply online (item or 一件事), drafts, uploads, 我的办件, supplement,
容缺 materials, withdrawal, and the public tracking page.

Views translate HTTP and call `tongban.cases.services` / `selectors`; they never save a case. A case
that is not the signed-in applicant's is a 404, never a 403 that admits it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from tongban.core.types import AuthenticatedHttpRequest
from tongban.org import selectors as org_selectors
from tongban.org import services as org_services
from tongban.org.models import ApplicantKind
from tongban.web.decorators import applicant_required
from tongban.web.forms import ApplicantForm, add_service_errors

from .. import selectors, services
from ..forms_portal import (
    APPLICANT_FIELD,
    ServiceValidatedForm,
    TrackForm,
    WithdrawForm,
    application_form_class,
    material_field_name,
)
from ..models import Case, Channel
from ..timeline import Audience, timeline_of
from ..uploads import max_upload_bytes
from ..workflow import CaseStatus

# --- applying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialRow:
    material: selectors.PortalMaterial
    field: Any  # the bound file input, None for a material the library supplies


def _material_rows(form: ServiceValidatedForm, materials: list[selectors.PortalMaterial]) -> list:
    return [
        MaterialRow(m, None if m.waived else form[material_field_name(m.material_type)])
        for m in materials
    ]


def _upload_errors(material_type: str, error: ValidationError) -> ValidationError:
    # upload_add names the file ("file"); on this page the file is the material's input.
    return ValidationError({material_field_name(material_type): error.messages})


def _store_files(
    request: AuthenticatedHttpRequest,
    case: Case,
    form: ServiceValidatedForm,
    handed: dict[str, Any],
) -> bool:
    """Hand each chosen file to upload_add; its refusals go next to the material. True if all went."""
    by_type = {m.material_type: m for m in case.materials.all()}
    stored_all = True
    for material_type, handed_file in handed.items():
        material = by_type.get(material_type)
        if material is None:
            continue
        try:
            services.upload_add(
                actor=request.user,
                case=case,
                material=material,
                name=handed_file.name,
                content=handed_file.content,
            )
        except ValidationError as exc:
            add_service_errors(form, _upload_errors(material_type, exc))
            stored_all = False
    return stored_all


def _applicant_of(request: AuthenticatedHttpRequest, form: ServiceValidatedForm) -> Any:
    chosen = str(form.data.get(APPLICANT_FIELD, ""))
    for applicant in org_selectors.applicant_list_for_account(account=request.user):
        if str(applicant.pk) == chosen:
            return applicant
    form.add_error(APPLICANT_FIELD, _("请选择申请人。"))
    return None


def _default_applicant(applicants: list[Any]) -> Any:
    natural = [a for a in applicants if a.kind == ApplicantKind.NATURAL]
    return (natural or applicants or [None])[0]


def _apply(
    request: AuthenticatedHttpRequest,
    *,
    version: Any = None,
    bundle: Any = None,
    case: Case | None = None,
) -> HttpResponse:
    """One page for a new application and for a draft being resumed."""
    specs = selectors.portal_form_specs(case=case, version=version, bundle=bundle)
    materials = selectors.portal_materials_of(case=case, version=version, bundle=bundle)
    applicants = (
        list(org_selectors.applicant_list_for_account(account=request.user))
        if case is None
        else None
    )
    form_class = application_form_class(specs=specs, materials=materials, applicants=applicants)
    register_form = ApplicantForm(prefix="register")
    if request.method == "GET":
        if case is not None:
            form = form_class(initial=case.form_data)
        else:
            default = _default_applicant(applicants or [])
            form = form_class(initial={APPLICANT_FIELD: default.pk if default else None})
    elif request.POST.get("action") == "register":
        # No applicant yet: register the natural person on this page, then apply.
        register_form = ApplicantForm(request.POST, prefix="register")
        form = form_class()
        if register_form.is_valid():
            try:
                org_services.applicant_register(
                    actor=request.user, account=request.user, **register_form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(register_form, exc)
            else:
                messages.success(request, _("申请人信息已保存，请继续填写申请。"))
                return redirect(request.get_full_path())
    else:
        form = form_class(request.POST, request.FILES)
        submit = request.POST.get("action") == "submit"
        # Files are checked before anything is written: a bad file changes nothing.
        handed = form.files_handed()
        applicant = _applicant_of(request, form) if case is None else case.applicant
        if not form.errors and applicant is not None:
            try:
                if case is None:
                    case = services.case_create(
                        actor=request.user,
                        applicant=applicant,
                        channel=Channel.ONLINE,
                        version=version,
                        bundle=bundle,
                        form_data=form.answers(),
                        submit=False,
                    )
                else:
                    case = services.case_draft_save(
                        actor=request.user, case=case, form_data=form.answers()
                    )
                stored = _store_files(request, case, form, handed)
                if stored and submit:
                    services.case_submit(actor=request.user, case=case)
                    return redirect("cases:portal_submitted", case_id=case.pk)
            except ValidationError as exc:
                add_service_errors(form, exc)
            if case is not None and not form.errors:
                messages.success(request, _("草稿已保存，可在“我的办件”中继续填写。"))
                return redirect("cases:portal_draft", case_id=case.pk)
            if case is not None:
                # What was typed is kept in the draft; the page answers from the draft's address.
                materials = selectors.portal_materials_of(case=case)
    context = {
        "form": form,
        "register_form": register_form,
        "needs_applicant": applicants is not None and not applicants,
        "material_rows": _material_rows(form, materials),
        "case": case,
        "version": version or (case.version if case else None),
        "bundle": bundle or (case.bundle if case else None),
        "action_url": _draft_url(case) if case is not None else request.get_full_path(),
    }
    return render(request, "cases/portal/apply.html", context)


def _draft_url(case: Case) -> str:
    from django.urls import reverse

    return reverse("cases:portal_draft", kwargs={"case_id": case.pk})


@applicant_required
@require_http_methods(["GET", "POST"])
def apply_item(request: AuthenticatedHttpRequest, local_code: str) -> HttpResponse:
    version = selectors.portal_version_to_apply(
        local_code=local_code, region_code=request.GET.get("region", "")
    )
    if version is None:
        raise Http404
    return _apply(request, version=version)


@applicant_required
@require_http_methods(["GET", "POST"])
def apply_bundle(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    bundle = selectors.portal_bundle_to_apply(code=code)
    if bundle is None:
        raise Http404
    return _apply(request, bundle=bundle)


def _own_case(request: AuthenticatedHttpRequest, case_id: int) -> Case:
    case = selectors.portal_case_of(actor=request.user, case_id=case_id)
    if case is None:
        raise Http404
    return case


@applicant_required
@require_http_methods(["GET", "POST"])
def draft(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    if case.status != CaseStatus.DRAFT:
        return redirect("cases:portal_case", case_id=case.pk)
    return _apply(request, case=case)


@applicant_required
@require_safe
@never_cache  # the query code is shown: no shared cache may keep it
def submitted(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    if case.status == CaseStatus.DRAFT:
        return redirect("cases:portal_draft", case_id=case.pk)
    return render(request, "cases/portal/submitted.html", {"case": case})


# --- my cases ----------------------------------------------------------------------------------


@applicant_required
@require_safe
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    cases = selectors.case_list_of_applicant(actor=request.user)[:200]
    return render(request, "cases/portal/case_list.html", {"cases": cases})


def _case_page(
    request: AuthenticatedHttpRequest,
    case: Case,
    *,
    supplement_form: ServiceValidatedForm | None = None,
    material_errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    supplement = selectors.case_supplement_open(case=case)
    if supplement is not None and supplement_form is None:
        supplement_form = _supplement_form_class(case, supplement)(initial=case.form_data)
    materials = selectors.portal_materials_of(case=case)
    owed = [m for m in materials if m.status == "tolerated"]
    context = {
        "case": case,
        "parts": selectors.case_parts_of(case=case),
        "holders": selectors.case_holders(case=case),
        "timeline": timeline_of(case, audience=Audience.APPLICANT),
        "uncovered_years": selectors.case_uncovered_years(case=case),
        "materials": materials,
        "owed": owed,
        "material_errors": material_errors or {},
        "supplement": supplement,
        "supplement_form": supplement_form,
        "supplement_rows": _supplement_rows(supplement_form, case, supplement)
        if supplement_form is not None
        else [],
        "withdrawable": selectors.case_withdrawable(case=case),
    }
    return render(request, "cases/portal/case_detail.html", context, status=status)


def _supplement_types(case: Case, supplement: Any) -> list[str]:
    named = {str(item.get("key", "")) for item in supplement.items if item.get("kind") != "field"}
    return [
        m.material_type
        for m in case.materials.all()
        if m.status in ("missing", "defective") or m.material_type in named or str(m.pk) in named
    ]


def _supplement_form_class(case: Case, supplement: Any) -> type[ServiceValidatedForm]:
    """Only what the notice asks for: the fields it names and the materials it names."""
    keys = {str(item.get("key", "")) for item in supplement.items if item.get("kind") == "field"}
    specs = [s for s in selectors.portal_form_specs(case=case) if s.key in keys]
    types = set(_supplement_types(case, supplement))
    materials = [
        m
        for m in selectors.portal_materials_of(case=case)
        if m.material_type in types and not m.waived
    ]
    return application_form_class(specs=specs, materials=materials)


def _supplement_rows(form: ServiceValidatedForm, case: Case, supplement: Any) -> list:
    types = set(_supplement_types(case, supplement))
    return _material_rows(
        form,
        [
            m
            for m in selectors.portal_materials_of(case=case)
            if m.material_type in types and not m.waived
        ],
    )


@applicant_required
@require_safe
@never_cache
def case_detail(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    if case.status == CaseStatus.DRAFT:
        return redirect("cases:portal_draft", case_id=case.pk)
    return _case_page(request, case)


@applicant_required
@require_POST
def supplement(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    notice = selectors.case_supplement_open(case=case)
    if notice is None:
        messages.error(request, _("该办件当前不需要补正。"))
        return redirect("cases:portal_case", case_id=case.pk)
    form = _supplement_form_class(case, notice)(request.POST, request.FILES)
    handed = form.files_handed()
    if not form.errors and _store_files(request, case, form, handed):
        try:
            services.case_supplement_submit(
                actor=request.user, case=case, form_data=form.answers() or None
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("补正材料已提交，请等待审查。"))
            return redirect("cases:portal_case", case_id=case.pk)
    case = _own_case(request, case_id)
    return _case_page(request, case, supplement_form=form)


@applicant_required
@require_POST
def tolerated(request: AuthenticatedHttpRequest, case_id: int, material_id: int) -> HttpResponse:
    """A material accepted as owed (容缺) is handed in: upload it, then mark it supplied."""
    case = _own_case(request, case_id)
    material = case.materials.filter(pk=material_id).first()
    if material is None:
        raise Http404
    upload = request.FILES.get("file")
    errors: list[str] = []
    if upload is None:
        errors = [_("请选择要上传的文件。")]
    else:
        try:
            services.upload_add(
                actor=request.user,
                case=case,
                material=material,
                name=upload.name or "",
                # One byte past the limit is enough for upload_add to refuse an oversize file.
                content=upload.read(max_upload_bytes() + 1),
            )
            services.tolerated_material_supply(actor=request.user, material=material)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("“%(name)s”已补交。") % {"name": material.name})
            return redirect("cases:portal_case", case_id=case.pk)
    return _case_page(request, case, material_errors={material.pk: errors})


@applicant_required
@require_http_methods(["GET", "POST"])
def withdraw(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    """Withdrawal asks for confirmation first: it cannot be undone."""
    case = _own_case(request, case_id)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_withdraw(
                actor=request.user, case=case, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("申请已撤回。"))
            return redirect("cases:portal_case", case_id=case.pk)
    context = {"case": case, "form": form, "withdrawable": selectors.case_withdrawable(case=case)}
    return render(request, "cases/portal/withdraw.html", context)


# --- public tracking ---------------------------------------------------------------------------

TRACK_MAX_FAILURES = 10
TRACK_WINDOW_SECONDS = 600


def _failures_key(request: HttpRequest) -> str:
    return f"cases:track-failures:{request.META.get('REMOTE_ADDR', '')}"


def _track_failed(request: HttpRequest) -> None:
    key = _failures_key(request)
    # add() starts the window on the first failure; incr() keeps its expiry.
    if not cache.add(key, 1, TRACK_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, TRACK_WINDOW_SECONDS)


@require_safe
@never_cache
def track(request: HttpRequest) -> HttpResponse:
    """办件查询 by number and query code, without signing in; the QR code on every notice opens
    /track/?number=…&code=… directly. Wrong and unknown answer alike; guessing is throttled."""
    asked = "number" in request.GET or "code" in request.GET
    form = TrackForm(request.GET if asked else None)
    context: dict[str, Any] = {"form": form}
    if cache.get(_failures_key(request), 0) >= TRACK_MAX_FAILURES:
        context["blocked"] = True
        response = render(request, "cases/portal/track.html", context, status=429)
        response["Retry-After"] = str(TRACK_WINDOW_SECONDS)
        return response
    if not asked:
        return render(request, "cases/portal/track.html", context)
    case = None
    if form.is_valid():
        case = selectors.case_for_tracking(
            number=form.cleaned_data["number"], query_code=form.cleaned_data["code"]
        )
    if case is None:
        _track_failed(request)
        context["not_found"] = True
        return render(request, "cases/portal/track.html", context, status=404)
    context.update(
        case=case,
        applicant_masked=selectors.name_masked(case.applicant.name),
        parts=selectors.case_parts_of(case=case),
        holders=selectors.case_holders(case=case),
        timeline=timeline_of(case, audience=Audience.PUBLIC),
        uncovered_years=selectors.case_uncovered_years(case=case),
    )
    return render(request, "cases/portal/track.html", context)
