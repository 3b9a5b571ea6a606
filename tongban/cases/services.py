"""Every write to a case: one transaction each, the row locked, the move checked, the event appended.

The rules (DESIGN.md §4): an application gets one answer — accept (possibly with tolerated missing
materials, or on the applicant's commitment), refuse, or one supplement notice listing everything;
accepting instantiates the item version's steps; steps sharing a parallel group run at once; every
event that can move a due date recomputes the case's and the steps' due dates here, from the stored
clock events, on the region's working-day calendar. Side effects (SMS, webhooks) run after commit
(`tongban.cases.notify`). Nothing here renders a page or reads a request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.catalog.formschema import FieldSpec, spec_of, validate_submission
from tongban.catalog.models import (
    Bundle,
    BundleItem,
    FieldMapping,
    ItemStatus,
    ItemVersion,
    MaterialRequirement,
    MaterialSource,
    Necessity,
    SpecialProcedureKind,
)
from tongban.catalog.selectors import (
    bundle_members,
    bundle_merged_form,
    bundle_merged_materials,
    output_labels,
    version_published_of,
)
from tongban.core.models import Event
from tongban.core.rows import insert_new
from tongban.core.services import event_append, event_chain_start
from tongban.org.models import Applicant, Hall, Region, Role
from tongban.org.services import PermissionDeniedError
from tongban.timelimits.calendar import DayUnit, WorkCalendar
from tongban.timelimits.selectors import calendar_for

from . import clocks, notify, permissions
from .models import (
    Case,
    CaseMaterial,
    Channel,
    Decision,
    DeliveryMethod,
    Extension,
    MaterialStatus,
    PostCheck,
    Step,
    StepKind,
    SupplementRequest,
    Suspension,
    Upload,
)
from .uploads import sniff_upload
from .workflow import (
    FINAL_STATUSES,
    IN_PROGRESS_STATUSES,
    CaseStatus,
    StepStatus,
    can_move,
    can_move_step,
)

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at a window
QUERY_CODE_LENGTH = 8


class CaseStateError(ValidationError):
    """The case is not in a state that allows the action (often: someone else acted first)."""


def _state_error(case: Case, action: str) -> CaseStateError:
    return CaseStateError(
        _("办件 %(number)s 当前为“%(status)s”，不能%(action)s。请刷新页面查看最新状态。")
        % {"number": case.number, "status": case.get_status_display(), "action": action}
    )


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDeniedError(message)


# --- numbers ----------------------------------------------------------------------------------


def case_number_next(*, region_code: str, day: date) -> str:
    """The next case number of a region and day: region code + date + five-digit sequence.

    The counter row is bumped in its own short transaction when the caller is not already inside
    one, so that a slow case creation never holds the region's counter: creations in one region
    wait for each other only for the length of one UPDATE, creations in other regions never. A
    creation that rolls back leaves a gap in the sequence; numbers stay unique and increasing.
    """
    sql = (
        "INSERT INTO cases_casenumbercounter (region_code, day, last) VALUES (%s, %s, 1) "
        "ON CONFLICT (region_code, day) DO UPDATE SET last = cases_casenumbercounter.last + 1 "
        "RETURNING last"
    )
    if connection.in_atomic_block or not connection.get_autocommit():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [region_code, day.isoformat()])
            (last,) = cursor.fetchone()
    else:
        # In autocommit one statement is its own transaction: no BEGIN and COMMIT round trips.
        with connection.cursor() as cursor:
            cursor.execute(sql, [region_code, day.isoformat()])
            (last,) = cursor.fetchone()
    return f"{region_code}{day:%Y%m%d}{last:05d}"


def _query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


# --- helpers ----------------------------------------------------------------------------------


def _calendar(case: Case) -> WorkCalendar:
    return calendar_for(case.region)


def _locked(case: Case) -> Case:
    # of=("self",): lock the case row only. PostgreSQL refuses FOR UPDATE on the outer-joined
    # (nullable) relations, and would otherwise also lock the region and applicant rows, making
    # every case of a region wait for each other.
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("region", "applicant", "version", "bundle", "department")
        .get(pk=case.pk)
    )


def _event(case: Case, kind: str, actor: Any, payload: dict[str, Any] | None = None) -> Event:
    body = {"number": case.number, "status": case.status, **(payload or {})}
    event = event_append(subject=case, kind=f"case.{kind}", actor=actor, payload=body)
    notify.case_event_on_commit(case=case, event=event)
    return event


def _move(
    case: Case,
    target: str,
    *,
    actor: Any,
    kind: str,
    action: str,
    payload: dict[str, Any] | None = None,
) -> Event:
    if not can_move(case.status, target):
        raise _state_error(case, action)
    before = case.status
    case.status = target
    if target in FINAL_STATUSES and case.closed_at is None:
        case.closed_at = timezone.now()
    case.save()
    return _event(case, kind, actor, {"from": before, "to": target, **(payload or {})})


def _due_of(
    stored: list[dict[str, Any]], limit: int | None, unit: str, cal: WorkCalendar
) -> datetime | None:
    if limit is None:
        return None
    state = clocks.state_of(stored, limit=limit, unit=unit, calendar=cal)
    return state.due if state else None


def _recompute_case_dues(case: Case, cal: WorkCalendar) -> None:
    case.promised_due = _due_of(case.clock, case.promised_limit, case.limit_unit, cal)
    case.legal_due = _due_of(case.clock, case.legal_limit, case.limit_unit, cal)
    case.suspended_since = (
        datetime.fromisoformat(case.clock[-1]["at"]) if clocks.is_suspended(case.clock) else None
    )


def _recompute_step_due(step: Step, cal: WorkCalendar) -> None:
    step.due = _due_of(step.clock, step.limit, DayUnit.WORKING.value, cal)


def _clock_active_steps(case: Case, entry: dict[str, Any], cal: WorkCalendar) -> list[Step]:
    """A case-wide clock event (suspend, resume, extend) reaches its running steps too."""
    steps = list(case.steps.filter(status=StepStatus.ACTIVE))
    for step in steps:
        step.clock = [*step.clock, entry]
        _recompute_step_due(step, cal)
        step.save()
    return steps


def _visit(case: Case, reason: str) -> None:
    case.visits += 1
    case._visit_reason = reason  # type: ignore[attr-defined]


# A version that left its draft never changes (catalog/services edits drafts only), so its form
# and materials are read once per process. Keyed with the creation time as well as the id: a
# rolled-back test database may hand the same id to another version.
_VERSION_CONTENT: dict[tuple[int, datetime], tuple[list[FieldSpec], list[MaterialRequirement]]] = {}


def _version_content(version: ItemVersion) -> tuple[list[FieldSpec], list[MaterialRequirement]]:
    key = (version.pk, version.created_at)
    content = _VERSION_CONTENT.get(key)
    if content is None:
        content = (
            [spec_of(f) for f in version.form_fields.all()],
            list(version.materials.all()),
        )
        if version.status != ItemStatus.DRAFT:
            if len(_VERSION_CONTENT) > 10_000:
                _VERSION_CONTENT.clear()
            _VERSION_CONTENT[key] = content
    return content


def version_specs(version: ItemVersion) -> list[FieldSpec]:
    return _version_content(version)[0]


def version_requirements(version: ItemVersion) -> list[MaterialRequirement]:
    return _version_content(version)[1]


def _specs_of(case: Case) -> list[FieldSpec]:
    if case.bundle is not None:
        return bundle_merged_form(bundle=case.bundle)
    assert case.version is not None
    return version_specs(case.version)


def _children(case: Case) -> list[Case]:
    return list(
        Case.objects.select_for_update(of=("self",))
        .filter(parent=case)
        .select_related("region", "version", "department", "bundle_member", "applicant")
        .order_by("id")
    )


# --- creation, drafts, uploads, submission ----------------------------------------------------


@dataclass(frozen=True)
class CreatedRows:
    """What case_create wrote for a case submitted at once, kept on the case it returns so that
    the caller can answer with it instead of reading it back (a new case has no steps yet, no
    extensions and no files)."""

    materials: list[CaseMaterial]
    events: list[Event]
    steps: tuple[Step, ...] = ()
    extensions: tuple[Extension, ...] = ()


def created_rows_of(case: Case) -> CreatedRows | None:
    """The rows case_create wrote with this case object, or None for any other case object."""
    return getattr(case, "_created_rows", None)


@dataclass(frozen=True)
class _Target:
    version: ItemVersion | None
    bundle: Bundle | None
    members: list[tuple[BundleItem, ItemVersion]]


def _target_of(version: ItemVersion | None, bundle: Bundle | None) -> _Target:
    if (version is None) == (bundle is None):
        raise ValidationError(_("请选择一个事项或一件事。"))
    if version is not None:
        if version.status != ItemStatus.PUBLISHED:
            raise ValidationError({"item": [_("该事项当前未发布，不能申请。")]})
        return _Target(version, None, [])
    assert bundle is not None
    if bundle.status != ItemStatus.PUBLISHED:
        raise ValidationError({"bundle": [_("该一件事当前未发布，不能申请。")]})
    members = []
    for member in bundle_members(bundle=bundle):
        published = version_published_of(item=member.item)
        if published is None:
            raise ValidationError(
                {
                    "bundle": [
                        _("一件事中的“%(name)s”暂停办理，暂不能申请。") % {"name": member.item}
                    ]
                }
            )
        members.append((member, published))
    return _Target(None, bundle, members)


def _materials_for(case: Case, version: ItemVersion) -> list[CaseMaterial]:
    rows = []
    for requirement in version_requirements(version):
        from_library = requirement.source == MaterialSource.CERTIFICATE
        rows.append(
            CaseMaterial(
                case=case,
                requirement=requirement,
                material_type=requirement.material_type,
                name=requirement.name,
                required=requirement.necessity == Necessity.REQUIRED,
                tolerable=requirement.tolerable,
                # A certificate the library holds is never asked of the applicant (无证明).
                status=MaterialStatus.WAIVED if from_library else MaterialStatus.PENDING,
            )
        )
    return rows


def _bundle_materials_for(case: Case) -> list[CaseMaterial]:
    """A bundle asks for each material once, on the parent; the children share its files."""
    assert case.bundle is not None
    return bundle_material_rows(case, bundle_merged_materials(bundle=case.bundle))


def bundle_material_rows(case: Case, materials: Iterable[Any]) -> list[CaseMaterial]:
    """The parent's materials, unsaved, from its bundle's merged list (catalog.selectors)."""
    rows = []
    for merged in materials:
        first = merged.requirements[0]
        from_library = first.source == MaterialSource.CERTIFICATE
        rows.append(
            CaseMaterial(
                case=case,
                requirement=first,
                material_type=merged.material_type,
                name=merged.name,
                required=merged.necessity == Necessity.REQUIRED,
                tolerable=all(r.tolerable for r in merged.requirements),
                status=MaterialStatus.WAIVED if from_library else MaterialStatus.PENDING,
            )
        )
    return rows


def case_create(
    *,
    actor: Any,
    applicant: Applicant,
    channel: str,
    version: ItemVersion | None = None,
    bundle: Bundle | None = None,
    form_data: Mapping[str, Any] | None = None,
    hall: Hall | None = None,
    submit: bool = True,
) -> Case:
    """Start a case for an item version or a bundle; submit it at once unless it is a draft.

    At a window (`channel="window"`) the applicant is present: the case counts one visit, and the
    clerk answers it straight away. Online, the pre-review clock starts at submission.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("申请渠道无效。")]})
    target = _target_of(version, bundle)
    if channel == Channel.WINDOW:
        if hall is None:
            raise ValidationError({"hall": [_("窗口受理须指明受理大厅。")]})
        _require(
            any(a.role == Role.WINDOW_CLERK and a.hall_id == hall.pk for a in _assignments(actor)),
            _("只有本大厅的窗口人员可以在窗口受理。"),
        )
    head_version = target.version
    region = head_version.item.region if head_version else target.bundle.region  # type: ignore[union-attr]
    if channel == Channel.WINDOW:
        assert hall is not None
        if not permissions.hall_accepts_for(hall, region):
            raise ValidationError(
                {"item": [_("本大厅不受理%(region)s的事项。") % {"region": region.name}]}
            )
    elif getattr(actor, "kind", None) == "applicant":
        _require(applicant.account_id == actor.pk, _("只能为本人名下的申请人提交申请。"))
    else:
        # Online on a citizen's behalf: a department system (or its staff) of the item, or a
        # window clerk whose hall accepts for the region — never an unrelated office.
        departments = (
            {head_version.item.department_id}
            if head_version
            else {v.item.department_id for _m, v in target.members}
        )
        _require(
            permissions.can_start_online_for(actor, region, departments),
            _("您无权为申请人提交该事项的网上申请。"),
        )
    if not submit and getattr(actor, "kind", None) != "applicant":
        # A draft is the applicant's own workspace, which staff never see (permissions.case_scope).
        raise ValidationError({"submit": [_("工作人员代为申请须直接提交，不能保存为草稿。")]})
    data = dict(form_data or {})
    # An item case submitted at once is checked before it takes a number and written in its
    # submitted state with its first two events in one insert: the hot path of every window.
    at_once = submit and head_version is not None
    if at_once:
        assert head_version is not None
        data = _validated_new_application(head_version, data, online=channel == Channel.ONLINE)
    now = timezone.now()
    number = case_number_next(region_code=region.code, day=timezone.localdate(now))
    with transaction.atomic():
        case = case_row(
            number=number,
            version=head_version,
            bundle=target.bundle,
            region=region,
            hall=hall,
            applicant=applicant,
            actor=actor,
            channel=channel,
            form_data=data,
            now=now,
            submitted=at_once,
        )
        insert_new([case])
        if head_version:
            materials = _materials_for(case, head_version)
        else:
            materials = _bundle_materials_for(case)
        insert_new(materials)
        if at_once:
            created = {"channel": channel, "item": case.title, "hall": hall.name if hall else ""}
            submitted = {"from": CaseStatus.DRAFT, "to": CaseStatus.SUBMITTED}
            events = event_chain_start(
                subject=case,
                events=[
                    ("case.created", actor, {"number": number, "status": case.status, **created}),
                    (
                        "case.submitted",
                        actor,
                        {"number": number, "status": case.status, **submitted},
                    ),
                ],
            )
            departments = {case.department_id} if case.department_id else set()
            notify.case_events_on_commit(case=case, events=events, department_ids=departments)
            notify.applicant_sms_on_commit(case=case, what="submitted")
            case._created_rows = CreatedRows(  # type: ignore[attr-defined]
                materials=sorted(materials, key=lambda m: m.pk), events=events
            )
            return case
        for index, (member, member_version) in enumerate(target.members, start=1):
            child = bundle_item_row(
                case, index, member, member_version, _child_form(data, member_version)
            )
            child.save(force_insert=True)
            CaseMaterial.objects.bulk_create(_materials_for(child, member_version))
        _event(
            case,
            "created",
            actor,
            {"channel": channel, "item": case.title, "hall": hall.name if hall else ""},
        )
        if submit:
            _submit(case, actor=actor, now=now)
    return case


def case_row(
    *,
    number: str,
    version: ItemVersion | None,
    bundle: Bundle | None,
    region: Region,
    hall: Hall | None,
    applicant: Applicant,
    actor: Any,
    channel: str,
    form_data: dict[str, Any],
    now: datetime,
    submitted: bool,
) -> Case:
    """A new case's row, unsaved, as case_create writes it: for an item version or a bundle, at a
    window counting the applicant's first visit, submitted at once or still a draft."""
    limits: ItemVersion | Bundle | None = version or bundle
    assert limits is not None
    case = Case(
        number=number,
        query_code=_query_code(),
        version=version,
        bundle=bundle,
        title=limits.name,
        region=region,
        department=version.item.department if version else None,
        hall=hall,
        applicant=applicant,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        channel=channel,
        status=CaseStatus.DRAFT,
        form_data=form_data,
        created_at=now,
        promised_limit=limits.promised_limit,
        legal_limit=version.legal_limit if version else None,
        limit_unit=limits.limit_unit,
    )
    if channel == Channel.WINDOW:
        case.visits = 1
    if submitted:
        case.status = CaseStatus.SUBMITTED
        case.submitted_at = now
        if channel == Channel.ONLINE:
            case.prereview_due = _prereview_due(case, now)
    return case


def bundle_item_row(
    parent: Case,
    index: int,
    member: BundleItem,
    version: ItemVersion,
    form_data: dict[str, Any],
) -> Case:
    """The row, unsaved, of a 一件事's item number `index`: a draft under its parent, for the
    member's published version, with the part of the parent's form that version asks for."""
    return Case(
        number=f"{parent.number}-{index:02d}",
        query_code=parent.query_code,
        parent=parent,
        bundle_member=member,
        version=version,
        title=version.name,
        region=version.item.region,
        department=version.item.department,
        hall=parent.hall,
        applicant=parent.applicant,
        created_by=parent.created_by,
        channel=parent.channel,
        status=CaseStatus.DRAFT,
        form_data=form_data,
        created_at=parent.created_at,
        promised_limit=version.promised_limit,
        legal_limit=version.legal_limit,
        limit_unit=version.limit_unit,
    )


def _assignments(actor: Any) -> list[Any]:
    from tongban.org.permissions import assignments_of

    return assignments_of(actor)


def _child_form(data: Mapping[str, Any], version: ItemVersion) -> dict[str, Any]:
    keys = {f.key for f in version.form_fields.all()}
    return {key: value for key, value in data.items() if key in keys}


def case_draft_save(*, actor: Any, case: Case, form_data: Mapping[str, Any]) -> Case:
    """Keep what the applicant typed, valid or not, to resume later."""
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_withdraw(actor, case), _("只能修改本人的申请。"))
        if case.status != CaseStatus.DRAFT:
            raise _state_error(case, _("修改草稿"))
        case.form_data = dict(form_data)
        case.save(update_fields=["form_data"])
    return case


def upload_add(
    *, actor: Any, case: Case, material: CaseMaterial, name: str, content: bytes
) -> Upload:
    """Store one file for a material: its type read from the content, its SHA-256 kept."""
    if material.case_id != case.pk:
        raise ValidationError({"material": [_("材料不属于该办件。")]})
    sniffed = sniff_upload(name=name, content=content)
    with transaction.atomic():
        case = _locked(case)
        _require(
            permissions.can_withdraw(actor, case) or permissions.can_conclude(actor, case),
            _("您无权为该办件上传材料。"),
        )
        if case.status not in (
            CaseStatus.DRAFT,
            CaseStatus.SUPPLEMENT,
            CaseStatus.SUBMITTED,
        ) and not (material.status == MaterialStatus.TOLERATED):
            raise _state_error(case, _("上传材料"))
        upload = Upload(
            case=case,
            original_name=name[:200],
            content_type=sniffed.content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        upload.file.save(f"upload{sniffed.extension}", ContentFile(content), save=False)
        upload.save()
        material.uploads.add(upload)
        if material.status in (
            MaterialStatus.PENDING,
            MaterialStatus.MISSING,
            MaterialStatus.DEFECTIVE,
        ):
            material.status = MaterialStatus.PENDING
            material.save(update_fields=["status"])
        _event(
            case,
            "material_uploaded",
            actor,
            {"material": material.name, "sha256": upload.sha256, "size": upload.size},
        )
    return upload


def _missing_uploads(case: Case) -> dict[str, list[str]]:
    """Online: every required material the applicant supplies needs a file."""
    errors: dict[str, list[str]] = {}
    for material in case.materials.prefetch_related("uploads"):
        if material.status == MaterialStatus.WAIVED or not material.required:
            continue
        if not material.uploads.all():
            errors[f"material-{material.material_type}"] = [
                _("请上传“%(name)s”。") % {"name": material.name}
            ]
        elif material.status in (MaterialStatus.MISSING, MaterialStatus.DEFECTIVE):
            # Named in the supplement notice: a new file must come (upload_add clears the mark).
            errors[f"material-{material.material_type}"] = [
                _("请按补正告知重新上传“%(name)s”：%(problem)s")
                % {"name": material.name, "problem": material.problem}
            ]
    return errors


def _prereview_due(case: Case, now: datetime) -> datetime | None:
    """An online application must be answered within the item's pre-review limit (法 32)."""
    limit = case.version.prereview_limit if case.version else 1
    return _due_of([clocks.start(now)], limit, DayUnit.WORKING.value, _calendar(case))


def _validated_new_application(
    version: ItemVersion, data: Mapping[str, Any], *, online: bool
) -> dict[str, Any]:
    """What _validated_application checks, before the case exists: an online application
    created and submitted at once has no files yet, so each material it must supply is missing."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned = validate_submission(version_specs(version), data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if online:
        for requirement in version_requirements(version):
            if requirement.necessity == Necessity.REQUIRED and (
                requirement.source != MaterialSource.CERTIFICATE
            ):
                errors[f"material-{requirement.material_type}"] = [
                    _("请上传“%(name)s”。") % {"name": requirement.name}
                ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _validated_application(case: Case, *, check_files: bool) -> dict[str, Any]:
    """The cleaned form, or one ValidationError naming every wrong field and every missing file."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned = validate_submission(_specs_of(case), case.form_data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if check_files:
        errors.update(_missing_uploads(case))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _submit(case: Case, *, actor: Any, now: datetime) -> None:
    cleaned = _validated_application(case, check_files=case.channel == Channel.ONLINE)
    case.form_data = cleaned
    case.submitted_at = now
    if case.channel == Channel.ONLINE:
        case.prereview_due = _prereview_due(case, now)
    _move(case, CaseStatus.SUBMITTED, actor=actor, kind="submitted", action=_("提交"))
    for child in _children(case):
        child.form_data = {**child.form_data, **_child_form(cleaned, child.version)}  # type: ignore[arg-type]
        child.submitted_at = now
        child.prereview_due = case.prereview_due
        _share_parent_uploads(case, child)
        _move(child, CaseStatus.SUBMITTED, actor=actor, kind="submitted", action=_("提交"))
    notify.applicant_sms_on_commit(case=case, what="submitted")


def _share_parent_uploads(parent: Case, child: Case) -> None:
    """A bundle's files are uploaded once, on the parent; each child's material points at them."""
    by_type: dict[str, list[Upload]] = {}
    for material in parent.materials.prefetch_related("uploads"):
        by_type.setdefault(material.material_type, []).extend(material.uploads.all())
    states = {
        m_type: (status, owed_by)
        for m_type, status, owed_by in parent.materials.values_list(
            "material_type", "status", "owed_by"
        )
    }
    for material in child.materials.all():
        uploads = by_type.get(material.material_type)
        if uploads:
            material.uploads.add(*uploads)
        shared = states.get(material.material_type)
        if shared and material.status != MaterialStatus.WAIVED and shared[0] != material.status:
            material.status, material.owed_by = shared
            material.save(update_fields=["status", "owed_by"])


def case_submit(*, actor: Any, case: Case) -> Case:
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_withdraw(actor, case), _("只能提交本人的申请。"))
        if case.status != CaseStatus.DRAFT:
            raise _state_error(case, _("提交"))
        _submit(case, actor=actor, now=timezone.now())
    return case


# --- the one answer ---------------------------------------------------------------------------


def _check_answerable(case: Case, actor: Any, action: str) -> None:
    _require(permissions.can_answer(actor, case), _("您无权受理该办件。"))
    if case.status != CaseStatus.SUBMITTED:
        raise _state_error(case, action)
    if case.parent_id is not None:
        raise ValidationError(_("一件事的分项由主件统一答复。"))


def _checklist_apply(case: Case, checklist: Mapping[int, bool] | None) -> None:
    """At a window the clerk ticks what the applicant handed over."""
    if not checklist:
        return
    for material in case.materials.filter(pk__in=list(checklist)):
        if checklist[material.pk] and material.status != MaterialStatus.WAIVED:
            material.status = MaterialStatus.PROVIDED
            material.checked = True
            material.save(update_fields=["status", "checked"])


def case_accept(
    *,
    actor: Any,
    case: Case,
    tolerated: Sequence[CaseMaterial] = (),
    owed_by: date | None = None,
    commitment: bool = False,
    commitment_text: str = "",
    checklist: Mapping[int, bool] | None = None,
) -> Case:
    """受理. With `tolerated` materials (容缺) the applicant owes them by `owed_by`; with
    `commitment` (告知承诺) the decision follows at once and a post-check is scheduled."""
    with transaction.atomic():
        case = _locked(case)
        _check_answerable(case, actor, _("受理"))
        errors = acceptance_errors(case, tolerated, owed_by, commitment, commitment_text)
        if errors:
            raise ValidationError(errors)
        _checklist_apply(case, checklist)
        now = timezone.now()
        case.accepted_at = now
        case.clock = [clocks.start(now)]
        cal = _calendar(case)
        if tolerated:
            assert owed_by is not None
            for material in tolerated:
                material.status = MaterialStatus.TOLERATED
                material.owed_by = owed_by
                material.save(update_fields=["status", "owed_by"])
            case.tolerance_due = tolerance_due(owed_by)
        if commitment:
            case.commitment = True
            case.commitment_text = commitment_text.strip()
        _recompute_case_dues(case, cal)
        _move(
            case,
            CaseStatus.ACCEPTED,
            actor=actor,
            kind="accepted",
            action=_("受理"),
            payload={
                "tolerated": [m.name for m in tolerated],
                "owed_by": owed_by.isoformat() if owed_by else None,
                "commitment": commitment,
                "promised_due": _iso(case.promised_due),
                "legal_due": _iso(case.legal_due),
            },
        )
        if case.is_bundle:
            _bundle_start(case, actor=actor, now=now)
        elif commitment:
            _decide_on_commitment(case, actor=actor, now=now)
        else:
            _instantiate_steps(case, actor=actor, now=now)
        notify.applicant_sms_on_commit(case=case, what="accepted")
    return case


def acceptance_errors(
    case: Case,
    tolerated: Sequence[CaseMaterial],
    owed_by: date | None,
    commitment: bool,
    commitment_text: str,
) -> dict[str, list[str]]:
    """What is wrong with accepting with these tolerated materials (容缺) or on a commitment
    (告知承诺), by field; empty when nothing is."""
    version = case.version
    errors: dict[str, list[str]] = {}
    if tolerated:
        if version is not None and not version.tolerance_allowed:
            errors["tolerated"] = [_("该事项不允许容缺受理。")]
        not_tolerable = [m.name for m in tolerated if not m.tolerable or m.case_id != case.pk]
        if not_tolerable:
            errors["tolerated"] = [
                _("以下材料不能容缺：%(names)s。") % {"names": "、".join(not_tolerable)}
            ]
        if owed_by is None:
            errors["owed_by"] = [_("请填写容缺材料的补齐日期。")]
        elif owed_by <= timezone.localdate():
            errors["owed_by"] = [_("补齐日期应晚于今天。")]
    if commitment:
        if version is None or not version.commitment_allowed:
            errors["commitment"] = [_("该事项不适用告知承诺制。")]
        if not commitment_text.strip():
            errors["commitment_text"] = [_("请记录申请人签署的承诺内容。")]
    return errors


def tolerance_due(owed_by: date) -> datetime:
    """The end of the day the tolerated materials are owed by."""
    return timezone.make_aware(datetime.combine(owed_by, datetime.max.time()))


def _iso(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def case_refuse(*, actor: Any, case: Case, reason: str, basis: str) -> Case:
    """不予受理: the reason, the legal basis, and the remedies open to the applicant."""
    errors = {}
    if not reason.strip():
        errors["reason"] = [_("请填写不予受理的理由。")]
    if not basis.strip():
        errors["basis"] = [_("请填写不予受理的法律依据。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_answer(actor, case), _("您无权受理该办件。"))
        if case.parent_id is not None:
            raise ValidationError(_("一件事的分项由主件统一答复。"))
        case.decision_reason = reason.strip()
        case.refusal_basis = basis.strip()
        _move(
            case,
            CaseStatus.REFUSED,
            actor=actor,
            kind="refused",
            action=_("不予受理"),
            payload={"reason": case.decision_reason, "basis": case.refusal_basis},
        )
        for child in _children(case):
            child.decision_reason = case.decision_reason
            child.refusal_basis = case.refusal_basis
            _move(child, CaseStatus.REFUSED, actor=actor, kind="refused", action=_("不予受理"))
        notify.applicant_sms_on_commit(case=case, what="refused")
    return case


def case_request_supplement(
    *, actor: Any, case: Case, items: Sequence[Mapping[str, str]]
) -> SupplementRequest:
    """补正: every missing or defective material and field at once. A second request on the same
    case is allowed but recorded as a breach of 一次性告知."""
    cleaned_items = []
    for item in items:
        problem = str(item.get("problem", "")).strip()
        if not problem:
            raise ValidationError({"items": [_("请为每一项补正内容写明问题。")]})
        cleaned_items.append(
            {
                "kind": item.get("kind", "material"),
                "key": str(item.get("key", "")),
                "name": str(item.get("name", "")),
                "problem": problem,
            }
        )
    if not cleaned_items:
        raise ValidationError({"items": [_("请至少列出一项需要补正的材料或内容。")]})
    with transaction.atomic():
        case = _locked(case)
        _check_answerable(case, actor, _("要求补正"))
        case.supplement_count += 1
        request = SupplementRequest.objects.create(
            case=case, sequence=case.supplement_count, items=cleaned_items, requested_by=actor
        )
        by_key = {str(m.pk): m for m in case.materials.all()}
        by_key.update({m.material_type: m for m in case.materials.all()})
        for item in cleaned_items:
            material = by_key.get(item["key"]) if item["kind"] == "material" else None
            if material is not None:
                material.status = (
                    MaterialStatus.DEFECTIVE
                    if material.uploads.exists()
                    else MaterialStatus.MISSING
                )
                material.problem = item["problem"][:300]
                material.save(update_fields=["status", "problem"])
        case.prereview_due = None
        _move(
            case,
            CaseStatus.SUPPLEMENT,
            actor=actor,
            kind="supplement_requested",
            action=_("要求补正"),
            payload={"sequence": request.sequence, "items": cleaned_items},
        )
        if request.breaches_one_time_notice:
            _event(case, "one_time_notice_breached", actor, {"sequence": request.sequence})
        for child in _children(case):
            child.supplement_count = case.supplement_count
            _move(
                child,
                CaseStatus.SUPPLEMENT,
                actor=actor,
                kind="supplement_requested",
                action=_("要求补正"),
            )
        notify.applicant_sms_on_commit(case=case, what="supplement")
    return request


def case_supplement_submit(
    *, actor: Any, case: Case, form_data: Mapping[str, Any] | None = None
) -> Case:
    """The applicant hands in what was asked (online, or in person at a window: one more visit)."""
    with transaction.atomic():
        case = _locked(case)
        at_window = getattr(actor, "kind", None) == "staff"
        if at_window:
            _require(permissions.can_answer(actor, case), _("您无权办理该办件。"))
        else:
            _require(permissions.can_withdraw(actor, case), _("只能补正本人的申请。"))
        if case.status != CaseStatus.SUPPLEMENT:
            raise _state_error(case, _("提交补正材料"))
        if form_data is not None:
            case.form_data = {**case.form_data, **form_data}
        now = timezone.now()
        request = case.supplements.order_by("-sequence").first()
        if request is not None:
            request.answered_at = now
            request.save(update_fields=["answered_at"])
        if at_window:
            _visit(case, "supplement")
        online = case.channel == Channel.ONLINE and not at_window
        case.form_data = _validated_application(case, check_files=online)
        if online:
            limit = case.version.prereview_limit if case.version else 1
            case.prereview_due = _due_of(
                [clocks.start(now)], limit, DayUnit.WORKING.value, _calendar(case)
            )
        case.materials.filter(status__in=[MaterialStatus.MISSING, MaterialStatus.DEFECTIVE]).update(
            status=MaterialStatus.PENDING
        )
        _move(
            case,
            CaseStatus.SUBMITTED,
            actor=actor,
            kind="supplemented",
            action=_("提交补正材料"),
            payload={"visit": at_window},
        )
        for child in _children(case):
            child.form_data = {**child.form_data, **_child_form(case.form_data, child.version)}  # type: ignore[arg-type]
            child.prereview_due = case.prereview_due
            _share_parent_uploads(case, child)
            _move(
                child,
                CaseStatus.SUBMITTED,
                actor=actor,
                kind="supplemented",
                action=_("提交补正材料"),
            )
    return case


# --- steps ------------------------------------------------------------------------------------


def step_rows(case: Case, definitions: Iterable[Any]) -> list[Step]:
    """The case's steps, unsaved, from its version's step definitions (in order): consecutive
    definitions of one parallel group make one stage."""
    assert case.version is not None
    rows: list[Step] = []
    stage = 0
    previous_group: int | None = None
    for definition in definitions:
        group = definition.parallel_group
        if group is None or group != previous_group:
            stage += 1
        previous_group = group
        rows.append(
            Step(
                case=case,
                definition=definition,
                order=definition.order,
                stage=stage,
                name=definition.name,
                department=definition.department or case.version.item.department,
                role=definition.role,
                kind=StepKind.DECISION
                if definition.role == Role.DEPARTMENT_HEAD
                else StepKind.REVIEW,
                limit=definition.limit,
            )
        )
    return rows


def _instantiate_steps(case: Case, *, actor: Any, now: datetime) -> None:
    """Copy the version's steps; the window's 受理 step is passed by the acceptance itself."""
    assert case.version is not None
    definitions = case.version.steps.select_related("department").order_by("order")
    Step.objects.bulk_create(step_rows(case, definitions))
    cal = _calendar(case)
    for step in case.steps.order_by("order"):
        if step.role != Role.WINDOW_CLERK or step.stage != 1:
            break
        step.status = StepStatus.PASSED
        step.started_at = step.finished_at = now
        step.clock = [clocks.start(now), clocks.stop(now)]
        step.handled_by = actor if getattr(actor, "kind", None) == "staff" else None
        step.opinion = _("已受理")
        _recompute_step_due(step, cal)
        step.save()
    _advance(case, actor=actor, now=now)


def _advance(case: Case, *, actor: Any, now: datetime) -> None:
    """Start the next stage when the current one is passed; conclude the case after the last."""
    steps = list(case.steps.order_by("order"))
    if any(s.status == StepStatus.ACTIVE for s in steps):
        return
    cal = _calendar(case)
    remaining = [
        s for s in steps if s.status != StepStatus.PASSED and s.status != StepStatus.CANCELLED
    ]
    if not remaining:
        _conclude(case, actor=actor, approved=True, now=now)
        return
    stage = min(s.stage for s in remaining)
    started = []
    for step in steps:
        if step.stage == stage and step.status != StepStatus.CANCELLED:
            _activate(step, now=now, cal=cal, suspended_since=case.suspended_since)
            started.append(step)
    _event(
        case,
        "steps_started",
        actor,
        {
            "steps": [
                {"name": s.name, "department": s.department.name, "due": _iso(s.due)}
                for s in started
            ]
        },
    )


def _activate(
    step: Step, *, now: datetime, cal: WorkCalendar, suspended_since: datetime | None
) -> None:
    if not can_move_step(step.status, StepStatus.ACTIVE) and step.status != StepStatus.ACTIVE:
        raise ValueError(f"step {step.pk} cannot start from {step.status}")
    step.status = StepStatus.ACTIVE
    step.started_at = now
    step.finished_at = None
    step.handled_by = None
    step.opinion = ""
    step.denial_proposed = False
    step.clock = [clocks.start(now)]
    _recompute_step_due(step, cal)
    step.save()


def _locked_step(step: Step) -> tuple[Step, Case]:
    case = _locked(step.case)
    step = Step.objects.select_for_update(of=("self",)).select_related("department").get(pk=step.pk)
    return step, case


def _check_step(step: Step, case: Case, actor: Any, action: str) -> None:
    if step.status != StepStatus.ACTIVE or case.status != CaseStatus.ACCEPTED:
        if case.status == CaseStatus.SUSPENDED:
            raise CaseStateError(
                _("办件正在特别程序中，恢复计时后才能%(action)s。") % {"action": action}
            )
        raise CaseStateError(
            _("环节“%(name)s”当前为“%(status)s”，不能%(action)s。请刷新页面查看最新状态。")
            % {"name": step.name, "status": step.get_status_display(), "action": action}
        )
    _require(permissions.can_handle_step(actor, step), _("您无权办理该环节。"))


def _finish(
    step: Step, status: str, *, actor: Any, opinion: str, now: datetime, cal: WorkCalendar
) -> None:
    step.status = status
    step.finished_at = now
    step.handled_by = actor
    step.opinion = opinion
    if clocks.is_running(step.clock):
        step.clock = [*step.clock, clocks.stop(now)]
    _recompute_step_due(step, cal)
    step.save()


def step_pass(
    *,
    actor: Any,
    step: Step,
    opinion: str,
    outputs: Mapping[str, Any] | None = None,
    result_number: str = "",
) -> Step:
    """Pass a review step with an opinion; the next stage starts when its stage is all passed.

    An item without a head's decision step is decided by passing its last step: `outputs` (what
    later items of a bundle need, e.g. the credit code) and `result_number` are recorded then.
    """
    if not opinion.strip():
        raise ValidationError({"opinion": [_("请填写办理意见。")]})
    with transaction.atomic():
        step, case = _locked_step(step)
        _check_step(step, case, actor, _("通过"))
        if step.kind == StepKind.DECISION:
            raise ValidationError(_("决定环节请作出准予或不予许可的决定。"))
        now = timezone.now()
        _ensure_no_debt_if_last(case, step)
        _record_results(case, outputs, result_number)
        _finish(
            step,
            StepStatus.PASSED,
            actor=actor,
            opinion=opinion.strip(),
            now=now,
            cal=_calendar(case),
        )
        _event(
            case,
            "step_passed",
            actor,
            {"step": step.name, "department": step.department.name, "opinion": step.opinion},
        )
        _advance(case, actor=actor, now=now)
    return step


def _record_results(case: Case, outputs: Mapping[str, Any] | None, result_number: str) -> None:
    if outputs or result_number.strip():
        if outputs:
            case.outputs = {
                **case.outputs,
                **{k: str(v).strip() for k, v in outputs.items() if str(v).strip()},
            }
        if result_number.strip():
            case.result_number = result_number.strip()
        case.save(update_fields=["outputs", "result_number"])


def _ensure_outputs(case: Case) -> None:
    """A bundle child is approved only with what the items after it need (the credit code …)."""
    missing = [key for key in output_keys_of(case) if not case.outputs.get(key)]
    if missing:
        labels = output_labels(
            mappings=FieldMapping.objects.filter(
                source_id=case.bundle_member_id, source_key__in=missing
            )
        )
        raise ValidationError(
            {
                "outputs": [
                    _("请填写一件事中后续事项需要的办理结果：%(names)s。")
                    % {"names": "、".join(labels.get(k, k) for k in missing)}
                ]
            }
        )


def output_keys_of(case: Case) -> list[str]:
    """What later items of the case's bundle need from it (FieldMapping sources), e.g. credit_code."""
    if case.bundle_member_id is None or case.parent_id is None:
        return []
    parent = Case.objects.select_related("bundle").get(pk=case.parent_id)
    assert parent.bundle is not None
    return sorted(
        set(
            parent.bundle.field_mappings.filter(source_id=case.bundle_member_id).values_list(
                "source_key", flat=True
            )
        )
    )


def _ensure_no_debt_if_last(case: Case, step: Step) -> None:
    is_last = (
        not case.steps.exclude(pk=step.pk)
        .exclude(status__in=[StepStatus.PASSED, StepStatus.CANCELLED])
        .exists()
    )
    if is_last:
        _ensure_no_tolerated_debt(case)


def _ensure_no_tolerated_debt(case: Case) -> None:
    owed = list(
        case.materials.filter(status=MaterialStatus.TOLERATED).values_list("name", flat=True)
    )
    if owed:
        raise ValidationError(
            _("容缺材料尚未补齐（%(names)s），不能作出准予决定。") % {"names": "、".join(owed)}
        )


def step_return(*, actor: Any, step: Step, to_step: Step, reason: str) -> Step:
    """Send the case back to an earlier step, with a reason; that step is worked again."""
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写退回理由。")]})
    with transaction.atomic():
        step, case = _locked_step(step)
        _check_step(step, case, actor, _("退回"))
        target = Step.objects.select_for_update().get(pk=to_step.pk)
        if (
            target.case_id != case.pk
            or target.stage >= step.stage
            or target.role == Role.WINDOW_CLERK
        ):
            raise ValidationError({"to_step": [_("只能退回到本办件此前的审查环节。")]})
        now = timezone.now()
        cal = _calendar(case)
        _finish(step, StepStatus.RETURNED, actor=actor, opinion=reason.strip(), now=now, cal=cal)
        for sibling in case.steps.filter(stage=step.stage, status=StepStatus.ACTIVE).exclude(
            pk=step.pk
        ):
            sibling.status = StepStatus.WAITING
            sibling.clock = []
            sibling.due = None
            sibling.save()
        _activate(target, now=now, cal=cal, suspended_since=None)
        _event(
            case,
            "step_returned",
            actor,
            {"step": step.name, "to": target.name, "reason": reason.strip()},
        )
    return target


def step_propose_denial(*, actor: Any, step: Step, reason: str) -> Step:
    """An approver proposes 不予许可; the step passes on to the department head with the proposal."""
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写建议不予许可的理由。")]})
    with transaction.atomic():
        step, case = _locked_step(step)
        _check_step(step, case, actor, _("建议不予许可"))
        if step.kind == StepKind.DECISION:
            raise ValidationError(_("决定环节请直接作出决定。"))
        now = timezone.now()
        step.denial_proposed = True
        _finish(
            step,
            StepStatus.PASSED,
            actor=actor,
            opinion=reason.strip(),
            now=now,
            cal=_calendar(case),
        )
        _event(case, "denial_proposed", actor, {"step": step.name, "reason": reason.strip()})
        _advance(case, actor=actor, now=now)
    return step


def step_decide(
    *,
    actor: Any,
    step: Step,
    approve: bool,
    reason: str = "",
    basis: str = "",
    outputs: Mapping[str, Any] | None = None,
    result_number: str = "",
) -> Case:
    """The department head decides: 准予 (the remaining steps, e.g. 制证, follow) or 不予许可
    with its reason and, where given, its legal basis (printed on the decision)."""
    if not approve and not reason.strip():
        raise ValidationError({"reason": [_("不予许可须写明理由。")]})
    with transaction.atomic():
        step, case = _locked_step(step)
        _check_step(step, case, actor, _("作出决定"))
        if step.kind != StepKind.DECISION:
            raise ValidationError(_("该环节不是决定环节。"))
        now = timezone.now()
        cal = _calendar(case)
        _record_results(case, outputs, result_number)
        if approve:
            _ensure_no_tolerated_debt(case)
            case.decision = Decision.APPROVED
            case.decided_at = now
            case.decision_reason = reason.strip()
            case.save()
            _finish(
                step,
                StepStatus.PASSED,
                actor=actor,
                opinion=reason.strip() or _("准予"),
                now=now,
                cal=cal,
            )
            _event(
                case,
                "decided",
                actor,
                {"decision": "approved", "step": step.name, "outputs": case.outputs},
            )
            _advance(case, actor=actor, now=now)
        else:
            _finish(step, StepStatus.PASSED, actor=actor, opinion=reason.strip(), now=now, cal=cal)
            case.decision_reason = reason.strip()
            case.refusal_basis = basis.strip()
            _conclude(case, actor=actor, approved=False, now=now)
    return case


def _conclude(case: Case, *, actor: Any, approved: bool, now: datetime) -> None:
    """办结: the clock stops; open steps are cancelled; a bundle hears from its child."""
    cal = _calendar(case)
    for open_step in case.steps.filter(
        status__in=[StepStatus.ACTIVE, StepStatus.WAITING, StepStatus.RETURNED]
    ):
        open_step.status = StepStatus.CANCELLED
        if clocks.is_running(open_step.clock):
            open_step.clock = [*open_step.clock, clocks.stop(now)]
        _recompute_step_due(open_step, cal)
        open_step.save()
    case.decision = Decision.APPROVED if approved else Decision.DENIED
    case.decided_at = case.decided_at or now
    case.completed_at = now
    if clocks.is_running(case.clock):
        case.clock = [*case.clock, clocks.stop(now)]
    _recompute_case_dues(case, cal)
    if approved and not case.result_name and case.version is not None:
        case.result_name = case.version.result_name
    if approved and not case.result_number:
        case.result_number = case.number
    if approved and case.parent_id is not None:
        _ensure_outputs(case)
    target = CaseStatus.COMPLETED if approved else CaseStatus.DENIED
    _move(
        case,
        target,
        actor=actor,
        kind="completed" if approved else "denied",
        action=_("办结"),
        payload={
            "decision": case.decision,
            "on_time": case.promised_due is None or now <= case.promised_due,
        },
    )
    notify.applicant_sms_on_commit(case=case, what="completed" if approved else "denied")
    if case.parent_id is not None:
        _bundle_child_concluded(case, actor=actor, now=now)


def _decide_on_commitment(case: Case, *, actor: Any, now: datetime) -> None:
    """告知承诺: decided on the signed commitment at once; the check follows within its own limit."""
    check = commitment_post_check(case, now)
    check.save()
    _conclude(case, actor=actor, approved=True, now=now)
    _event(case, "post_check_scheduled", actor, {"due": _iso(check.due)})


def commitment_post_check(case: Case, now: datetime) -> PostCheck:
    """The post-check a decision on a commitment schedules (unsaved), and the decision's reason
    set on the case."""
    limit = getattr(settings, "CASE_POST_CHECK_DAYS", 20)
    due = _due_of([clocks.start(now)], limit, DayUnit.WORKING.value, _calendar(case))
    assert due is not None
    case.decision_reason = _("申请人已签署告知承诺书，当场作出决定。")
    return PostCheck(case=case, due=due)


def post_check_record(*, actor: Any, case: Case, passed: bool, note: str) -> Case:
    """Record the post-check of a commitment; a failed check revokes the result."""
    if not note.strip():
        raise ValidationError({"note": [_("请填写核查情况。")]})
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_conclude(actor, case), _("您无权核查该办件。"))
        check = PostCheck.objects.select_for_update().filter(case=case).first()
        if check is None or check.checked_at is not None:
            raise CaseStateError(_("该办件没有待核查的告知承诺。"))
        check.checked_at = timezone.now()
        check.checked_by = actor
        check.passed = passed
        check.note = note.strip()
        check.save()
        _event(case, "post_checked", actor, {"passed": passed, "note": check.note})
        if not passed:
            case.close_reason = check.note
            _move(
                case,
                CaseStatus.REVOKED,
                actor=actor,
                kind="revoked",
                action=_("撤销"),
                payload={"reason": check.note},
            )
    return case


# --- special procedures and extensions --------------------------------------------------------


def case_suspend(
    *, actor: Any, case: Case, kind: str, reason: str, expected_days: int
) -> Suspension:
    """Start a special procedure: the case's and the active steps' clocks stop running."""
    errors = {}
    if kind not in SpecialProcedureKind.values:
        errors["kind"] = [_("请选择特别程序的种类。")]
    if not reason.strip():
        errors["reason"] = [_("请填写特别程序的事由。")]
    if expected_days < 1:
        errors["expected_days"] = [_("预计时长至少为 1 个工作日。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_suspend(actor, case), _("您无权对该办件启动特别程序。"))
        if case.status != CaseStatus.ACCEPTED:
            raise _state_error(case, _("启动特别程序"))
        assert case.version is not None
        allowed = {p.kind: p for p in case.version.special_procedures.all()}
        if kind not in allowed:
            raise ValidationError({"kind": [_("该事项的办事指南未列出此特别程序。")]})
        procedure = allowed[kind]
        if procedure.max_days and expected_days > procedure.max_days:
            raise ValidationError(
                {
                    "expected_days": [
                        _("该特别程序最长 %(days)s 天。") % {"days": procedure.max_days}
                    ]
                }
            )
        now = timezone.now()
        suspension = Suspension.objects.create(
            case=case,
            kind=kind,
            reason=reason.strip(),
            expected_days=expected_days,
            started_at=now,
            started_by=actor,
        )
        case.clock = [*case.clock, clocks.suspend(now, kind)]
        cal = _calendar(case)
        _recompute_case_dues(case, cal)
        _clock_active_steps(case, clocks.suspend(now, kind), cal)
        _move(
            case,
            CaseStatus.SUSPENDED,
            actor=actor,
            kind="suspended",
            action=_("启动特别程序"),
            payload={
                "procedure": kind,
                "reason": suspension.reason,
                "expected_days": expected_days,
            },
        )
        notify.applicant_sms_on_commit(case=case, what="suspended")
    return suspension


def case_resume(*, actor: Any, case: Case) -> Case:
    """End the special procedure: the remaining days carry over and every due date moves."""
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_suspend(actor, case), _("您无权结束该办件的特别程序。"))
        if case.status != CaseStatus.SUSPENDED:
            raise _state_error(case, _("恢复计时"))
        now = timezone.now()
        suspension = case.suspensions.select_for_update().get(ended_at__isnull=True)
        suspension.ended_at = now
        suspension.ended_by = actor
        suspension.save()
        if suspension.kind == "hearing":
            _visit(case, "hearing")
        case.clock = [*case.clock, clocks.resume(now)]
        cal = _calendar(case)
        _recompute_case_dues(case, cal)
        moved = [
            {"step": step.name, "due": _iso(step.due)}
            for step in _clock_active_steps(case, clocks.resume(now), cal)
        ]
        _move(
            case,
            CaseStatus.ACCEPTED,
            actor=actor,
            kind="resumed",
            action=_("恢复计时"),
            payload={
                "procedure": suspension.kind,
                "promised_due": _iso(case.promised_due),
                "legal_due": _iso(case.legal_due),
                "steps": moved,
                "visit": suspension.kind == "hearing",
            },
        )
    return case


def extension_request(*, actor: Any, case: Case, days: int, reason: str) -> Extension:
    errors = {}
    if days < 1:
        errors["days"] = [_("延长天数至少为 1 天。")]
    if not reason.strip():
        errors["reason"] = [_("请填写延期理由。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_request_extension(actor, case), _("您无权为该办件申请延期。"))
        if case.status not in IN_PROGRESS_STATUSES:
            raise _state_error(case, _("申请延期"))
        assert case.version is not None
        if not case.version.extension_allowed:
            raise ValidationError(_("该事项不允许延期。"))
        if days > case.version.extension_days:
            raise ValidationError(
                {"days": [_("最多可延长 %(days)s 天。") % {"days": case.version.extension_days}]}
            )
        if case.extensions.filter(granted=True).exists():
            raise CaseStateError(_("该办件已延期一次，不能再次延期。"))
        if case.extensions.filter(granted__isnull=True).exists():
            raise CaseStateError(_("该办件已有待审批的延期申请。"))
        extension = Extension.objects.create(
            case=case, days=days, reason=reason.strip(), requested_by=actor
        )
        _event(case, "extension_requested", actor, {"days": days, "reason": extension.reason})
    return extension


def extension_decide(*, actor: Any, extension: Extension, grant: bool) -> Extension:
    """A department head grants (once) or refuses; a grant moves the case's and steps' due dates."""
    with transaction.atomic():
        case = _locked(extension.case)
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        _require(permissions.can_grant_extension(actor, case), _("只有部门负责人可以批准延期。"))
        if extension.granted is not None:
            raise CaseStateError(_("该延期申请已处理。"))
        if grant and case.status not in IN_PROGRESS_STATUSES:
            raise _state_error(case, _("批准延期"))
        now = timezone.now()
        extension.granted = grant
        extension.decided_by = actor
        extension.decided_at = now
        extension.save()
        payload: dict[str, Any] = {"days": extension.days, "granted": grant}
        if grant:
            cal = _calendar(case)
            case.clock = [*case.clock, clocks.extend(extension.days, extension.reason)]
            case.extended_days = extension.days
            _recompute_case_dues(case, cal)
            _clock_active_steps(case, clocks.extend(extension.days, extension.reason), cal)
            case.save()
            payload.update(promised_due=_iso(case.promised_due), legal_due=_iso(case.legal_due))
        _event(case, "extension_granted" if grant else "extension_refused", actor, payload)
        if grant:
            notify.applicant_sms_on_commit(case=case, what="extended")
    return extension


def tolerated_material_supply(*, actor: Any, material: CaseMaterial) -> CaseMaterial:
    """A material accepted as missing (容缺) arrives; the debt clears when the last one does."""
    with transaction.atomic():
        case = _locked(material.case)
        material = CaseMaterial.objects.select_for_update().get(pk=material.pk)
        at_window = getattr(actor, "kind", None) == "staff"
        if at_window:
            _require(permissions.can_conclude(actor, case), _("您无权办理该办件。"))
        else:
            _require(permissions.can_withdraw(actor, case), _("只能补交本人的材料。"))
            if not material.uploads.exists():
                raise ValidationError({"file": [_("请先上传该材料。")]})
        if material.status != MaterialStatus.TOLERATED:
            raise CaseStateError(_("该材料不是待补齐的容缺材料。"))
        material.status = MaterialStatus.PROVIDED
        material.checked = at_window
        material.save(update_fields=["status", "checked"])
        if at_window:
            _visit(case, "tolerated")
        # A bundle's material was owed once, on the parent; its children's copies clear with it.
        CaseMaterial.objects.filter(
            case__parent=case, material_type=material.material_type, status=MaterialStatus.TOLERATED
        ).update(status=MaterialStatus.PROVIDED, checked=at_window)
        if not case.materials.filter(status=MaterialStatus.TOLERATED).exists():
            case.tolerance_due = None
        case.save()
        _event(case, "tolerated_supplied", actor, {"material": material.name, "visit": at_window})
    return material


# --- the end of a case ------------------------------------------------------------------------


def case_deliver(*, actor: Any, case: Case, method: str, detail: str = "") -> Case:
    """出件: at a window (the applicant comes: one visit), by mail (tracking number), electronically."""
    if method not in (DeliveryMethod.WINDOW, DeliveryMethod.MAIL, DeliveryMethod.ELECTRONIC):
        raise ValidationError({"method": [_("请选择送达方式。")]})
    if method == DeliveryMethod.MAIL and not detail.strip():
        raise ValidationError({"detail": [_("邮寄送达请填写快递单号。")]})
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_conclude(actor, case), _("您无权办理该办件的送达。"))
        if case.parent_id is not None:
            raise ValidationError(_("一件事的结果由主件统一送达。"))
        served_only = case.status in (CaseStatus.DENIED, CaseStatus.REFUSED)
        if case.status != CaseStatus.COMPLETED and not (served_only and not case.delivered_at):
            raise _state_error(case, _("送达"))
        now = timezone.now()
        case.delivery_method = method
        case.delivery_detail = detail.strip() or (
            case.hall.name if case.hall and method == "window" else ""
        )
        case.delivered_at = now
        if method == DeliveryMethod.WINDOW:
            _visit(case, "pickup")
        if served_only:
            # A refusal or denial is served too (送达回证); the case keeps its final status.
            case.save()
            _event(
                case,
                "served",
                actor,
                {"method": method, "detail": case.delivery_detail, "visit": method == "window"},
            )
            return case
        _move(
            case,
            CaseStatus.DELIVERED,
            actor=actor,
            kind="delivered",
            action=_("送达"),
            payload={"method": method, "detail": case.delivery_detail, "visit": method == "window"},
        )
        for child in _children(case):
            if child.status == CaseStatus.COMPLETED:
                child.delivery_method = method
                child.delivery_detail = case.delivery_detail
                child.delivered_at = now
                _move(child, CaseStatus.DELIVERED, actor=actor, kind="delivered", action=_("送达"))
    return case


def case_ready_for_pickup(*, actor: Any, case: Case) -> Case:
    """Tell the applicant the result waits at the hall (SMS), without changing the status."""
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_conclude(actor, case), _("您无权办理该办件。"))
        if case.status != CaseStatus.COMPLETED:
            raise _state_error(case, _("通知领取"))
        _event(case, "ready_for_pickup", actor, {"hall": case.hall.name if case.hall else ""})
        notify.applicant_sms_on_commit(case=case, what="pickup")
    return case


def _cancel_open(case: Case, *, now: datetime) -> None:
    cal = _calendar(case)
    for step in case.steps.exclude(status__in=[StepStatus.PASSED, StepStatus.CANCELLED]):
        step.status = StepStatus.CANCELLED
        if clocks.is_running(step.clock):
            step.clock = [*step.clock, clocks.stop(now)]
        _recompute_step_due(step, cal)
        step.save()
    if clocks.is_running(case.clock):
        case.clock = [*case.clock, clocks.stop(now)]
        _recompute_case_dues(case, cal)
    case.prereview_due = None


def case_withdraw(*, actor: Any, case: Case, reason: str = "") -> Case:
    """The applicant withdraws before the decision."""
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_withdraw(actor, case), _("只能撤回本人的申请。"))
        if case.parent_id is not None:
            raise ValidationError(_("一件事请整体撤回。"))
        if case.decision:
            raise _state_error(case, _("撤回"))
        now = timezone.now()
        _cancel_open(case, now=now)
        case.close_reason = reason.strip()
        _move(
            case,
            CaseStatus.WITHDRAWN,
            actor=actor,
            kind="withdrawn",
            action=_("撤回"),
            payload={"reason": case.close_reason},
        )
        for child in _children(case):
            if child.status not in FINAL_STATUSES and not child.decision:
                _cancel_open(child, now=now)
                _move(child, CaseStatus.WITHDRAWN, actor=actor, kind="withdrawn", action=_("撤回"))
    return case


def case_terminate(*, actor: Any, case: Case, reason: str) -> Case:
    """终止: the case cannot go on (the applicant died, the company dissolved …), with a reason."""
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写终止原因。")]})
    with transaction.atomic():
        case = _locked(case)
        _require(permissions.can_conclude(actor, case), _("您无权终止该办件。"))
        now = timezone.now()
        _cancel_open(case, now=now)
        case.close_reason = reason.strip()
        _move(
            case,
            CaseStatus.TERMINATED,
            actor=actor,
            kind="terminated",
            action=_("终止"),
            payload={"reason": case.close_reason},
        )
        if case.parent_id is not None:
            _bundle_child_concluded(case, actor=actor, now=now)
        for child in _children(case):
            if child.status not in FINAL_STATUSES and not child.decision:
                _cancel_open(child, now=now)
                child.close_reason = case.close_reason
                _move(
                    child, CaseStatus.TERMINATED, actor=actor, kind="terminated", action=_("终止")
                )
    return case


# --- bundles (一件事) ---------------------------------------------------------------------------


def _dependencies(child: Case) -> list[int]:
    assert child.bundle_member is not None
    return [d.pk for d in child.bundle_member.depends_on.all()]


def _bundle_start(parent: Case, *, actor: Any, now: datetime) -> None:
    """The parent is accepted: children that need nothing start at once, in parallel; the others
    wait for what they depend on."""
    for child in _children(parent):
        child.accepted_at = now
        _share_parent_uploads(parent, child)
        if _dependencies(child):
            _move(child, CaseStatus.WAITING, actor=actor, kind="waiting", action=_("等待前置事项"))
        else:
            _start_child(child, actor=actor, now=now)


def _start_child(child: Case, *, actor: Any, now: datetime) -> None:
    child.accepted_at = child.accepted_at or now
    child.clock = [clocks.start(now)]
    _recompute_case_dues(child, _calendar(child))
    _move(
        child,
        CaseStatus.ACCEPTED,
        actor=actor,
        kind="accepted",
        action=_("受理"),
        payload={"promised_due": _iso(child.promised_due), "legal_due": _iso(child.legal_due)},
    )
    _instantiate_steps(child, actor=actor, now=now)


def _bundle_child_concluded(child: Case, *, actor: Any, now: datetime) -> None:
    """A child is decided: its outputs fill the dependants' inputs, and those whose prerequisites
    are all approved start; the parent completes when every child is closed."""
    parent = _locked(child.parent)  # type: ignore[arg-type]
    assert parent.bundle is not None
    mappings = list(parent.bundle.field_mappings.filter(source=child.bundle_member))
    siblings = {c.pk: c for c in _children(parent)}
    siblings[child.pk] = child
    by_member = {c.bundle_member_id: c for c in siblings.values()}
    for mapping in mappings:
        target = by_member.get(mapping.target_id)
        value = child.outputs.get(mapping.source_key, child.form_data.get(mapping.source_key))
        if target is None or value in (None, ""):
            continue
        target.form_data = {**target.form_data, mapping.target_key: value}
        target.save(update_fields=["form_data"])
        _event(
            target,
            "input_filled",
            actor,
            {"key": mapping.target_key, "value": value, "from": child.number},
        )
    for sibling in siblings.values():
        if sibling.status != CaseStatus.WAITING:
            continue
        prerequisites = [by_member[m] for m in _dependencies(sibling) if m in by_member]
        if any(
            p.status
            in (
                CaseStatus.DENIED,
                CaseStatus.TERMINATED,
                CaseStatus.WITHDRAWN,
                CaseStatus.REFUSED,
                CaseStatus.REVOKED,
            )
            for p in prerequisites
        ):
            sibling.close_reason = _("前置事项未获准予，本事项无法办理。")
            _move(
                sibling,
                CaseStatus.TERMINATED,
                actor=actor,
                kind="terminated",
                action=_("终止"),
                payload={"reason": sibling.close_reason},
            )
        elif all(p.decision == Decision.APPROVED for p in prerequisites):
            _start_child(sibling, actor=actor, now=now)
    if all(
        s.status
        not in (CaseStatus.SUBMITTED, CaseStatus.WAITING, CaseStatus.ACCEPTED, CaseStatus.SUSPENDED)
        for s in siblings.values()
    ):
        approved = all(s.decision == Decision.APPROVED for s in siblings.values())
        parent.outputs = {k: v for s in siblings.values() for k, v in s.outputs.items()}
        if parent.status == CaseStatus.ACCEPTED:
            _conclude(parent, actor=actor, approved=approved, now=now)


# --- used by the API and pages to look up what the caller names -------------------------------


def materials_of(case: Case, ids: Iterable[int]) -> list[CaseMaterial]:
    wanted = list(ids)
    found = list(case.materials.filter(pk__in=wanted))
    if len(found) != len(set(wanted)):
        raise ValidationError({"tolerated": [_("所选材料不属于该办件。")]})
    return found
