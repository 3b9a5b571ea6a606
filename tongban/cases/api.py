"""Cases endpoints: translate JSON in and out, call one service or selector, nothing else.

Every case is looked up through the caller's visible scope first, so a case the caller may not see
is a 404 whatever it is asked to do, and a PermissionDeniedError a service raises afterwards is a
403 about a case the caller already knows. Errors are JSON with Chinese messages (handlers in
tongban/api.py). The router sets no auth of its own: it works with whatever the NinjaAPI uses
(session or bearer token), and `request.user` is the actor.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from tongban.core.types import AuthenticatedHttpRequest
from tongban.core.validators import normalise_credit_code, normalise_id_number
from tongban.org.models import AccountKind, Applicant, ApplicantKind, Hall, Role
from tongban.org.permissions import assignments_of, halls_visible_to
from tongban.org.selectors import applicant_list_for_account
from tongban.org.services import applicant_register

from . import selectors, services
from .models import Case, CaseMaterial, Extension, Step, Upload
from .schemas import (
    AcceptIn,
    ApplicantIn,
    CaseCreateIn,
    CaseListOut,
    CaseListParams,
    CaseOut,
    DeliverIn,
    ErrorOut,
    ExtensionCreatedOut,
    ExtensionDecideIn,
    ExtensionIn,
    InboxOut,
    InboxParams,
    PostCheckIn,
    ReasonIn,
    RefuseIn,
    StepDecideIn,
    StepPassIn,
    StepReturnIn,
    SupplementIn,
    SupplementSubmitIn,
    SuspendIn,
    UploadOut,
    WithdrawIn,
)
from .uploads import max_upload_bytes

router = Router(tags=["办件"])

# Every action can answer with these besides its success; listed so the OpenAPI document shows them.
ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


# --- looking up what the caller names -----------------------------------------------------------


def _case(request: AuthenticatedHttpRequest, number: str) -> Case:
    case = selectors.case_get_by_number_visible(actor=request.user, number=number)
    if case is None:
        # The same answer for a case that does not exist and one the caller may not see.
        raise HttpError(404, _("未找到办件 %(number)s。") % {"number": number})
    return case


def _step(case: Case, step_id: int) -> Step:
    step = selectors.case_step_get(case=case, step_id=step_id)
    if step is None:
        raise HttpError(404, _("该办件没有编号为 %(id)s 的环节。") % {"id": step_id})
    return step


def _material(case: Case, material_id: int) -> CaseMaterial:
    material = selectors.case_material_get(case=case, material_id=material_id)
    if material is None:
        raise HttpError(404, _("该办件没有编号为 %(id)s 的材料。") % {"id": material_id})
    return material


def _extension(case: Case, extension_id: int) -> Extension:
    extension = selectors.case_extension_get(case=case, extension_id=extension_id)
    if extension is None:
        raise HttpError(404, _("该办件没有编号为 %(id)s 的延期申请。") % {"id": extension_id})
    return extension


def _hall(request: AuthenticatedHttpRequest, hall_id: int) -> Hall | None:
    """The hall among those the caller may work in; a window clerk's own hall is the one their
    role assignment already holds (no query), any other goes through the hall scope."""
    for assignment in assignments_of(request.user):
        if assignment.role == Role.WINDOW_CLERK and assignment.hall_id == hall_id:
            return assignment.hall
    return halls_visible_to(request.user).filter(pk=hall_id).first()


def _target(payload: CaseCreateIn, region_code: str | None) -> dict[str, Any]:
    """The version or bundle the application is for; the service checks it is open for it."""
    target: dict[str, Any] = {}
    if isinstance(payload.item, int):
        version = selectors.item_version_get(version_id=payload.item)
        if version is None:
            raise HttpError(404, _("未找到事项版本 %(id)s。") % {"id": payload.item})
        target["version"] = version
    elif isinstance(payload.item, str):
        versions = selectors.item_versions_for_code(
            local_code=payload.item, region_code=region_code
        )
        if not versions:
            raise HttpError(404, _("未找到实施编码为 %(code)s 的事项。") % {"code": payload.item})
        if len(versions) > 1:
            raise ValidationError(
                {"item": [_("多个地区的事项使用此实施编码，请改用事项版本编号。")]}
            )
        target["version"] = versions[0]
    if payload.bundle is not None:
        bundle = selectors.bundle_get_by_code(code=payload.bundle)
        if bundle is None:
            raise HttpError(404, _("未找到编码为 %(code)s 的一件事。") % {"code": payload.bundle})
        target["bundle"] = bundle
    return target


def _prefixed(error: ValidationError, prefix: str) -> ValidationError:
    if not hasattr(error, "error_dict"):
        return ValidationError({prefix: error.messages})
    return ValidationError({f"{prefix}.{k}": v for k, v in error.message_dict.items()})


def _identifier(data: ApplicantIn) -> tuple[str, str]:
    """(kind, normalised number) from what the caller typed, or a field error in Chinese."""
    if data.id_number.strip() and data.credit_code.strip():
        raise ValidationError(
            {"applicant.credit_code": [_("身份证号码和统一社会信用代码只填写一个。")]}
        )
    try:
        if data.credit_code.strip():
            return ApplicantKind.LEGAL, normalise_credit_code(data.credit_code)
        if data.id_number.strip():
            return ApplicantKind.NATURAL, normalise_id_number(data.id_number)
    except ValidationError as error:
        field = "credit_code" if data.credit_code.strip() else "id_number"
        raise ValidationError({f"applicant.{field}": error.messages}) from None
    raise ValidationError(
        {"applicant.id_number": [_("请填写申请人的身份证号码或统一社会信用代码。")]}
    )


def _applicant(request: AuthenticatedHttpRequest, data: ApplicantIn | None) -> Applicant:
    """The applicant found by normalised ID number or credit code, registered when new.

    An applicant signed in to the portal applies only as one of the applicants their account
    holds; staff find anyone, or register them as the window does.
    """
    actor = request.user
    if actor.kind == AccountKind.APPLICANT:
        own = list(applicant_list_for_account(account=actor))
        if data is None or not (data.id_number.strip() or data.credit_code.strip()):
            if not own:
                raise ValidationError(
                    {"applicant": [_("您的账号下还没有申请人信息，请先在门户完善。")]}
                )
            return own[0]
        _kind, number = _identifier(data)
        for applicant in own:
            if applicant.identifier == number:
                return applicant
        raise ValidationError({"applicant": [_("只能以本人账号名下的申请人身份申请。")]})
    if data is None:
        raise ValidationError({"applicant": [_("请填写申请人。")]})
    kind, number = _identifier(data)
    found = selectors.applicant_find(identifier=number)
    if found is not None:
        return found
    try:
        return applicant_register(
            actor=actor,
            kind=kind,
            name=data.name,
            id_number=number if kind == ApplicantKind.NATURAL else "",
            credit_code=number if kind == ApplicantKind.LEGAL else "",
            legal_representative=data.legal_representative,
            mobile=data.mobile,
        )
    except IntegrityError:
        # Another request registered the same person a moment ago: use that registration.
        found = selectors.applicant_find(identifier=number)
        if found is None:
            raise
        return found
    except ValidationError as error:
        found = selectors.applicant_find(identifier=number)
        if found is not None:
            return found
        raise _prefixed(error, "applicant") from None


# The services name a hall `hall` and each form field by its key; in the API the hall is
# `hall_id` and form fields sit under `form`, so a client finds each message beside its field.
_CREATE_FIELDS = frozenset({"item", "bundle", "channel", "hall_id", "__all__"})


def _api_fields(error: ValidationError) -> ValidationError:
    if isinstance(error, services.CaseStateError) or not hasattr(error, "error_dict"):
        return error
    renamed: dict[str, list[str]] = {}
    for key, messages in error.message_dict.items():
        key = "hall_id" if key == "hall" else key
        if key not in _CREATE_FIELDS and not key.startswith(("material-", "applicant")):
            key = f"form.{key}"
        renamed[key] = messages
    return ValidationError(renamed)


# --- cursors ------------------------------------------------------------------------------------


def _cursor_out(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _cursor_in(text: str | None, *types: type) -> list[Any] | None:
    """The sort key a cursor carries, checked against the shape this list hands out."""
    if not text:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(
            isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, types, strict=True)
        )
    ):
        raise ValidationError({"after": [_("翻页游标无效，请从第一页重新开始。")]})
    return key


# --- out ----------------------------------------------------------------------------------------


def _local(moment: Any) -> Any:
    return timezone.localtime(moment) if moment else None


def _masked_mobile(mobile: str) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if len(mobile) >= 7 else ""


def _masked_identifier(applicant: Applicant) -> str:
    # A credit code is public register data; a person's ID number is not.
    if applicant.id_number:
        return f"{applicant.id_number[:6]}{'*' * 8}{applicant.id_number[-4:]}"
    return applicant.credit_code


def _named(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def _upload_out(upload: Upload) -> dict[str, Any]:
    return {
        "id": str(upload.pk),
        "original_name": upload.original_name,
        "content_type": upload.content_type,
        "size": upload.size,
        "sha256": upload.sha256,
        "uploaded_at": _local(upload.uploaded_at),
    }


def _extension_out(extension: Extension) -> dict[str, Any]:
    return {
        "id": extension.pk,
        "days": extension.days,
        "reason": extension.reason,
        "granted": extension.granted,
        "requested_at": _local(extension.requested_at),
        "decided_at": _local(extension.decided_at),
    }


def _step_out(step: Step, case: Case) -> dict[str, Any]:
    return {
        "id": step.pk,
        "order": step.order,
        "stage": step.stage,
        "name": step.name,
        "department": _named(step.department),
        "role": step.role,
        "kind": step.kind,
        "status": step.status,
        "status_label": step.get_status_display(),
        "limit": step.limit,
        "started_at": _local(step.started_at),
        "due": _local(step.due),
        "finished_at": _local(step.finished_at),
        "card": selectors.step_card(step=step, region=case.region),
        "opinion": step.opinion,
        "denial_proposed": step.denial_proposed,
    }


def _case_out(case: Case, *, created: services.CreatedRows | None = None) -> dict[str, Any]:
    """The case as CaseOut; `created` is what case_create just wrote, so that a new case's
    answer is built without reading back rows this request wrote a moment ago."""
    version = case.version
    applicant = case.applicant
    return {
        "number": case.number,
        "title": case.title,
        "status": case.status,
        "status_label": case.get_status_display(),
        "channel": case.channel,
        "item": {
            "version_id": version.pk,
            "local_code": version.item.local_code,
            "name": version.name,
        }
        if version is not None
        else None,
        "bundle": case.bundle.code if case.bundle is not None else None,
        "parent": case.parent.number if case.parent is not None else None,
        "department": _named(case.department),
        "hall": _named(case.hall),
        "applicant": {
            "kind": applicant.kind,
            "name": applicant.name,
            "identifier": _masked_identifier(applicant),
            "mobile": _masked_mobile(applicant.mobile),
        },
        "form": case.form_data,
        "created_at": _local(case.created_at),
        "submitted_at": _local(case.submitted_at),
        "accepted_at": _local(case.accepted_at),
        "decided_at": _local(case.decided_at),
        "completed_at": _local(case.completed_at),
        "delivered_at": _local(case.delivered_at),
        "promised_limit": case.promised_limit,
        "legal_limit": case.legal_limit,
        "limit_unit": case.limit_unit,
        "prereview_due": _local(case.prereview_due),
        "promised_due": _local(case.promised_due),
        "legal_due": _local(case.legal_due),
        "tolerance_due": _local(case.tolerance_due),
        "card": selectors.case_card(case=case),
        "extended_days": case.extended_days,
        "visits": case.visits,
        "supplement_count": case.supplement_count,
        "commitment": case.commitment,
        "decision": case.decision,
        "decision_reason": case.decision_reason,
        "basis": case.refusal_basis,
        "result_name": case.result_name,
        "result_number": case.result_number,
        "outputs": case.outputs,
        "delivery_method": case.delivery_method,
        "delivery_detail": case.delivery_detail,
        "close_reason": case.close_reason,
        "steps": [
            _step_out(s, case)
            for s in (created.steps if created else selectors.case_steps(case=case))
        ],
        "materials": [
            {
                "id": m.pk,
                "name": m.name,
                "material_type": m.material_type,
                "required": m.required,
                "tolerable": m.tolerable,
                "status": m.status,
                "status_label": m.get_status_display(),
                "problem": m.problem,
                "owed_by": m.owed_by,
                "checked": m.checked,
                # A material written by this request has no file yet.
                "files": [] if created else [_upload_out(u) for u in m.uploads.all()],
            }
            for m in (created.materials if created else selectors.case_materials(case=case))
        ],
        "extensions": [
            _extension_out(e)
            for e in (created.extensions if created else selectors.case_extensions(case=case))
        ],
        "children": [
            {
                "number": c.number,
                "title": c.title,
                "status": c.status,
                "status_label": c.get_status_display(),
                "department": _named(c.department),
            }
            for c in (selectors.case_children(case=case) if case.is_bundle and not created else [])
        ],
        "events": [
            {
                "kind": e.kind,
                "at": _local(e.occurred_at),
                "actor": e.actor_label,
                "payload": e.payload,
            }
            for e in (created.events if created else selectors.case_timeline(case=case))
        ],
    }


def _fresh(request: AuthenticatedHttpRequest, case: Case) -> dict[str, Any]:
    """The case as it is after the action, read again through the caller's scope."""
    return _case_out(_case(request, case.number))


# --- reading ------------------------------------------------------------------------------------


@router.get(
    "/cases",
    response={200: CaseListOut, 422: ErrorOut},
    summary="办件列表",
    description="调用者可见的办件，新的在前；按 next 游标翻页，不统计总数。",
)
def case_list(request: AuthenticatedHttpRequest, params: Query[CaseListParams]) -> dict:
    after = _cursor_in(params.after, int)
    rows = selectors.case_list_visible_to(
        actor=request.user,
        status=params.status,
        department_id=params.department,
        overdue=params.overdue,
        after=after[0] if after else None,
        # One row more than asked tells whether a next page exists, without counting.
        limit=params.limit + 1,
    )
    page = rows[: params.limit]
    cards = selectors.page_cards(
        dues=[(selectors.case_running_due(case=c), c.region_id) for c in page]
    )
    return {
        "items": [
            {
                "number": c.number,
                "title": c.title,
                "status": c.status,
                "status_label": c.get_status_display(),
                "channel": c.channel,
                "department": _named(c.department),
                "applicant": c.applicant.name,
                "created_at": _local(c.created_at),
                "promised_due": _local(c.promised_due),
                "card": card,
            }
            for c, card in zip(page, cards, strict=True)
        ],
        "next": _cursor_out(page[-1].pk) if len(rows) > params.limit else None,
    }


@router.get(
    "/inbox",
    response={200: InboxOut, 422: ErrorOut},
    summary="待办环节",
    description="调用者所在部门办理中的环节，期限最近的在前；按 next 游标翻页。",
)
def inbox(request: AuthenticatedHttpRequest, params: Query[InboxParams]) -> dict:
    after = _cursor_in(params.after, str, int)
    if after and after[0]:
        try:
            datetime.fromisoformat(after[0])
        except ValueError:
            raise ValidationError({"after": [_("翻页游标无效，请从第一页重新开始。")]}) from None
    rows = selectors.inbox_for(
        actor=request.user,
        department_id=params.department,
        after=(after[0], after[1]) if after else None,
        limit=params.limit + 1,
    )
    page = rows[: params.limit]
    last = page[-1] if page else None
    cards = selectors.page_cards(dues=[(s.due, s.case.region_id) for s in page])
    return {
        "items": [
            {
                "step_id": s.pk,
                "step": s.name,
                "stage": s.stage,
                "department": _named(s.department),
                "due": _local(s.due),
                "card": card,
                "case_number": s.case.number,
                "case_title": s.case.title,
                "case_status": s.case.status,
                "applicant": s.case.applicant.name,
            }
            for s, card in zip(page, cards, strict=True)
        ],
        "next": _cursor_out(last.due.isoformat() if last.due else "", last.pk)
        if last is not None and len(rows) > params.limit
        else None,
    }


@router.get(
    "/cases/{number}",
    response={200: CaseOut, 404: ErrorOut},
    summary="办件详情",
    description="状态、期限、环节、材料、延期和全部事件；申请人手机号和身份证号码部分隐藏。",
)
def case_detail(request: AuthenticatedHttpRequest, number: str) -> dict:
    return _case_out(_case(request, number))


# --- starting a case ----------------------------------------------------------------------------


@router.post(
    "/cases",
    response={201: CaseOut, **ERRORS},
    summary="创建办件",
    description="窗口受理（须指明大厅）或网上申请；submit 为 false 时保存草稿。",
)
def case_create(request: AuthenticatedHttpRequest, payload: CaseCreateIn) -> Status[dict]:
    hall = None
    if payload.hall_id is not None:
        hall = _hall(request, payload.hall_id)
        if hall is None:
            raise ValidationError({"hall_id": [_("未知的大厅，或您不在该大厅工作。")]})
    target = _target(payload, hall.region.code if hall else None)
    applicant = _applicant(request, payload.applicant)
    try:
        case = services.case_create(
            actor=request.user,
            applicant=applicant,
            channel=payload.channel,
            form_data=payload.form,
            hall=hall,
            submit=payload.submit,
            **target,
        )
    except ValidationError as error:
        raise _api_fields(error) from None
    # The service let the caller create it, so the caller may see it: no second scoped read,
    # and what it has just written is answered from memory.
    return Status(201, _case_out(case, created=services.created_rows_of(case)))


@router.post(
    "/cases/{number}/submit",
    response={200: CaseOut, **ERRORS},
    summary="提交草稿",
    description="申请人提交保存的草稿；网上申请须先上传每一项必交材料。",
)
def case_submit(request: AuthenticatedHttpRequest, number: str) -> dict:
    case = _case(request, number)
    try:
        services.case_submit(actor=request.user, case=case)
    except ValidationError as error:
        raise _api_fields(error) from None
    return _fresh(request, case)


@router.post(
    "/cases/{number}/materials/{material_id}/files",
    response={201: UploadOut, **ERRORS},
    summary="上传材料文件",
    description="multipart/form-data 的 file 字段；类型按内容识别（PDF、JPG、PNG、OFD），有大小限制。",
)
def material_file_upload(
    request: AuthenticatedHttpRequest,
    number: str,
    material_id: int,
    file: File[UploadedFile],
) -> Status[dict]:
    case = _case(request, number)
    material = _material(case, material_id)
    # One byte past the limit is enough for the service to refuse an oversize file, so a huge
    # upload is never read into memory whole.
    content = file.read(max_upload_bytes() + 1)
    upload = services.upload_add(
        actor=request.user, case=case, material=material, name=file.name or "", content=content
    )
    return Status(201, _upload_out(upload))


# --- the one answer -----------------------------------------------------------------------------


@router.post("/cases/{number}/accept", response={200: CaseOut, **ERRORS}, summary="受理")
def case_accept(request: AuthenticatedHttpRequest, number: str, payload: AcceptIn) -> dict:
    case = _case(request, number)
    services.case_accept(
        actor=request.user,
        case=case,
        tolerated=services.materials_of(case, payload.tolerated),
        owed_by=payload.owed_by,
        commitment=payload.commitment,
        commitment_text=payload.commitment_text,
        checklist=payload.checklist,
    )
    return _fresh(request, case)


@router.post("/cases/{number}/refuse", response={200: CaseOut, **ERRORS}, summary="不予受理")
def case_refuse(request: AuthenticatedHttpRequest, number: str, payload: RefuseIn) -> dict:
    case = _case(request, number)
    services.case_refuse(actor=request.user, case=case, reason=payload.reason, basis=payload.basis)
    return _fresh(request, case)


@router.post(
    "/cases/{number}/supplement",
    response={200: CaseOut, **ERRORS},
    summary="一次性告知补正",
)
def case_supplement(request: AuthenticatedHttpRequest, number: str, payload: SupplementIn) -> dict:
    case = _case(request, number)
    services.case_request_supplement(
        actor=request.user, case=case, items=[item.dict() for item in payload.items]
    )
    return _fresh(request, case)


@router.post(
    "/cases/{number}/supplement-submit",
    response={200: CaseOut, **ERRORS},
    summary="提交补正材料",
)
def case_supplement_submit(
    request: AuthenticatedHttpRequest, number: str, payload: SupplementSubmitIn | None = None
) -> dict:
    case = _case(request, number)
    try:
        services.case_supplement_submit(
            actor=request.user, case=case, form_data=payload.form if payload else None
        )
    except ValidationError as error:
        raise _api_fields(error) from None
    return _fresh(request, case)


# --- the applicant or the department ends it ----------------------------------------------------


@router.post("/cases/{number}/withdraw", response={200: CaseOut, **ERRORS}, summary="撤回申请")
def case_withdraw(
    request: AuthenticatedHttpRequest, number: str, payload: WithdrawIn | None = None
) -> dict:
    case = _case(request, number)
    services.case_withdraw(actor=request.user, case=case, reason=payload.reason if payload else "")
    return _fresh(request, case)


@router.post("/cases/{number}/terminate", response={200: CaseOut, **ERRORS}, summary="终止办理")
def case_terminate(request: AuthenticatedHttpRequest, number: str, payload: ReasonIn) -> dict:
    case = _case(request, number)
    services.case_terminate(actor=request.user, case=case, reason=payload.reason)
    return _fresh(request, case)


# --- the clock: special procedures and extensions -----------------------------------------------


@router.post("/cases/{number}/suspend", response={200: CaseOut, **ERRORS}, summary="启动特别程序")
def case_suspend(request: AuthenticatedHttpRequest, number: str, payload: SuspendIn) -> dict:
    case = _case(request, number)
    services.case_suspend(
        actor=request.user,
        case=case,
        kind=payload.kind,
        reason=payload.reason,
        expected_days=payload.expected_days,
    )
    return _fresh(request, case)


@router.post("/cases/{number}/resume", response={200: CaseOut, **ERRORS}, summary="结束特别程序")
def case_resume(request: AuthenticatedHttpRequest, number: str) -> dict:
    case = _case(request, number)
    services.case_resume(actor=request.user, case=case)
    return _fresh(request, case)


@router.post(
    "/cases/{number}/extensions",
    response={201: ExtensionCreatedOut, **ERRORS},
    summary="申请延期",
)
def extension_request(
    request: AuthenticatedHttpRequest, number: str, payload: ExtensionIn
) -> Status[dict]:
    case = _case(request, number)
    extension = services.extension_request(
        actor=request.user, case=case, days=payload.days, reason=payload.reason
    )
    return Status(201, {"extension": _extension_out(extension), "case": _fresh(request, case)})


@router.post(
    "/cases/{number}/extensions/{extension_id}/decide",
    response={200: CaseOut, **ERRORS},
    summary="批准或不批准延期",
)
def extension_decide(
    request: AuthenticatedHttpRequest, number: str, extension_id: int, payload: ExtensionDecideIn
) -> dict:
    case = _case(request, number)
    services.extension_decide(
        actor=request.user, extension=_extension(case, extension_id), grant=payload.grant
    )
    return _fresh(request, case)


# --- steps --------------------------------------------------------------------------------------


@router.post(
    "/cases/{number}/steps/{step_id}/pass",
    response={200: CaseOut, **ERRORS},
    summary="环节通过",
)
def step_pass(
    request: AuthenticatedHttpRequest, number: str, step_id: int, payload: StepPassIn
) -> dict:
    case = _case(request, number)
    extra: dict[str, Any] = {}
    # Results are recorded only by an item's last step; sent only when the caller gives them.
    if payload.outputs:
        extra["outputs"] = payload.outputs
    if payload.result_number.strip():
        extra["result_number"] = payload.result_number
    services.step_pass(
        actor=request.user, step=_step(case, step_id), opinion=payload.opinion, **extra
    )
    return _fresh(request, case)


@router.post(
    "/cases/{number}/steps/{step_id}/return",
    response={200: CaseOut, **ERRORS},
    summary="退回到此前的环节",
)
def step_return(
    request: AuthenticatedHttpRequest, number: str, step_id: int, payload: StepReturnIn
) -> dict:
    case = _case(request, number)
    step = _step(case, step_id)
    to_step = selectors.case_step_get(case=case, step_id=payload.to_step)
    if to_step is None:
        raise ValidationError({"to_step": [_("只能退回到本办件此前的审查环节。")]})
    services.step_return(actor=request.user, step=step, to_step=to_step, reason=payload.reason)
    return _fresh(request, case)


@router.post(
    "/cases/{number}/steps/{step_id}/propose-denial",
    response={200: CaseOut, **ERRORS},
    summary="建议不予许可",
)
def step_propose_denial(
    request: AuthenticatedHttpRequest, number: str, step_id: int, payload: ReasonIn
) -> dict:
    case = _case(request, number)
    services.step_propose_denial(
        actor=request.user, step=_step(case, step_id), reason=payload.reason
    )
    return _fresh(request, case)


@router.post(
    "/cases/{number}/steps/{step_id}/decide",
    response={200: CaseOut, **ERRORS},
    summary="作出准予或不予许可的决定",
)
def step_decide(
    request: AuthenticatedHttpRequest, number: str, step_id: int, payload: StepDecideIn
) -> dict:
    case = _case(request, number)
    services.step_decide(
        actor=request.user,
        step=_step(case, step_id),
        approve=payload.approve,
        reason=payload.reason,
        basis=payload.basis,
        outputs=payload.outputs,
        result_number=payload.result_number,
    )
    return _fresh(request, case)


# --- after the decision -------------------------------------------------------------------------


@router.post("/cases/{number}/deliver", response={200: CaseOut, **ERRORS}, summary="送达")
def case_deliver(request: AuthenticatedHttpRequest, number: str, payload: DeliverIn) -> dict:
    case = _case(request, number)
    services.case_deliver(
        actor=request.user, case=case, method=payload.method, detail=payload.detail
    )
    return _fresh(request, case)


@router.post(
    "/cases/{number}/post-check",
    response={200: CaseOut, **ERRORS},
    summary="记录告知承诺核查",
)
def post_check(request: AuthenticatedHttpRequest, number: str, payload: PostCheckIn) -> dict:
    case = _case(request, number)
    services.post_check_record(
        actor=request.user, case=case, passed=payload.passed, note=payload.note
    )
    return _fresh(request, case)
