"""Every read of 好差评 that pages, the API, supervision and metrics need.

Statistics count each case's current word per occasion: an evaluation that was re-rated is replaced
by its re-rating, and a review whose appeal was upheld (`excluded_from_statistics`) is left out. The
record keeps both. Periods are [start, end): a `date` end means the whole of that day is in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tongban.cases import selectors as case_selectors
from tongban.cases.models import Case
from tongban.org.models import Department, User

from . import permissions
from .models import (
    BAD_LEVELS,
    GOOD_LEVELS,
    Appeal,
    AppealDecision,
    Evaluation,
    Occasion,
    Rectification,
)
from .services import occasion_reached
from .workflow import RectificationState

PAGE_SIZE = 50


def _moment(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + timedelta(days=1) if end else value
    return timezone.make_aware(datetime.combine(day, time.min))


def _bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    return _moment(start, end=False), _moment(end, end=True)


def evaluations_counted() -> QuerySet[Evaluation]:
    """The evaluations the statistics count: not superseded by a re-rating, not appealed away."""
    return Evaluation.objects.filter(excluded_from_statistics=False, rerating__isnull=True)


def bad_review_counts(
    department_ids: list[int] | set[int], start: date | datetime, end: date | datetime
) -> dict[int, tuple[int, int]]:
    """(bad reviews, evaluations) per department over a period, for the supervision grading.

    Upheld appeals are out; a re-rated review counts as its re-rating. Departments without any
    evaluation answer (0, 0).
    """
    lo, hi = _bounds(start, end)
    rows = (
        evaluations_counted()
        .filter(department_id__in=list(department_ids), created_at__gte=lo, created_at__lt=hi)
        .values("department_id")
        .annotate(
            total=Count("id"),
            bad=Count("id", filter=Q(level__in=[level.value for level in BAD_LEVELS])),
        )
    )
    counts = {department_id: (0, 0) for department_id in department_ids}
    for row in rows:
        counts[row["department_id"]] = (row["bad"], row["total"])
    return counts


@dataclass(frozen=True)
class DepartmentFigures:
    department_id: int
    department: str
    evaluations: int
    good: int
    bad: int
    # Bad reviews whose reply deadline fell in the period and has passed, and those answered by it.
    bad_due: int
    bad_in_time: int

    @property
    def good_rate(self) -> float | None:
        """好评率: (非常满意 + 满意) / evaluations; None when nobody rated."""
        return self.good / self.evaluations if self.evaluations else None

    @property
    def rectify_rate(self) -> float | None:
        """差评整改率: bad reviews rectified in time / bad reviews due; None when none fell due."""
        return self.bad_in_time / self.bad_due if self.bad_due else None


def department_review_figures(
    region_code: str,
    start: date | datetime,
    end: date | datetime,
    *,
    department_ids: list[int] | None = None,
    at: datetime | None = None,
) -> list[DepartmentFigures]:
    """好评率 and 差评整改率 per department of a region's subtree ("" for every region), for the
    departments that were rated or owed a reply in the period, by department code."""
    lo, hi = _bounds(start, end)
    now = at or timezone.now()
    departments = Department.objects.filter(region__code__startswith=region_code)
    if department_ids is not None:
        departments = departments.filter(pk__in=department_ids)
    good = [level.value for level in GOOD_LEVELS]
    bad = [level.value for level in BAD_LEVELS]
    rated = (
        evaluations_counted()
        .filter(department__in=departments, created_at__gte=lo, created_at__lt=hi)
        .values("department_id")
        .annotate(
            total=Count("id"),
            good=Count("id", filter=Q(level__in=good)),
            bad=Count("id", filter=Q(level__in=bad)),
        )
    )
    due = (
        Rectification.objects.filter(
            department__in=departments,
            evaluation__excluded_from_statistics=False,
            reply_due__gte=lo,
            reply_due__lt=min(hi, now),
        )
        .values("department_id")
        .annotate(due=Count("id"), in_time=Count("id", filter=Q(replied_in_time=True)))
    )
    figures: dict[int, dict[str, int]] = defaultdict(
        lambda: {"total": 0, "good": 0, "bad": 0, "due": 0, "in_time": 0}
    )
    for row in rated:
        figures[row["department_id"]].update(total=row["total"], good=row["good"], bad=row["bad"])
    for owed in due:
        figures[owed["department_id"]].update(due=owed["due"], in_time=owed["in_time"])
    names = dict(
        departments.filter(pk__in=list(figures)).order_by("code").values_list("pk", "name")
    )
    return [
        DepartmentFigures(
            department_id=pk,
            department=name,
            evaluations=figures[pk]["total"],
            good=figures[pk]["good"],
            bad=figures[pk]["bad"],
            bad_due=figures[pk]["due"],
            bad_in_time=figures[pk]["in_time"],
        )
        for pk, name in names.items()
    ]


# --- the applicant's side -----------------------------------------------------------------------


@dataclass(frozen=True)
class OccasionToRate:
    occasion: str
    label: str
    rerate: bool  # the department replied to a bad review: the applicant's one re-rating


def occasions_to_rate(*, case: Case) -> list[OccasionToRate]:
    """The occasions the applicant may rate now: reached and not rated, or replied to once."""
    if case.parent_id is not None:
        return []
    firsts = {
        e.occasion: e
        for e in Evaluation.objects.filter(case=case, rerating_of__isnull=True).select_related(
            "rectification"
        )
    }
    rerated = set(
        Evaluation.objects.filter(case=case, rerating_of__isnull=False).values_list(
            "rerating_of_id", flat=True
        )
    )
    open_ = []
    for occasion in Occasion:
        if not occasion_reached(case, occasion):
            continue
        first = firsts.get(occasion.value)
        if first is None:
            open_.append(OccasionToRate(occasion.value, str(occasion.label), False))
            continue
        rectification = getattr(first, "rectification", None)
        if (
            rectification is not None
            and rectification.state == RectificationState.REPLIED
            and first.pk not in rerated
        ):
            open_.append(OccasionToRate(occasion.value, str(occasion.label), True))
    return open_


def evaluations_of_case(*, case: Case) -> list[Evaluation]:
    """Every evaluation of a case (re-ratings too), oldest first, with their rectification."""
    return list(
        Evaluation.objects.filter(case=case)
        .select_related("rectification")
        .order_by("created_at", "id")
    )


# --- the department's and the supervisor's side -------------------------------------------------


def rectification_list_visible_to(
    *, actor: Any, state: str | None = None, department_id: int | None = None
) -> list[Rectification]:
    """The bad reviews an actor handles or oversees, the most urgent first (no deadline: last)."""
    from django.db.models import F

    rows = permissions.rectifications_visible_to(actor)
    if state:
        rows = rows.filter(state=state)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    return list(
        rows.select_related("evaluation__case__applicant", "department", "region").order_by(
            F("due").asc(nulls_last=True), "-opened_at", "pk"
        )[:PAGE_SIZE]
    )


def rectification_get_visible(*, actor: Any, pk: int) -> Rectification | None:
    return (
        permissions.rectifications_visible_to(actor)
        .select_related("evaluation__case__applicant", "department", "region")
        .filter(pk=pk)
        .first()
    )


def rectification_appeal(*, rectification: Rectification) -> Appeal | None:
    return Appeal.objects.filter(rectification=rectification).select_related("filed_by").first()


def rectification_rerating(*, rectification: Rectification) -> Evaluation | None:
    return Evaluation.objects.filter(rerating_of_id=rectification.evaluation_id).first()


def appeals_pending_for(*, actor: Any) -> list[Appeal]:
    """Appeals waiting for this supervisor's decision, oldest first."""
    codes = permissions.supervisor_region_codes(actor)
    if not codes:
        return []
    scope = Q()
    for code in codes:
        scope |= Q(rectification__region__code__startswith=code)
    return list(
        Appeal.objects.filter(scope, decision=AppealDecision.PENDING)
        .select_related("rectification__evaluation__case", "rectification__department", "filed_by")
        .order_by("filed_at", "pk")[:PAGE_SIZE]
    )


def appeal_get_pending_visible(*, actor: Any, pk: int) -> Appeal | None:
    for appeal in appeals_pending_for(actor=actor):
        if appeal.pk == pk:
            return appeal
    codes = permissions.supervisor_region_codes(actor)
    if not codes:
        return None
    scope = Q()
    for code in codes:
        scope |= Q(rectification__region__code__startswith=code)
    return Appeal.objects.filter(scope, pk=pk).select_related("rectification").first()


def rectification_clock_rows(*, region_code: str) -> QuerySet[Rectification]:
    """The running rectification clocks of a region's subtree, for the supervision board's cards:
    `due` is the deadline that runs now (verify, then reply), with `department_id` and `region_id`."""
    return Rectification.objects.filter(
        region__code__startswith=region_code, due__isnull=False
    ).exclude(state__in=[RectificationState.REPLIED, RectificationState.CLOSED])


# --- the public page ----------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """王五 → 王*, 王小明 → 王**: who rated, without saying it."""
    return case_selectors.name_masked(name)


def mask_identifier(value: str) -> str:
    """4309…2021: the first four and the last four characters of an ID number or credit code."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


@dataclass(frozen=True)
class PublicBadReview:
    at: datetime
    department: str
    item: str
    level: str
    tags: list[str]
    text: str
    applicant: str
    identifier: str
    state: str
    reply: str
    replied_at: datetime | None
    rerating: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def public_bad_reviews(*, region_code: str, limit: int = PAGE_SIZE) -> list[PublicBadReview]:
    """The newest bad reviews, with the department's reply and the applicant's re-rating, the
    applicant masked. A review found false on appeal is not published."""
    rows = (
        Evaluation.objects.filter(
            region__code__startswith=region_code,
            level__in=[level.value for level in BAD_LEVELS],
            rerating_of__isnull=True,
            excluded_from_statistics=False,
        )
        .select_related("case__applicant", "department", "rectification", "rerating")
        .order_by("-created_at", "-id")[:limit]
    )
    reviews = []
    for e in rows:
        applicant = e.case.applicant
        rectification = getattr(e, "rectification", None)
        rerating = getattr(e, "rerating", None)
        reviews.append(
            PublicBadReview(
                at=e.created_at,
                department=e.department.name if e.department else "",
                item=e.case.title,
                level=e.get_level_display(),
                tags=e.tag_labels(),
                text=e.text,
                applicant=mask_name(applicant.name),
                identifier=mask_identifier(applicant.id_number or applicant.credit_code),
                state=rectification.get_state_display() if rectification else "",
                reply=rectification.reply if rectification else "",
                replied_at=rectification.replied_at if rectification else None,
                rerating=rerating.get_level_display() if rerating else "",
            )
        )
    return reviews


# --- tracing (溯源) -------------------------------------------------------------------------------


@dataclass
class TraceRow:
    """One key (a case, a staff member, an item, a department) with both bad reviews and cards."""

    kind: str
    key: int
    label: str
    bad_reviews: int = 0
    yellow: int = 0
    red: int = 0
    case_ids: set[int] = field(default_factory=set)
    cases: list[tuple[int, str]] = field(default_factory=list)

    @property
    def cards(self) -> int:
        return self.yellow + self.red

    @property
    def weight(self) -> int:
        return self.bad_reviews + self.cards


TRACE_KINDS = ("case", "staff", "item", "department")


def _keys_of(facts: case_selectors.ReviewCaseFacts, case_id: int, staff: set[int]) -> list:
    keys: list[tuple[str, int]] = [("case", case_id)]
    keys += [("staff", s) for s in sorted(staff)]
    if facts.item_id:
        keys.append(("item", facts.item_id))
    if facts.department_id:
        keys.append(("department", facts.department_id))
    return keys


def tracing_for(
    *, actor: Any, start: date | datetime, end: date | datetime, at: datetime | None = None
) -> dict[str, list[TraceRow]]:
    """Bad reviews matched with yellow/red cards on the same case, staff member, item and department,
    in the supervisor's regions over a period; per kind, the keys with both, heaviest first.

    Cards are the card events the supervision app appends on cases, and a red card for each case
    overdue now. A card on a step is the step's handler's; a card on the case is its creator's.
    """
    codes = permissions.supervisor_region_codes(actor)
    if not codes:
        return {kind: [] for kind in TRACE_KINDS}
    lo, hi = _bounds(start, end)
    scope = Q()
    for code in codes:
        scope |= Q(region__code__startswith=code)
    bad = list(
        Evaluation.objects.filter(
            scope,
            rerating_of__isnull=True,
            excluded_from_statistics=False,
            level__in=[level.value for level in BAD_LEVELS],
            created_at__gte=lo,
            created_at__lt=hi,
        ).values_list("case_id", flat=True)
    )
    cards: list[tuple[int, str, dict[str, Any]]] = []
    for code in codes:
        cards += case_selectors.review_card_events(region_code=code, start=lo, end=hi)
        cards += [
            (case_id, "case.overdue_now", {})
            for case_id in case_selectors.review_cases_overdue_now(region_code=code, at=at)
        ]
    facts = case_selectors.review_case_facts(
        case_ids=list({*bad, *(case_id for case_id, _k, _p in cards)})
    )
    rows: dict[tuple[str, int], TraceRow] = {}

    def row(kind: str, key: int) -> TraceRow:
        if (kind, key) not in rows:
            rows[(kind, key)] = TraceRow(kind, key, "")
        return rows[(kind, key)]

    for case_id in bad:
        f = facts.get(case_id)
        if f is None:
            continue
        for kind, key in _keys_of(f, case_id, set(f.staff_ids)):
            r = row(kind, key)
            r.bad_reviews += 1
            r.case_ids.add(case_id)
    for case_id, kind_of_card, payload in cards:
        f = facts.get(case_id)
        if f is None:
            continue
        step = payload.get("step")
        if step in (None, ""):
            # A card on the whole case is the window clerk's who started it.
            staff = {f.created_by_id} if f.created_by_id else set()
        else:
            handler = f.step_handlers.get(str(step))
            staff = {handler} if handler else set()
        department = payload.get("department_id") or f.department_id
        for kind, key in _keys_of(f, case_id, staff):
            if kind == "department" and department:
                key = int(department)
            r = row(kind, key)
            if kind_of_card == "case.card_yellow":
                r.yellow += 1
            else:
                r.red += 1
            r.case_ids.add(case_id)
    matched = [r for r in rows.values() if r.bad_reviews and r.cards]
    _label(matched, facts)
    result: dict[str, list[TraceRow]] = {kind: [] for kind in TRACE_KINDS}
    for r in sorted(matched, key=lambda r: (-r.weight, -r.bad_reviews, r.label)):
        r.cases = sorted((c, facts[c].number) for c in r.case_ids if c in facts)
        result[r.kind].append(r)
    return result


def _label(rows: list[TraceRow], facts: dict[int, case_selectors.ReviewCaseFacts]) -> None:
    from tongban.catalog.models import ServiceItem

    ids: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        ids[r.kind].add(r.key)
    staff = {u.pk: u.display_name for u in User.objects.filter(pk__in=ids["staff"])}
    items = dict(ServiceItem.objects.filter(pk__in=ids["item"]).values_list("pk", "entry__name"))
    departments = dict(
        Department.objects.filter(pk__in=ids["department"]).values_list("pk", "name")
    )
    for r in rows:
        if r.kind == "case":
            f = facts.get(r.key)
            r.label = f"{f.number} {f.title}" if f else str(r.key)
        elif r.kind == "staff":
            r.label = staff.get(r.key, str(r.key))
        elif r.kind == "item":
            r.label = items.get(r.key, str(r.key))
        else:
            r.label = departments.get(r.key, str(r.key))


def cases_to_invite(*, since: datetime, limit: int = 500) -> list[Case]:
    """Decided cases not yet invited to rate their completion nor rated, oldest first."""
    from django.db.models import Exists, OuterRef

    from .models import Invitation

    invited = Invitation.objects.filter(case=OuterRef("pk"), occasion=Occasion.COMPLETION)
    rated = Evaluation.objects.filter(case=OuterRef("pk"), occasion=Occasion.COMPLETION)
    return list(
        case_selectors.review_cases_concluded_since(since=since)
        .exclude(Exists(invited))
        .exclude(Exists(rated))
        .order_by("completed_at", "pk")[:limit]
    )
