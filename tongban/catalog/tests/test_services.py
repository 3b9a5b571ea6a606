"""Items in versions, bundles and their merged forms: what a catalogue admin and a case notice."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tongban.catalog import selectors, services
from tongban.catalog.formschema import FieldSpec, form_class_for, spec_of, validate_submission
from tongban.catalog.models import ItemStatus, ItemVersion, LifeStage
from tongban.core.selectors import event_list_for

from .factories import make_version

pytestmark = pytest.mark.django_db


class TestVersions:
    def test_publishing_a_change_keeps_the_old_version_for_its_cases(self):
        first = make_version(content={"promised_limit": 10})
        draft = services.item_draft_start(actor=None, item=first.item)

        services.version_update(actor=None, version=draft, content={"promised_limit": 3})
        published = services.version_publish(actor=None, version=draft)

        first.refresh_from_db()
        assert (first.status, first.promised_limit) == (ItemStatus.SUPERSEDED, 10)
        assert (published.version, published.status, published.promised_limit) == (
            2,
            ItemStatus.PUBLISHED,
            3,
        )
        assert [m.name for m in published.materials.all()] == ["申请人身份证"]
        assert (
            first.materials.count() == 1 and first.steps.count() == 2
        )  # history keeps its children
        kinds = [e.kind for e in event_list_for(subject=first.item)]
        assert kinds == [
            "catalog.item_created",
            "catalog.version_published",
            "catalog.draft_started",
            "catalog.draft_updated",
            "catalog.version_published",
        ]

    def test_published_history_cannot_be_edited(self):
        version = make_version()
        with pytest.raises(ValidationError, match="只能修改草稿版本"):
            services.version_update(actor=None, version=version, content={"promised_limit": 1})

    def test_the_database_refuses_two_published_versions(self):
        version = make_version()
        copy = ItemVersion.objects.get(pk=version.pk)
        copy.pk, copy.version = None, 2
        with pytest.raises(IntegrityError), transaction.atomic():
            copy.save()

    def test_a_pre_review_limit_beyond_the_law_is_refused(self):
        with pytest.raises(ValidationError):
            make_version(content={"prereview_limit": 6})

    def test_a_bad_child_row_is_named_and_nothing_is_saved(self):
        with pytest.raises(ValidationError) as error:
            make_version(
                children={
                    "materials": [
                        {"name": "营业执照", "material_type": "licence", "necessity": "conditional"}
                    ]
                }
            )
        assert "申请材料第 1 项" in error.value.messages[0]
        assert not ItemVersion.objects.exists()

    def test_suspending_and_resuming(self):
        version = make_version()
        services.version_suspend(actor=None, version=version, reason="上位法修订")
        resumed = services.version_publish(actor=None, version=version)
        assert resumed.status == ItemStatus.PUBLISHED


class TestBundles:
    def _opening_a_business(self):
        licence = make_version(
            children={
                "form_fields": [
                    {"key": "company_name", "label": "企业名称", "field_type": "text"},
                    {
                        "key": "legal_person_id",
                        "label": "法定代表人身份证号码",
                        "field_type": "id_number",
                    },
                ],
                "materials": [{"name": "法定代表人身份证", "material_type": "id-card"}],
            }
        )
        region, department = licence.item.region, licence.item.department
        seal = make_version(
            region=region,
            department=department,
            children={
                "form_fields": [
                    {
                        "key": "company_name",
                        "label": "企业名称",
                        "field_type": "text",
                        "required": False,
                    },
                    {
                        "key": "credit_code",
                        "label": "统一社会信用代码",
                        "field_type": "credit_code",
                    },
                ],
                "materials": [
                    {
                        "name": "法定代表人身份证（复印件）",
                        "material_type": "id-card",
                        "form": "copy",
                    },
                    {"name": "印章式样", "material_type": "seal-sample"},
                ],
            },
        )
        invoice = make_version(
            region=region,
            department=department,
            children={
                "form_fields": [
                    {"key": "credit_code", "label": "统一社会信用代码", "field_type": "credit_code"}
                ],
            },
        )
        bundle = services.bundle_create(
            actor=None,
            code="KBQY",
            name="开办企业",
            region=region,
            stage=LifeStage.ENTERPRISE,
            promised_limit=3,
            items=[licence.item, seal.item, invoice.item],
            depends_on={seal.item: [licence.item], invoice.item: [licence.item]},
            mappings=[
                (licence.item, "credit_code", seal.item, "credit_code"),
                (licence.item, "credit_code", invoice.item, "credit_code"),
            ],
        )
        return bundle, licence, seal, invoice

    def test_one_form_and_one_set_of_materials(self):
        bundle, *_ = self._opening_a_business()

        form = selectors.bundle_merged_form(bundle=bundle)
        materials = selectors.bundle_merged_materials(bundle=bundle)

        # company_name asked once (required, since the licence requires it); credit_code not asked:
        # the business licence produces it.
        assert [(f.key, f.required) for f in form] == [
            ("company_name", True),
            ("legal_person_id", True),
        ]
        assert [(m.material_type, len(m.items)) for m in materials] == [
            ("id-card", 3),
            ("seal-sample", 1),
        ]

    def test_a_certificate_the_bundle_issues_is_not_asked_for(self):
        licence = make_version(
            content={"result_type": "certificate", "certificate_type": "CN-BUSINESS-LICENCE"}
        )
        seal = make_version(
            region=licence.item.region,
            department=licence.item.department,
            children={
                "materials": [
                    {
                        "name": "营业执照",
                        "material_type": "business-licence",
                        "source": "certificate",
                        "certificate_type": "CN-BUSINESS-LICENCE",
                    },
                    {"name": "印章式样", "material_type": "seal-sample"},
                ]
            },
        )
        bundle = services.bundle_create(
            actor=None,
            code="KZ",
            name="刻章",
            region=licence.item.region,
            stage=LifeStage.ENTERPRISE,
            promised_limit=2,
            items=[licence.item, seal.item],
            depends_on={seal.item: [licence.item]},
        )

        materials = selectors.bundle_merged_materials(bundle=bundle)

        assert [m.material_type for m in materials] == ["id-card", "seal-sample"]

    def test_items_start_in_waves(self):
        bundle, licence, seal, invoice = self._opening_a_business()
        waves = selectors.bundle_start_waves(bundle=bundle)
        assert [[m.item for m in wave] for wave in waves] == [
            [licence.item],
            [seal.item, invoice.item],
        ]

    def test_a_dependency_cycle_is_refused(self):
        a = make_version()
        b = make_version(region=a.item.region, department=a.item.department)
        with pytest.raises(ValidationError, match="前置关系形成循环"):
            services.bundle_create(
                actor=None,
                code="LOOP",
                name="循环",
                region=a.item.region,
                stage=LifeStage.PERSON,
                promised_limit=5,
                items=[a.item, b.item],
                depends_on={a.item: [b.item], b.item: [a.item]},
            )


class TestFormSchema:
    SPECS = [
        FieldSpec("name", "姓名", "text", validation={"max_length": 4}),
        FieldSpec("id", "身份证号码", "id_number"),
        FieldSpec("area", "面积", "number", validation={"min": 1, "max": 500}),
        FieldSpec("opened", "开业日期", "date", required=False),
        FieldSpec("kind", "经营类别", "choice", choices=("餐饮", "零售")),
    ]

    def test_every_wrong_field_is_named_in_chinese(self):
        with pytest.raises(ValidationError) as error:
            validate_submission(
                self.SPECS,
                {
                    "name": "欧阳娜娜娜",
                    "id": "123",
                    "area": "0",
                    "opened": "31/01/2026",
                    "kind": "茶馆",
                },
            )
        assert error.value.message_dict == {
            "name": ["姓名不能超过 4 个字。"],
            "id": ["身份证号码应为 18 位。"],
            "area": ["面积不能小于 1。"],
            "opened": ["开业日期应为日期，格式如 2026-01-31。"],
            "kind": ["经营类别请从给定选项中选择。"],
        }

    def test_good_answers_are_cleaned_and_extra_keys_dropped(self):
        cleaned = validate_submission(
            self.SPECS,
            {
                "name": "张三",
                "id": "430981199503152021",
                "area": " 120.5 ",
                "kind": "餐饮",
                "hack": "x",
            },
        )
        assert cleaned == {
            "name": "张三",
            "id": "430981199503152021",
            "area": "120.5",
            "kind": "餐饮",
        }

    def test_missing_required_fields(self):
        with pytest.raises(ValidationError) as error:
            validate_submission(self.SPECS, {})
        assert error.value.message_dict["name"] == ["请填写姓名。"]
        assert "opened" not in error.value.message_dict


class TestApplicationForm:
    def test_the_schema_renders_a_form_that_validates_like_the_api(self):
        version = make_version(
            children={
                "form_fields": [
                    {"key": "shop_name", "label": "店铺名称", "field_type": "text"},
                    {"key": "opened", "label": "开业日期", "field_type": "date", "required": False},
                    {"key": "phone", "label": "联系电话", "field_type": "mobile"},
                    {
                        "key": "kind",
                        "label": "经营类别",
                        "field_type": "choice",
                        "choices": ["餐饮", "零售"],
                    },
                ]
            }
        )
        form_class = form_class_for([spec_of(f) for f in version.form_fields.all()])

        html = form_class().as_div()
        bad = form_class({"shop_name": "", "phone": "123", "kind": "餐饮"})
        good = form_class(
            {
                "shop_name": "湖湘小馆",
                "phone": "138 0013 8000",
                "kind": "餐饮",
                "opened": "2026-12-01",
            }
        )

        assert 'type="date"' in html and 'type="tel"' in html and "请选择" in html
        assert not bad.is_valid()
        assert bad.errors == {
            "shop_name": ["请填写店铺名称。"],
            "phone": ["手机号码应为 11 位数字，以 1 开头。"],
        }
        assert good.is_valid(), good.errors
        assert good.cleaned_data == {
            "shop_name": "湖湘小馆",
            "phone": "13800138000",
            "kind": "餐饮",
            "opened": "2026-12-01",
        }


class TestVersionRulesInWords:
    def test_contradictory_fields_are_named_in_chinese(self):
        draft = make_version(publish=False)
        with pytest.raises(ValidationError) as error:
            services.version_update(
                actor=None,
                version=draft,
                content={
                    "extension_allowed": False,
                    "extension_days": 10,
                    "for_natural_person": False,
                    "for_legal_person": False,
                },
            )
        assert error.value.message_dict == {
            "extension_days": ["未设置“可以延期”时，可延期天数应为 0。"],
            "for_natural_person": ["服务对象至少选择自然人或法人之一。"],
        }
