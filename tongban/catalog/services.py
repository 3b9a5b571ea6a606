"""Every write to the catalogue: entries, items and their versions, bundles, synonyms.

A published version is never edited: `item_draft_start` copies it (with its materials, steps, form,
fees and special procedures) into a draft, the draft is edited, and `version_publish` makes it the
published version while the old one is kept as history. Each function is one transaction and
appends an event to the item's (or bundle's) chain in the event log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.core.services import event_append
from tongban.org.models import Department, Region

from .models import (
    Bundle,
    BundleItem,
    CatalogEntry,
    Fee,
    FieldMapping,
    FormField,
    ItemStatus,
    ItemVersion,
    MaterialRequirement,
    ProcessStep,
    ServiceItem,
    SpecialProcedure,
    Synonym,
)
from .search import search_index_update
from .selectors import version_cache_forget
from .workflow import can_move

# The children of a version, copied with it; each maps to the related name on ItemVersion.
CHILDREN: dict[str, type[models.Model]] = {
    "materials": MaterialRequirement,
    "steps": ProcessStep,
    "form_fields": FormField,
    "fees": Fee,
    "special_procedures": SpecialProcedure,
}


def _clean_and_save(obj: Any, exclude: list[str] | None = None) -> Any:
    obj.full_clean(exclude=exclude)
    obj.save()
    return obj


def entry_create(
    *,
    code: str,
    name: str,
    kind: str,
    legal_basis: str = "",
    level: str = "main",
    parent: CatalogEntry | None = None,
) -> CatalogEntry:
    with transaction.atomic():
        entry = _clean_and_save(
            CatalogEntry(
                code=code.strip(),
                name=name.strip(),
                kind=kind,
                level=level,
                parent=parent,
                legal_basis=legal_basis,
            )
        )
        event_append(
            subject=entry,
            kind="catalog.entry_created",
            payload={"code": entry.code, "name": entry.name},
        )
    return entry


def item_create(
    *,
    actor: Any,
    entry: CatalogEntry,
    region: Region,
    department: Department,
    local_code: str,
    content: Mapping[str, Any] | None = None,
    children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> ItemVersion:
    """Create an item and its first (draft) version. `content` holds ItemVersion fields; `children`
    maps "materials", "steps", "form_fields", "fees", "special_procedures" to lists of field dicts."""
    values = {"name": entry.name, "implementing_body": department.name, **(content or {})}
    with transaction.atomic():
        item = _clean_and_save(
            ServiceItem(entry=entry, region=region, department=department, local_code=local_code)
        )
        version = _clean_and_save(
            ItemVersion(item=item, version=1, created_by=actor, **values), exclude=["item"]
        )
        _replace_children(version, children or {})
        event_append(
            subject=item,
            kind="catalog.item_created",
            actor=actor,
            payload={"local_code": local_code},
        )
    return version


def _replace_children(
    version: ItemVersion, children: Mapping[str, Sequence[Mapping[str, Any]]]
) -> None:
    unknown = set(children) - set(CHILDREN)
    if unknown:
        raise ValueError(f"unknown children: {sorted(unknown)}")
    errors: list[str] = []
    for related_name, rows in children.items():
        model = CHILDREN[related_name]
        getattr(version, related_name).all().delete()
        for number, row in enumerate(rows, start=1):
            values = dict(row)
            if related_name in {"materials", "form_fields"}:
                values.setdefault("order", number)
            obj = model(version=version, **values)
            try:
                obj.full_clean(exclude=["version"])
            except ValidationError as exc:
                label = model._meta.verbose_name
                for field_name, messages in exc.message_dict.items():
                    errors += [f"{label}第 {number} 项（{field_name}）：{m}" for m in messages]
                continue
            obj.save()
    if errors:
        raise ValidationError(errors)


def _locked_version(version: ItemVersion) -> ItemVersion:
    # Lock every version of the item: publishing moves two of them at once.
    list(ItemVersion.objects.select_for_update().filter(item_id=version.item_id))
    return ItemVersion.objects.get(pk=version.pk)


def version_update(
    *,
    actor: Any,
    version: ItemVersion,
    content: Mapping[str, Any] | None = None,
    children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> ItemVersion:
    """Change a draft. Published history is never edited: start a draft first."""
    with transaction.atomic():
        version = _locked_version(version)
        if version.status != ItemStatus.DRAFT:
            raise ValidationError(_("只能修改草稿版本；已发布的版本请先创建新草稿。"))
        for name, value in (content or {}).items():
            setattr(version, name, value)
        _clean_and_save(version)
        _replace_children(version, children or {})
        event_append(
            subject=version.item,
            kind="catalog.draft_updated",
            actor=actor,
            payload={
                "version": version.version,
                "fields": sorted(content or {}),
                "children": sorted(children or {}),
            },
        )
    return version


def item_draft_start(*, actor: Any, item: ServiceItem) -> ItemVersion:
    """The item's draft: the existing one, or a copy of the latest version with all its children."""
    with transaction.atomic():
        versions = list(
            ItemVersion.objects.select_for_update().filter(item=item).order_by("-version")
        )
        for existing in versions:
            if existing.status == ItemStatus.DRAFT:
                return existing
        if not versions:
            raise ValidationError(_("该事项没有任何版本。"))
        source = versions[0]
        draft = ItemVersion.objects.get(pk=source.pk)
        draft.pk = None
        draft.version = source.version + 1
        draft.status = ItemStatus.DRAFT
        draft.published_at = None
        draft.created_at = timezone.now()
        draft.created_by = actor
        draft.save()
        for related_name, model in CHILDREN.items():
            copies = []
            for child in getattr(source, related_name).all():
                child.pk = None
                child.version = draft
                copies.append(child)
            model._default_manager.bulk_create(copies)
        event_append(
            subject=item,
            kind="catalog.draft_started",
            actor=actor,
            payload={"version": draft.version, "from": source.version},
        )
    return draft


def _status_changed() -> None:
    """Versions remembered for applications are read again: at once, and after the commit (a
    read in between may have remembered the old status, not yet changed for it)."""
    version_cache_forget()
    transaction.on_commit(version_cache_forget)


def version_publish(*, actor: Any, version: ItemVersion) -> ItemVersion:
    """Publish a draft (or resume a suspended version); the version it replaces becomes history."""
    with transaction.atomic():
        version = _locked_version(version)
        if not can_move(version.status, ItemStatus.PUBLISHED):
            raise ValidationError(
                _("“%(status)s”状态的版本不能发布。") % {"status": version.get_status_display()}
            )
        if not version.steps.exists():
            raise ValidationError(_("发布前请至少设置一个办理环节。"))
        now = timezone.now()
        replaced = ItemVersion.objects.filter(
            item_id=version.item_id, status__in=[ItemStatus.PUBLISHED, ItemStatus.SUSPENDED]
        ).exclude(pk=version.pk)
        replaced_numbers = list(replaced.values_list("version", flat=True))
        replaced.update(status=ItemStatus.SUPERSEDED)
        version.status = ItemStatus.PUBLISHED
        version.published_at = (
            version.published_at if version.published_at and not replaced_numbers else now
        )
        version.save(update_fields=["status", "published_at"])
        _status_changed()
        event_append(
            subject=version.item,
            kind="catalog.version_published",
            actor=actor,
            payload={"version": version.version, "replaces": replaced_numbers},
        )
        search_index_update(version=version)
    return version


def version_suspend(*, actor: Any, version: ItemVersion, reason: str) -> ItemVersion:
    if not reason.strip():
        raise ValidationError({"reason": [_("请填写暂停办理的原因。")]})
    with transaction.atomic():
        version = _locked_version(version)
        if not can_move(version.status, ItemStatus.SUSPENDED):
            raise ValidationError(_("只有已发布的版本可以暂停办理。"))
        version.status = ItemStatus.SUSPENDED
        version.save(update_fields=["status"])
        _status_changed()
        event_append(
            subject=version.item,
            kind="catalog.version_suspended",
            actor=actor,
            payload={"version": version.version, "reason": reason},
        )
        search_index_update(version=version)
    return version


def bundle_create(
    *,
    actor: Any,
    code: str,
    name: str,
    region: Region,
    stage: str,
    promised_limit: int,
    items: Sequence[ServiceItem],
    depends_on: Mapping[ServiceItem, Iterable[ServiceItem]] | None = None,
    mappings: Sequence[tuple[ServiceItem, str, ServiceItem, str]] = (),
    **fields: Any,
) -> Bundle:
    """Create a 一件事 from items; `depends_on[b] = [a]` means b starts once a is decided.

    A dependency cycle (a waits for b, b waits for a) would block the bundle forever and is refused.
    """
    depends_on = depends_on or {}
    order = {item: n for n, item in enumerate(items)}
    missing = [
        i for i in [*depends_on, *(d for ds in depends_on.values() for d in ds)] if i not in order
    ]
    if missing:
        raise ValidationError(
            _("前置关系中的事项不在该一件事中：%(names)s")
            % {"names": "、".join(str(m) for m in missing)}
        )
    _refuse_cycles(items, depends_on)
    with transaction.atomic():
        bundle = _clean_and_save(
            Bundle(
                code=code,
                name=name,
                region=region,
                stage=stage,
                promised_limit=promised_limit,
                **fields,
            )
        )
        members = {
            item: BundleItem.objects.create(bundle=bundle, item=item, order=n)
            for item, n in order.items()
        }
        _link_members(bundle, members, depends_on, mappings)
        event_append(
            subject=bundle,
            kind="catalog.bundle_created",
            actor=actor,
            payload={"code": code, "items": len(items)},
        )
        search_index_update(bundle=bundle)
    return bundle


def _link_members(
    bundle: Bundle,
    members: Mapping[ServiceItem, BundleItem],
    depends_on: Mapping[ServiceItem, Iterable[ServiceItem]],
    mappings: Sequence[tuple[ServiceItem, str, ServiceItem, str]],
) -> None:
    """Set each member's prerequisites and the bundle's field mappings."""
    for item, member in members.items():
        member.depends_on.set([members[p] for p in depends_on.get(item, ())])
    for source, source_key, target, target_key in mappings:
        _clean_and_save(
            FieldMapping(
                bundle=bundle,
                source=members[source],
                source_key=source_key,
                target=members[target],
                target_key=target_key,
            )
        )


def _refuse_cycles(
    items: Sequence[ServiceItem], depends_on: Mapping[ServiceItem, Iterable[ServiceItem]]
) -> None:
    state: dict[ServiceItem, int] = {}  # 1 = on the current path, 2 = done

    def visit(item: ServiceItem, path: list[ServiceItem]) -> None:
        if state.get(item) == 2:
            return
        if state.get(item) == 1:
            cycle = [*path[path.index(item) :], item]
            raise ValidationError(
                _("前置关系形成循环：%(cycle)s")
                % {"cycle": " → ".join(i.entry.name for i in cycle)}
            )
        state[item] = 1
        for prerequisite in depends_on.get(item, ()):
            visit(prerequisite, [*path, item])
        state[item] = 2

    for item in items:
        visit(item, [])


def synonym_set(*, term: str, expansion: str) -> Synonym:
    term, expansion = term.strip(), " ".join(expansion.split())
    if not term or not expansion:
        raise ValidationError({"term": [_("请填写群众用语和对应的事项用语。")]})
    synonym, _created = Synonym.objects.update_or_create(
        term=term, defaults={"expansion": expansion}
    )
    return synonym


def entry_update(
    *,
    actor: Any,
    entry: CatalogEntry,
    name: str,
    kind: str,
    level: str,
    parent: CatalogEntry | None,
    legal_basis: str,
) -> CatalogEntry:
    """Change an entry of the basic catalogue; the event names the fields that changed."""
    before = {f: getattr(entry, f) for f in ("name", "kind", "level", "parent_id", "legal_basis")}
    entry.name, entry.kind, entry.level = name.strip(), kind, level
    entry.parent, entry.legal_basis = parent, legal_basis
    with transaction.atomic():
        _clean_and_save(entry)
        changed = sorted(f for f, old in before.items() if getattr(entry, f) != old)
        event_append(
            subject=entry, kind="catalog.entry_updated", actor=actor, payload={"fields": changed}
        )
    return entry


def bundle_update(
    *,
    actor: Any,
    bundle: Bundle,
    region: Region,
    items: Sequence[tuple[ServiceItem, int]],
    depends_on: Mapping[ServiceItem, Iterable[ServiceItem]] | None = None,
    mappings: Sequence[tuple[ServiceItem, str, ServiceItem, str]] = (),
    **fields: Any,
) -> Bundle:
    """Replace a bundle's fields, members (item, order), prerequisites and field mappings."""
    depends_on = depends_on or {}
    _refuse_cycles([item for item, _order in items], depends_on)
    with transaction.atomic():
        bundle.region = region
        for name, value in fields.items():
            setattr(bundle, name, value)
        _clean_and_save(bundle)
        existing = {m.item_id: m for m in bundle.members.all()}
        kept: dict[ServiceItem, BundleItem] = {}
        for item, order in items:
            member = existing.pop(item.pk, None) or BundleItem(bundle=bundle, item=item)
            member.order = order
            member.save()
            kept[item] = member
        bundle.field_mappings.all().delete()
        for member in existing.values():
            member.delete()
        _link_members(bundle, kept, depends_on, mappings)
        event_append(
            subject=bundle,
            kind="catalog.bundle_updated",
            actor=actor,
            payload={"code": bundle.code, "items": len(kept)},
        )
        search_index_update(bundle=bundle)
    return bundle
