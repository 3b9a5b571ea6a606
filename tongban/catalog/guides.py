"""Public guides (办事指南): what an applicant reads before applying, as a page and as a PDF.

A guide is built from the item's *published* version only, every time it is asked for: a draft, a
suspended or a superseded version never shows, and nothing is cached, so a printed guide always says
which version it is. The PDF carries a QR code of the guide page's address, so a sheet picked up at a
window leads back to the current guide on a phone. Reads only: this module never writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Count
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tongban.core.pdf import render_pdf, static_stylesheet
from tongban.core.qrcode import qr_svg, qr_svg_data_uri
from tongban.timelimits.calendar import DayUnit

from .formschema import FieldSpec
from .models import (
    Bundle,
    BundleItem,
    Fee,
    FieldType,
    ItemStatus,
    ItemVersion,
    MaterialRequirement,
    ProcessStep,
    ServiceItem,
    SpecialProcedure,
)
from .selectors import (
    MergedMaterial,
    bundle_merged_form,
    bundle_merged_materials,
    bundle_start_waves,
    version_list_published,
)

PRINT_STYLESHEET = "catalog/guide-print.css"
MaterialFileKind = Literal["blank-form", "sample"]


def limit_text(days: int | None, unit: str) -> str:
    """ "5 个工作日", "30 个自然日", "即办（当场办结）"; None means the law sets no limit."""
    if days is None:
        return _("法律未规定")
    if days == 0:
        return _("即办（当场办结）")
    unit_label = _("工作日") if unit == DayUnit.WORKING.value else _("自然日")
    return _("%(days)s 个%(unit)s") % {"days": days, "unit": unit_label}


@dataclass(frozen=True)
class StepStage:
    """Steps that run at the same time (one parallel group), or a single step."""

    steps: list[ProcessStep]

    @property
    def parallel(self) -> bool:
        return len(self.steps) > 1

    @property
    def limit(self) -> int:
        # Parallel steps finish when the slowest does.
        return max(step.limit for step in self.steps)


def _stages(steps: Iterable[ProcessStep]) -> list[StepStage]:
    stages: list[list[ProcessStep]] = []
    for step in steps:
        previous = stages[-1][-1] if stages else None
        if (
            previous is not None
            and step.parallel_group is not None
            and step.parallel_group == previous.parallel_group
        ):
            stages[-1].append(step)
        else:
            stages.append([step])
    return [StepStage(steps) for steps in stages]


def _shared_local_codes(codes: Iterable[str]) -> set[str]:
    """Local codes used by published items of more than one region (unique only per region)."""
    return set(
        ServiceItem.objects.filter(local_code__in=set(codes), versions__status=ItemStatus.PUBLISHED)
        .order_by()
        .values("local_code")
        .annotate(regions=Count("id", distinct=True))
        .filter(regions__gt=1)
        .values_list("local_code", flat=True)
    )


def _item_path(name: str, item: ServiceItem, *, shared: bool, **kwargs: object) -> str:
    path = reverse(name, kwargs={"local_code": item.local_code, **kwargs})
    return f"{path}?{urlencode({'region': item.region.code})}" if shared else path


@dataclass(frozen=True)
class ItemGuide:
    version: ItemVersion
    shared_code: bool  # the local code is used in another region too: links name the region
    materials: list[MaterialRequirement]
    stages: list[StepStage]
    fees: list[Fee]
    special_procedures: list[SpecialProcedure]

    @property
    def item(self) -> ServiceItem:
        return self.version.item

    @property
    def title(self) -> str:
        return self.version.name

    @property
    def page_path(self) -> str:
        return _item_path("catalog:item_guide", self.item, shared=self.shared_code)

    @property
    def pdf_path(self) -> str:
        return _item_path("catalog:item_guide_pdf", self.item, shared=self.shared_code)

    def material_file_path(self, material: MaterialRequirement, kind: MaterialFileKind) -> str:
        return _item_path(
            "catalog:material_file",
            self.item,
            shared=self.shared_code,
            material_id=material.pk,
            kind=kind,
        )

    @property
    def material_rows(self) -> list[dict[str, object]]:
        return [
            {
                "material": m,
                "blank_form_path": self.material_file_path(m, "blank-form") if m.blank_form else "",
                "sample_path": self.material_file_path(m, "sample") if m.sample else "",
            }
            for m in self.materials
        ]

    @property
    def legal_limit_text(self) -> str:
        return limit_text(self.version.legal_limit, self.version.limit_unit)

    @property
    def promised_limit_text(self) -> str:
        return limit_text(self.version.promised_limit, self.version.limit_unit)

    @property
    def service_objects(self) -> list[str]:
        objects = []
        if self.version.for_natural_person:
            objects.append(_("自然人"))
        if self.version.for_legal_person:
            objects.append(_("法人和其他组织"))
        return objects

    @property
    def delivery_modes(self) -> list[str]:
        v = self.version
        modes = [
            (v.delivery_window, _("窗口领取")),
            (v.delivery_mail, _("邮寄送达")),
            (v.delivery_electronic, _("电子送达")),
        ]
        return [label for wanted, label in modes if wanted]

    @property
    def visits_text(self) -> str:
        visits = self.version.claimed_visits
        if visits == 0:
            return _("0 次（零跑动）")
        return _("最多跑 %(visits)s 次") % {"visits": visits}

    @property
    def filenames(self) -> tuple[str, str]:
        """The PDF's name, in Chinese and as an ASCII fallback."""
        return (
            _("办事指南-%(name)s.pdf") % {"name": self.title},
            f"guide-{self.item.local_code}.pdf",
        )


def item_guide_of(*, local_code: str, region_code: str = "") -> ItemGuide | None:
    """The guide of the published item with this local code, or None.

    Local codes are unique per region only; when several regions share one, `region_code` picks,
    and without it the first region in code order answers (links from guides always name it).
    """
    versions = list(version_list_published().filter(item__local_code=local_code))
    if region_code:
        versions = [v for v in versions if v.item.region.code == region_code]
    if not versions:
        return None
    version = versions[0]
    return ItemGuide(
        version=version,
        shared_code=bool(_shared_local_codes([local_code])),
        materials=list(version.materials.all()),
        stages=_stages(version.steps.select_related("department")),
        fees=list(version.fees.all()),
        special_procedures=list(version.special_procedures.all()),
    )


def material_file_of(
    *, guide: ItemGuide, material_id: int, kind: MaterialFileKind
) -> FieldFile | None:
    """A blank form or sample of the guide's own (published) materials; nothing else is public."""
    for material in guide.materials:
        if material.pk == material_id:
            file = material.blank_form if kind == "blank-form" else material.sample
            return file or None
    return None


@dataclass(frozen=True)
class BundleMemberGuide:
    member: BundleItem
    version: ItemVersion | None  # None: the item has no published version just now
    guide_path: str

    @property
    def name(self) -> str:
        return self.version.name if self.version else self.member.item.entry.name

    @property
    def promised_limit_text(self) -> str:
        if self.version is None:
            return ""
        return limit_text(self.version.promised_limit, self.version.limit_unit)


@dataclass(frozen=True)
class MergedField:
    label: str
    type_label: str
    required: bool


@dataclass(frozen=True)
class BundleGuide:
    bundle: Bundle
    waves: list[list[BundleMemberGuide]]
    materials: list[MergedMaterial]
    fields: list[MergedField] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.bundle.name

    @property
    def page_path(self) -> str:
        return reverse("catalog:bundle_guide", kwargs={"code": self.bundle.code})

    @property
    def pdf_path(self) -> str:
        return reverse("catalog:bundle_guide_pdf", kwargs={"code": self.bundle.code})

    @property
    def promised_limit_text(self) -> str:
        return limit_text(self.bundle.promised_limit, self.bundle.limit_unit)

    @property
    def item_count(self) -> int:
        return sum(len(wave) for wave in self.waves)

    @property
    def filenames(self) -> tuple[str, str]:
        return (
            _("办事指南-%(name)s.pdf") % {"name": self.title},
            f"guide-bundle-{self.bundle.code}.pdf",
        )


def _merged_field(spec: FieldSpec) -> MergedField:
    try:
        type_label = str(FieldType(spec.field_type).label)
    except ValueError:
        type_label = spec.field_type
    return MergedField(label=spec.label, type_label=type_label, required=spec.required)


def _merged_material(material: MergedMaterial) -> MergedMaterial:
    # An item that lists one material type twice still needs one upload: name it once.
    return MergedMaterial(
        material_type=material.material_type,
        name=material.name,
        necessity=material.necessity,
        items=list(dict.fromkeys(material.items)),
        requirements=material.requirements,
    )


def bundle_guide_of(*, code: str) -> BundleGuide | None:
    bundle = (
        Bundle.objects.filter(code=code, status=ItemStatus.PUBLISHED)
        .select_related("region")
        .first()
    )
    if bundle is None:
        return None
    waves = bundle_start_waves(bundle=bundle)
    items = [member.item for wave in waves for member in wave]
    shared = _shared_local_codes(item.local_code for item in items)
    published = {
        v.item_id: v
        for v in ItemVersion.objects.filter(
            item__in=items, status=ItemStatus.PUBLISHED
        ).select_related("item__region")
    }

    def member_guide(member: BundleItem) -> BundleMemberGuide:
        version = published.get(member.item_id)
        path = ""
        if version is not None:
            path = _item_path(
                "catalog:item_guide", version.item, shared=version.item.local_code in shared
            )
        return BundleMemberGuide(member=member, version=version, guide_path=path)

    return BundleGuide(
        bundle=bundle,
        waves=[[member_guide(m) for m in wave] for wave in waves],
        materials=[_merged_material(m) for m in bundle_merged_materials(bundle=bundle)],
        fields=[_merged_field(spec) for spec in bundle_merged_form(bundle=bundle)],
    )


def guide_qr_svg(page_url: str) -> str:
    """The QR code shown on the page, for reading the guide on a phone."""
    return qr_svg(page_url, title=_("本页二维码"), css_class="guide-qr-code")


def guide_pdf(
    *, guide: ItemGuide | BundleGuide, page_url: str, generated_on: dt.date | None = None
) -> bytes:
    """The guide as an A4 PDF, with the QR code of `page_url`, the date and page numbers."""
    template = (
        "catalog/guides/item_pdf.html"
        if isinstance(guide, ItemGuide)
        else "catalog/guides/bundle_pdf.html"
    )
    html = render_to_string(
        template,
        {
            "guide": guide,
            "page_url": page_url,
            "qr_data_uri": qr_svg_data_uri(page_url),
            "generated_on": generated_on or timezone.localdate(),
            "for_print": True,
        },
    )
    # Links in the PDF (blank forms, item guides) resolve against the page's own address.
    return render_pdf(
        html=html, stylesheets=[static_stylesheet(PRINT_STYLESHEET)], base_url=page_url
    )
