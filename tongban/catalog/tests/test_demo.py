"""The demo catalogue: enough real, consistent items for 沅江市, working bundles, and neighbours whose
planted defects the audit can find."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tongban.catalog import demo as catalogue_demo
from tongban.catalog import selectors
from tongban.catalog.models import (
    Bundle,
    BundleItem,
    CatalogEntry,
    FieldMapping,
    FormField,
    ItemStatus,
    ItemVersion,
    LifeStage,
    MaterialForm,
    MaterialRequirement,
    MaterialSource,
    OnlineDepth,
    ProcessStep,
    ServiceItem,
    SpecialProcedureKind,
    Synonym,
)
from tongban.core.models import Event
from tongban.org.models import Department, Region

pytestmark = pytest.mark.django_db

PAPER = {MaterialForm.ORIGINAL, MaterialForm.ORIGINAL_AND_COPY}


@pytest.fixture(scope="class")
def catalogue(django_db_setup, django_db_blocker):
    """The demo organisation and catalogue, loaded once for a class of tests and rolled back after
    it: loading takes seconds, and each test runs in its own savepoint inside this transaction."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        yield catalogue_demo.load_demo_catalogue()
        transaction.set_rollback(True)


def _published(region_code: str) -> list[ItemVersion]:
    return list(
        ItemVersion.objects.filter(status=ItemStatus.PUBLISHED, item__region__code=region_code)
        .select_related("item__entry", "item__department")
        .prefetch_related("materials", "steps", "fees", "special_procedures", "form_fields")
    )


def _step_days(version: ItemVersion) -> int:
    """Working days the steps take: a parallel group takes as long as its longest step."""
    groups: dict[object, int] = {}
    for step in version.steps.all():
        key = ("group", step.parallel_group) if step.parallel_group else ("step", step.pk)
        groups[key] = max(groups.get(key, 0), step.limit)
    return sum(groups.values())


def _contradictions(v: ItemVersion) -> list[str]:
    """What the demo promises about every 沅江市 item, checked without the audit module."""
    found = []
    if not v.item.entry.legal_basis.strip():
        found.append("no legal basis")
    if v.declared_immediate != (v.promised_limit == 0):
        found.append("即办件 declaration does not match the promised limit")
    if v.legal_limit is not None and v.promised_limit > v.legal_limit:
        found.append("promised above legal")
    if v.legal_limit and 1 - Fraction(v.promised_limit, v.legal_limit) < Fraction(1, 2):
        found.append("compression below 50%")
    if v.limit_unit == "working" and _step_days(v) > v.promised_limit:
        found.append(f"steps take {_step_days(v)} days")
    types = Counter(m.material_type for m in v.materials.all())
    if any(n > 1 for n in types.values()):
        found.append("duplicated material")
    materials = list(v.materials.all())
    if any(m.certificate_type and m.source == MaterialSource.APPLICANT for m in materials):
        found.append("certificate demanded from the applicant")
    if any(not f.legal_basis.strip() for f in v.fees.all()):
        found.append("fee without basis")
    paper = [m for m in materials if m.form in PAPER and m.source == MaterialSource.APPLICANT]
    pickup_only = v.delivery_window and not (v.delivery_mail or v.delivery_electronic)
    if (v.claimed_visits == 0 or v.online_depth == OnlineDepth.FULL_ONLINE) and (
        paper or pickup_only
    ):
        found.append("zero visits or 全程网办 with paper or window pickup")
    in_person = {SpecialProcedureKind.HEARING, SpecialProcedureKind.SITE_CHECK}
    if v.online_depth == OnlineDepth.FULL_ONLINE and any(
        p.kind in in_person for p in v.special_procedures.all()
    ):
        found.append("全程网办 with an on-site procedure")
    if v.guide_reviewed_at is None or (timezone.localdate() - v.guide_reviewed_at).days > 365:
        found.append("guide not reviewed within a year")
    keys = [f.key for f in v.form_fields.all()]
    if len(keys) != len(set(keys)) or not keys:
        found.append("form keys missing or repeated")
    if not v.office_address or not v.office_phone or not v.office_hours:
        found.append("no office address, phone or hours")
    return found


def _critical_path(waves: list[list[BundleItem]]) -> int:
    """The longest chain of promised limits through the dependency graph."""
    finish: dict[int, int] = {}
    for wave in waves:
        for member in wave:
            start = max((finish[d.pk] for d in member.depends_on.all()), default=0)
            finish[member.pk] = start + member.item.published[0].promised_limit
    return max(finish.values())


def _counts() -> dict[str, int]:
    models = [
        Region,
        Department,
        CatalogEntry,
        ServiceItem,
        ItemVersion,
        MaterialRequirement,
        ProcessStep,
        FormField,
        Bundle,
        BundleItem,
        FieldMapping,
        Synonym,
        Event,
    ]
    return {m.__name__: m.objects.count() for m in models}


class TestTheLoadedDemo:
    # --- 沅江市's items ---
    def test_at_least_80_published_items_across_at_least_15_departments(self, catalogue):
        versions = _published(catalogue_demo.COUNTY_CODE)

        departments = {v.item.department.code for v in versions}
        assert len(versions) >= 80
        assert len(departments) >= 15
        assert {v.item.local_code.split("-")[0] for v in versions} == {catalogue_demo.COUNTY_CODE}

    def test_items_are_realistic_and_consistent(self, catalogue):
        versions = _published(catalogue_demo.COUNTY_CODE)

        problems = {v.name: _contradictions(v) for v in versions if _contradictions(v)}

        assert problems == {}
        immediate = [v for v in versions if v.promised_limit == 0]
        with_fees = [v for v in versions if v.fees.all()]
        parallel = [v for v in versions if any(s.parallel_group for s in v.steps.all())]
        assert len(immediate) >= 10 and all(v.declared_immediate for v in immediate)
        assert 3 <= len(with_fees) < len(versions) / 5  # most items are 不收费
        assert len(parallel) >= 3
        assert {s.department.code for v in parallel for s in v.steps.all()} >= {"MZ", "GA", "RS"}

    def test_shared_material_types_come_from_the_certificate_library(self, catalogue):
        id_cards = MaterialRequirement.objects.filter(
            material_type="id-card", version__item__region__code=catalogue_demo.COUNTY_CODE
        )

        assert id_cards.count() >= 30
        assert set(id_cards.values_list("source", "certificate_type")) == {
            (MaterialSource.CERTIFICATE, "CN-ID-CARD")
        }

    def test_the_real_fee_and_its_basis(self, catalogue):
        transfer = ItemVersion.objects.get(
            status=ItemStatus.PUBLISHED, item__local_code="430981-ZRZY-001"
        )

        fee = transfer.fees.get()
        assert fee.standard.startswith("80 元/件")
        assert "发改价格规〔2016〕2559号" in fee.legal_basis
        assert transfer.item.entry.legal_basis.startswith("《中华人民共和国民法典》")

    # --- bundles ---
    def test_bundles_start_in_waves_and_merge_their_forms(self, catalogue):
        bundles = list(Bundle.objects.filter(region__code=catalogue_demo.COUNTY_CODE))

        assert len(bundles) >= 6
        assert {b.stage for b in bundles} == set(LifeStage.values)
        for bundle in bundles:
            waves = selectors.bundle_start_waves(bundle=bundle)
            members = selectors.bundle_members(bundle=bundle)
            merged = [spec.key for spec in selectors.bundle_merged_form(bundle=bundle)]
            asked = sum(len(m.item.published[0].form_fields.all()) for m in members)
            assert sum(len(w) for w in waves) == len(members), bundle.name
            assert len(merged) == len(set(merged)) and len(merged) < asked, bundle.name
            assert bundle.status == ItemStatus.PUBLISHED
            assert bundle.promised_limit >= _critical_path(waves), bundle.name

    def test_opening_a_business(self, catalogue):
        bundle = Bundle.objects.get(name="开办企业一件事")

        waves = selectors.bundle_start_waves(bundle=bundle)
        merged = {spec.key for spec in selectors.bundle_merged_form(bundle=bundle)}
        materials = selectors.bundle_merged_materials(bundle=bundle)

        assert bundle.promised_limit == 3
        assert [[m.item.entry.name for m in wave] for wave in waves] == [
            ["公司设立登记"],
            ["公章刻制备案", "发票领用", "社会保险登记（单位参保）"],
        ]
        # The credit code comes from the licence: the applicant is never asked for it.
        assert "credit_code" not in merged and {"company_name", "business_scope"} <= merged
        assert FieldMapping.objects.filter(bundle=bundle, source_key="credit_code").count() == 3
        # The licence is issued inside the bundle, so the follow-up items receive it: never asked for.
        assert "business-licence" not in {m.material_type for m in materials}
        assert "id-card" in {m.material_type for m in materials}

    def test_public_rental_housing_is_checked_in_parallel_and_reviewed_yearly(self, catalogue):
        bundle = Bundle.objects.get(name="申请公租房一件事")

        waves = selectors.bundle_start_waves(bundle=bundle)

        assert bundle.review_months == 12
        assert {m.item.department.code for m in waves[0]} == {"MZ", "GA", "ZRZY", "RS"}
        assert [m.item.entry.name for m in waves[1]] == ["公共租赁住房申请"]

    def test_every_mapping_fills_a_field_of_its_target(self, catalogue):
        mappings = FieldMapping.objects.select_related("target__item")

        missing = [
            (m.bundle.name, m.target_key)
            for m in mappings
            if not FormField.objects.filter(
                version__item=m.target.item,
                version__status=ItemStatus.PUBLISHED,
                key=m.target_key,
            ).exists()
        ]

        assert mappings.count() >= 10
        assert missing == []

    def test_every_result_a_bundle_hands_on_has_a_chinese_name(self, catalogue):
        mappings = list(FieldMapping.objects.select_related("bundle"))

        labels = selectors.output_labels(mappings=mappings)

        unnamed = sorted({key for key, label in labels.items() if label.isascii()})
        assert unnamed == []
        birth = FieldMapping.objects.filter(bundle__name="出生一件事", source_key="certificate_no")
        assert selectors.output_labels(mappings=birth) == {"certificate_no": "出生医学证明编号"}
        assert labels["credit_code"] == "统一社会信用代码"

    # --- neighbours and planted defects ---
    def test_two_districts_implement_the_same_entries(self, catalogue):
        yuanjiang = set(
            ServiceItem.objects.filter(region__code=catalogue_demo.COUNTY_CODE).values_list(
                "entry__code", flat=True
            )
        )
        for code in ("430902", "430903"):
            items = ServiceItem.objects.filter(region__code=code)
            own = set(items.values_list("entry__code", flat=True)) - yuanjiang
            assert 10 <= items.count() <= 15
            assert len(own) <= 1  # at most one entry only that district implements
            assert Department.objects.filter(region__code=code).count() >= 5
        assert Region.objects.get(code="430903").parent.code == "4309"

    def test_the_planted_list_points_at_published_neighbour_items(self, catalogue):
        from tongban.catalog.audit import RULES

        planted = catalogue_demo.planted_inconsistencies()

        codes = [p["local_code"] for p in planted]
        published = set(
            ItemVersion.objects.filter(
                status=ItemStatus.PUBLISHED, item__local_code__in=codes
            ).values_list("item__local_code", flat=True)
        )
        rules = {rule for p in planted for rule in p["rules"]}
        assert len(planted) >= 10 and len(set(codes)) == len(codes)
        assert published == set(codes)
        assert not any(code.startswith(catalogue_demo.COUNTY_CODE) for code in codes)
        assert rules <= set(RULES) and len(rules) == len(RULES)

    def test_a_planted_item_differs_from_its_clean_neighbours(self, catalogue):
        def public_health_permit(region: str) -> ItemVersion:
            return ItemVersion.objects.get(
                status=ItemStatus.PUBLISHED,
                item__region__code=region,
                item__entry__name="公共场所卫生许可",
            )

        assert public_health_permit("430902").legal_limit == 880
        assert public_health_permit("430903").legal_limit == 20
        assert public_health_permit(catalogue_demo.COUNTY_CODE).legal_limit == 20

    # --- search words and loading again ---
    def test_synonyms_for_everyday_words(self, catalogue):
        synonyms = dict(Synonym.objects.values_list("term", "expansion"))

        assert len(synonyms) >= 30
        assert "食品经营许可" in synonyms["开饭店"]
        assert synonyms["开公司"] == "公司设立登记"
        assert "不动产转移登记" in synonyms["买二手房"]

    def test_loading_twice_changes_nothing(self, catalogue):
        before = _counts()

        again = catalogue_demo.load_demo_catalogue()

        assert catalogue.changed and catalogue.items >= 100
        assert not again.changed and catalogue_demo.is_loaded()
        assert _counts() == before


class TestLoading:
    def test_it_loads_the_organisation_when_missing(self, db):
        assert not Region.objects.exists() and not catalogue_demo.is_loaded()

        result = catalogue_demo.load_demo_catalogue()

        assert result.items >= 100
        assert Region.objects.filter(code=catalogue_demo.COUNTY_CODE).exists()

    def test_the_command_prints_a_chinese_summary(self, demo):
        first, second = StringIO(), StringIO()

        call_command("demo-catalog", stdout=first)
        call_command("demo-catalog", stdout=second)

        assert "已载入演示事项目录" in first.getvalue()
        assert "沅江市（430981）：已发布事项 91 个，涉及 16 个部门" in first.getvalue()
        assert "一件事 7 个：开办企业一件事" in first.getvalue()
        assert second.getvalue().startswith("演示事项目录已存在，未作改动。")


@pytest.mark.django_db
def test_make_runs_if_empty_never_puts_the_demo_on_a_real_organisation(capsys):
    from django.core.management import call_command

    from tongban.catalog.models import CatalogEntry
    from tongban.org.tests.factories import UserFactory

    UserFactory(username="real-admin")  # a real deployment: its own accounts, no demo organisation
    call_command("demo-catalog", "--if-empty")

    assert "未载入演示事项目录" in capsys.readouterr().out
    assert not CatalogEntry.objects.exists()
