"""The catalogue as an Excel workbook: the round trip, the import's all-or-nothing checks, the
command and the exchange page."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from tongban.catalog import services
from tongban.catalog.models import (
    Bundle,
    BundleItem,
    CatalogEntry,
    EntryLevel,
    Fee,
    FieldMapping,
    FormField,
    ItemKind,
    ItemStatus,
    ItemVersion,
    LifeStage,
    MaterialRequirement,
    ProcessStep,
    ServiceItem,
    SpecialProcedure,
    Synonym,
)
from tongban.catalog.search import search
from tongban.catalog.xlsx import catalog_export, catalog_export_bytes, catalog_import
from tongban.org.models import Role
from tongban.org.tests.factories import CountyFactory, DepartmentFactory, RoleAssignmentFactory

from .factories import make_version

pytestmark = pytest.mark.django_db

CATALOGUE_MODELS = [
    CatalogEntry,
    ServiceItem,
    ItemVersion,
    MaterialRequirement,
    ProcessStep,
    FormField,
    Fee,
    SpecialProcedure,
    Bundle,
    BundleItem,
    FieldMapping,
    Synonym,
]


def build_catalogue() -> dict[str, Any]:
    """A small catalogue that uses every column: three levels of entries, an item with every
    element set away from its default, a 即办件, a bundle with prerequisites and a field mapping."""
    county = CountyFactory()
    market = DepartmentFactory(region=county, code="SCJGJ", name="沅江市市场监督管理局")
    tax = DepartmentFactory(region=county, code="SWJ", name="沅江市税务局")
    city_office = DepartmentFactory(region=county.parent, code="SSPJ", name="益阳市审批局")
    main = services.entry_create(
        code="000123",
        name="食品经营许可",
        kind=ItemKind.LICENSE,
        legal_basis="《中华人民共和国食品安全法》第三十五条",
    )
    sub = services.entry_create(
        code="000123-01",
        name="食品经营许可（新办）",
        kind=ItemKind.LICENSE,
        level=EntryLevel.SUB,
        parent=main,
    )
    handling = services.entry_create(
        code="000123-01-01",
        name="食品经营许可（新办，仅销售预包装食品）",
        kind=ItemKind.LICENSE,
        level=EntryLevel.HANDLING,
        parent=sub,
    )
    services.entry_create(code="000999", name="高龄津贴申领", kind=ItemKind.PAYMENT)
    invoice = services.entry_create(code="000456", name="发票领用", kind=ItemKind.PUBLIC_SERVICE)
    food = make_version(
        entry=sub,
        region=county,
        department=market,
        content={
            "name": "食品经营许可（新办）",
            "implementing_body": "沅江市市场监督管理局",
            "legal_limit": 20,
            "promised_limit": 5,
            "limit_unit": "natural",
            "prereview_limit": 3,
            "extension_allowed": True,
            "extension_days": 10,
            "claimed_visits": 0,
            "online_depth": "full_online",
            "for_natural_person": False,
            "for_legal_person": True,
            "conditions": "1. 具有与经营的食品品种相适应的场所；\n2. 有食品安全管理人员。",
            "delivery_window": False,
            "delivery_mail": True,
            "delivery_electronic": True,
            "tolerance_allowed": True,
            "commitment_allowed": True,
            "cross_region_scope": "national",
            "result_type": "certificate",
            "result_name": "食品经营许可证",
            "certificate_type": "SPJYXKZ",
            "office_address": "沅江市政务服务中心二楼 12 号窗口",
            "office_phone": "0737-2222222",
            "office_hours": "周一至周五 8:30-12:00，14:30-17:30",
            "guide_reviewed_at": dt.date(2026, 3, 1),
        },
        children={
            "materials": [
                {
                    "name": "营业执照",
                    "material_type": "business-licence",
                    "form": "electronic",
                    "source": "certificate",
                    "certificate_type": "YYZZ",
                },
                {
                    "name": "食品安全管理制度",
                    "material_type": "food-safety-rules",
                    "necessity": "conditional",
                    "condition": "经营散装食品的",
                    "form": "copy",
                    "copies": 2,
                    "tolerable": True,
                    "blank_form": "catalog/forms/food-rules.docx",
                    "sample": "catalog/samples/food-rules.pdf",
                    "notes": "=须加盖公章",  # text, not a formula
                },
            ],
            "steps": [
                {"order": 1, "name": "受理", "limit": 1, "role": "window_clerk"},
                {
                    "order": 2,
                    "name": "现场核查",
                    "limit": 3,
                    "department": market,
                    "parallel_group": 1,
                },
                {
                    "order": 3,
                    "name": "联合审查",
                    "limit": 3,
                    "department": city_office,
                    "parallel_group": 1,
                },
                {"order": 4, "name": "决定", "limit": 1, "role": "department_head"},
            ],
            "form_fields": [
                {"key": "credit_code", "label": "统一社会信用代码", "field_type": "credit_code"},
                {
                    "key": "business_kind",
                    "label": "经营项目",
                    "field_type": "choice",
                    "choices": ["预包装食品销售", "散装食品销售", "热食类食品制售"],
                    "required": False,
                    "help_text": "可多选的请分别申请",
                },
                {
                    "key": "area",
                    "label": "经营面积",
                    "field_type": "number",
                    "validation": {"min": 1, "max": 100000},
                },
            ],
            "fees": [
                {"name": "工本费", "standard": "不收费", "legal_basis": ""},
                {
                    "name": "检验费",
                    "standard": "按实际检验项目收取",
                    "legal_basis": "湘发改价费〔2020〕1号",
                },
            ],
            "special_procedures": [
                {"kind": "inspection", "counts_in_limit": False, "max_days": 20},
                {"kind": "hearing", "counts_in_limit": True},
            ],
        },
    )
    shop = make_version(
        entry=handling,
        region=county,
        department=market,
        content={"promised_limit": 0, "declared_immediate": True, "legal_limit": None},
    )
    receipts = make_version(entry=invoice, region=county, department=tax)
    bundle = services.bundle_create(
        actor=None,
        code="YJS-KFD",
        name="开饭店",
        region=county,
        stage=LifeStage.ENTERPRISE,
        promised_limit=8,
        items=[food.item, shop.item, receipts.item],
        depends_on={receipts.item: [food.item, shop.item], shop.item: [food.item]},
        mappings=[(food.item, "credit_code", receipts.item, "credit_code")],
        description="一次申请，办好开饭店需要的许可和发票。",
        review_months=12,
        status=ItemStatus.PUBLISHED,
    )
    services.synonym_set(term="开饭店", expansion="食品经营许可 餐饮服务")
    services.synonym_set(term="领发票", expansion="发票领用")
    return {
        "county": county,
        "market": market,
        "food": food,
        "shop": shop,
        "receipts": receipts,
        "bundle": bundle,
    }


def flush_catalogue() -> None:
    """Empty every catalogue table (the regions and departments stay)."""
    Bundle.objects.all().delete()
    ItemVersion.objects.all().delete()
    ServiceItem.objects.all().delete()
    for level in (EntryLevel.HANDLING, EntryLevel.SUB, EntryLevel.MAIN):
        CatalogEntry.objects.filter(level=level).delete()
    Synonym.objects.all().delete()
    assert all(model.objects.count() == 0 for model in CATALOGUE_MODELS)


def cells(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}


def _plain(obj: Any, exclude: set[str]) -> dict[str, Any]:
    values = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude or f.primary_key:
            continue
        value = getattr(obj, f.name)
        if f.is_relation:
            value = None if value is None else str(getattr(value, "code", None) or value.pk)
            if f.name == "department" and value is not None:
                value = (obj.department.region.code, obj.department.code)
        elif f.get_internal_type() == "FileField":
            value = value.name
        values[f.name] = value
    return values


def catalogue_values() -> dict[str, Any]:
    """Every catalogue field value, with rows named by their codes instead of their ids."""
    versions = []
    for version in ItemVersion.objects.order_by("item__local_code"):
        item = version.item
        versions.append(
            {
                "item": (item.region.code, item.department.code, item.local_code, item.entry.code),
                "version": _plain(version, {"item", "created_at", "created_by", "published_at"}),
                "children": {
                    name: [_plain(c, {"version"}) for c in getattr(version, name).order_by("id")]
                    for name in services.CHILDREN
                },
            }
        )
    bundles = []
    for bundle in Bundle.objects.order_by("code"):
        members = bundle.members.order_by("order")
        bundles.append(
            {
                "bundle": _plain(bundle, set()),
                "members": [
                    (
                        m.order,
                        m.item.local_code,
                        sorted(d.item.local_code for d in m.depends_on.all()),
                    )
                    for m in members
                ],
                "mappings": [
                    (f.source.item.local_code, f.source_key, f.target.item.local_code, f.target_key)
                    for f in bundle.field_mappings.order_by("id")
                ],
            }
        )
    return {
        "entries": [_plain(e, set()) for e in CatalogEntry.objects.order_by("code")],
        "versions": versions,
        "bundles": bundles,
        "synonyms": [_plain(s, set()) for s in Synonym.objects.order_by("term")],
    }


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CATALOGUE_MODELS}


def edit(data: bytes, changes: list[tuple[str, int, str, Any]]) -> bytes:
    """The workbook with cells changed: (sheet, row, column header, new value)."""
    workbook = load_workbook(io.BytesIO(data))
    for sheet, row, header, value in changes:
        worksheet = workbook[sheet]
        headers = [c.value for c in worksheet[1]]
        worksheet.cell(row=row, column=headers.index(header) + 1).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def row_of(data: bytes, sheet: str, header: str, value: str) -> int:
    worksheet = load_workbook(io.BytesIO(data))[sheet]
    column = [c.value for c in worksheet[1]].index(header)
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if row[column] == value:
            return number
    raise AssertionError(f"{value} not in {sheet}")


class TestRoundTrip:
    def test_export_then_import_into_an_empty_catalogue_loses_nothing(self):
        # given a catalogue that uses every column, exported
        build_catalogue()
        before = catalogue_values()
        first = catalog_export_bytes()

        # when the catalogue is emptied and the workbook imported
        flush_catalogue()
        report = catalog_import(actor=None, file=first)

        # then every value is back, and a second export has the same cells
        assert report.errors == [] and report.saved
        assert catalogue_values() == before
        assert cells(catalog_export_bytes()) == cells(first)

    def test_imported_items_and_bundles_can_be_searched(self):
        build_catalogue()
        data = catalog_export_bytes()
        flush_catalogue()

        catalog_import(actor=None, file=data)

        names = {r.name for r in search("食品经营许可")}
        assert {"食品经营许可（新办）", "开饭店"} <= names

    def test_the_workbook_has_every_sheet_with_chinese_labels(self):
        build_catalogue()

        sheets = cells(catalog_export_bytes())

        assert list(sheets) == [
            "基本目录",
            "实施清单",
            "申请材料",
            "办理环节",
            "表单字段",
            "收费项目",
            "特别程序",
            "一件事",
            "一件事事项",
            "字段映射",
            "同义词",
        ]
        items = [
            dict(zip(sheets["实施清单"][0], row, strict=True)) for row in sheets["实施清单"][1:]
        ]
        food = next(i for i in items if i["事项名称"] == "食品经营许可（新办）")
        assert (food["区划代码"], food["部门代码"], food["承诺办结时限"]) == ("430981", "SCJGJ", 5)
        assert (food["网办深度"], food["时限单位"], food["窗口领取"]) == (
            "全程网办",
            "自然日",
            "否",
        )
        members = sheets["一件事事项"]
        assert members[0] == ("一件事编码", "顺序", "区划代码", "实施编码", "前置事项")
        assert members[3][4].count("、") == 1  # 发票领用 waits for both permits

    def test_a_cell_starting_with_an_equals_sign_stays_text(self):
        build_catalogue()

        workbook: Workbook = catalog_export()

        notes = workbook["申请材料"]["O"]  # 填报须知
        assert notes[0].value == "填报须知"
        assert [(c.value, c.data_type) for c in notes if (c.value or "").startswith("=")] == [
            ("=须加盖公章", "s")
        ]

    def test_a_region_export_has_only_that_regions_items_and_their_entries(self):
        built = build_catalogue()
        other = DepartmentFactory(region=built["county"].parent, code="SJ")
        make_version(region=built["county"].parent, department=other)

        sheets = cells(
            catalog_export_bytes(versions=ItemVersion.objects.filter(item__region=built["county"]))
        )

        assert {row[0] for row in sheets["实施清单"][1:]} == {"430981"}
        assert {row[0] for row in sheets["基本目录"][1:]} == {
            "000123",
            "000123-01",
            "000123-01-01",
            "000456",
        }
        assert [row[0] for row in sheets["一件事"][1:]] == ["YJS-KFD"]


class TestImportChecks:
    def test_a_bad_workbook_reports_every_bad_cell_and_saves_nothing(self):
        # given an exported catalogue with mistakes typed into it
        built = build_catalogue()
        data = catalog_export_bytes()
        food_row = row_of(data, "实施清单", "事项名称", "食品经营许可（新办）")
        shop_code = built["shop"].item.local_code
        shop_row = row_of(data, "实施清单", "实施编码", shop_code)
        receipts_member = row_of(data, "一件事事项", "实施编码", built["receipts"].item.local_code)
        food_member = row_of(data, "一件事事项", "实施编码", built["food"].item.local_code)
        bad = edit(
            data,
            [
                ("实施清单", food_row, "承诺办结时限", "五天"),
                ("实施清单", food_row, "网上预审时限", 7),
                ("实施清单", shop_row, "区划代码", "439999"),
                ("基本目录", 2, "事项类型", "行政审批"),
                ("申请材料", 2, "材料名称", None),
                ("办理环节", 3, "实施编码", "NO-SUCH-ITEM"),
                ("一件事事项", food_member, "前置事项", built["receipts"].item.local_code),
                ("实施清单", food_row, "可以延期", "可以"),
            ],
        )
        flush_catalogue()
        counts_before = row_counts()

        # when it is imported
        report = catalog_import(actor=None, file=bad)

        # then every mistake is named by sheet, row and column, and nothing was saved
        messages = [str(e) for e in report.errors]
        assert (
            f"实施清单 第 {food_row} 行 “承诺办结时限” 列：应为不小于 0 的整数，实际为“五天”。"
            in messages
        )
        assert any(
            m.startswith(f"实施清单 第 {food_row} 行 “网上预审时限” 列：应为 1 至 5 之间的整数")
            for m in messages
        )
        assert (
            f"实施清单 第 {shop_row} 行 “区划代码” 列：没有区划代码为“439999”的区划。" in messages
        )
        assert any(
            m.startswith("基本目录 第 2 行 “事项类型” 列：应为以下之一：行政许可") for m in messages
        )
        assert "申请材料 第 2 行 “材料名称” 列：必须填写，实际为空。" in messages
        assert any(
            m.startswith("办理环节 第 3 行 “实施编码” 列：实施清单中没有区划代码为")
            for m in messages
        )
        assert (
            f"实施清单 第 {food_row} 行 “可以延期” 列：应为“是”或“否”，实际为“可以”。" in messages
        )
        cycle = [m for m in messages if "前置关系形成循环" in m]
        assert cycle and all(m.startswith("一件事事项 第 ") for m in cycle)
        assert any(f"第 {receipts_member} 行" in m or f"第 {food_member} 行" in m for m in cycle)
        assert not report.saved
        assert report.summary == f"导入失败：共 {len(report.errors)} 处错误，没有保存任何内容。"
        assert row_counts() == counts_before

    def test_a_bad_row_among_good_ones_keeps_the_good_ones_out_too(self):
        build_catalogue()
        before = row_counts()
        data = edit(catalog_export_bytes(), [("同义词", 2, "对应事项用语", "")])

        report = catalog_import(actor=None, file=data)

        assert [str(e) for e in report.errors] == [
            "同义词 第 2 行 “对应事项用语” 列：必须填写，实际为空。"
        ]
        assert row_counts() == before

    def test_unknown_department_and_missing_or_unknown_columns_are_reported(self):
        build_catalogue()
        data = edit(catalog_export_bytes(), [("实施清单", 2, "部门代码", "NOPE")])
        workbook = load_workbook(io.BytesIO(data))
        workbook["收费项目"].delete_cols(4)  # 收费标准
        workbook["同义词"].cell(row=1, column=3).value = "备注"
        out = io.BytesIO()
        workbook.save(out)

        messages = [str(e) for e in catalog_import(actor=None, file=out.getvalue()).errors]

        assert (
            "实施清单 第 2 行 “部门代码” 列：区划 430981（沅江市）中没有部门代码为“NOPE”的部门。"
            in messages
        )
        assert "收费项目 第 1 行 “收费标准” 列：缺少这一必填列。" in messages
        assert "同义词 第 1 行 “备注” 列：不是“同义词”表的列。" in messages

    def test_a_file_that_is_not_a_workbook_is_refused(self):
        report = catalog_import(actor=None, file=b"not a spreadsheet")

        assert [str(e) for e in report.errors] == ["无法读取该文件：请上传 Excel 工作簿（.xlsx）。"]


class TestImportChanges:
    def test_re_importing_an_unchanged_workbook_changes_nothing(self):
        build_catalogue()
        data = catalog_export_bytes()
        before, values = row_counts(), catalogue_values()

        report = catalog_import(actor=None, file=data)

        assert report.saved and {c.action_label for c in report.changes} == {"未变化"}
        assert row_counts() == before
        assert catalogue_values() == values

    def test_a_changed_promised_limit_publishes_version_2_and_keeps_version_1(self):
        # given a published item whose promised limit is changed in the workbook
        built = build_catalogue()
        food = built["food"]
        data = catalog_export_bytes()
        row = row_of(data, "实施清单", "实施编码", food.item.local_code)
        changed = edit(data, [("实施清单", row, "承诺办结时限", 3)])

        # when the workbook is imported
        report = catalog_import(actor=None, file=changed)

        # then the item has a second, published version and the first is history
        assert report.saved
        versions = {v.version: v for v in food.item.versions.all()}
        assert (versions[1].status, versions[1].promised_limit) == (ItemStatus.SUPERSEDED, 5)
        assert (versions[2].status, versions[2].promised_limit) == (ItemStatus.PUBLISHED, 3)
        assert [m.name for m in versions[2].materials.all()] == ["营业执照", "食品安全管理制度"]
        actions = {(c.sheet, c.name): c.action_label for c in report.changes}
        assert actions[("实施清单", "食品经营许可（新办）")] == "更新"
        assert list(actions.values()).count("更新") == 1
        assert ItemVersion.objects.filter(item=built["shop"].item).count() == 1

    def test_a_new_item_a_changed_bundle_and_a_new_synonym(self):
        built = build_catalogue()
        data = catalog_export_bytes()
        workbook = load_workbook(io.BytesIO(data))
        item_row = list(next(workbook["实施清单"].iter_rows(min_row=2, values_only=True)))
        item_row[2] = "430981-NEW"
        workbook["实施清单"].append(item_row)
        workbook["办理环节"].append(["430981", "430981-NEW", 1, "受理并决定"])
        workbook["一件事事项"].append(["YJS-KFD", 3, "430981", "430981-NEW", None])
        workbook["同义词"].append(["开小卖部", "食品经营许可"])
        out = io.BytesIO()
        workbook.save(out)

        report = catalog_import(actor=None, file=out.getvalue())

        assert report.saved, [str(e) for e in report.errors]
        new = ServiceItem.objects.get(local_code="430981-NEW")
        version = new.versions.get()
        assert (version.status, version.steps.get().name) == (ItemStatus.PUBLISHED, "受理并决定")
        assert built["bundle"].members.count() == 4
        assert Synonym.objects.get(term="开小卖部").expansion == "食品经营许可"
        counts = dict(report.counts())
        assert counts["实施清单"] == {"created": 1, "changed": 0, "unchanged": 3}
        assert counts["一件事"] == {"created": 0, "changed": 1, "unchanged": 0}


class TestCommand:
    def test_export_then_import_with_a_dry_run_first(self, tmp_path: Path):
        build_catalogue()
        path = tmp_path / "目录.xlsx"
        out = io.StringIO()
        call_command("catalog", "export", str(path), "--region", "430981", stdout=out)
        assert "已导出" in out.getvalue()
        flush_catalogue()

        dry = io.StringIO()
        call_command("catalog", "import", str(path), "--dry-run", stdout=dry)
        assert "预览（尚未保存）" in dry.getvalue() and ServiceItem.objects.count() == 0

        done = io.StringIO()
        call_command("catalog", "import", str(path), stdout=done)
        assert "导入完成。" in done.getvalue()
        assert "实施清单：新增 3，更新 0，未变化 0" in done.getvalue()
        assert ServiceItem.objects.count() == 3

    def test_a_bad_workbook_fails_with_every_error_printed(self, tmp_path: Path):
        build_catalogue()
        path = tmp_path / "bad.xlsx"
        path.write_bytes(edit(catalog_export_bytes(), [("实施清单", 2, "承诺办结时限", "五天")]))
        err = io.StringIO()

        with pytest.raises(CommandError, match="没有保存任何内容"):
            call_command("catalog", "import", str(path), stderr=err)

        assert (
            "实施清单 第 2 行 “承诺办结时限” 列：应为不小于 0 的整数，实际为“五天”。"
            in err.getvalue()
        )


def page_text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


class TestPage:
    @pytest.fixture
    def admin(self, settings, tmp_path: Path) -> Client:
        settings.MEDIA_ROOT = tmp_path
        assignment = RoleAssignmentFactory(role=Role.CATALOGUE_ADMIN, region=CountyFactory())
        client = Client()
        client.force_login(assignment.user)
        return client

    def test_upload_preview_then_confirm(self, admin: Client, tmp_path: Path):
        # given a workbook exported by the page, with one promised limit changed
        built = build_catalogue()
        page = page_text(admin.get("/items/exchange/"))
        assert "下载事项目录（.xlsx）" in page and "上传并预览" in page
        download = admin.get("/items/exchange/download/")
        assert download.status_code == 200
        data = b"".join(download.streaming_content)
        row = row_of(data, "实施清单", "实施编码", built["food"].item.local_code)
        changed = edit(data, [("实施清单", row, "承诺办结时限", 2)])

        # when it is uploaded
        preview = admin.post(
            "/items/exchange/",
            {"action": "preview", "file": SimpleUploadedFile("目录.xlsx", changed)},
        )

        # then the preview says what would change, and nothing has yet
        text = page_text(preview)
        assert "预览（尚未保存）" in text and "确认导入" in text
        assert "食品经营许可（新办） 更新" in text
        assert built["food"].item.versions.count() == 1
        token = re.search(r'name="token" value="([^"]+)"', preview.content.decode()).group(1)

        # when confirmed, the stored upload is re-read and imported
        done = admin.post("/items/exchange/", {"action": "confirm", "token": token})

        assert "导入完成。" in page_text(done)
        assert built["food"].item.versions.get(status=ItemStatus.PUBLISHED).promised_limit == 2
        assert list((tmp_path / "catalog-imports").iterdir()) == []
        again = admin.post("/items/exchange/", {"action": "confirm", "token": token})
        assert "上传的文件已失效" in page_text(again)

    def test_a_bad_upload_lists_every_error_and_offers_no_confirm(self, admin: Client):
        build_catalogue()
        bad = edit(catalog_export_bytes(), [("实施清单", 2, "承诺办结时限", "五天")])

        response = admin.post(
            "/items/exchange/", {"action": "preview", "file": SimpleUploadedFile("x.xlsx", bad)}
        )

        text = page_text(response)
        assert "导入失败：共 1 处错误" in text
        assert "实施清单 2 承诺办结时限 应为不小于 0 的整数，实际为“五天”。" in text
        assert "确认导入" not in text

    def test_items_outside_the_admins_region_are_refused(self, admin: Client):
        build_catalogue()
        data = catalog_export_bytes()
        other = CountyFactory(code="430902", name="资阳区")
        DepartmentFactory(region=other, code="SCJGJ")
        moved = edit(data, [("实施清单", 2, "区划代码", "430902")])

        text = page_text(
            admin.post(
                "/items/exchange/",
                {"action": "preview", "file": SimpleUploadedFile("x.xlsx", moved)},
            )
        )

        assert "区划 430902（资阳区）不在您的管理范围内。" in text

    def test_an_approver_may_not_use_the_page(self, client: Client):
        department = DepartmentFactory()
        assignment = RoleAssignmentFactory(
            role=Role.APPROVER, region=department.region, department=department
        )
        client.force_login(assignment.user)

        assert client.get("/items/exchange/").status_code == 403
        assert client.get("/items/exchange/download/").status_code == 403
