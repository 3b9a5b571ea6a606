"""Every read of cases that pages, the API, supervision and metrics need.

Lists are keyset-paginated (`after` = the last row's sort key), never counted: a department inbox
at a million cases reads one index range. Other apps read cases only through this module.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from tongban.core.models import Event
from tongban.core.now import now
from tongban.core.selectors import event_list_for
from tongban.timelimits.calendar import WorkCalendar
from tongban.timelimits.clock import Card
from tongban.timelimits.selectors import calendar_for

from .models import Case, Step
from .permissions import _department_ids, cases_visible_to
from .workflow import IN_PROGRESS_STATUSES, OPEN_STATUSES, CaseStatus, StepStatus

PAGE_SIZE = 50


def card_of(
    due: datetime | None,
    *,
    region: Any = None,
    at: datetime | None = None,
    yellow_days: int | None = None,
    calendar: WorkCalendar | None = None,
) -> Card | None:
    """Green / yellow / red from a stored due date (DESIGN §4): red past it, yellow on its last
    working day(s), green before. None when there is no running clock. Pass `calendar` when
    colouring many rows of one region: looking it up costs a query."""
    if due is None:
        return None
    at = at or now()
    if yellow_days is None:
        yellow_days = settings.SUPERVISION_YELLOW_DAYS
    if at > due:
        return Card.RED
    calendar = calendar or calendar_for(region)
    left = calendar.working_days_between(timezone.localdate(at), timezone.localtime(due).date())
    return Card.YELLOW if left < yellow_days else Card.GREEN


def case_get_visible(*, actor: Any, case_id: int) -> Case | None:
    return (
        cases_visible_to(actor)
        .select_related("applicant", "version__item", "department", "region", "hall", "bundle")
        .filter(pk=case_id)
        .first()
    )


def case_get_by_number_visible(*, actor: Any, number: str) -> Case | None:
    return (
        cases_visible_to(actor)
        .select_related("applicant", "version__item", "department", "region", "hall", "bundle")
        .filter(number=number)
        .first()
    )


def case_for_tracking(*, number: str, query_code: str) -> Case | None:
    """A case found by its number and query code, for the public tracking page (no sign-in).

    Both wrong and unknown answer the same (None), and the code is compared in constant time.
    """
    case = (
        Case.objects.select_related("department", "region", "hall", "bundle")
        .filter(number=number.strip(), parent__isnull=True)
        .exclude(status=CaseStatus.DRAFT)
        .first()
    )
    given = query_code.strip().upper().encode()
    if case is None:
        hmac.compare_digest(given, b"--------")
        return None
    return case if hmac.compare_digest(given, case.query_code.encode()) else None


@dataclass(frozen=True)
class Holder:
    """Who holds the case now: a department and the step it works on (never a person)."""

    department: str
    step: str
    due: datetime | None


def case_holders(*, case: Case) -> list[Holder]:
    cases = [case, *case.children.all()] if case.is_bundle else [case]
    holders = []
    for one in cases:
        for step in one.steps.filter(status=StepStatus.ACTIVE).select_related("department"):
            holders.append(Holder(step.department.name, step.name, step.due))
    if not holders and case.status in (CaseStatus.SUBMITTED,):
        name = case.department.name if case.department else (case.hall.name if case.hall else "")
        holders.append(Holder(name, "受理审查", case.prereview_due))
    return holders


def case_timeline(*, case: Case) -> list[Event]:
    """The case's events, and for a bundle its children's, in the order they happened."""
    if not case.is_bundle:
        return list(event_list_for(subject=case))
    subjects = [case, *case.children.order_by("id")]
    ids = [str(c.pk) for c in subjects]
    return list(
        Event.objects.filter(subject_type="cases.case", subject_id__in=ids).order_by(
            "occurred_at", "id"
        )
    )


def case_list_visible_to(
    *,
    actor: Any,
    status: str | None = None,
    department_id: int | None = None,
    overdue: bool | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[Case]:
    """Newest first, keyset by id: `after` is the last id of the previous page."""
    rows = (
        cases_visible_to(actor).filter(parent__isnull=True)
        if department_id is None
        else cases_visible_to(actor)
    )
    if status:
        rows = rows.filter(status=status)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    if overdue:
        rows = rows.filter(status__in=IN_PROGRESS_STATUSES, promised_due__lt=now())
    if after is not None:
        rows = rows.filter(pk__lt=after)
    return list(rows.select_related("applicant", "department", "version").order_by("-pk")[:limit])


def case_list_of_applicant(*, actor: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(applicant__account=actor, parent__isnull=True)
        .select_related("department", "bundle")
        .order_by("-created_at")
    )


def inbox_for(
    *,
    actor: Any,
    department_id: int | None = None,
    after: tuple[str, int] | None = None,
    limit: int = PAGE_SIZE,
) -> list[Step]:
    """The active steps of the actor's departments, soonest due first (keyset on (due, id)).

    A suspended case's steps have no due date and come last.
    """
    active = _inbox_steps(actor=actor, department_id=department_id).select_related(
        "case__applicant", "case__region", "department"
    )
    return _inbox_keyset(active, after=after, limit=limit)


def answer_queue_for(*, actor: Any, limit: int = PAGE_SIZE) -> list[Case]:
    """Applications waiting for their one answer (online pre-review), the most urgent first."""
    return list(
        cases_visible_to(actor)
        .filter(status=CaseStatus.SUBMITTED, parent__isnull=True)
        .select_related("applicant", "department", "version")
        .order_by("prereview_due", "pk")[:limit]
    )


def concluded_waiting_delivery_for(*, actor: Any, limit: int = PAGE_SIZE) -> list[Case]:
    return list(
        cases_visible_to(actor)
        .filter(status=CaseStatus.COMPLETED, parent__isnull=True)
        .select_related("applicant", "department")
        .order_by("completed_at", "pk")[:limit]
    )


def case_department_ids(case: Case) -> set[int]:
    """Every department that works on the case (its own and its steps'), for webhooks."""
    ids = {case.department_id} if case.department_id else set()
    ids |= set(Step.objects.filter(case_id=case.pk).values_list("department_id", flat=True))
    return ids


def case_webhook_body(*, case: Case, event: Event) -> dict[str, Any]:
    """The data of a case event for department systems (the webhook envelope names the event)."""
    return {
        "case": {
            "id": case.pk,
            "number": case.number,
            "status": case.status,
            "item": case.title,
            "department_id": case.department_id,
            "promised_due": case.promised_due.isoformat() if case.promised_due else None,
            "legal_due": case.legal_due.isoformat() if case.legal_due else None,
        },
        "payload": event.payload,
    }


def open_statuses() -> frozenset[str]:
    return OPEN_STATUSES


# --- staff pages ---


def window_versions_for(
    *, actor: Any, query: str = "", version_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Any]:
    """Published item versions a window clerk may start a case for: the departments their hall
    accepts for (org.permissions.department_scope), optionally narrowed by a name fragment."""
    from tongban.catalog.selectors import version_list_published
    from tongban.org.models import Role
    from tongban.org.permissions import departments_visible_to

    if not any(a.role == Role.WINDOW_CLERK for a in _assignments(actor)):
        return []
    rows = version_list_published().filter(item__department__in=departments_visible_to(actor))
    if version_id is not None:
        rows = rows.filter(pk=version_id)
    if query.strip():
        rows = rows.filter(name__icontains=query.strip())
    return list(rows[:limit])


def window_bundles_for(
    *, actor: Any, query: str = "", bundle_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Any]:
    """Published bundles of the regions a clerk's hall accepts for (its subtree and lineage)."""
    from tongban.catalog.models import Bundle, ItemStatus
    from tongban.org.models import Region, Role

    conditions = []
    for a in _assignments(actor):
        if a.role == Role.WINDOW_CLERK:
            code = a.hall.region.code if a.hall else a.region.code
            conditions.append(
                Q(region__code__startswith=code) | Q(region__code__in=Region.lineage_codes(code))
            )
    if not conditions:
        return []
    scope = conditions[0]
    for condition in conditions[1:]:
        scope |= condition
    rows = Bundle.objects.filter(scope, status=ItemStatus.PUBLISHED)
    if bundle_id is not None:
        rows = rows.filter(pk=bundle_id)
    if query.strip():
        rows = rows.filter(name__icontains=query.strip())
    return list(rows.order_by("code")[:limit])


def window_halls_of(*, actor: Any) -> list[Any]:
    """The halls where the actor works as a window clerk (a case at a window names its hall)."""
    from tongban.org.models import Role

    return [a.hall for a in _assignments(actor) if a.role == Role.WINDOW_CLERK and a.hall]


def _assignments(actor: Any) -> list[Any]:
    from tongban.org.permissions import assignments_of

    return assignments_of(actor)


def applicant_find(*, identifier: str) -> Any:
    """The applicant holding an ID number or credit code (either normalised form), or None."""
    from tongban.org.models import Applicant

    identifier = identifier.strip().upper()
    if not identifier:
        return None
    return Applicant.objects.filter(Q(id_number=identifier) | Q(credit_code=identifier)).first()


def case_steps(*, case: Case) -> list[Step]:
    return list(case.steps.select_related("department", "handled_by").order_by("order"))


def case_children(*, case: Case) -> list[Case]:
    return list(case.children.select_related("department").order_by("id"))


def case_open_extension(*, case: Case) -> Any:
    return case.extensions.filter(granted__isnull=True).select_related("requested_by").first()


def case_open_post_check(*, case: Case) -> Any:
    from .models import PostCheck

    return PostCheck.objects.filter(case=case, checked_at__isnull=True).first()


def bundle_outputs_needed(*, case: Case) -> list[Any]:
    """For a bundle child: the field mappings that take this child's outputs to its siblings
    (e.g. the credit code 公司设立登记 issues, which 公章刻制备案 needs)."""
    if case.parent_id is None or case.bundle_member_id is None:
        return []
    from tongban.catalog.models import FieldMapping

    return list(
        FieldMapping.objects.filter(source_id=case.bundle_member_id)
        .select_related("target__item__entry")
        .order_by("source_key", "id")
    )


def case_output_rows(*, case: Case) -> list[tuple[str, str]]:
    """The results a case recorded for the items after it (a bundle's: all its parts'), each
    under its Chinese name, in the order they were recorded."""
    if not case.outputs:
        return []
    from tongban.catalog.models import FieldMapping
    from tongban.catalog.selectors import output_labels

    mappings = FieldMapping.objects.filter(source_key__in=list(case.outputs))
    if case.bundle_id is not None:
        mappings = mappings.filter(bundle_id=case.bundle_id)
    elif case.bundle_member_id is not None:
        mappings = mappings.filter(source_id=case.bundle_member_id)
    else:
        mappings = mappings.none()
    labels = output_labels(mappings=mappings, keys=case.outputs)
    return [(labels.get(key, key), str(value)) for key, value in case.outputs.items()]


def extension_requests_pending_for(*, actor: Any, limit: int = PAGE_SIZE) -> list[Any]:
    """Extension requests a department head may decide: cases of their departments or on which
    their departments hold a step, oldest first."""
    from tongban.org.models import Role

    from .models import Extension

    departments = _department_ids(actor, Role.DEPARTMENT_HEAD)
    if not departments:
        return []
    return list(
        Extension.objects.filter(granted__isnull=True)
        .filter(
            Q(case__department_id__in=departments) | Q(case__steps__department_id__in=departments)
        )
        .distinct()
        .select_related("case", "requested_by")
        .order_by("requested_at", "pk")[:limit]
    )


def case_actions_for(*, actor: Any, case: Case) -> frozenset[str]:
    """The actions the staff case page offers this actor now: the permission predicates and the
    workflow's states together, so a page never shows a button the service would refuse."""
    from . import permissions as perms
    from .models import MaterialStatus

    actions: set[str] = set()
    status = case.status
    top = case.parent_id is None
    if top and perms.can_answer(actor, case):
        if status == CaseStatus.SUBMITTED:
            actions.add("answer")
        if status == CaseStatus.SUPPLEMENT:
            actions.add("supplement")
    if case.version_id is not None and perms.can_suspend(actor, case):
        if status == CaseStatus.ACCEPTED and case.version.special_procedures.exists():  # type: ignore[union-attr]
            actions.add("suspend")
        if status == CaseStatus.SUSPENDED:
            actions.add("resume")
        open_extension = case.extensions.filter(granted__isnull=True).exists()
        if (
            status in IN_PROGRESS_STATUSES
            and case.version.extension_allowed  # type: ignore[union-attr]
            and not open_extension
            and not case.extensions.filter(granted=True).exists()
        ):
            actions.add("extension_request")
        if open_extension and perms.can_grant_extension(actor, case):
            actions.add("extension_decide")
    if perms.can_conclude(actor, case):
        if case.materials.filter(status=MaterialStatus.TOLERATED).exists():
            actions.add("tolerated_supply")
        if top and status == CaseStatus.COMPLETED:
            actions.update({"pickup", "deliver"})
        if status in (CaseStatus.WAITING, CaseStatus.ACCEPTED, CaseStatus.SUSPENDED):
            actions.add("terminate")
        if case_open_post_check(case=case) is not None:
            actions.add("post_check")
    return frozenset(actions)


def steps_actionable_by(*, actor: Any, case: Case, steps: list[Step]) -> set[int]:
    """The ids of the active steps this actor may work on now (not while the case is suspended)."""
    from .permissions import can_handle_step

    if case.status != CaseStatus.ACCEPTED:
        return set()
    return {s.pk for s in steps if can_handle_step(actor, s)}


# --- api ---


def item_versions_for_code(*, local_code: str, region_code: str | None = None) -> list[Any]:
    """The versions an application by 实施编码 may mean: each item's published version (or, when
    none is published, its newest, so that the service can say it is not open for applications).

    A code is unique only within a region; with `region_code` (a hall's region) the items of its
    subtree and of the regions above it are considered, as a hall accepts for both.
    """
    from tongban.catalog.models import ItemStatus, ServiceItem
    from tongban.org.models import Region

    items = ServiceItem.objects.filter(local_code=local_code.strip())
    if region_code:
        items = items.filter(
            Q(region__code__startswith=region_code)
            | Q(region__code__in=Region.lineage_codes(region_code))
        )
    versions = []
    for item in items.order_by("region__code")[:10]:
        published = item.versions.filter(status=ItemStatus.PUBLISHED).first()
        version = published or item.versions.order_by("-pk").first()
        if version is not None:
            versions.append(version)
    return versions


def item_version_get(*, version_id: int) -> Any:
    from tongban.catalog.selectors import version_get

    return version_get(version_id=version_id)


def bundle_get_by_code(*, code: str) -> Any:
    from tongban.catalog.models import Bundle

    return Bundle.objects.filter(code=code.strip()).first()


def case_step_get(*, case: Case, step_id: int) -> Step | None:
    return case.steps.select_related("department").filter(pk=step_id).first()


def case_extension_get(*, case: Case, extension_id: int) -> Any:
    return case.extensions.filter(pk=extension_id).first()


def case_material_get(*, case: Case, material_id: int) -> Any:
    return case.materials.filter(pk=material_id).first()


def case_materials(*, case: Case) -> list[Any]:
    return list(case.materials.prefetch_related("uploads").order_by("id"))


def case_extensions(*, case: Case) -> list[Any]:
    return list(case.extensions.order_by("requested_at", "pk"))


def case_running_due(*, case: Case) -> datetime | None:
    """The due date of the clock that runs now: pre-review while the application waits for its
    answer, the promised limit while the back office holds it; none when nothing runs."""
    if case.status == CaseStatus.SUBMITTED:
        return case.prereview_due
    if case.status in IN_PROGRESS_STATUSES:
        return case.promised_due
    return None


def case_timeliness(*, case: Case) -> str | None:
    """How a decided case (办结, approved or denied) met its promised date: "on_time" or "late",
    by the rule of 按时办结率 (no promised date counts as on time). None while it is open, and for
    a case that ended without a decision (refused, withdrawn, terminated)."""
    if case.completed_at is None:
        return None
    if case.promised_due is None or case.completed_at <= case.promised_due:
        return "on_time"
    return "late"


def case_card(*, case: Case) -> str | None:
    card = card_of(case_running_due(case=case), region=case.region)
    return card.value if card else None


def step_card(*, step: Step, region: Any) -> str | None:
    if step.status != StepStatus.ACTIVE:
        return None
    card = card_of(step.due, region=region)
    return card.value if card else None


def page_cards(*, dues: list[tuple[datetime | None, int]]) -> list[str | None]:
    """card_of for a page of rows given as (due, region id), with one calendar per region."""
    from tongban.org.models import Region

    regions = {r.pk: r for r in Region.objects.filter(pk__in={rid for _due, rid in dues})}
    calendars: dict[int, WorkCalendar] = {}
    at = now()
    cards: list[str | None] = []
    for due, region_id in dues:
        if due is not None and region_id not in calendars:
            calendars[region_id] = calendar_for(regions.get(region_id))
        card = card_of(due, at=at, calendar=calendars.get(region_id))
        cards.append(card.value if card else None)
    return cards


# --- documents ---


def upload_get_visible(*, actor: Any, upload_id: Any) -> Any:
    """An uploaded file, only for someone who can see its case (None otherwise: a 404)."""
    # Imported here so that this section leaves the module's shared import line alone.
    from .models import Upload

    return (
        Upload.objects.filter(pk=upload_id, case__in=cases_visible_to(actor))
        .select_related("case")
        .first()
    )


# --- portal ---


def portal_version_to_apply(*, local_code: str, region_code: str = "") -> Any:
    """The published version behind a guide's 「在线申请」 (/apply/<local_code>/), or None.

    Local codes are unique per region only: `region_code` picks, as on the guide's own page, and
    without it the first region in code order answers.
    """
    from tongban.catalog.selectors import version_list_published

    rows = version_list_published().filter(item__local_code=local_code)
    if region_code:
        rows = rows.filter(item__region__code=region_code)
    return rows.prefetch_related("materials", "form_fields").first()


def portal_bundle_to_apply(*, code: str) -> Any:
    from tongban.catalog.models import Bundle, ItemStatus

    return (
        Bundle.objects.filter(code=code, status=ItemStatus.PUBLISHED)
        .select_related("region")
        .first()
    )


def portal_case_of(*, actor: Any, case_id: int) -> Case | None:
    """One of the actor's own applications (a bundle's parts are seen through their parent)."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return (
        case_list_of_applicant(actor=actor)
        .select_related("applicant", "version__item", "region", "hall")
        .filter(pk=case_id)
        .first()
    )


def portal_form_specs(*, case: Case | None = None, version: Any = None, bundle: Any = None) -> list:
    """The fields the applicant fills in: the item's schema, or the bundle's merged form."""
    from tongban.catalog.formschema import spec_of
    from tongban.catalog.selectors import bundle_merged_form

    if case is not None:
        version, bundle = case.version, case.bundle
    if bundle is not None:
        return bundle_merged_form(bundle=bundle)
    return [spec_of(f) for f in version.form_fields.all()]


@dataclass(frozen=True)
class PortalMaterial:
    """A material as the applicant sees it, before the case exists (from the catalogue) or after."""

    material_type: str
    name: str
    required: bool
    # Held by the certificate library: never asked of the applicant (无证明).
    waived: bool
    pk: int | None = None
    status: str = ""
    status_label: str = ""
    problem: str = ""
    owed_by: Any = None
    files: tuple = ()


def portal_materials_of(
    *, case: Case | None = None, version: Any = None, bundle: Any = None
) -> list[PortalMaterial]:
    from tongban.catalog.models import MaterialSource, Necessity
    from tongban.catalog.selectors import bundle_merged_materials

    from .models import MaterialStatus

    if case is not None:
        return [
            PortalMaterial(
                material_type=m.material_type,
                name=m.name,
                required=m.required,
                waived=m.status == MaterialStatus.WAIVED,
                pk=m.pk,
                status=m.status,
                status_label=m.get_status_display(),
                problem=m.open_problem,
                owed_by=m.owed_by,
                files=tuple(m.uploads.all()),
            )
            for m in case.materials.prefetch_related("uploads").order_by("id")
        ]
    if bundle is not None:
        return [
            PortalMaterial(
                material_type=m.material_type,
                name=m.name,
                required=m.necessity == Necessity.REQUIRED,
                waived=m.requirements[0].source == MaterialSource.CERTIFICATE,
            )
            for m in bundle_merged_materials(bundle=bundle)
        ]
    return [
        PortalMaterial(
            material_type=r.material_type,
            name=r.name,
            required=r.necessity == Necessity.REQUIRED,
            waived=r.source == MaterialSource.CERTIFICATE,
        )
        for r in version.materials.all()
    ]


def case_supplement_open(*, case: Case) -> Any:
    """The supplement notice the applicant still has to answer, or None."""
    if case.status != CaseStatus.SUPPLEMENT:
        return None
    return case.supplements.order_by("-sequence").first()


def case_withdrawable(*, case: Case) -> bool:
    """Before the decision, the applicant may still withdraw (services.case_withdraw decides)."""
    from .workflow import can_move

    return not case.decision and can_move(case.status, CaseStatus.WITHDRAWN)


def case_parts_of(*, case: Case) -> list[Case]:
    """A bundle's child cases (one per item) in the order they were created."""
    if not case.is_bundle:
        return []
    return list(case.children.select_related("department").order_by("id"))


def name_masked(name: str) -> str:
    """王五 → 王*: the public tracking page shows who applied without saying it."""
    name = name.strip()
    return f"{name[:1]}{'*' * max(len(name) - 1, 1)}" if name else ""


# --- supervision ---


@dataclass(frozen=True)
class CardClockRows:
    """The open rows one card clock runs on (item cases or active steps of the given departments),
    the field holding their due date, and the field naming the region whose calendar counts."""

    rows: QuerySet[Any]
    due: str
    region: str
    # Rows of the scope whose clock is paused by a special procedure (no due date): 挂起.
    paused: Q | None


def card_clock_rows(
    *, clock: str, department_ids: Any = None, item_id: int | None = None, running: bool = False
) -> CardClockRows:
    """Rows for the supervision board and sweep. A bundle's parent has no department and is not
    counted: its children (one per item) carry the cards. `department_ids` None means all.
    `running` leaves out suspended cases (the board counts them apart), so that a read ordered by
    the due date follows the (department, status, promised_due) index without a sort."""
    if clock == "step":
        steps = Step.objects.filter(status=StepStatus.ACTIVE)
        if department_ids is not None:
            steps = steps.filter(department_id__in=department_ids)
        if item_id is not None:
            steps = steps.filter(case__version__item_id=item_id)
        return CardClockRows(steps, "due", "case__region_id", Q(due__isnull=True))
    cases = Case.objects.all()
    if department_ids is not None:
        cases = cases.filter(department_id__in=department_ids)
    else:
        cases = cases.filter(department_id__isnull=False)
    if item_id is not None:
        cases = cases.filter(version__item_id=item_id)
    if clock == "prereview":
        return CardClockRows(
            cases.filter(status=CaseStatus.SUBMITTED), "prereview_due", "region_id", None
        )
    if clock == "tolerance":
        rows = cases.filter(status__in=IN_PROGRESS_STATUSES, tolerance_due__isnull=False)
        return CardClockRows(rows, "tolerance_due", "region_id", None)
    field = {"promised": "promised_due", "legal": "legal_due"}[clock]
    # Suspended cases have no due date while the procedure runs (the clock is stopped).
    if running:
        return CardClockRows(cases.filter(status=CaseStatus.ACCEPTED), field, "region_id", None)
    rows = cases.filter(status__in=IN_PROGRESS_STATUSES)
    return CardClockRows(rows, field, "region_id", Q(status=CaseStatus.SUSPENDED))


def card_most_overdue(
    *,
    clock: str,
    department_ids: list[int],
    at: datetime,
    item_id: int | None = None,
    limit: int = 50,
) -> list[tuple[int, datetime]]:
    """(id, due) of the `limit` rows furthest past due, oldest due first.

    On PostgreSQL each department's overdue rows are read from its own index range (a LATERAL
    subquery per department, at most `limit` rows each) and merged: ordering all departments'
    overdue rows together would read every overdue row of the region first. One short statement,
    not a UNION of one ORM query per department: building those costs more than running them.
    Elsewhere (SQLite, small databases) the plain ordered query answers.
    """
    from django.db import connection

    if not department_ids:
        return []
    source = card_clock_rows(
        clock=clock, department_ids=department_ids, item_id=item_id, running=True
    )
    # By the due date alone: due dates are ends of days, so thousands of rows share one, and a
    # tie-breaker (the id) would make the database sort each such group instead of stopping
    # after `limit` index entries. Among cases due the same day the order is unspecified.
    if connection.vendor != "postgresql" or len(department_ids) == 1:
        rows = source.rows.filter(**{f"{source.due}__lt": at}).order_by(source.due)
        return list(rows.values_list("pk", source.due)[:limit])
    model = source.rows.model
    due = model._meta.get_field(source.due).column
    status = StepStatus.ACTIVE if clock == "step" else CaseStatus.ACCEPTED
    params: list[Any] = [list(department_ids), status, at]
    narrowed = ""
    if item_id is not None:
        case_column = "id" if model is Case else "case_id"
        narrowed = (
            f"AND x.{case_column} IN (SELECT c.id FROM cases_case c JOIN catalog_itemversion v"  # noqa: S608
            " ON v.id = c.version_id WHERE v.item_id = %s)"
        )
        params.append(item_id)
    params.extend([limit, limit])
    # Only column and table names from the models are formatted in; values are parameters.
    sql = f"""
        SELECT t.id, t.due FROM unnest(%s::bigint[]) AS d(id) CROSS JOIN LATERAL (
            SELECT x.id, x.{due} AS due FROM {model._meta.db_table} x
            WHERE x.department_id = d.id AND x.status = %s AND x.{due} < %s {narrowed}
            ORDER BY x.{due} LIMIT %s
        ) AS t
        ORDER BY t.due LIMIT %s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def card_cases_of(*, case_ids: list[int]) -> dict[int, Case]:
    # Only what a row of the board shows: a case's JSON (form, clock) is most of its bytes.
    rows = (
        Case.objects.filter(pk__in=case_ids)
        .select_related("department", "region")
        .only("number", "title", "department__name", "region__code", "region__name")
    )
    return {case.pk: case for case in rows}


def card_steps_of(*, step_ids: list[int]) -> dict[int, Step]:
    rows = Step.objects.filter(pk__in=step_ids).select_related(
        "department", "case__department", "case__region"
    )
    return {step.pk: step for step in rows}


def card_active_steps_of(*, case_ids: list[int]) -> dict[int, list[Step]]:
    """The steps holding each case now (parallel steps: several)."""
    holders: dict[int, list[Step]] = {}
    rows = Step.objects.filter(case_id__in=case_ids, status=StepStatus.ACTIVE)
    for step in rows.select_related("department").order_by("order"):
        holders.setdefault(step.case_id, []).append(step)
    return holders


@dataclass(frozen=True)
class QuarterFigures:
    """A department's cases in a period: handled (open at some time in it), completed in it, and
    completed on or before their promised due date."""

    handled: int
    completed: int
    on_time: int


def case_period_figures(
    *, department_ids: list[int], start: datetime, end: datetime
) -> dict[int, QuarterFigures]:
    from django.db.models import Count

    handled = (
        Case.objects.filter(department_id__in=department_ids, accepted_at__lt=end)
        .filter(
            Q(completed_at__gte=start)
            | Q(completed_at__isnull=True, closed_at__isnull=True)
            | Q(completed_at__isnull=True, closed_at__gte=start)
        )
        .values("department_id")
        .annotate(n=Count("pk"))
    )
    completed = (
        Case.objects.filter(
            department_id__in=department_ids, completed_at__gte=start, completed_at__lt=end
        )
        .values("department_id")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(completed_at__lte=F("promised_due"))),
        )
    )
    figures = {d: [0, 0, 0] for d in department_ids}
    for row in handled:
        figures[row["department_id"]][0] = row["n"]
    for row in completed:
        figures[row["department_id"]][1] = row["n"]
        figures[row["department_id"]][2] = row["on_time"]
    return {d: QuarterFigures(*values) for d, values in figures.items()}


def case_visible_for_directive(*, actor: Any, case_id: int) -> Case | None:
    """A case the actor may see, for a directive about it (None: a 404)."""
    return cases_visible_to(actor).select_related("department", "region").filter(pk=case_id).first()


# --- calendar warnings ---


def case_uncovered_years(*, case: Case) -> list[int]:
    """Years of the case's stored due dates (and its active steps', and for a bundle its parts')
    that no holiday table covers: those dates were counted Monday to Friday, and the pages must
    say so (DESIGN §4). Stored dates are only recomputed at the case's next clock event."""
    from tongban.timelimits.selectors import covered_years

    cases = [case, *case_parts_of(case=case)]
    dues = [d for c in cases for d in (c.promised_due, c.legal_due, c.prereview_due) if d]
    dues += [
        d
        for d in Step.objects.filter(case__in=cases, status=StepStatus.ACTIVE).values_list(
            "due", flat=True
        )
        if d
    ]
    years = {timezone.localtime(d).year for d in dues}
    return sorted(years - covered_years())


# --- reviews ---


def review_case_get(*, case_id: int) -> Case | None:
    """A case as the 好差评 services read it (applicant, region, department), by id."""
    return (
        Case.objects.select_related("applicant", "region", "department").filter(pk=case_id).first()
    )


@dataclass(frozen=True)
class ReviewCaseFacts:
    """What tracing (溯源) matches on: the case's department, item and the staff who handled it."""

    number: str
    title: str
    department_id: int | None
    item_id: int | None
    # The case's creator (the window clerk) and each step's handler.
    staff_ids: frozenset[int]
    created_by_id: int | None
    # Step id (as text) and step name → who handled it, for a card naming its step.
    step_handlers: dict[str, int]


def review_case_facts(*, case_ids: list[int]) -> dict[int, ReviewCaseFacts]:
    rows = Case.objects.filter(pk__in=case_ids).values_list(
        "pk",
        "number",
        "title",
        "department_id",
        "version__item_id",
        "created_by_id",
        "created_by__kind",
    )
    handlers: dict[int, dict[str, int]] = {}
    for case_id, step_id, name, handled_by in Step.objects.filter(
        case_id__in=case_ids, handled_by__isnull=False
    ).values_list("case_id", "pk", "name", "handled_by_id"):
        handlers.setdefault(case_id, {}).update({str(step_id): handled_by, name: handled_by})
    facts = {}
    for pk, number, title, department_id, item_id, creator, creator_kind in rows:
        # An online case is created by the applicant's own account: only staff are traced.
        created_by = creator if creator_kind == "staff" else None
        steps = handlers.get(pk, {})
        staff = set(steps.values())
        if created_by:
            staff.add(created_by)
        facts[pk] = ReviewCaseFacts(
            number, title, department_id, item_id, frozenset(staff), created_by, steps
        )
    return facts


CARD_EVENT_KINDS = ("case.card_yellow", "case.card_red", "case.legal_overdue")


def review_card_events(
    *, region_code: str, start: datetime, end: datetime
) -> list[tuple[int, str, dict[str, Any]]]:
    """(case id, kind, payload) of the yellow/red card events on cases of a region's subtree."""
    events = Event.objects.filter(
        subject_type="cases.case",
        kind__in=CARD_EVENT_KINDS,
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).values_list("subject_id", "kind", "payload")
    rows = [(int(subject_id), kind, payload or {}) for subject_id, kind, payload in events]
    in_region = set(
        Case.objects.filter(
            pk__in={case_id for case_id, _kind, _payload in rows},
            region__code__startswith=region_code,
        ).values_list("pk", flat=True)
    )
    return [row for row in rows if row[0] in in_region]


def review_cases_overdue_now(*, region_code: str, at: datetime | None = None) -> list[int]:
    """Open cases of a region's subtree past their promised due date now (a red card today)."""
    return list(
        Case.objects.filter(
            region__code__startswith=region_code,
            status__in=IN_PROGRESS_STATUSES,
            promised_due__lt=at or timezone.now(),
        ).values_list("pk", flat=True)
    )


def review_cases_concluded_since(*, since: datetime) -> QuerySet[Case]:
    """Top-level cases decided since a moment (the applicant may rate their completion)."""
    return Case.objects.filter(parent__isnull=True, completed_at__gte=since).select_related(
        "applicant"
    )


# --- inbox page ---


def _inbox_steps(*, actor: Any, department_id: int | None) -> QuerySet[Step]:
    departments = _department_ids(actor)
    if department_id is not None:
        departments &= {department_id}
    return Step.objects.filter(department_id__in=departments, status=StepStatus.ACTIVE)


def _inbox_keyset(active: QuerySet[Any], *, after: tuple[str, int] | None, limit: int) -> list[Any]:
    """One page of `active` in (due, id) order after the cursor, whatever the queryset yields
    (steps for the API, tuples for the page), so the two can never page differently."""
    due_text, last_id = after if after is not None else (None, 0)
    rows: list[Any] = []
    if after is None or due_text:
        # Dated steps in index order: (due, id) after the cursor. `due >= x` bounds the index
        # range; the tie on the same instant is settled by id.
        dated = active.filter(due__isnull=False)
        if due_text:
            due = datetime.fromisoformat(due_text)
            dated = dated.filter(due__gte=due).exclude(due=due, pk__lte=last_id)
        rows = list(dated.order_by("due", "pk")[:limit])
        last_id = 0
    if len(rows) < limit:
        # Then the steps of suspended cases, which have no due date.
        rows += list(
            active.filter(due__isnull=True, pk__gt=last_id).order_by("pk")[: limit - len(rows)]
        )
    return rows


@dataclass(frozen=True, slots=True)
class InboxRow:
    """What the inbox page shows of one active step: no model instances, only its columns."""

    step_id: int
    case_id: int
    number: str
    item: str
    applicant: str  # masked
    step: str
    department: str
    due: datetime | None
    card: str | None


def inbox_rows_for(
    *, actor: Any, after: tuple[str, int] | None = None, limit: int = PAGE_SIZE
) -> list[InboxRow]:
    """inbox_for for the page: the same rows in the same order, read as the columns shown (a
    50-row page of full steps with their cases cost several times its SQL to build), coloured
    with one calendar per region."""
    from tongban.org.models import Region

    rows = _inbox_keyset(
        _inbox_steps(actor=actor, department_id=None).values_list(
            "pk",
            "case_id",
            "case__number",
            "case__title",
            "case__applicant__name",
            "name",
            "department__name",
            "due",
            "case__region__code",
        ),
        after=after,
        limit=limit,
    )
    at = now()
    calendars: dict[str | None, WorkCalendar] = {}
    page: list[InboxRow] = []
    for step_id, case_id, number, item, applicant, step, department, due, region_code in rows:
        card = None
        if due is not None:
            if at > due:
                card = Card.RED.value
            else:
                calendar = calendars.get(region_code)
                if calendar is None:
                    # An unsaved region carrying its code: the calendar needs only the code.
                    region = Region(code=region_code) if region_code else None
                    calendar = calendars[region_code] = calendar_for(region)
                coloured = card_of(due, at=at, calendar=calendar)
                card = coloured.value if coloured else None
        page.append(
            InboxRow(
                step_id=step_id,
                case_id=case_id,
                number=number,
                item=item,
                applicant=name_masked(applicant or ""),
                step=step,
                department=department,
                due=due,
                card=card,
            )
        )
    return page
