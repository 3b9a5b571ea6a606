"""The catalogue admin changes a published item: a draft, a refused value, publishing, history."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tongban.catalog.tests.factories import make_version
from tongban.org import demo
from tongban.org.models import Department, Region


def test_the_catalogue_admin_publishes_a_new_version_of_an_item(
    page: Page, demo_org: list[demo.DemoLogin], sign_in: Callable[..., None]
) -> None:
    # given 食品经营许可 of 沅江市, published as version 1 with a promised limit of 10 days
    county = Region.objects.get(code=demo.COUNTY_CODE)
    market = Department.objects.get(region=county, code="SCJG")
    item = make_version(
        region=county,
        department=market,
        content={"name": "食品经营许可", "legal_limit": 20, "promised_limit": 10},
    ).item
    sign_in("shixiang")

    # when the catalogue admin opens the item and starts a draft
    page.goto(f"/items/manage/{item.pk}/")
    expect(page.get_by_role("heading", name="食品经营许可", exact=True)).to_be_visible()
    expect(page.get_by_test_id("item-key-elements")).to_contain_text("承诺 10 个工作日")
    expect(page.get_by_role("link", name="查看公开的办事指南")).to_have_attribute(
        "href", f"/items/{item.local_code}/"
    )
    page.get_by_role("button", name="创建新版本草稿").click()

    # then the draft form opens on version 2
    expect(page).to_have_url(f"/items/manage/{item.pk}/draft/")
    expect(page.get_by_role("heading", level=1)).to_have_text("编辑草稿：食品经营许可（第 2 版）")
    expect(page.get_by_test_id("draft-steps")).to_contain_text("审查决定")
    expect(page.get_by_role("link", name="目录导入导出（Excel）")).to_be_visible()

    # when a pre-review limit above the law's five days is typed with a shorter promised limit
    page.get_by_label("承诺办结时限").fill("5")
    page.get_by_label("网上预审时限（工作日）").fill("6")
    page.get_by_role("button", name="保存草稿").click()

    # then the error stands next to the field and what was typed is kept
    expect(page.locator('[data-field="prereview_limit"]')).to_contain_text(
        "网上预审时限不能超过 5 个工作日"
    )
    expect(page.get_by_label("承诺办结时限")).to_have_value("5")

    # when the pre-review limit is corrected, the draft saved and published
    page.get_by_label("网上预审时限（工作日）").fill("2")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("status")).to_have_text("草稿已保存。")
    page.get_by_role("button", name="发布", exact=True).click()

    # then the item page shows version 2 published and version 1 kept as history
    expect(page).to_have_url(f"/items/manage/{item.pk}/")
    expect(page.get_by_role("status")).to_have_text("已发布第 2 版；第 1 版转为历史版本。")
    versions = page.get_by_test_id("item-versions")
    expect(versions.locator('tr[data-version="2"]')).to_contain_text("已发布")
    expect(versions.locator('tr[data-version="1"]')).to_contain_text("历史版本")
    expect(page.get_by_test_id("item-key-elements")).to_contain_text("承诺 5 个工作日")
    expect(page.get_by_test_id("item-events")).to_contain_text("发布版本（第 2 版）")

    # when the item is suspended without a reason, then with one
    page.get_by_role("button", name="暂停办理").click()
    expect(page.locator('[data-field="reason"]')).to_have_text("请填写暂停办理的原因。")
    page.get_by_label("暂停办理的原因").fill("设定依据已废止")
    page.get_by_role("button", name="暂停办理").click()

    # then the version is suspended and the reason is on record
    expect(page.get_by_role("status")).to_have_text("第 2 版已暂停办理。")
    expect(versions.locator('tr[data-version="2"]')).to_contain_text("暂停办理")
    expect(page.get_by_test_id("item-events")).to_contain_text(
        "暂停办理（第 2 版）：设定依据已废止"
    )
