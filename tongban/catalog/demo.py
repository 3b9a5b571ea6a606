"""The demo catalogue: 沅江市's service items, bundles and synonyms, and two neighbouring districts.

Loaded on top of the demo organisation (tongban.org.demo) by `tongban demo-catalog`. The content is
data, in data/demo-catalogue.toml (沅江市) and data/demo-neighbours.toml (资阳区 and 赫山区, with the
inconsistencies planted for the catalogue audit); this module only turns it into calls to the
catalogue and organisation services. Loading is idempotent: whatever already exists (an entry's
code, an item's local code, a bundle's code, a synonym) is left as it is.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from tongban.org import demo as org_demo
from tongban.org import services as org_services
from tongban.org.models import Department, Hall, HallKind, Region, Role
from tongban.timelimits.calendar import DayUnit

from . import services
from .models import (
    Bundle,
    CatalogEntry,
    ItemStatus,
    ItemVersion,
    ResultType,
    ServiceItem,
    Synonym,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_FILE = DATA_DIR / "demo-catalogue.toml"
NEIGHBOURS_FILE = DATA_DIR / "demo-neighbours.toml"
COUNTY_CODE = org_demo.COUNTY_CODE

MATERIAL_KEYS = frozenset(
    {
        "name",
        "necessity",
        "condition",
        "form",
        "copies",
        "source",
        "certificate_type",
        "tolerable",
        "notes",
    }
)
# Content a neighbouring item takes from 沅江市's item of the same entry unless it says otherwise.
INHERITED_KEYS = (
    "legal",
    "promised",
    "unit",
    "declared_immediate",
    "extension",
    "visits",
    "online",
    "objects",
    "delivery",
    "tolerance",
    "commitment",
    "cross",
    "result",
    "conditions",
    "materials",
    "fields",
    "fees",
    "special",
    "steps",
)


@cache
def _data(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def catalogue_data() -> dict[str, Any]:
    return _data(CATALOGUE_FILE)


def neighbours_data() -> dict[str, Any]:
    return _data(NEIGHBOURS_FILE)


def planted_inconsistencies() -> list[dict[str, Any]]:
    """The neighbours' deliberate defects: [{"local_code", "rules", "note"}], for the audit's tests."""
    return [dict(p) for p in neighbours_data()["planted"]]


# --- from the data file to service arguments -----------------------------------------------------


@dataclass
class _Place:
    """Where an item is implemented: its region, departments by code, and the hall's details."""

    region: Region
    departments: dict[str, Department]
    office_address: str
    office_phone: str
    office_hours: str
    windows_named: bool  # 沅江市's hall has the windows the data file names (户籍业务窗口 …)


def _electronic(spec: Mapping[str, Any]) -> bool:
    return spec.get("visits", 1) == 0 or spec.get("online") == "full_online"


def _materials(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    shared = catalogue_data()["materials"]
    rows: list[dict[str, Any]] = []
    for entry in spec.get("materials", []):
        override = {"type": entry} if isinstance(entry, str) else dict(entry)
        material_type = override.pop("type")
        values = {**shared.get(material_type, {}), **override}
        # Certificates are fetched, and an item that claims no visit cannot ask for paper.
        fetched = values.get("source", "applicant") != "applicant"
        if "form" not in override and (fetched or _electronic(spec)):
            values["form"] = "electronic"
        values.setdefault("form", "original")
        if values["form"] == "electronic":
            values["copies"] = 1
        row = {k: v for k, v in values.items() if k in MATERIAL_KEYS}
        rows.append({"order": len(rows) + 1, "material_type": material_type, **row})
    return rows


def _form_fields(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = catalogue_data()
    keys: list[str] = []
    for name in spec.get("fields", []):
        keys += data["field_groups"][name[1:]] if name.startswith("@") else [name]
    duplicated = {k for k in keys if keys.count(k) > 1}
    if duplicated:
        raise ValueError(f"{spec.get('local')}: form field listed twice: {sorted(duplicated)}")
    rows: list[dict[str, Any]] = []
    for key in keys:
        schema = data["fields"][key]
        rows.append(
            {
                "order": len(rows) + 1,
                "key": key,
                "label": schema["label"],
                "field_type": schema["type"],
                "required": schema.get("required", True),
                "choices": list(schema.get("choices", [])),
                "validation": dict(schema.get("validation", {})),
            }
        )
    return rows


def _working_days(spec: Mapping[str, Any]) -> int:
    """The promised limit in working days, the unit of step limits (five of every seven days)."""
    promised = int(spec["promised"])
    return promised * 5 // 7 if spec.get("unit") == DayUnit.NATURAL.value else promised


def _default_steps(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """受理 → 审查 → 决定 (→ 制证), with limits adding up to the promised limit."""
    budget = _working_days(spec)
    if budget == 0:
        return [
            {"name": "受理", "limit": 0, "role": Role.WINDOW_CLERK},
            {"name": "审核办结", "limit": 0},
        ]
    if budget == 1:
        return [
            {"name": "受理", "limit": 0, "role": Role.WINDOW_CLERK},
            {"name": "审查决定", "limit": 1},
        ]
    certificate = spec.get("result", ["document"])[0] == ResultType.CERTIFICATE
    issue = 1 if certificate and budget >= 3 else 0
    steps = [
        {"name": "受理", "limit": 0, "role": Role.WINDOW_CLERK},
        {"name": "审查", "limit": budget - 1 - issue},
        {"name": "决定", "limit": 1, "role": Role.DEPARTMENT_HEAD},
    ]
    if issue:
        steps.append({"name": "制证", "limit": 1})
    return steps


def _steps(spec: Mapping[str, Any], place: _Place, department: Department) -> list[dict[str, Any]]:
    rows = []
    for order, step in enumerate(spec.get("steps") or _default_steps(spec), start=1):
        code = step.get("department")
        rows.append(
            {
                "order": order,
                "name": step["name"],
                "department": place.departments[code] if code else department,
                "role": step.get("role", Role.APPROVER),
                "limit": step["limit"],
                "parallel_group": step.get("group"),
            }
        )
    return rows


def _content(
    spec: Mapping[str, Any], place: _Place, department: Department, reviewed_days_ago: int
) -> dict[str, Any]:
    promised = int(spec["promised"])
    objects = spec.get("objects", ["natural"])
    delivery = spec.get("delivery", ["window"])
    result_type, result_name, *certificate = spec.get("result", ["document", ""])
    address = place.office_address
    if place.windows_named:
        address = spec.get("office_address") or address + spec.get("office", "综合受理窗口")
    return {
        "implementing_body": spec.get("body") or department.name,
        "legal_limit": spec.get("legal"),
        "promised_limit": promised,
        "limit_unit": spec.get("unit", DayUnit.WORKING.value),
        "declared_immediate": spec.get("declared_immediate", promised == 0),
        "extension_allowed": bool(spec.get("extension")),
        "extension_days": spec.get("extension", 0),
        "claimed_visits": spec.get("visits", 1),
        "online_depth": spec.get("online", "prereview"),
        "for_natural_person": "natural" in objects,
        "for_legal_person": "legal" in objects,
        "conditions": spec.get("conditions", ""),
        "delivery_window": "window" in delivery,
        "delivery_mail": "mail" in delivery,
        "delivery_electronic": "electronic" in delivery,
        "tolerance_allowed": spec.get("tolerance", False),
        "commitment_allowed": spec.get("commitment", False),
        "cross_region_scope": spec.get("cross", "none"),
        "result_type": result_type,
        "result_name": result_name,
        "certificate_type": certificate[0] if certificate else "",
        "office_address": address,
        "office_phone": place.office_phone,
        "office_hours": place.office_hours,
        "guide_reviewed_at": timezone.localdate() - dt.timedelta(days=reviewed_days_ago),
    }


def _children(
    spec: Mapping[str, Any], place: _Place, department: Department
) -> dict[str, list[dict[str, Any]]]:
    return {
        "materials": _materials(spec),
        "form_fields": _form_fields(spec),
        "steps": _steps(spec, place, department),
        "fees": [
            {"name": f["name"], "standard": f["standard"], "legal_basis": f["basis"]}
            for f in spec.get("fees", [])
        ],
        "special_procedures": [
            {
                "kind": p["kind"],
                "counts_in_limit": p.get("counts_in_limit", False),
                "max_days": p.get("max_days"),
            }
            for p in spec.get("special", [])
        ],
    }


def _reviewed_days_ago(spec: Mapping[str, Any], number: int) -> int:
    # Spread the demo's review dates over the last half year, the same on every load.
    return int(spec.get("reviewed", 15 + (number * 23) % 160))


# --- loading -------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one call created; all zero when the demo catalogue was already there."""

    entries: int = 0
    items: int = 0
    bundles: int = 0
    synonyms: int = 0
    departments: int = 0
    regions: int = 0

    @property
    def changed(self) -> bool:
        return any(vars(self).values())


@dataclass
class _Loader:
    result: LoadResult = field(default_factory=LoadResult)
    entries: dict[str, CatalogEntry] = field(default_factory=dict)
    existing_items: set[tuple[int, str]] = field(default_factory=set)
    drafts: list[tuple[ItemVersion, dict[str, list[dict[str, Any]]]]] = field(default_factory=list)

    def entry(self, spec: Mapping[str, Any]) -> CatalogEntry:
        code = spec["code"]
        if code not in self.entries:
            self.entries[code] = services.entry_create(
                code=code, name=spec["name"], kind=spec["kind"], legal_basis=spec["basis"]
            )
            self.result.entries += 1
        return self.entries[code]

    def item(self, spec: Mapping[str, Any], entry: CatalogEntry, place: _Place, n: int) -> None:
        local_code = spec["local"]
        if (place.region.pk, local_code) in self.existing_items:
            return
        department = place.departments[local_code.split("-")[1]]
        version = services.item_create(
            actor=None,
            entry=entry,
            region=place.region,
            department=department,
            local_code=local_code,
            content=_content(spec, place, department, _reviewed_days_ago(spec, n)),
        )
        self.drafts.append((version, _children(spec, place, department)))
        self.result.items += 1

    def publish(self) -> None:
        """Write every draft's children in one insert per kind, then publish the drafts.

        item_create would validate each child row against the database one by one (several
        queries per row, some 1,500 rows); the demo's rows are checked here field by field and the
        database's own constraints hold the rest, which keeps the load within a few seconds.
        """
        for related_name, model in services.CHILDREN.items():
            rows = []
            for version, children in self.drafts:
                for values in children.get(related_name, []):
                    row = model(version=version, **values)
                    row.clean_fields(exclude=["version"])
                    rows.append(row)
            model._default_manager.bulk_create(rows, batch_size=500)
        for version, _children_of_version in self.drafts:
            services.version_publish(actor=None, version=version)
        self.drafts.clear()


def _yuanjiang_place() -> _Place:
    region = Region.objects.get(code=COUNTY_CODE)
    hall = Hall.objects.get(region=region, kind=HallKind.COUNTY_CENTRE)
    return _Place(
        region=region,
        departments={d.code: d for d in Department.objects.filter(region=region)},
        office_address=hall.address,
        office_phone=hall.phone,
        office_hours=hall.opening_hours,
        windows_named=True,
    )


def _neighbour_places(result: LoadResult) -> list[_Place]:
    data = neighbours_data()
    result.regions += org_services.regions_import(rows=[dict(r) for r in data["regions"]])
    places = []
    for county in data["counties"]:
        region = Region.objects.get(code=county["code"])
        departments = {d.code: d for d in Department.objects.filter(region=region)}
        for code, name, short_name in county["departments"]:
            if code not in departments:
                departments[code] = org_services.department_create(
                    actor=None, region=region, name=name, short_name=short_name, code=code
                )
                result.departments += 1
        places.append(
            _Place(
                region=region,
                departments=departments,
                office_address=county["office_address"],
                office_phone=county["office_phone"],
                office_hours=catalogue_data()["defaults"]["office_hours"],
                windows_named=False,
            )
        )
    return places


def _load_bundles(result: LoadResult, region: Region) -> None:
    existing = set(Bundle.objects.values_list("code", flat=True))
    items = {
        i.entry.name: i for i in ServiceItem.objects.filter(region=region).select_related("entry")
    }
    for spec in catalogue_data()["bundles"]:
        if spec["code"] in existing:
            continue
        services.bundle_create(
            actor=None,
            code=spec["code"],
            name=spec["name"],
            region=region,
            stage=spec["stage"],
            promised_limit=spec["promised"],
            items=[items[name] for name in spec["items"]],
            depends_on={
                items[name]: [items[p] for p in prerequisites]
                for name, prerequisites in spec.get("depends_on", {}).items()
            },
            mappings=[
                (items[source], source_key, items[target], target_key)
                for source, source_key, target, target_key in spec.get("mappings", [])
            ],
            description=spec.get("description", ""),
            review_months=spec.get("review_months"),
            status=ItemStatus.PUBLISHED,
        )
        result.bundles += 1


def _load_synonyms(result: LoadResult) -> None:
    existing = dict(Synonym.objects.values_list("term", "expansion"))
    for term, expansion in catalogue_data()["synonyms"].items():
        if existing.get(term) is None:  # an admin's own wording of a term wins over the demo's
            services.synonym_set(term=term, expansion=expansion)
            result.synonyms += 1


def _neighbour_spec(spec: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, Any]:
    # Not the implementing body or the office: those name 沅江市's own bodies and windows.
    merged = {k: template[k] for k in INHERITED_KEYS if k in template}
    merged.update(spec)
    return merged


@transaction.atomic
def load_demo_catalogue() -> LoadResult:
    """Load the demo catalogue (and the demo organisation first if it is missing).

    A second call changes nothing: existing entries, items, bundles and synonyms are kept as they are.
    """
    org_demo.load_demo_organisation()
    data, neighbours = catalogue_data(), neighbours_data()
    loader = _Loader()
    loader.entries = {e.code: e for e in CatalogEntry.objects.all()}
    loader.existing_items = set(ServiceItem.objects.values_list("region_id", "local_code"))

    home = _yuanjiang_place()
    templates: dict[str, dict[str, Any]] = {}
    entries_by_name: dict[str, Mapping[str, Any]] = {}
    for number, spec in enumerate(data["items"]):
        templates[spec["name"]] = spec
        entries_by_name[spec["name"]] = spec
        loader.item(spec, loader.entry(spec), home, number)
    for spec in neighbours["entries"]:
        entries_by_name[spec["name"]] = spec
        loader.entry(spec)

    places = {p.region.code: p for p in _neighbour_places(loader.result)}
    for number, spec in enumerate(neighbours["items"]):
        entry_spec = entries_by_name[spec["entry"]]
        merged = _neighbour_spec(spec, templates.get(spec["entry"], {}))
        place = places[spec["local"].split("-")[0]]
        loader.item(merged, loader.entry(entry_spec), place, number)

    loader.publish()
    _load_bundles(loader.result, home.region)
    _load_synonyms(loader.result)
    return loader.result


def is_loaded() -> bool:
    """Every demo bundle exists: they are created last, after every item they combine."""
    codes = [b["code"] for b in catalogue_data()["bundles"]]
    return Bundle.objects.filter(code__in=codes).count() == len(codes)


# --- what the command prints ---------------------------------------------------------------------


def summary_lines() -> list[str]:
    """The demo catalogue as it is in the database, in Chinese, for the command and the docs."""
    codes = [COUNTY_CODE, *(c["code"] for c in neighbours_data()["counties"])]
    rows = (
        ServiceItem.objects.filter(region__code__in=codes, versions__status=ItemStatus.PUBLISHED)
        .values("region__code", "region__name")
        .annotate(items=Count("id", distinct=True), departments=Count("department", distinct=True))
        .order_by("region__code")
    )
    by_code = {r["region__code"]: r for r in rows}
    lines = []
    for code in codes:
        row = by_code.get(code)
        if row:
            lines.append(
                f"  {row['region__name']}（{code}）：已发布事项 {row['items']} 个，"
                f"涉及 {row['departments']} 个部门"
            )
    bundles = list(
        Bundle.objects.filter(code__in=[b["code"] for b in catalogue_data()["bundles"]])
        .order_by("code")
        .values_list("name", flat=True)
    )
    lines.append(f"  一件事 {len(bundles)} 个：{'、'.join(bundles)}")
    lines.append(f"  同义词 {Synonym.objects.count()} 条")
    lines.append(
        f"  资阳区、赫山区预设了 {len(planted_inconsistencies())} 处不一致，"
        "可用 tongban audit-catalog 查看审查结果"
    )
    return lines
