"""Catalogue factories: an entry, and a published item version with one step and a material."""

from __future__ import annotations

from typing import Any

import factory

from tongban.catalog import services
from tongban.catalog.models import CatalogEntry, ItemKind, ItemVersion
from tongban.org.tests.factories import CountyFactory, DepartmentFactory


class CatalogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogEntry
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TEST{n:05d}")
    name = factory.Sequence(lambda n: f"测试事项{n}")
    kind = ItemKind.LICENSE
    legal_basis = "《中华人民共和国行政许可法》第十二条"


_counter = iter(range(1, 10**9))


def make_version(
    *,
    publish: bool = True,
    entry: CatalogEntry | None = None,
    region: Any = None,
    department: Any = None,
    content: dict[str, Any] | None = None,
    children: dict[str, list[dict[str, Any]]] | None = None,
) -> ItemVersion:
    """An item with a first version (published unless told otherwise), through the services."""
    region = region or CountyFactory()
    department = department or DepartmentFactory(region=region)
    entry = entry or CatalogEntryFactory()
    children = {
        "steps": [
            {"order": 1, "name": "受理", "limit": 1},
            {"order": 2, "name": "审查决定", "limit": 4},
        ],
        "materials": [{"name": "申请人身份证", "material_type": "id-card", "form": "original"}],
        **(children or {}),
    }
    content = {"legal_limit": 20, "promised_limit": 5, **(content or {})}
    version = services.item_create(
        actor=None,
        entry=entry,
        region=region,
        department=department,
        local_code=f"{region.code}-{next(_counter):05d}",
        content=content,
        children=children,
    )
    if publish:
        version = services.version_publish(actor=None, version=version)
    return version
