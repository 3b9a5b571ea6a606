"""Public guides (办事指南): what an applicant reads on the page and in the printed PDF."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import resolve, reverse

from tongban.catalog import services
from tongban.catalog.guides import limit_text
from tongban.catalog.models import ItemVersion, LifeStage
from tongban.org.tests.factories import CountyFactory, DepartmentFactory

from .factories import CatalogEntryFactory, make_version

pytestmark = pytest.mark.django_db

FOOD_MATERIALS = [
    {
        "name": "食品经营许可申请书",
        "material_type": "food-application",
        "form": "original",
        "copies": 2,
        "notes": "须由法定代表人签字",
        "blank_form": "catalog/forms/food-application.docx",
        "sample": "catalog/samples/food-application-sample.pdf",
    },
    {
        "name": "营业执照",
        "material_type": "business-licence",
        "form": "electronic",
        "source": "certificate",
    },
    {
        "name": "食品安全管理制度文本",
        "material_type": "food-safety-rules",
        "necessity": "conditional",
        "condition": "经营冷藏冷冻食品的",
        "tolerable": True,
    },
]


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    for name in ("forms/food-application.docx", "samples/food-application-sample.pdf"):
        path = tmp_path / "catalog" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"blank form of " + name.encode())
    return tmp_path


@pytest.fixture
def food_licence(media: Path) -> ItemVersion:
    """食品经营许可, published twice: version 1 promised 10 days and asked for a paper list."""
    entry = CatalogEntryFactory(
        name="食品经营许可",
        legal_basis="《中华人民共和国食品安全法》第三十五条",
    )
    first = make_version(
        entry=entry,
        content={
            "name": "食品经营许可",
            "promised_limit": 10,
            "office_phone": "0737-1111111",
        },
        children={"materials": [{"name": "旧版场所平面图", "material_type": "floor-plan"}]},
    )
    draft = services.item_draft_start(actor=None, item=first.item)
    services.version_update(
        actor=None,
        version=draft,
        content={
            "legal_limit": 20,
            "promised_limit": 3,
            "conditions": "具有与经营的食品品种、数量相适应的经营场所。",
            "claimed_visits": 0,
            "online_depth": "full_online",
            "delivery_mail": True,
            "delivery_electronic": True,
            "tolerance_allowed": True,
            "office_address": "沅江市政务服务中心一楼 12 号窗口",
            "office_hours": "工作日 9:00—17:00",
            "office_phone": "0737-2222222",
        },
        children={
            "materials": FOOD_MATERIALS,
            "steps": [
                {"order": 1, "name": "受理", "limit": 1},
                {"order": 2, "name": "现场核查", "limit": 2, "parallel_group": 1},
                {"order": 3, "name": "材料审查", "limit": 1, "parallel_group": 1},
                {"order": 4, "name": "决定", "limit": 1},
            ],
            "special_procedures": [{"kind": "site_check", "max_days": 5}],
        },
    )
    return services.version_publish(actor=None, version=draft)


def guide_url(version: ItemVersion, name: str = "catalog:item_guide") -> str:
    return reverse(name, kwargs={"local_code": version.item.local_code})


def text_of(response) -> str:
    """The page's text as a reader sees it: every tag a space, whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class TestItemGuidePage:
    def test_an_anonymous_visitor_reads_the_published_guide(self, client, food_licence):
        # when
        response = client.get(guide_url(food_licence))

        # then
        assert response.status_code == 200
        text = text_of(response)
        for expected in [
            "食品经营许可",
            "行政许可",
            "《中华人民共和国食品安全法》第三十五条",
            "具有与经营的食品品种、数量相适应的经营场所。",
            "食品经营许可申请书",
            "须由法定代表人签字",
            "营业执照 必要 电子材料 1 电子证照库调取",
            "适用情形：经营冷藏冷冻食品的",
            "可容缺",
            "法定办结时限 20 个工作日",
            "承诺办结时限 3 个工作日",
            "不收费",
            "0 次（零跑动）",
            "全程网办",
            "窗口领取、邮寄送达、电子送达",
            "沅江市政务服务中心一楼 12 号窗口",
            "0737-2222222",
            "现场勘验，最长 5 个工作日，不计入办结时限",
            "第 2 版",
            "扫码在手机上查看",
        ]:
            assert expected in text, expected

    def test_a_superseded_version_never_shows(self, client, food_licence):
        # when
        text = text_of(client.get(guide_url(food_licence)))

        # then: version 1's promise, material and phone are history
        assert "10 个工作日" not in text
        assert "旧版场所平面图" not in text
        assert "0737-1111111" not in text

    def test_parallel_steps_are_shown_running_together(self, client, food_licence):
        # when
        text = text_of(client.get(guide_url(food_licence)))

        # then
        assert "以下环节同时办理（并联审批），共 2 个工作日 现场核查" in text
        assert (
            text.index("受理")
            < text.index("现场核查")
            < text.index("材料审查")
            < text.index("决定")
        )

    def test_an_immediate_item_with_a_fee_says_so(self, client):
        # given
        version = make_version(
            content={"name": "居民身份证换领", "promised_limit": 0, "legal_limit": None},
            children={
                "fees": [
                    {
                        "name": "证件工本费",
                        "standard": "每证 20 元",
                        "legal_basis": "发改价格〔2003〕2322号",
                    }
                ]
            },
        )

        # when
        response = client.get(guide_url(version))

        # then
        text = text_of(response)
        assert "即办件" in text
        assert "即办（当场办结）" in text
        assert "法定办结时限 法律未规定" in text
        assert "证件工本费 每证 20 元 发改价格〔2003〕2322号" in text
        assert "不收费" not in text

    def test_the_blank_form_and_sample_download_from_the_guide(self, client, food_licence):
        # given
        page = client.get(guide_url(food_licence)).content.decode()
        material = food_licence.materials.get(name="食品经营许可申请书")
        blank = reverse(
            "catalog:material_file",
            kwargs={
                "local_code": food_licence.item.local_code,
                "material_id": material.pk,
                "kind": "blank-form",
            },
        )
        assert f'href="{blank}"' in page
        assert "示例样表" in page

        # when
        response = client.get(blank)

        # then
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"blank form of forms/food-application.docx"

    def test_a_superseded_versions_material_file_is_not_served(self, client, food_licence):
        # given: a material of version 1
        old = ItemVersion.objects.get(item=food_licence.item, version=1).materials.get()
        url = reverse(
            "catalog:material_file",
            kwargs={
                "local_code": food_licence.item.local_code,
                "material_id": old.pk,
                "kind": "blank-form",
            },
        )

        # when / then
        assert client.get(url).status_code == 404

    def test_the_page_shows_a_qr_code_without_inline_styles(self, client, food_licence):
        # when
        response = client.get(guide_url(food_licence))

        # then
        page = response.content.decode()
        assert re.search(r'<svg viewBox="[^"]+" class="guide-qr-code">', page)
        assert "style=" not in page
        assert "<script>" not in page

    def test_unknown_codes_and_unpublished_items_are_a_chinese_404(self, client):
        # given
        draft = make_version(publish=False)

        # when
        responses = [
            client.get(guide_url(draft)),
            client.get(guide_url(draft, "catalog:item_guide_pdf")),
            client.get(reverse("catalog:item_guide", kwargs={"local_code": "NO-SUCH-CODE"})),
            client.get(reverse("catalog:bundle_guide", kwargs={"code": "NO-SUCH-BUNDLE"})),
        ]

        # then
        assert [r.status_code for r in responses] == [404, 404, 404, 404]
        assert "页面不存在" in responses[0].content.decode()

    def test_a_suspended_item_has_no_guide(self, client):
        # given
        version = make_version()
        services.version_suspend(actor=None, version=version, reason="系统升级")

        # when / then
        assert client.get(guide_url(version)).status_code == 404

    def test_two_regions_sharing_a_local_code_each_have_their_guide(self, client):
        # given
        here = make_version(content={"name": "本县的事项"})
        other_region = CountyFactory(code="430902", name="资阳区")
        entry = CatalogEntryFactory()
        there = services.item_create(
            actor=None,
            entry=entry,
            region=other_region,
            department=DepartmentFactory(region=other_region),
            local_code=here.item.local_code,
            content={"name": "邻区的事项", "promised_limit": 5},
            children={"steps": [{"order": 1, "name": "受理"}]},
        )
        services.version_publish(actor=None, version=there)

        # when
        url = guide_url(here)
        mine = client.get(url, {"region": here.item.region.code})
        theirs = client.get(url, {"region": "430902"})

        # then
        assert "本县的事项" in text_of(mine)
        assert "邻区的事项" in text_of(theirs)
        assert f"?region={here.item.region.code}" in mine.content.decode()  # the PDF link and QR


@pytest.fixture
def opening_a_business(db):
    """开办企业: the licence first, then the seal and the social insurance together."""
    region = CountyFactory()
    licence = make_version(
        region=region,
        content={"name": "公司设立登记", "promised_limit": 1},
        children={
            "materials": [
                {"name": "法定代表人身份证", "material_type": "id-card"},
                {"name": "公司章程", "material_type": "articles"},
            ],
            "form_fields": [
                {"key": "company_name", "label": "企业名称"},
                {"key": "legal_rep_id", "label": "法定代表人证件号码", "field_type": "id_number"},
            ],
        },
    )
    seal = make_version(
        region=region,
        content={"name": "印章刻制备案", "promised_limit": 0},
        children={
            "materials": [{"name": "经办人身份证", "material_type": "id-card"}],
            "form_fields": [
                {"key": "company_name", "label": "企业名称"},
                {"key": "seal_count", "label": "印章数量", "field_type": "number"},
            ],
        },
    )
    insurance = make_version(
        region=region,
        content={"name": "社会保险登记", "promised_limit": 1},
        children={
            "materials": [{"name": "身份证", "material_type": "id-card"}],
            "form_fields": [{"key": "company_name", "label": "企业名称"}],
        },
    )
    return services.bundle_create(
        actor=None,
        code="KBQY",
        name="开办企业",
        region=region,
        stage=LifeStage.ENTERPRISE,
        promised_limit=3,
        status="published",
        items=[licence.item, seal.item, insurance.item],
        depends_on={seal.item: [licence.item], insurance.item: [licence.item]},
    )


class TestBundleGuidePage:
    def test_items_are_listed_in_their_start_waves(self, client, opening_a_business):
        # when
        response = client.get(reverse("catalog:bundle_guide", kwargs={"code": "KBQY"}))

        # then
        assert response.status_code == 200
        text = text_of(response)
        assert "第 1 批 公司设立登记" in text
        assert "第 2 批（同时办理） 印章刻制备案" in text
        assert text.index("印章刻制备案") < text.index("社会保险登记")
        assert "承诺办结时限 3 个工作日（一件事整体）" in text

    def test_a_shared_material_is_listed_once_for_every_item(self, client, opening_a_business):
        # when
        text = text_of(client.get(reverse("catalog:bundle_guide", kwargs={"code": "KBQY"})))

        # then
        assert "一份材料，多个事项共用" in text
        assert "法定代表人身份证 必要 公司设立登记、印章刻制备案、社会保险登记" in text
        assert "经办人身份证" not in text  # the same material type: one upload serves all
        assert text.count("企业名称") == 1
        assert "印章数量 数字 必填" in text

    def test_a_suspended_member_is_named_but_asks_for_nothing(self, client, opening_a_business):
        # given
        seal = opening_a_business.members.get(order=1).item
        services.version_suspend(
            actor=None, version=seal.versions.get(status="published"), reason="系统升级"
        )

        # when
        text = text_of(client.get(reverse("catalog:bundle_guide", kwargs={"code": "KBQY"})))

        # then
        assert "暂停办理" in text
        assert "印章数量" not in text

    def test_a_draft_bundle_has_no_guide(self, client, opening_a_business):
        # given
        opening_a_business.status = "draft"
        opening_a_business.save()

        # when / then
        assert (
            client.get(reverse("catalog:bundle_guide", kwargs={"code": "KBQY"})).status_code == 404
        )


requires_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "pdffonts", "zbarimg")),
    reason="poppler-utils 和 zbar-tools 未安装",
)


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


@requires_poppler
class TestGuidePdf:
    @pytest.fixture
    def pdf(self, client, food_licence, tmp_path: Path) -> Path:
        response = client.get(guide_url(food_licence, "catalog:item_guide_pdf"))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        path = tmp_path / "guide.pdf"
        path.write_bytes(response.content)
        self.response = response
        return path

    def test_the_pdf_reads_back_the_current_guide(self, pdf: Path):
        # when
        text = " ".join(run("pdftotext", pdf, "-").split())

        # then
        for expected in [
            "食品经营许可",
            "食品经营许可申请书",
            "营业执照",
            "法定办结时限 20 个工作日",
            "承诺办结时限 3 个工作日",
            "不收费",
            "第 2 版",
            "生成日期",
        ]:
            assert expected in text, expected
        assert "第1页/共2页" in text.replace(" ", "")
        assert "旧版场所平面图" not in text

    def test_the_fonts_are_embedded(self, pdf: Path):
        # when
        lines = run("pdffonts", pdf).splitlines()[2:]

        # then: every font, Noto CJK included, travels with the document
        assert any("Noto-Sans-CJK-SC" in line for line in lines)
        assert all(line.split()[-5] == "yes" for line in lines), lines

    def test_the_qr_code_leads_to_the_guide_page(self, pdf: Path, food_licence):
        # given
        run("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", pdf, pdf.with_suffix(""))
        (page,) = pdf.parent.glob("guide*.png")

        # when
        decoded = run("zbarimg", "--raw", "-q", page).strip()

        # then
        assert decoded == f"http://testserver{guide_url(food_licence)}"

    def test_it_downloads_with_a_chinese_file_name(self, pdf: Path):
        # then
        disposition = self.response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E5%8A%9E%E4%BA%8B%E6%8C%87%E5%8D%97-" in disposition  # 办事指南-
        assert "no-cache" in self.response["Cache-Control"]

    def test_a_bundle_pdf_lists_its_waves_and_merged_materials(
        self, client, opening_a_business, tmp_path: Path
    ):
        # when
        response = client.get(reverse("catalog:bundle_guide_pdf", kwargs={"code": "KBQY"}))
        path = tmp_path / "bundle.pdf"
        path.write_bytes(response.content)
        text = " ".join(run("pdftotext", path, "-").split())

        # then
        assert response.status_code == 200
        assert "开办企业" in text
        assert "第 2 批（同时办理）" in text
        assert text.count("法定代表人身份证") == 1


@pytest.mark.parametrize(
    ("days", "unit", "shown"),
    [
        (20, "working", "20 个工作日"),
        (30, "natural", "30 个自然日"),
        (0, "working", "即办（当场办结）"),
        (None, "working", "法律未规定"),
    ],
)
def test_a_limit_is_shown_with_its_unit(days, unit, shown):
    assert limit_text(days, unit) == shown


def test_the_other_catalogue_pages_are_not_taken_for_item_codes():
    # when / then: /items/audit/ is the audit, not the guide of an item coded "audit"
    assert resolve("/items/audit/").url_name == "audit"
    assert resolve("/items/exchange/").url_name == "exchange"
    assert resolve("/items/430981-00001/").url_name == "item_guide"
