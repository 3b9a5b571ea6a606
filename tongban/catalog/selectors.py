"""Reads of the catalogue that other modules need: published versions, bundles' merged form and
materials, and the order in which a bundle's items can start."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from tongban.org.models import Region

from .formschema import FieldSpec, spec_of
from .models import (
    Bundle,
    BundleItem,
    FieldMapping,
    FormField,
    ItemStatus,
    ItemVersion,
    MaterialRequirement,
    Necessity,
    ServiceItem,
)


def version_list_published(*, region: Region | None = None) -> QuerySet[ItemVersion]:
    """The published version of every item, in a region's subtree when one is given."""
    versions = ItemVersion.objects.filter(status=ItemStatus.PUBLISHED).select_related(
        "item__entry", "item__region", "item__department"
    )
    if region is not None:
        versions = versions.filter(item__region__code__startswith=region.code)
    return versions.order_by("item__region__code", "item__local_code")


# Every application names its item version, and a window or a department system sends many a
# minute for the same few. A version's content never changes once it has left its draft
# (services.version_update edits drafts only); its status does (暂停办理, 历史版本). So a process
# remembers a version it has read, with its item's region and department, for
# ITEM_VERSION_CACHE_SECONDS (docs/decisions/0014-item-version-and-endpoint-cache.md). A status changed through
# the services in this process is seen at once; one changed in another process within that time.
_remembered: dict[int, tuple[float, ItemVersion]] = {}
_clock = time.monotonic


def version_cache_forget() -> None:
    """Forget every remembered version (the services call it when a status changes)."""
    _remembered.clear()


def version_get(*, version_id: int) -> ItemVersion | None:
    """A version by its id with its item, the item's region and department; None if there is none.

    Drafts are read every time: they change. Each caller gets its own copy of a remembered
    version, so what one request sets on it never reaches another.
    """
    seen = _remembered.get(version_id)
    if seen is not None and _clock() < seen[0]:
        return copy.copy(seen[1])
    # No default ordering: one row by its key needs no sort over the joined tables.
    version = (
        ItemVersion.objects.select_related("item__region", "item__department")
        .filter(pk=version_id)
        .order_by("pk")
        .first()
    )
    remember_for = settings.ITEM_VERSION_CACHE_SECONDS
    if version is None or version.status == ItemStatus.DRAFT or remember_for <= 0:
        _remembered.pop(version_id, None)
        return version
    if len(_remembered) > 10_000:
        _remembered.clear()
    _remembered[version_id] = (_clock() + remember_for, version)
    return copy.copy(version)


def version_published_of(*, item: ServiceItem) -> ItemVersion | None:
    return item.versions.filter(status=ItemStatus.PUBLISHED).first()


def bundle_members(*, bundle: Bundle) -> list[BundleItem]:
    """The bundle's items with their published versions, materials and form fields loaded."""
    published = ItemVersion.objects.filter(status=ItemStatus.PUBLISHED).prefetch_related(
        "materials", "form_fields"
    )
    return list(
        bundle.members.select_related("item__entry", "item__department")
        .prefetch_related(
            Prefetch("item__versions", queryset=published, to_attr="published"), "depends_on"
        )
        .order_by("order")
    )


def _published(member: BundleItem) -> ItemVersion | None:
    versions = getattr(member.item, "published", None)
    if versions is None:
        return version_published_of(item=member.item)
    return versions[0] if versions else None


def bundle_merged_form(*, bundle: Bundle) -> list[FieldSpec]:
    """One form for the whole bundle: fields de-duplicated by key, required if any item requires it.

    A field that another item's output fills (a field mapping's target) is not asked of the applicant.
    """
    filled_later = {(m.target_id, m.target_key) for m in bundle.field_mappings.all()}
    merged: dict[str, FieldSpec] = {}
    for member in bundle_members(bundle=bundle):
        version = _published(member)
        if version is None:
            continue
        for form_field in version.form_fields.all():
            if (member.pk, form_field.key) in filled_later:
                continue
            spec = spec_of(form_field)
            known = merged.get(spec.key)
            if known is None:
                merged[spec.key] = spec
            elif spec.required and not known.required:
                merged[spec.key] = FieldSpec(**{**known.__dict__, "required": True})
    return list(merged.values())


@dataclass
class MergedMaterial:
    """One material of a bundle: one upload serves every item listed in `items`."""

    material_type: str
    name: str
    necessity: str
    items: list[str] = field(default_factory=list)
    requirements: list[MaterialRequirement] = field(default_factory=list)


NECESSITY_RANK = {Necessity.REQUIRED: 0, Necessity.CONDITIONAL: 1, Necessity.OPTIONAL: 2}


def bundle_merged_materials(*, bundle: Bundle) -> list[MergedMaterial]:
    """One list of materials for the bundle. A certificate that an item of the bundle itself issues
    (the 营业执照 of 开办企业) is not asked of the applicant: the later items receive it."""
    members = bundle_members(bundle=bundle)
    issued = {
        version.certificate_type
        for version in (_published(m) for m in members)
        if version is not None and version.certificate_type
    }
    merged: dict[str, MergedMaterial] = {}
    for member in members:
        version = _published(member)
        if version is None:
            continue
        for requirement in version.materials.all():
            if requirement.certificate_type and requirement.certificate_type in issued:
                continue
            entry = merged.setdefault(
                requirement.material_type,
                MergedMaterial(requirement.material_type, requirement.name, requirement.necessity),
            )
            if (
                NECESSITY_RANK[Necessity(requirement.necessity)]
                < NECESSITY_RANK[Necessity(entry.necessity)]
            ):
                entry.necessity = requirement.necessity
            entry.items.append(version.name)
            entry.requirements.append(requirement)
    return list(merged.values())


def bundle_start_waves(*, bundle: Bundle) -> list[list[BundleItem]]:
    """The items in the order they can start: wave 1 needs nothing, wave 2 needs wave 1 decided …"""
    members = bundle_members(bundle=bundle)
    waiting = {m.pk: {d.pk for d in m.depends_on.all()} for m in members}
    by_pk = {m.pk: m for m in members}
    waves: list[list[BundleItem]] = []
    done: set[int] = set()
    while waiting:
        ready = sorted(
            (pk for pk, needs in waiting.items() if needs <= done), key=lambda pk: by_pk[pk].order
        )
        if not ready:  # a cycle; services refuse them, so this is a corrupted bundle
            raise ValueError(f"bundle {bundle.code} has a dependency cycle")
        waves.append([by_pk[pk] for pk in ready])
        done.update(ready)
        for pk in ready:
            del waiting[pk]
    return waves


def output_labels(*, mappings: Iterable[FieldMapping], keys: Iterable[str] = ()) -> dict[str, str]:
    """Chinese names for what an item of a bundle hands on (each mapping's `source_key`): the
    label of a form field of that key, else of the field it fills in the later item
    (certificate_no → 出生医学证明编号). Plain `keys` get the label of their own form field. A key
    nobody labelled stays as it is. One query."""
    pairs = [(m.source_key, m.target_key) for m in mappings]
    plain = list(keys)
    labels = field_labels(keys={*plain, *(k for pair in pairs for k in pair)})
    named = {key: labels.get(key, key) for key in plain}
    named.update(
        {source: labels.get(source) or labels.get(target) or source for source, target in pairs}
    )
    return named


def field_labels(*, keys: Iterable[str]) -> dict[str, str]:
    """The label of the form field of each key, for keys that have one."""
    return dict(
        FormField.objects.filter(key__in=set(keys)).order_by("id").values_list("key", "label")
    )


@dataclass(frozen=True)
class ItemRow:
    """One line of the catalogue admin's list: the item, what is published, and any draft."""

    item: ServiceItem
    published: ItemVersion | None
    draft: ItemVersion | None


def item_rows_visible_to(*, actor: object, department_id: int | None = None) -> list[ItemRow]:
    """The items of the departments the actor may see, with their published and draft versions."""
    from tongban.org.permissions import departments_visible_to

    items = ServiceItem.objects.filter(department__in=departments_visible_to(actor)).select_related(
        "entry", "department", "region"
    )
    if department_id is not None:
        items = items.filter(department_id=department_id)
    current = ItemVersion.objects.filter(
        status__in=[ItemStatus.PUBLISHED, ItemStatus.DRAFT, ItemStatus.SUSPENDED]
    )
    items = items.prefetch_related(Prefetch("versions", queryset=current, to_attr="current"))
    rows = []
    for item in items.order_by("department__code", "local_code"):
        by_status = {v.status: v for v in item.current}
        shown = by_status.get(ItemStatus.PUBLISHED) or by_status.get(ItemStatus.SUSPENDED)
        rows.append(ItemRow(item=item, published=shown, draft=by_status.get(ItemStatus.DRAFT)))
    return rows
