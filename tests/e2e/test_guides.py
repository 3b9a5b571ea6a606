"""Anyone, signed in or not, reads an item's guide on a phone and takes the PDF with them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tongban.catalog import services
from tongban.catalog.models import ItemVersion, LifeStage
from tongban.catalog.tests.factories import make_version

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def food_licence(transactional_db: None) -> ItemVersion:
    return make_version(
        content={
            "name": "食品经营许可",
            "legal_limit": 20,
            "promised_limit": 3,
            "conditions": "具有与经营的食品品种、数量相适应的经营场所、设备和管理制度。",
            "office_address": "沅江市政务服务中心一楼 12 号窗口（食品药品综合窗口）",
            "office_hours": "工作日上午 9:00—12:00，下午 13:30—17:00",
            "office_phone": "0737-2222222",
        },
        children={
            "materials": [
                {
                    "name": "食品经营许可申请书（含法定代表人签字和单位公章的全套表格）",
                    "material_type": "food-application",
                    "copies": 2,
                    "notes": "须由法定代表人签字；委托他人办理的，另附授权委托书和受托人身份证明。",
                },
                {"name": "营业执照", "material_type": "licence", "source": "certificate"},
            ],
            "steps": [
                {"order": 1, "name": "受理", "limit": 1},
                {"order": 2, "name": "现场核查", "limit": 2, "parallel_group": 1},
                {"order": 3, "name": "材料审查", "limit": 1, "parallel_group": 1},
                {"order": 4, "name": "决定", "limit": 1},
            ],
        },
    )


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_a_visitor_reads_a_guide_on_a_phone_and_downloads_the_pdf(
    new_page: Callable[..., Page], food_licence: ItemVersion
) -> None:
    # given: nobody is signed in
    page = new_page(viewport=PHONE)

    # when
    page.goto(f"/items/{food_licence.item.local_code}/")

    # then
    expect(page.get_by_role("heading", name="食品经营许可", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="申请材料")).to_be_visible()
    expect(page.get_by_text("承诺办结时限")).to_be_visible()
    expect(page.get_by_role("img", name="本页二维码")).to_be_visible()
    expect(page.get_by_text("扫码在手机上查看", exact=True)).to_be_visible()
    assert no_horizontal_scroll(page)

    # when
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载 PDF 办事指南").click()

    # then
    download = download_info.value
    assert download.suggested_filename == "办事指南-食品经营许可.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")


def test_a_bundle_guide_fits_a_phone_and_a_clerks_screen(
    new_page: Callable[..., Page], food_licence: ItemVersion
) -> None:
    # given
    licence = make_version(region=food_licence.item.region, content={"name": "公司设立登记"})
    services.bundle_create(
        actor=None,
        code="KFD",
        name="开饭店",
        region=food_licence.item.region,
        stage=LifeStage.ENTERPRISE,
        promised_limit=5,
        status="published",
        items=[licence.item, food_licence.item],
        depends_on={food_licence.item: [licence.item]},
    )

    for viewport in (PHONE, {"width": 1366, "height": 768}):
        # when
        page = new_page(viewport=viewport)
        page.goto("/items/bundles/KFD/")

        # then
        expect(page.get_by_role("heading", name="开饭店", level=1)).to_be_visible()
        expect(page.get_by_text("一份材料，多个事项共用")).to_be_visible()
        assert no_horizontal_scroll(page)

        # when: an item of the bundle leads to its own guide
        page.get_by_role("link", name="食品经营许可").click()

        # then
        expect(page.get_by_role("heading", name="食品经营许可", level=1)).to_be_visible()
