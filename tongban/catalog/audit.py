"""The catalogue audit: contradictions an assessment would find by hand, found by tongban itself.

Each rule is a function from one published version (and, for the outlier rule, what the other
regions say about the same entry) to at most one `Finding`, whose Chinese message says what is wrong,
with the figures, and what would fix it. `run_audit` runs every rule; `finding_list_visible_to`
scopes and filters the findings for a person. Nothing here writes: a finding is a report, the
catalogue admin fixes the item through the catalogue services.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from tongban.org.models import Department, Region
from tongban.org.permissions import departments_visible_to
from tongban.timelimits.calendar import DayUnit

from .models import (
    ItemStatus,
    ItemVersion,
    MaterialForm,
    MaterialRequirement,
    MaterialSource,
    Necessity,
    OnlineDepth,
    ResultType,
    SpecialProcedureKind,
)

# Defaults of the settings the audit reads (documented in .env.example).
MIN_PEER_REGIONS = 2  # a median of one other region is just that region's opinion


class Severity(models.TextChoices):
    ERROR = "error", _("严重")
    WARNING = "warning", _("警告")
    INFO = "info", _("提示")


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

PAPER_FORMS = frozenset({MaterialForm.ORIGINAL, MaterialForm.ORIGINAL_AND_COPY})
# Special procedures the applicant or the officials must attend in person.
IN_PERSON_PROCEDURES = frozenset({SpecialProcedureKind.HEARING, SpecialProcedureKind.SITE_CHECK})
# Step names that say the step happens on site or face to face.
IN_PERSON_STEP_WORDS = ("现场", "面谈", "面签")


@dataclass(frozen=True)
class Finding:
    """One contradiction in one published version of an item."""

    rule: str
    severity: str
    version: ItemVersion
    message: str

    @property
    def item(self) -> Any:
        return self.version.item

    @property
    def department(self) -> Department:
        return self.version.item.department

    @property
    def region(self) -> Region:
        return self.version.item.region

    @property
    def rule_title(self) -> str:
        return str(RULES[self.rule].title)

    @property
    def severity_label(self) -> str:
        return str(Severity(self.severity).label)

    def as_dict(self) -> dict[str, Any]:
        item = self.item
        return {
            "rule": self.rule,
            "rule_title": self.rule_title,
            "severity": self.severity,
            "severity_label": self.severity_label,
            "item_id": item.pk,
            "local_code": item.local_code,
            "entry_code": item.entry.code,
            "item_name": self.version.name,
            "version": self.version.version,
            "department_id": self.department.pk,
            "department": self.department.name,
            "region_code": self.region.code,
            "region": self.region.name,
            "message": self.message,
        }


@dataclass(frozen=True)
class AuditContext:
    """What a rule may know beyond the version itself."""

    today: date
    compression_target: Fraction
    guide_max_age_days: int
    outlier_factor: int
    # (entry id, limit unit) → [(region id, legal limit, promised limit)] of every published version
    peers: dict[tuple[int, str], list[tuple[int, int | None, int]]]


Check = Callable[[ItemVersion, AuditContext], str | None]


@dataclass(frozen=True)
class Rule:
    code: str
    title: Any
    severity: str
    check: Check


# --- wording helpers ----------------------------------------------------------------------------
# Messages go through gettext like every text a person reads; the figures are filled in afterwards.


def _days(n: int | float, unit: str) -> str:
    if unit == DayUnit.NATURAL.value:
        return gettext("%(n)s 个自然日") % {"n": f"{n:g}"}
    return gettext("%(n)s 个工作日") % {"n": f"{n:g}"}


def _percent(value: Fraction) -> str:
    return f"{round(float(value) * 100)}%"


def _names(materials: Iterable[MaterialRequirement]) -> str:
    return gettext("、").join(gettext("“%(name)s”") % {"name": m.name} for m in materials)


def _pickup_only(v: ItemVersion) -> bool:
    """The result exists and the applicant must come to a window to collect it."""
    only_window = v.delivery_window and not (v.delivery_mail or v.delivery_electronic)
    return only_window and v.result_type != ResultType.NONE


def _needed(m: MaterialRequirement) -> bool:
    return m.necessity != Necessity.OPTIONAL


def _paper_only(v: ItemVersion) -> list[MaterialRequirement]:
    """Materials the applicant must bring on paper: an original, with no electronic alternative."""
    return [
        m
        for m in v.materials.all()
        if _needed(m) and m.form in PAPER_FORMS and m.source == MaterialSource.APPLICANT
    ]


# --- the rules ----------------------------------------------------------------------------------


def check_promised_over_legal(v: ItemVersion, ctx: AuditContext) -> str | None:
    if v.legal_limit is None or v.promised_limit <= v.legal_limit:
        return None
    return gettext("承诺时限 %(promised)s超过法定时限 %(legal)s：承诺时限应不超过法定时限。") % {
        "promised": _days(v.promised_limit, v.limit_unit),
        "legal": _days(v.legal_limit, v.limit_unit),
    }


def check_immediate_with_days(v: ItemVersion, ctx: AuditContext) -> str | None:
    if not v.declared_immediate or v.promised_limit == 0:
        return None
    return gettext(
        "申报为即办件，但承诺时限为 %(promised)s：即办件应当场办结（承诺时限为 0），"
        "否则应取消即办件申报。"
    ) % {"promised": _days(v.promised_limit, v.limit_unit)}


def check_compression_below_target(v: ItemVersion, ctx: AuditContext) -> str | None:
    # Above the legal limit is a worse finding of its own; no legal limit means nothing to compress.
    if not v.legal_limit or v.promised_limit > v.legal_limit:
        return None
    compression = 1 - Fraction(v.promised_limit, v.legal_limit)
    if compression >= ctx.compression_target:
        return None
    most = int(v.legal_limit * (1 - ctx.compression_target))
    return gettext(
        "时限压缩比 %(compression)s（承诺 %(promised)s，法定 %(legal)s）低于目标 %(target)s："
        "承诺时限应不超过 %(most)s。"
    ) % {
        "compression": _percent(compression),
        "promised": _days(v.promised_limit, v.limit_unit),
        "legal": _days(v.legal_limit, v.limit_unit),
        "target": _percent(ctx.compression_target),
        "most": _days(most, v.limit_unit),
    }


def _ratio(value: int, median: float) -> str:
    return f"{value / median:.1f}".removesuffix(".0")


def check_limit_outlier(v: ItemVersion, ctx: AuditContext) -> str | None:
    item = v.item
    others = [p for p in ctx.peers.get((item.entry_id, v.limit_unit), []) if p[0] != item.region_id]
    regions = {p[0] for p in others}
    if len(regions) < MIN_PEER_REGIONS:
        return None
    parts = []
    for label, own, values in (
        (gettext("法定时限"), v.legal_limit, [p[1] for p in others if p[1] is not None]),
        (gettext("承诺时限"), v.promised_limit, [p[2] for p in others]),
    ):
        if own is None or not values:
            continue
        median = statistics.median(values)
        if median > 0 and own >= ctx.outlier_factor * median:
            parts.append(
                gettext(
                    "%(label)s %(own)s是其他 %(regions)s 个地区同一事项中位数 %(median)s的 "
                    "%(ratio)s 倍"
                )
                % {
                    "label": label,
                    "own": _days(own, v.limit_unit),
                    "regions": len(regions),
                    "median": _days(median, v.limit_unit),
                    "ratio": _ratio(own, median),
                }
            )
    if not parts:
        return None
    return gettext("%(parts)s：请核对时限是否录入错误，并与其他地区的同一事项保持一致。") % {
        "parts": gettext("；").join(parts)
    }


def check_basic_element_missing(v: ItemVersion, ctx: AuditContext) -> str | None:
    item, entry = v.item, v.item.entry
    elements = [
        (gettext("事项名称"), v.name),
        (gettext("基本编码"), entry.code),
        (gettext("实施编码"), item.local_code),
        (gettext("事项类型"), entry.kind),
        (gettext("实施部门"), item.department_id),
        (gettext("实施主体"), v.implementing_body),
        (gettext("设定依据"), entry.legal_basis),
    ]
    missing = [label for label, value in elements if not str(value or "").strip()]
    if not missing:
        return None
    return gettext(
        "缺少基本要素：%(missing)s：请补齐事项名称、编码、类型、实施部门、实施主体和设定依据六要素。"
    ) % {"missing": gettext("、").join(missing)}


def check_zero_visits_contradicted(v: ItemVersion, ctx: AuditContext) -> str | None:
    if v.claimed_visits != 0:
        return None
    reasons = []
    originals = _paper_only(v)
    if originals:
        reasons.append(gettext("要求到窗口提交原件（%(names)s）") % {"names": _names(originals)})
    if _pickup_only(v):
        reasons.append(gettext("办理结果只能到窗口领取"))
    if not reasons:
        return None
    return gettext(
        "承诺零跑动，但%(reasons)s：请改为电子材料或电子证照库调取、增加邮寄或电子送达，"
        "或将承诺跑动次数改为实际次数。"
    ) % {"reasons": gettext("，且").join(reasons)}


def _in_person_steps(v: ItemVersion) -> list[str]:
    steps = [s.name for s in v.steps.all() if any(w in s.name for w in IN_PERSON_STEP_WORDS)]
    steps += [
        str(p.get_kind_display())
        for p in v.special_procedures.all()
        if p.kind in IN_PERSON_PROCEDURES
    ]
    return steps


def check_online_contradicted(v: ItemVersion, ctx: AuditContext) -> str | None:
    if v.online_depth != OnlineDepth.FULL_ONLINE:
        return None
    reasons = []
    paper = _paper_only(v)
    if paper:
        reasons.append(gettext("材料%(names)s只收纸质原件") % {"names": _names(paper)})
    steps = _in_person_steps(v)
    if steps:
        reasons.append(gettext("环节“%(steps)s”须线下办理") % {"steps": gettext("、").join(steps)})
    if _pickup_only(v):
        reasons.append(gettext("办理结果只能到窗口领取"))
    if not reasons:
        return None
    return gettext(
        "申报为全程网办，但%(reasons)s：请改为电子材料、线上环节和电子送达或邮寄，"
        "或将网办深度改为“网上预审”。"
    ) % {"reasons": gettext("，").join(reasons)}


def check_certificate_demanded(v: ItemVersion, ctx: AuditContext) -> str | None:
    demanded = [
        m for m in v.materials.all() if m.certificate_type and m.source == MaterialSource.APPLICANT
    ]
    if not demanded:
        return None
    return gettext(
        "材料%(names)s可从电子证照库调取，仍要求申请人提交："
        "请将来源改为“电子证照库调取”，不再要求申请人提供。"
    ) % {"names": _names(demanded)}


def check_material_duplicated(v: ItemVersion, ctx: AuditContext) -> str | None:
    by_type: dict[str, list[MaterialRequirement]] = defaultdict(list)
    for m in v.materials.all():
        by_type[m.material_type].append(m)
    twice = [ms for ms in by_type.values() if len(ms) > 1]
    if not twice:
        return None
    listed = gettext("；").join(
        gettext("%(names)s是同一材料（%(type)s）")
        % {"names": _names(ms), "type": ms[0].material_type}
        for ms in twice
    )
    return gettext("材料重复：%(listed)s：同一材料只应列一次，请合并。") % {"listed": listed}


def check_fee_without_basis(v: ItemVersion, ctx: AuditContext) -> str | None:
    unfounded = [f for f in v.fees.all() if not f.legal_basis.strip()]
    if not unfounded:
        return None
    names = gettext("、").join(gettext("“%(name)s”") % {"name": f.name} for f in unfounded)
    return gettext(
        "收费项目%(names)s没有收费依据：请填写收费依据（法规或收费文件及条款），无依据的不得收费。"
    ) % {"names": names}


def check_guide_review_overdue(v: ItemVersion, ctx: AuditContext) -> str | None:
    reviewed = v.guide_reviewed_at
    if reviewed is None:
        return gettext("办事指南从未审核：请核对指南内容并填写审核日期。")
    age = (ctx.today - reviewed).days
    if age <= ctx.guide_max_age_days:
        return None
    return gettext(
        "办事指南上次审核于 %(reviewed)s，已 %(age)s 天未审核（要求不超过 %(max_age)s 天）："
        "请重新核对指南内容并更新审核日期。"
    ) % {"reviewed": f"{reviewed:%Y-%m-%d}", "age": age, "max_age": ctx.guide_max_age_days}


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in [
        Rule(
            "promised_over_legal",
            _("承诺时限超过法定时限"),
            Severity.ERROR,
            check_promised_over_legal,
        ),
        Rule(
            "immediate_with_days",
            _("即办件承诺时限不为零"),
            Severity.ERROR,
            check_immediate_with_days,
        ),
        Rule(
            "compression_below_target",
            _("时限压缩比未达目标"),
            Severity.WARNING,
            check_compression_below_target,
        ),
        Rule("limit_outlier", _("时限与其他地区差异过大"), Severity.WARNING, check_limit_outlier),
        Rule(
            "basic_element_missing",
            _("基本要素缺失"),
            Severity.ERROR,
            check_basic_element_missing,
        ),
        Rule(
            "zero_visits_contradicted",
            _("零跑动与材料或领取方式矛盾"),
            Severity.ERROR,
            check_zero_visits_contradicted,
        ),
        Rule(
            "online_contradicted",
            _("全程网办与线下材料或环节矛盾"),
            Severity.ERROR,
            check_online_contradicted,
        ),
        Rule(
            "certificate_demanded",
            _("可由电子证照库提供的材料仍要求提交"),
            Severity.WARNING,
            check_certificate_demanded,
        ),
        Rule("material_duplicated", _("申请材料重复"), Severity.WARNING, check_material_duplicated),
        Rule("fee_without_basis", _("收费无依据"), Severity.ERROR, check_fee_without_basis),
        Rule(
            "guide_review_overdue",
            _("办事指南未按期审核"),
            Severity.INFO,
            check_guide_review_overdue,
        ),
    ]
}


# --- running the rules --------------------------------------------------------------------------


def _settings_context(today: date | None) -> dict[str, Any]:
    return {
        "today": today or timezone.localdate(),
        "compression_target": Fraction(str(settings.CATALOG_AUDIT_COMPRESSION_TARGET)),
        "guide_max_age_days": settings.CATALOG_AUDIT_GUIDE_MAX_AGE_DAYS,
        "outlier_factor": settings.CATALOG_AUDIT_OUTLIER_FACTOR,
    }


def _published_versions() -> QuerySet[ItemVersion]:
    return ItemVersion.objects.filter(status=ItemStatus.PUBLISHED)


def _peers(entry_ids: set[int]) -> dict[tuple[int, str], list[tuple[int, int | None, int]]]:
    """Every published version of the entries, from every region: the outlier rule's yardstick."""
    peers: dict[tuple[int, str], list[tuple[int, int | None, int]]] = defaultdict(list)
    rows = (
        _published_versions()
        .filter(item__entry_id__in=entry_ids)
        .values_list(
            "item__entry_id", "limit_unit", "item__region_id", "legal_limit", "promised_limit"
        )
    )
    for entry_id, unit, region_id, legal, promised in rows:
        peers[(entry_id, unit)].append((region_id, legal, promised))
    return peers


def run_audit(
    *, versions: Iterable[ItemVersion] | None = None, today: date | None = None
) -> list[Finding]:
    """Run every rule over published versions (all of them unless `versions` is given).

    The outlier rule compares against every region's published version of the same entry, also
    when `versions` is only a part of the catalogue.
    """
    if versions is None:
        versions = _published_versions()
    if isinstance(versions, QuerySet):
        versions = versions.select_related(
            "item__entry", "item__region", "item__department"
        ).prefetch_related("materials", "steps", "fees", "special_procedures")
    versions = [v for v in versions if v.status == ItemStatus.PUBLISHED]
    context = AuditContext(
        peers=_peers({v.item.entry_id for v in versions}), **_settings_context(today)
    )
    findings = []
    for version in versions:
        for rule in RULES.values():
            message = rule.check(version, context)
            if message is not None:
                findings.append(Finding(rule.code, rule.severity, version, message))
    return sorted(findings, key=_finding_order)


def _finding_order(f: Finding) -> tuple[Any, ...]:
    return (
        SEVERITY_ORDER[Severity(f.severity)],
        f.region.code,
        f.item.local_code,
        list(RULES).index(f.rule),
    )


def finding_list(
    *,
    region: Region | None = None,
    departments: QuerySet[Department] | Sequence[Department] | None = None,
    severities: Iterable[str] = (),
    rules: Iterable[str] = (),
    today: date | None = None,
) -> list[Finding]:
    """Findings of the published versions in a region's subtree and among some departments, keeping
    only the severities and rules asked for (all of them when none are asked for)."""
    versions = _published_versions()
    if region is not None:
        versions = versions.filter(item__region__code__startswith=region.code)
    if departments is not None:
        versions = versions.filter(item__department__in=departments)
    findings = run_audit(versions=versions, today=today)
    wanted_severities, wanted_rules = set(severities), set(rules)
    return [
        f
        for f in findings
        if (not wanted_severities or f.severity in wanted_severities)
        and (not wanted_rules or f.rule in wanted_rules)
    ]


def finding_list_visible_to(
    *,
    actor: Any,
    department: Department | None = None,
    severities: Iterable[str] = (),
    rules: Iterable[str] = (),
    today: date | None = None,
) -> list[Finding]:
    """The findings about items of the departments the actor may see."""
    departments = departments_visible_to(actor)
    if department is not None:
        departments = departments.filter(pk=department.pk)
    return finding_list(departments=departments, severities=severities, rules=rules, today=today)


@dataclass(frozen=True)
class RuleCount:
    code: str
    title: str
    severity: str
    severity_label: str
    count: int


def count_by_rule(findings: Sequence[Finding]) -> list[RuleCount]:
    """How many findings each rule has, every rule listed (a rule with 0 is good news)."""
    counts = Counter(f.rule for f in findings)
    return [
        RuleCount(r.code, str(r.title), r.severity, str(Severity(r.severity).label), counts[r.code])
        for r in RULES.values()
    ]


def count_by_severity(findings: Sequence[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {s.value: counts[s.value] for s in Severity}


def summary_line(findings: Sequence[Finding]) -> str:
    counts = count_by_severity(findings)
    return gettext("共 %(total)s 项问题：严重 %(error)s，警告 %(warning)s，提示 %(info)s") % {
        "total": len(findings),
        **counts,
    }


# --- the findings as a workbook ------------------------------------------------------------------

FINDING_HEADERS = (
    "严重程度",
    "规则代码",
    "规则",
    "区划代码",
    "区划",
    "实施部门",
    "实施编码",
    "事项名称",
    "版本",
    "问题及整改建议",
)
FINDING_WIDTHS = (10, 26, 28, 12, 12, 24, 20, 28, 6, 80)


def findings_workbook(findings: list[Finding]) -> bytes:
    """The findings as an .xlsx workbook with Chinese headers (the audit page's 导出 Excel)."""
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.title = "目录审查"
    sheet.append(FINDING_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for f in findings:
        sheet.append(
            [
                f.severity_label,
                f.rule,
                f.rule_title,
                f.region.code,
                f.region.name,
                f.department.name,
                f.item.local_code,
                f.version.name,
                f.version.version,
                f.message,
            ]
        )
        # A name typed as "=…" is text, never a formula that Excel would run.
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
    for index, width in enumerate(FINDING_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    for row in sheet.iter_rows(
        min_row=2, min_col=len(FINDING_HEADERS), max_col=len(FINDING_HEADERS)
    ):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
