"""The catalogue as an Excel workbook: export it, and import one (all of it or nothing).

The column layout is documented in docs/catalogue-xlsx.md and defined once here (`SHEETS`): the
same definitions write the cells, read them back and name them in error messages. Choices travel as
their Chinese labels (a code is accepted too), booleans as 是/否.

An import reads and checks the whole workbook before it writes anything, reports every bad cell by
sheet, row and column, and then writes everything through the catalogue's services in one
transaction. It never edits a published version: an item whose content differs gets a new version.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from tongban.org.models import Department, Region, Role
from tongban.org.permissions import assignments_of

from . import services
from .models import (
    LIMIT_UNITS,
    MAX_PREREVIEW_DAYS,
    Bundle,
    BundleItem,
    CatalogEntry,
    CrossRegionScope,
    EntryLevel,
    Fee,
    FieldMapping,
    FieldType,
    FormField,
    ItemKind,
    ItemStatus,
    ItemVersion,
    LifeStage,
    MaterialForm,
    MaterialRequirement,
    MaterialSource,
    Necessity,
    OnlineDepth,
    ProcessStep,
    ResultType,
    ServiceItem,
    SpecialProcedure,
    SpecialProcedureKind,
    Synonym,
)
from .selectors import version_list_published

# Labels are read and written in Chinese whatever language the person uses: the file travels.
LANGUAGE = "zh-hans"
YES, NO = "是", "否"
LIST_SEPARATOR = "、"

TEXT, CODE, INT, BOOL, CHOICE, DATE, JSON_LIST, JSON_DICT, CODES = (
    "text",
    "code",
    "int",
    "bool",
    "choice",
    "date",
    "json_list",
    "json_dict",
    "codes",
)


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = TEXT
    required: bool = False
    choices: Any = None  # a TextChoices class or a list of (code, label)
    default: Any = ""
    meaning: str = ""

    def options(self) -> list[tuple[str, str]]:
        pairs = self.choices.choices if hasattr(self.choices, "choices") else self.choices
        return [(str(code), str(label)) for code, label in pairs]


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple[Column, ...]
    meaning: str

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _item_key_columns() -> tuple[Column, ...]:
    return (
        Column("区划代码", "region_code", CODE, True, meaning="事项所属区划的代码"),
        Column("实施编码", "local_code", CODE, True, meaning="事项在该区划内的实施编码"),
    )


ENTRIES = Sheet(
    "基本目录",
    (
        Column("基本编码", "code", CODE, True, meaning="基本目录事项的标准编码，全国唯一"),
        Column("事项名称", "name", TEXT, True),
        Column("事项类型", "kind", CHOICE, True, ItemKind),
        Column("层级", "level", CHOICE, False, EntryLevel, EntryLevel.MAIN),
        Column("上级事项编码", "parent_code", CODE, meaning="子项、业务办理项必填；主项留空"),
        Column("设定依据", "legal_basis", TEXT, meaning="法律法规名称及条款"),
    ),
    "基本目录事项，按基本编码新增或更新。",
)

ITEMS = Sheet(
    "实施清单",
    (
        Column("区划代码", "region_code", CODE, True, meaning="实施区划的代码，须已存在"),
        Column("部门代码", "department_code", CODE, True, meaning="该区划内实施部门的代码"),
        Column("实施编码", "local_code", CODE, True, meaning="在该区划内唯一"),
        Column("基本编码", "entry_code", CODE, True, meaning="对应的基本目录事项"),
        Column("事项名称", "name", TEXT, True),
        Column("实施主体", "implementing_body", TEXT, True),
        Column("法定办结时限", "legal_limit", INT, default=None, meaning="天数；无法定时限留空"),
        Column("承诺办结时限", "promised_limit", INT, True, meaning="天数；0 为即办件"),
        Column("时限单位", "limit_unit", CHOICE, False, LIMIT_UNITS, "working"),
        Column("申报为即办件", "declared_immediate", BOOL, default=False),
        Column(
            "网上预审时限",
            "prereview_limit",
            INT,
            default=1,
            meaning=f"工作日，1 至 {MAX_PREREVIEW_DAYS}（行政许可法第三十二条）",
        ),
        Column("可以延期", "extension_allowed", BOOL, default=False),
        Column("可延期天数", "extension_days", INT, default=0, meaning="不可延期时为 0"),
        Column("承诺跑动次数", "claimed_visits", INT, default=1),
        Column("网办深度", "online_depth", CHOICE, False, OnlineDepth, OnlineDepth.OFFLINE),
        Column("服务对象：自然人", "for_natural_person", BOOL, default=True),
        Column(
            "服务对象：法人", "for_legal_person", BOOL, default=False, meaning="两者至少一项为是"
        ),
        Column("受理条件", "conditions", TEXT),
        Column("窗口领取", "delivery_window", BOOL, default=True),
        Column("邮寄送达", "delivery_mail", BOOL, default=False),
        Column("电子送达", "delivery_electronic", BOOL, default=False),
        Column("可容缺受理", "tolerance_allowed", BOOL, default=False),
        Column("可告知承诺", "commitment_allowed", BOOL, default=False),
        Column("跨域通办范围", "cross_region_scope", CHOICE, False, CrossRegionScope, "none"),
        Column("办理结果类型", "result_type", CHOICE, False, ResultType, ResultType.DOCUMENT),
        Column("办理结果名称", "result_name", TEXT),
        Column("证照类型代码", "certificate_type", CODE),
        Column("办理地点", "office_address", TEXT),
        Column("咨询电话", "office_phone", TEXT),
        Column("办理时间", "office_hours", TEXT),
        Column("办事指南审核日期", "guide_reviewed_at", DATE, default=None),
    ),
    "每个事项一行，内容为其已发布版本；按区划代码和实施编码新增或更新。",
)
# The columns that are the version's content (the rest identify the item).
VERSION_KEYS = tuple(c.key for c in ITEMS.columns[4:])

MATERIALS = Sheet(
    "申请材料",
    (
        *_item_key_columns(),
        Column("序号", "order", INT, default=None, meaning="留空时按行的先后编号"),
        Column("材料名称", "name", TEXT, True),
        Column(
            "材料类型代码", "material_type", CODE, True, meaning="如 id-card；一件事按它合并材料"
        ),
        Column("必要性", "necessity", CHOICE, False, Necessity, Necessity.REQUIRED),
        Column("适用情形", "condition", TEXT, meaning="必要性为情形必要时必填"),
        Column("材料形式", "form", CHOICE, False, MaterialForm, MaterialForm.ORIGINAL),
        Column("份数", "copies", INT, default=1, meaning="不小于 1"),
        Column("来源渠道", "source", CHOICE, False, MaterialSource, MaterialSource.APPLICANT),
        Column("对应证照类型", "certificate_type", CODE),
        Column("可容缺", "tolerable", BOOL, default=False),
        Column(
            "空白表格文件", "blank_form", TEXT, meaning="文件在媒体库中的名称；文件本身不随表格传递"
        ),
        Column("示例样表文件", "sample", TEXT, meaning="同上"),
        Column("填报须知", "notes", TEXT),
    ),
    "事项的申请材料，每种材料一行。",
)

STEPS = Sheet(
    "办理环节",
    (
        *_item_key_columns(),
        Column("顺序", "order", INT, True, meaning="同一事项内不重复"),
        Column("环节名称", "name", TEXT, True),
        Column("办理部门区划代码", "department_region_code", CODE, meaning="留空为事项所属区划"),
        Column("办理部门代码", "department_code", CODE, meaning="留空为不指定部门"),
        Column("办理岗位", "role", CHOICE, False, Role, Role.APPROVER),
        Column("环节时限（工作日）", "limit", INT, default=1),
        Column("并联组", "parallel_group", INT, default=None, meaning="组号相同的环节并联办理"),
    ),
    "事项的办理环节，每个事项至少一个。",
)

FORM_FIELDS = Sheet(
    "表单字段",
    (
        *_item_key_columns(),
        Column("顺序", "order", INT, default=None, meaning="留空时按行的先后编号"),
        Column("字段代码", "key", CODE, True, meaning="同一事项内不重复，如 credit_code"),
        Column("字段名称", "label", TEXT, True),
        Column("类型", "field_type", CHOICE, False, FieldType, FieldType.TEXT),
        Column("必填", "required", BOOL, default=True),
        Column(
            "可选值", "choices", JSON_LIST, default=None, meaning='JSON 数组，如 ["个体", "企业"]'
        ),
        Column(
            "校验规则",
            "validation",
            JSON_DICT,
            default=None,
            meaning='JSON 对象，如 {"max_length": 18}',
        ),
        Column("填写说明", "help_text", TEXT),
    ),
    "事项申请表的字段。",
)

FEES = Sheet(
    "收费项目",
    (
        *_item_key_columns(),
        Column("收费项目", "name", TEXT, True),
        Column("收费标准", "standard", TEXT, True),
        Column("收费依据", "legal_basis", TEXT),
    ),
    "事项的收费项目；没有收费行的事项即不收费。",
)

PROCEDURES = Sheet(
    "特别程序",
    (
        *_item_key_columns(),
        Column("特别程序", "kind", CHOICE, True, SpecialProcedureKind),
        Column("计入办结时限", "counts_in_limit", BOOL, default=False),
        Column("最长时限", "max_days", INT, default=None, meaning="天数，可留空"),
    ),
    "事项允许的特别程序；不计入办结时限的程序期间暂停计时。",
)

BUNDLES = Sheet(
    "一件事",
    (
        Column("一件事编码", "code", CODE, True, meaning="全局唯一"),
        Column("名称", "name", TEXT, True),
        Column("区划代码", "region_code", CODE, True),
        Column("生命周期阶段", "stage", CHOICE, True, LifeStage),
        Column("简介", "description", TEXT),
        Column("承诺办结时限", "promised_limit", INT, True),
        Column("时限单位", "limit_unit", CHOICE, False, LIMIT_UNITS, "working"),
        Column("复核周期（月）", "review_months", INT, default=None),
        Column("状态", "status", CHOICE, False, ItemStatus, ItemStatus.DRAFT),
    ),
    "一件事主题，按编码新增或更新。",
)

BUNDLE_ITEMS = Sheet(
    "一件事事项",
    (
        Column("一件事编码", "bundle_code", CODE, True),
        Column("顺序", "order", INT, default=None, meaning="留空时按行的先后编号"),
        *_item_key_columns(),
        Column(
            "前置事项",
            "depends_on",
            CODES,
            default=None,
            meaning="须先办结的同一件事中事项的实施编码，多个用“、”分隔",
        ),
    ),
    "一件事包含的事项及其前置关系（不能形成循环）。",
)

MAPPINGS = Sheet(
    "字段映射",
    (
        Column("一件事编码", "bundle_code", CODE, True),
        Column("来源事项实施编码", "source_code", CODE, True),
        Column("来源字段", "source_key", CODE, True),
        Column("目标事项实施编码", "target_code", CODE, True),
        Column("目标字段", "target_key", CODE, True),
    ),
    "一个事项的办理结果字段自动填入另一个事项的申请字段。",
)

SYNONYMS = Sheet(
    "同义词",
    (
        Column("群众用语", "term", TEXT, True),
        Column("对应事项用语", "expansion", TEXT, True, meaning="多个词用空格分隔"),
    ),
    "搜索用的同义词，按群众用语新增或更新。",
)

SHEETS: tuple[Sheet, ...] = (
    ENTRIES,
    ITEMS,
    MATERIALS,
    STEPS,
    FORM_FIELDS,
    FEES,
    PROCEDURES,
    BUNDLES,
    BUNDLE_ITEMS,
    MAPPINGS,
    SYNONYMS,
)
# Item children: sheet, the related name on ItemVersion (as services.CHILDREN) and the model.
CHILD_SHEETS: tuple[tuple[Sheet, str, type[models.Model]], ...] = (
    (MATERIALS, "materials", MaterialRequirement),
    (STEPS, "steps", ProcessStep),
    (FORM_FIELDS, "form_fields", FormField),
    (FEES, "fees", Fee),
    (PROCEDURES, "special_procedures", SpecialProcedure),
)

# ---------------------------------------------------------------------------------------------
# Cells


def _cell_value(column: Column, value: Any) -> Any:
    if column.kind in (TEXT, CODE):
        return value if value else None
    if column.kind == BOOL:
        return YES if value else NO
    if column.kind == CHOICE:
        return dict(column.options()).get(str(value), value)
    if column.kind in (JSON_LIST, JSON_DICT):
        return json.dumps(value, ensure_ascii=False) if value else None
    if column.kind == CODES:
        return LIST_SEPARATOR.join(value) if value else None
    return value  # INT, DATE and None


class CellError(Exception):
    """A bad cell: the message says what was expected and what was found."""


def _shown(raw: Any) -> str:
    text = raw.isoformat() if isinstance(raw, dt.date) else str(raw)
    return text if len(text) <= 40 else text[:40] + "…"


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        number = int(raw.strip())
    else:
        raise ValueError
    if number < 0:
        raise ValueError
    return number


def _parse_cell(column: Column, raw: Any) -> Any:
    """The cell's value for the model, or CellError with a Chinese message."""
    if _blank(raw):
        if column.required:
            raise CellError("必须填写，实际为空。")
        if column.kind == JSON_LIST:
            return []
        if column.kind == JSON_DICT:
            return {}
        if column.kind == CODES:
            return []
        return column.default
    if column.kind == TEXT:
        return raw if isinstance(raw, str) else _shown(raw)
    if column.kind == CODE:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw).strip()
    if column.kind == INT:
        try:
            return _parse_int(raw)
        except ValueError:
            raise CellError(f"应为不小于 0 的整数，实际为“{_shown(raw)}”。") from None
    if column.kind == BOOL:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip()
        if text in (YES, NO):
            return text == YES
        raise CellError(f"应为“{YES}”或“{NO}”，实际为“{_shown(raw)}”。")
    if column.kind == CHOICE:
        text = str(raw).strip()
        for code, label in column.options():
            if text in (code, label):
                return code
        labels = LIST_SEPARATOR.join(label for _code, label in column.options())
        raise CellError(f"应为以下之一：{labels}，实际为“{_shown(raw)}”。")
    if column.kind == DATE:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise CellError(f"应为日期（如 2026-01-31），实际为“{_shown(raw)}”。") from None
    if column.kind == JSON_LIST:
        text = str(raw).strip()
        if not text.startswith("["):  # one choice per line is easier to type than JSON
            return [line.strip() for line in text.splitlines() if line.strip()]
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CellError(
                f'应为 JSON 文本数组（如 ["个体", "企业"]）或每行一个选项，实际为“{_shown(raw)}”。'
            )
        return value
    if column.kind == JSON_DICT:
        try:
            value = json.loads(str(raw))
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise CellError(f'应为 JSON 对象（如 {{"max_length": 18}}），实际为“{_shown(raw)}”。')
        return value
    if column.kind == CODES:
        text = str(raw)
        for separator in (",", "，", ";", "；", "\n"):
            text = text.replace(separator, LIST_SEPARATOR)
        return [code.strip() for code in text.split(LIST_SEPARATOR) if code.strip()]
    raise AssertionError(column.kind)


# ---------------------------------------------------------------------------------------------
# Export


def _version_row(version: ItemVersion) -> dict[str, Any]:
    item = version.item
    row = {
        "region_code": item.region.code,
        "department_code": item.department.code,
        "local_code": item.local_code,
        "entry_code": item.entry.code,
    }
    row.update({key: getattr(version, key) for key in VERSION_KEYS})
    return row


def _child_row(related_name: str, child: Any) -> dict[str, Any]:
    sheet = dict((r, s) for s, r, _m in CHILD_SHEETS)[related_name]
    row: dict[str, Any] = {}
    for column in sheet.columns[2:]:
        if column.key in ("blank_form", "sample"):
            row[column.key] = getattr(child, column.key).name or ""
        elif column.key == "department_region_code":
            row[column.key] = child.department.region.code if child.department else ""
        elif column.key == "department_code":
            row[column.key] = child.department.code if child.department else ""
        else:
            row[column.key] = getattr(child, column.key)
    return row


def _children_of(version: ItemVersion) -> dict[str, list[dict[str, Any]]]:
    return {
        related_name: [_child_row(related_name, c) for c in getattr(version, related_name).all()]
        for _sheet, related_name, _model in CHILD_SHEETS
    }


def _with_children(versions: QuerySet[ItemVersion]) -> QuerySet[ItemVersion]:
    return versions.select_related(
        "item__entry", "item__region", "item__department"
    ).prefetch_related(
        Prefetch("materials", MaterialRequirement.objects.order_by("order", "id")),
        Prefetch(
            "steps", ProcessStep.objects.select_related("department__region").order_by("order")
        ),
        Prefetch("form_fields", FormField.objects.order_by("order", "id")),
        Prefetch("fees", Fee.objects.order_by("id")),
        Prefetch("special_procedures", SpecialProcedure.objects.order_by("id")),
    )


def _entry_row(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "code": entry.code,
        "name": entry.name,
        "kind": entry.kind,
        "level": entry.level,
        "parent_code": entry.parent.code if entry.parent else "",
        "legal_basis": entry.legal_basis,
    }


def _bundle_row(bundle: Bundle) -> dict[str, Any]:
    return {
        "code": bundle.code,
        "name": bundle.name,
        "region_code": bundle.region.code,
        "stage": bundle.stage,
        "description": bundle.description,
        "promised_limit": bundle.promised_limit,
        "limit_unit": bundle.limit_unit,
        "review_months": bundle.review_months,
        "status": bundle.status,
    }


def _bundle_members_rows(bundle: Bundle) -> list[dict[str, Any]]:
    members = sorted(bundle.members.all(), key=lambda m: (m.order, m.pk))
    return [
        {
            "bundle_code": bundle.code,
            "order": m.order,
            "region_code": m.item.region.code,
            "local_code": m.item.local_code,
            "depends_on": sorted(
                (d.item.local_code for d in m.depends_on.all()),
                key=lambda code: next((x.order for x in members if x.item.local_code == code), 0),
            ),
        }
        for m in members
    ]


def _mapping_rows(bundle: Bundle) -> list[dict[str, Any]]:
    return [
        {
            "bundle_code": bundle.code,
            "source_code": m.source.item.local_code,
            "source_key": m.source_key,
            "target_code": m.target.item.local_code,
            "target_key": m.target_key,
        }
        for m in sorted(bundle.field_mappings.all(), key=lambda m: m.pk)
    ]


def _write_sheet(workbook: Workbook, sheet: Sheet, rows: Iterable[Mapping[str, Any]]) -> None:
    worksheet = workbook.create_sheet(sheet.title)
    worksheet.append([c.header for c in sheet.columns])
    header_fill = PatternFill("solid", fgColor="F0F4F8")
    for number, column in enumerate(sheet.columns, start=1):
        cell = worksheet.cell(row=1, column=number)
        cell.font = Font(bold=True, color="B3261E" if column.required else "1F2933")
        cell.fill = header_fill
        worksheet.column_dimensions[get_column_letter(number)].width = max(
            10, min(40, 2 * len(column.header) + 4)
        )
    worksheet.freeze_panes = "A2"
    for row_number, row in enumerate(rows, start=2):
        for number, column in enumerate(sheet.columns, start=1):
            cell = worksheet.cell(row=row_number, column=number)
            cell.value = _cell_value(column, row.get(column.key))
            if isinstance(cell.value, str):
                # Text stays text: a name starting with "=" is not a formula, 430981 not a number.
                cell.data_type = "s"
            if column.kind in (TEXT, CODE):
                cell.number_format = "@"
            elif column.kind == DATE:
                cell.number_format = "yyyy-mm-dd"


def catalog_export(*, versions: QuerySet[ItemVersion] | None = None) -> Workbook:
    """The catalogue as a workbook: all of it, or the given (published) versions with the entries
    they implement and the bundles made only of them. Synonyms are always included."""
    everything = versions is None
    chosen = list(_with_children(versions if versions is not None else version_list_published()))
    item_ids = {v.item_id for v in chosen}

    entries = CatalogEntry.objects.select_related("parent").order_by("code")
    if not everything:
        codes: set[str] = set()
        for version in chosen:
            entry: CatalogEntry | None = version.item.entry
            while entry is not None and entry.code not in codes:
                codes.add(entry.code)
                entry = entry.parent
        entries = entries.filter(code__in=codes)

    bundles = [
        bundle
        for bundle in Bundle.objects.select_related("region")
        .prefetch_related(
            Prefetch(
                "members",
                BundleItem.objects.select_related("item__region").prefetch_related(
                    Prefetch("depends_on", BundleItem.objects.select_related("item"))
                ),
            ),
            Prefetch(
                "field_mappings",
                FieldMapping.objects.select_related("source__item", "target__item"),
            ),
        )
        .order_by("code")
        if all(m.item_id in item_ids for m in bundle.members.all())
        and (everything or bundle.members.all())
    ]

    with translation.override(LANGUAGE):
        workbook = Workbook()
        workbook.remove(workbook.active)
        _write_sheet(workbook, ENTRIES, (_entry_row(e) for e in entries))
        _write_sheet(workbook, ITEMS, (_version_row(v) for v in chosen))
        for sheet, related_name, _model in CHILD_SHEETS:
            rows = []
            for version in chosen:
                key = {
                    "region_code": version.item.region.code,
                    "local_code": version.item.local_code,
                }
                rows += [{**key, **child} for child in _children_of(version)[related_name]]
            _write_sheet(workbook, sheet, rows)
        _write_sheet(workbook, BUNDLES, (_bundle_row(b) for b in bundles))
        _write_sheet(workbook, BUNDLE_ITEMS, (r for b in bundles for r in _bundle_members_rows(b)))
        _write_sheet(workbook, MAPPINGS, (r for b in bundles for r in _mapping_rows(b)))
        _write_sheet(
            workbook,
            SYNONYMS,
            ({"term": s.term, "expansion": s.expansion} for s in Synonym.objects.order_by("term")),
        )
    return workbook


def catalog_export_bytes(*, versions: QuerySet[ItemVersion] | None = None) -> bytes:
    buffer = io.BytesIO()
    catalog_export(versions=versions).save(buffer)
    return buffer.getvalue()


def versions_exportable_by(*, actor: Any) -> QuerySet[ItemVersion]:
    """The published versions in the regions where the actor administers the catalogue."""
    prefixes = exchange_scope_of(actor)
    versions = version_list_published()
    if prefixes is None:
        return versions
    if not prefixes:
        return versions.none()
    scope = Q()
    for prefix in prefixes:
        scope |= Q(item__region__code__startswith=prefix)
    return versions.filter(scope)


def exchange_scope_of(actor: Any) -> list[str] | None:
    """Region code prefixes the actor may export and import; None means everywhere (the system)."""
    if actor is None:
        return None
    return sorted(
        {
            a.region.code
            for a in assignments_of(actor)
            if a.role in (Role.CATALOGUE_ADMIN, Role.SYSADMIN)
        }
    )


# ---------------------------------------------------------------------------------------------
# Import: the report


CREATED, CHANGED, UNCHANGED = "created", "changed", "unchanged"
ACTION_LABELS = {CREATED: "新增", CHANGED: "更新", UNCHANGED: "未变化"}


@dataclass(frozen=True)
class ImportIssue:
    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.sheet}：{self.message}" if self.sheet else self.message
        if self.column is None:
            return f"{self.sheet} 第 {self.row} 行：{self.message}"
        return f"{self.sheet} 第 {self.row} 行 “{self.column}” 列：{self.message}"


@dataclass(frozen=True)
class ImportChange:
    sheet: str
    key: str
    name: str
    action: str

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class ImportReport:
    errors: list[ImportIssue] = field(default_factory=list)
    changes: list[ImportChange] = field(default_factory=list)
    saved: bool = False
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> list[tuple[str, dict[str, int]]]:
        """Per sheet, how many rows are created, changed and unchanged, in sheet order."""
        table: dict[str, dict[str, int]] = {}
        for change in self.changes:
            counts = table.setdefault(change.sheet, {CREATED: 0, CHANGED: 0, UNCHANGED: 0})
            counts[change.action] += 1
        return [(s.title, table[s.title]) for s in SHEETS if s.title in table]

    @property
    def summary(self) -> str:
        if self.errors:
            return f"导入失败：共 {len(self.errors)} 处错误，没有保存任何内容。"
        parts = [
            f"{sheet}：新增 {c[CREATED]}，更新 {c[CHANGED]}，未变化 {c[UNCHANGED]}"
            for sheet, c in self.counts()
        ]
        body = "；".join(parts) if parts else "工作簿中没有数据"
        if self.saved:
            return f"导入完成。{body}。"
        return f"预览（尚未保存）。{body}。"


# ---------------------------------------------------------------------------------------------
# Import: reading and checking


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    bad: set[str] = field(default_factory=set)  # keys whose cells are already reported


class _Importer:
    def __init__(self, *, actor: Any) -> None:
        self.actor = actor
        self.scope = exchange_scope_of(actor)
        self.errors: list[ImportIssue] = []
        self.changes: list[ImportChange] = []
        self.rows: dict[str, list[Row]] = {}

    # -- reporting

    def error(self, sheet: Sheet, row: Row | None, key: str | None, message: str) -> None:
        column = sheet.column(key).header if key else None
        self.errors.append(ImportIssue(sheet.title, row.number if row else None, column, message))
        if row is not None and key:
            row.bad.add(key)

    def model_errors(self, sheet: Sheet, row: Row, exc: ValidationError) -> None:
        keys = {c.key for c in sheet.columns}
        for name, messages in exc.message_dict.items():
            key = name if name in keys else None
            for message in messages:
                if key is None and name != NON_FIELD_ERRORS:
                    message = f"{name}：{message}"
                self.error(sheet, row, key, message)

    # -- reading

    def read(self, source: Any) -> bool:
        try:
            workbook = load_workbook(source, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            self.errors.append(
                ImportIssue("", None, None, "无法读取该文件：请上传 Excel 工作簿（.xlsx）。")
            )
            return False
        try:
            for sheet in SHEETS:
                if sheet.title in workbook.sheetnames:
                    self.rows[sheet.title] = self._read_sheet(sheet, workbook[sheet.title])
                else:
                    self.rows[sheet.title] = []
        finally:
            workbook.close()
        return True

    def _read_sheet(self, sheet: Sheet, worksheet: Any) -> list[Row]:
        lines = worksheet.iter_rows(values_only=True)
        header = next(lines, None) or ()
        by_header = {c.header: c for c in sheet.columns}
        positions: dict[str, int] = {}
        header_row = Row(1, {})
        for index, title in enumerate(header):
            if _blank(title):
                continue
            title = str(title).strip()
            column = by_header.get(title)
            if column is None:
                self.errors.append(
                    ImportIssue(sheet.title, 1, title, f"不是“{sheet.title}”表的列。")
                )
            elif column.key in positions:
                self.error(sheet, header_row, column.key, "该列重复出现。")
            else:
                positions[column.key] = index
        for column in sheet.columns:
            if column.required and column.key not in positions:
                self.error(sheet, header_row, column.key, "缺少这一必填列。")
        rows = []
        for number, cells in enumerate(lines, start=2):
            if all(_blank(c) for c in cells):
                continue
            row = Row(number, {})
            for column in sheet.columns:
                if column.key not in positions:
                    if column.required:  # reported once, at the header
                        row.bad.add(column.key)
                        row.values[column.key] = column.default
                        continue
                    raw = None
                else:
                    index = positions[column.key]
                    raw = cells[index] if index < len(cells) else None
                try:
                    row.values[column.key] = _parse_cell(column, raw)
                except CellError as exc:
                    self.error(sheet, row, column.key, str(exc))
                    row.values[column.key] = column.default
            rows.append(row)
        return rows

    def _in_scope(self, code: str) -> bool:
        return self.scope is None or any(code.startswith(p) for p in self.scope)

    def _duplicates(
        self, sheet: Sheet, rows: list[Row], key: Callable[[Row], Any], column: str
    ) -> None:
        seen: dict[Any, Row] = {}
        for row in rows:
            value = key(row)
            if value in seen:
                self.error(
                    sheet, row, column, f"与第 {seen[value].number} 行重复，同一内容只能出现一次。"
                )
            else:
                seen[value] = row

    # -- checking

    def check(self) -> None:
        self._check_entries()
        self._check_items()
        self._check_children()
        self._check_bundles()
        self._check_synonyms()

    def _check_entries(self) -> None:
        rows = self.rows[ENTRIES.title]
        self._duplicates(ENTRIES, rows, lambda r: r.values["code"], "code")
        self.entry_rows = {r.values["code"]: r for r in rows}
        self.db_entries = {e.code: e for e in CatalogEntry.objects.select_related("parent")}
        known = set(self.entry_rows) | set(self.db_entries)
        for row in rows:
            v = row.values
            level, parent_code = v["level"], v["parent_code"]
            if "level" not in row.bad:
                if level == EntryLevel.MAIN and parent_code:
                    self.error(ENTRIES, row, "parent_code", "主项不能填写上级事项编码。")
                elif level != EntryLevel.MAIN and not parent_code:
                    self.error(
                        ENTRIES, row, "parent_code", "子项和业务办理项必须填写上级事项编码。"
                    )
            if parent_code and parent_code not in known:
                self.error(
                    ENTRIES, row, "parent_code", f"没有编码为“{parent_code}”的基本目录事项。"
                )
            existing = self.db_entries.get(v["code"])
            entry = CatalogEntry(
                pk=existing.pk if existing else None,
                code=v["code"],
                name=v["name"],
                kind=v["kind"],
                level=level,
                legal_basis=v["legal_basis"],
            )
            try:
                entry.full_clean(
                    exclude=["parent", *row.bad], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                self.model_errors(ENTRIES, row, exc)
        # A parent chain that returns to itself would make an entry its own ancestor.
        for code, row in self.entry_rows.items():
            seen = [code]
            parent = self._entry_parent(code)
            while parent and parent not in seen:
                seen.append(parent)
                parent = self._entry_parent(parent)
            if parent == code and "parent_code" not in row.bad:
                chain = " → ".join([*seen, code])
                self.error(ENTRIES, row, "parent_code", f"上级关系形成循环：{chain}。")
        for row in rows:
            if row.bad:
                continue
            v = row.values
            existing = self.db_entries.get(v["code"])
            if existing is None:
                action = CREATED
            else:
                action = UNCHANGED if _entry_row(existing) == self._entry_values(v) else CHANGED
            self.changes.append(ImportChange(ENTRIES.title, v["code"], v["name"], action))

    def _entry_parent(self, code: str) -> str | None:
        if code in self.entry_rows:
            return self.entry_rows[code].values["parent_code"] or None
        entry = self.db_entries.get(code)
        return entry.parent.code if entry and entry.parent else None

    @staticmethod
    def _entry_values(v: Mapping[str, Any]) -> dict[str, Any]:
        # entry_create strips code and name, so compare what it would store.
        return {
            **{k: v[k] for k in ("code", "kind", "level", "parent_code", "legal_basis")},
            "name": v["name"].strip(),
        }

    def _check_items(self) -> None:
        rows = self.rows[ITEMS.title]
        key = lambda r: (r.values["region_code"], r.values["local_code"])  # noqa: E731
        self._duplicates(ITEMS, rows, key, "local_code")
        self.item_rows = {key(r): r for r in rows}
        region_codes = {r.values["region_code"] for r in rows}
        region_codes |= {r.values["region_code"] for r in self.rows[BUNDLES.title]}
        region_codes |= {r.values["region_code"] for r in self.rows[BUNDLE_ITEMS.title]}
        region_codes |= {r.values["department_region_code"] for r in self.rows[STEPS.title]} - {""}
        self.regions = {r.code: r for r in Region.objects.filter(code__in=region_codes)}
        self.departments = {
            (d.region.code, d.code): d
            for d in Department.objects.filter(region__code__in=region_codes).select_related(
                "region"
            )
        }
        local_codes = {r.values["local_code"] for r in rows} | {
            r.values["local_code"] for r in self.rows[BUNDLE_ITEMS.title]
        }
        self.db_items = {
            (i.region.code, i.local_code): i
            for i in ServiceItem.objects.filter(
                region__code__in=region_codes, local_code__in=local_codes
            ).select_related("region", "department", "entry")
        }
        current = _with_children(
            ItemVersion.objects.filter(
                item__in=[i.pk for i in self.db_items.values()],
                status__in=[ItemStatus.PUBLISHED, ItemStatus.SUSPENDED],
            )
        )
        self.current_versions = {v.item_id: v for v in current}
        for row in rows:
            v = row.values
            region = self._region(ITEMS, row, "region_code")
            if (
                region is not None
                and "department_code" not in row.bad
                and (region.code, v["department_code"]) not in self.departments
            ):
                self.error(
                    ITEMS,
                    row,
                    "department_code",
                    f"区划 {region.code}（{region.name}）中没有部门代码为“{v['department_code']}”的部门。",
                )
            if "entry_code" not in row.bad and not (
                v["entry_code"] in self.entry_rows or v["entry_code"] in self.db_entries
            ):
                self.error(
                    ITEMS, row, "entry_code", f"没有编码为“{v['entry_code']}”的基本目录事项。"
                )
            existing = self.db_items.get(key(row))
            if existing is not None:
                if existing.entry.code != v["entry_code"] and "entry_code" not in row.bad:
                    self.error(
                        ITEMS,
                        row,
                        "entry_code",
                        f"该事项已对应基本编码“{existing.entry.code}”，导入不能更改。",
                    )
                if (
                    existing.department.code != v["department_code"]
                    and "department_code" not in row.bad
                ):
                    self.error(
                        ITEMS,
                        row,
                        "department_code",
                        f"该事项的实施部门是“{existing.department.code}”，导入不能更改。",
                    )
            self._check_version_rules(row)
            version = ItemVersion(**{k: v[k] for k in VERSION_KEYS})
            try:
                version.full_clean(
                    exclude=["item", "version", "created_by", *row.bad],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                self.model_errors(ITEMS, row, exc)

    def _check_version_rules(self, row: Row) -> None:
        """The database's checks on a version, said in words a catalogue admin knows."""
        v = row.values
        if "prereview_limit" not in row.bad and not 1 <= v["prereview_limit"] <= MAX_PREREVIEW_DAYS:
            self.error(
                ITEMS,
                row,
                "prereview_limit",
                f"应为 1 至 {MAX_PREREVIEW_DAYS} 之间的整数（行政许可法第三十二条），"
                f"实际为“{v['prereview_limit']}”。",
            )
        if (
            not v["extension_allowed"]
            and v["extension_days"]
            and not {"extension_allowed", "extension_days"} & row.bad
        ):
            self.error(
                ITEMS,
                row,
                "extension_days",
                f"“可以延期”为“否”时应为 0，实际为“{v['extension_days']}”。",
            )
        if not v["for_natural_person"] and not v["for_legal_person"]:
            self.error(
                ITEMS,
                row,
                "for_natural_person",
                "“服务对象：自然人”和“服务对象：法人”至少一项应为“是”。",
            )

    def _region(self, sheet: Sheet, row: Row, key: str) -> Region | None:
        if key in row.bad:
            return None
        code = row.values[key]
        region = self.regions.get(code)
        if region is None:
            self.error(sheet, row, key, f"没有区划代码为“{code}”的区划。")
        elif not self._in_scope(code):
            self.error(sheet, row, key, f"区划 {code}（{region.name}）不在您的管理范围内。")
            return None
        return region

    def _check_children(self) -> None:
        self.children: dict[tuple[str, str], dict[str, list[Row]]] = defaultdict(
            lambda: {name: [] for _s, name, _m in CHILD_SHEETS}
        )
        for sheet, related_name, model in CHILD_SHEETS:
            positions: dict[tuple[str, str], int] = defaultdict(int)
            for row in self.rows[sheet.title]:
                v = row.values
                item_key = (v["region_code"], v["local_code"])
                if {"region_code", "local_code"} & row.bad:
                    continue
                if item_key not in self.item_rows:
                    self.error(
                        sheet,
                        row,
                        "local_code",
                        f"实施清单中没有区划代码为“{item_key[0]}”、实施编码为“{item_key[1]}”的事项。",
                    )
                    continue
                positions[item_key] += 1
                if "order" in v and v["order"] is None:
                    v["order"] = positions[item_key]
                self._check_child(sheet, model, row, item_key)
                self.children[item_key][related_name].append(row)
        for groups in self.children.values():
            self._duplicates(STEPS, groups["steps"], lambda r: r.values["order"], "order")
            self._duplicates(FORM_FIELDS, groups["form_fields"], lambda r: r.values["key"], "key")
            self._duplicates(
                PROCEDURES, groups["special_procedures"], lambda r: r.values["kind"], "kind"
            )
        for item_key, row in self.item_rows.items():
            if not self.children[item_key]["steps"]:
                self.error(
                    ITEMS, row, "local_code", "该事项没有办理环节：请在“办理环节”表中至少填写一个。"
                )

    def _check_child(
        self, sheet: Sheet, model: type[models.Model], row: Row, item_key: Any
    ) -> None:
        v = row.values
        values = {c.key: v[c.key] for c in sheet.columns[2:]}
        if sheet is STEPS:
            region_code = values.pop("department_region_code") or item_key[0]
            code = values.pop("department_code")
            values["department"] = None
            if code:
                department = self.departments.get((region_code, code))
                if department is None:
                    self.error(
                        sheet,
                        row,
                        "department_code",
                        f"区划 {region_code} 中没有部门代码为“{code}”的部门。",
                    )
                values["department"] = department
        if sheet is MATERIALS:
            if v["necessity"] == Necessity.CONDITIONAL and not v["condition"].strip():
                self.error(
                    sheet, row, "condition", "必要性为“容缺后补或情形必要”时必须填写适用情形。"
                )
            if v["copies"] is not None and v["copies"] < 1 and "copies" not in row.bad:
                self.error(sheet, row, "copies", f"应为不小于 1 的整数，实际为“{v['copies']}”。")
            for key in ("blank_form", "sample"):
                name = v[key]
                if name and (".." in name.split("/") or name.startswith(("/", "\\"))):
                    self.error(sheet, row, key, f"文件名称“{_shown(name)}”无效。")
        row.values["_model"] = values
        try:
            model(**values).full_clean(
                exclude=["version", *row.bad], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            self.model_errors(sheet, row, exc)

    def _check_bundles(self) -> None:
        rows = self.rows[BUNDLES.title]
        self._duplicates(BUNDLES, rows, lambda r: r.values["code"], "code")
        self.bundle_rows = {r.values["code"]: r for r in rows}
        self.db_bundles = {
            b.code: b
            for b in Bundle.objects.filter(code__in=self.bundle_rows).select_related("region")
        }
        for row in rows:
            self._region(BUNDLES, row, "region_code")
            v = row.values
            existing = self.db_bundles.get(v["code"])
            bundle = Bundle(
                pk=existing.pk if existing else None,
                **{k: v[k] for k in _bundle_row_keys() if k != "region_code"},
            )
            try:
                bundle.full_clean(
                    exclude=["region", *row.bad], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                self.model_errors(BUNDLES, row, exc)

        self.members: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows[BUNDLE_ITEMS.title]:
            v = row.values
            if "bundle_code" in row.bad:
                continue
            if v["bundle_code"] not in self.bundle_rows:
                self.error(
                    BUNDLE_ITEMS,
                    row,
                    "bundle_code",
                    f"“一件事”表中没有编码为“{v['bundle_code']}”的一件事。",
                )
                continue
            self.members[v["bundle_code"]].append(row)
            if v["order"] is None:
                v["order"] = len(self.members[v["bundle_code"]]) - 1
            if {"region_code", "local_code"} & row.bad:
                continue
            item_key = (v["region_code"], v["local_code"])
            if item_key not in self.item_rows and item_key not in self.db_items:
                self.error(
                    BUNDLE_ITEMS,
                    row,
                    "local_code",
                    f"没有区划代码为“{item_key[0]}”、实施编码为“{item_key[1]}”的事项。",
                )
        for members in self.members.values():
            self._duplicates(
                BUNDLE_ITEMS,
                members,
                # Prerequisites and mappings name members by local code, so it must be unique here.
                lambda r: r.values["local_code"],
                "local_code",
            )
            self._check_prerequisites(members)

        self.mappings: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows[MAPPINGS.title]:
            v = row.values
            if "bundle_code" in row.bad:
                continue
            if v["bundle_code"] not in self.bundle_rows:
                self.error(
                    MAPPINGS,
                    row,
                    "bundle_code",
                    f"“一件事”表中没有编码为“{v['bundle_code']}”的一件事。",
                )
                continue
            self.mappings[v["bundle_code"]].append(row)
            members = self.members[v["bundle_code"]]
            for key in ("source_code", "target_code"):
                if key not in row.bad and self._member(members, v[key]) is None:
                    self.error(MAPPINGS, row, key, f"“{v[key]}”不是该一件事中的事项。")
            if v["source_code"] == v["target_code"] and "target_code" not in row.bad:
                self.error(MAPPINGS, row, "target_code", "来源事项和目标事项不能是同一个事项。")
            mapping = FieldMapping(source_key=v["source_key"], target_key=v["target_key"])
            try:
                mapping.full_clean(
                    exclude=["bundle", "source", "target", *row.bad],
                    validate_unique=False,
                    validate_constraints=False,
                )
            except ValidationError as exc:
                self.model_errors(MAPPINGS, row, exc)
        for mappings in self.mappings.values():
            self._duplicates(
                MAPPINGS,
                mappings,
                lambda r: (r.values["target_code"], r.values["target_key"]),
                "target_key",
            )

        for row in rows:
            if row.bad or any(r.bad for r in self.members[row.values["code"]]):
                continue
            existing = self.db_bundles.get(row.values["code"])
            if existing is None:
                action = CREATED
            else:
                action = UNCHANGED if self._bundle_unchanged(existing, row) else CHANGED
            self.changes.append(
                ImportChange(BUNDLES.title, row.values["code"], row.values["name"], action)
            )

    @staticmethod
    def _member(members: list[Row], local_code: str) -> Row | None:
        found = [m for m in members if m.values["local_code"] == local_code]
        return found[0] if len(found) == 1 else None

    def _check_prerequisites(self, members: list[Row]) -> None:
        graph: dict[str, list[str]] = {}
        for row in members:
            codes = row.values["depends_on"]
            for code in codes:
                if self._member(members, code) is None:
                    self.error(BUNDLE_ITEMS, row, "depends_on", f"“{code}”不是该一件事中的事项。")
            if "depends_on" not in row.bad:
                graph[row.values["local_code"]] = codes
        state: dict[str, int] = {}
        reported: set[str] = set()

        def visit(code: str, path: list[str]) -> None:
            if state.get(code) == 2:
                return
            if state.get(code) == 1:
                cycle = [*path[path.index(code) :], code]
                row = self._member(members, path[-1])
                if row is not None and path[-1] not in reported:
                    reported.add(path[-1])
                    self.error(
                        BUNDLE_ITEMS, row, "depends_on", f"前置关系形成循环：{' → '.join(cycle)}。"
                    )
                return
            state[code] = 1
            for prerequisite in graph.get(code, ()):
                visit(prerequisite, [*path, code])
            state[code] = 2

        for code in graph:
            visit(code, [])

    def _bundle_unchanged(self, bundle: Bundle, row: Row) -> bool:
        if _bundle_row(bundle) != {k: row.values[k] for k in _bundle_row_keys()}:
            return False
        rows = sorted(self.members[bundle.code], key=lambda r: (r.values["order"], r.number))
        position = {r.values["local_code"]: n for n, r in enumerate(rows)}
        members = [
            {
                **{k: r.values[k] for k in ("bundle_code", "order", "region_code", "local_code")},
                "depends_on": sorted(r.values["depends_on"], key=lambda c: position.get(c, 0)),
            }
            for r in rows
        ]
        if _bundle_members_rows(bundle) != members:
            return False
        mappings = [
            {
                k: r.values[k]
                for k in ("bundle_code", "source_code", "source_key", "target_code", "target_key")
            }
            for r in self.mappings[bundle.code]
        ]
        return _mapping_rows(bundle) == mappings

    def _check_synonyms(self) -> None:
        rows = self.rows[SYNONYMS.title]
        self._duplicates(SYNONYMS, rows, lambda r: r.values["term"].strip(), "term")
        existing = {s.term: s.expansion for s in Synonym.objects.all()}
        for row in rows:
            v = row.values
            synonym = Synonym(term=v["term"].strip(), expansion=" ".join(v["expansion"].split()))
            try:
                synonym.full_clean(exclude=list(row.bad), validate_unique=False)
            except ValidationError as exc:
                self.model_errors(SYNONYMS, row, exc)
            if row.bad:
                continue
            known = existing.get(synonym.term)
            action = (
                CREATED if known is None else (UNCHANGED if known == synonym.expansion else CHANGED)
            )
            self.changes.append(
                ImportChange(SYNONYMS.title, synonym.term, synonym.expansion, action)
            )

    # -- the plan for items, once children are known

    def plan_items(self) -> None:
        for item_key, row in self.item_rows.items():
            groups = self.children[item_key]
            if row.bad or any(r.bad for rows in groups.values() for r in rows):
                continue
            existing = self.db_items.get(item_key)
            version = self.current_versions.get(existing.pk) if existing else None
            if existing is None:
                action = CREATED
            elif version is None:
                action = CHANGED  # only a draft so far: the import publishes it
            else:
                action = UNCHANGED if self._version_unchanged(version, row, groups) else CHANGED
            self.changes.append(
                ImportChange(ITEMS.title, "/".join(item_key), row.values["name"], action)
            )

    @staticmethod
    def _version_unchanged(version: ItemVersion, row: Row, groups: Mapping[str, list[Row]]) -> bool:
        if any(getattr(version, k) != row.values[k] for k in VERSION_KEYS):
            return False
        current = _children_of(version)
        for sheet, related_name, _model in CHILD_SHEETS:
            ordering = _child_ordering(related_name)
            wanted = [
                {c.key: r.values[c.key] for c in sheet.columns[2:]}
                for r in sorted(groups[related_name], key=lambda r: (*ordering(r.values), r.number))
            ]
            for child in wanted:
                if "department_code" in child:
                    child["department_region_code"] = (
                        (child["department_region_code"] or row.values["region_code"])
                        if child["department_code"]
                        else ""
                    )
            if current[related_name] != wanted:
                return False
        return True

    # -- writing

    def apply(self) -> None:
        actions = {(c.sheet, c.key): c.action for c in self.changes}
        entries = self._write_entries(actions)
        items = self._write_items(actions, entries)
        self._write_bundles(actions, items)
        for row in self.rows[SYNONYMS.title]:
            if actions[(SYNONYMS.title, row.values["term"].strip())] != UNCHANGED:
                services.synonym_set(term=row.values["term"], expansion=row.values["expansion"])

    def _write_entries(self, actions: Mapping[tuple[str, str], str]) -> dict[str, CatalogEntry]:
        entries = dict(self.db_entries)
        done: set[str] = set()

        def write(code: str) -> None:
            if code in done or code not in self.entry_rows:
                return
            done.add(code)
            v = self.entry_rows[code].values
            if v["parent_code"]:
                write(v["parent_code"])
            parent = entries[v["parent_code"]] if v["parent_code"] else None
            action = actions[(ENTRIES.title, code)]
            if action == CREATED:
                entries[code] = services.entry_create(
                    code=code,
                    name=v["name"],
                    kind=v["kind"],
                    legal_basis=v["legal_basis"],
                    level=v["level"],
                    parent=parent,
                )
            elif action == CHANGED:
                services.entry_update(
                    actor=self.actor,
                    entry=entries[code],
                    name=v["name"],
                    kind=v["kind"],
                    level=v["level"],
                    parent=parent,
                    legal_basis=v["legal_basis"],
                )

        for code in self.entry_rows:
            write(code)
        return entries

    def _write_items(
        self, actions: Mapping[tuple[str, str], str], entries: Mapping[str, CatalogEntry]
    ) -> dict[tuple[str, str], ServiceItem]:
        items = dict(self.db_items)
        for item_key, row in self.item_rows.items():
            action = actions[(ITEMS.title, "/".join(item_key))]
            if action == UNCHANGED:
                continue
            v = row.values
            content = {k: v[k] for k in VERSION_KEYS}
            children = {
                related_name: [
                    r.values["_model"]
                    for r in sorted(
                        self.children[item_key][related_name],
                        key=lambda r: (*_child_ordering(related_name)(r.values), r.number),
                    )
                ]
                for _sheet, related_name, _model in CHILD_SHEETS
            }
            if action == CREATED:
                version = services.item_create(
                    actor=self.actor,
                    entry=entries[v["entry_code"]],
                    region=self.regions[v["region_code"]],
                    department=self.departments[(v["region_code"], v["department_code"])],
                    local_code=v["local_code"],
                    content=content,
                    children=children,
                )
            else:
                version = services.item_draft_start(actor=self.actor, item=items[item_key])
                version = services.version_update(
                    actor=self.actor, version=version, content=content, children=children
                )
            services.version_publish(actor=self.actor, version=version)
            items[item_key] = version.item
        return items

    def _write_bundles(
        self, actions: Mapping[tuple[str, str], str], items: Mapping[tuple[str, str], ServiceItem]
    ) -> list[Bundle]:
        written: list[Bundle] = []
        for code, row in self.bundle_rows.items():
            action = actions[(BUNDLES.title, code)]
            if action == UNCHANGED:
                continue
            v = row.values
            members = sorted(self.members[code], key=lambda r: (r.values["order"], r.number))
            by_code = {
                r.values["local_code"]: items[(r.values["region_code"], r.values["local_code"])]
                for r in members
            }
            member_items = [by_code[r.values["local_code"]] for r in members]
            depends_on = {
                by_code[r.values["local_code"]]: [by_code[c] for c in r.values["depends_on"]]
                for r in members
                if r.values["depends_on"]
            }
            mappings = [
                (
                    by_code[m.values["source_code"]],
                    m.values["source_key"],
                    by_code[m.values["target_code"]],
                    m.values["target_key"],
                )
                for m in self.mappings[code]
            ]
            fields = {k: v[k] for k in ("description", "limit_unit", "review_months", "status")}
            if action == CREATED:
                bundle = services.bundle_create(
                    actor=self.actor,
                    code=code,
                    name=v["name"],
                    region=self.regions[v["region_code"]],
                    stage=v["stage"],
                    promised_limit=v["promised_limit"],
                    items=member_items,
                    depends_on=depends_on,
                    mappings=mappings,
                    **fields,
                )
                orders = {by_code[r.values["local_code"]]: r.values["order"] for r in members}
                for member in bundle.members.all():
                    if member.order != orders[member.item]:
                        member.order = orders[member.item]
                        member.save(update_fields=["order"])
            else:
                bundle = self.db_bundles[code]
                self._update_bundle(bundle, v, members, by_code, depends_on, mappings, fields)
            written.append(bundle)
        return written

    def _update_bundle(
        self,
        bundle: Bundle,
        v: Mapping[str, Any],
        members: Sequence[Row],
        by_code: Mapping[str, ServiceItem],
        depends_on: Mapping[ServiceItem, list[ServiceItem]],
        mappings: Sequence[tuple[ServiceItem, str, ServiceItem, str]],
        fields: Mapping[str, Any],
    ) -> None:
        services.bundle_update(
            actor=self.actor,
            bundle=bundle,
            region=self.regions[v["region_code"]],
            items=[(by_code[row.values["local_code"]], row.values["order"]) for row in members],
            depends_on=depends_on,
            mappings=mappings,
            name=v["name"],
            stage=v["stage"],
            promised_limit=v["promised_limit"],
            **fields,
        )


def _bundle_row_keys() -> tuple[str, ...]:
    return tuple(c.key for c in BUNDLES.columns)


def _child_ordering(related_name: str) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """How the export orders a version's children, so that a re-import compares like with like."""
    if related_name in ("materials", "form_fields", "steps"):
        return lambda values: (values["order"],)
    return lambda values: ()


def catalog_import(
    *, actor: Any, file: str | Path | IO[bytes] | bytes, dry_run: bool = False
) -> ImportReport:
    """Read a workbook, check every cell, and (unless `dry_run`) write it all in one transaction.

    Any error means nothing is written; the report lists every bad cell and, when the workbook is
    good, what was (or would be) created, changed or left unchanged.
    """
    source = io.BytesIO(file) if isinstance(file, bytes) else file
    importer = _Importer(actor=actor)
    report = ImportReport(dry_run=dry_run)
    with translation.override(LANGUAGE):
        if not importer.read(source):
            report.errors = importer.errors
            return report
        try:
            with transaction.atomic():
                importer.check()
                importer.plan_items()
                report.errors, report.changes = importer.errors, _in_sheet_order(importer.changes)
                if importer.errors or dry_run:
                    return report
                importer.apply()
                report.saved = True
        except ValidationError as exc:  # a rule the checks above do not know yet: nothing is saved
            report.saved = False
            report.errors = [
                *importer.errors,
                *(ImportIssue("", None, None, m) for m in exc.messages),
            ]
    return report


def _in_sheet_order(changes: list[ImportChange]) -> list[ImportChange]:
    order = {s.title: n for n, s in enumerate(SHEETS)}
    return sorted(changes, key=lambda c: order[c.sheet])
