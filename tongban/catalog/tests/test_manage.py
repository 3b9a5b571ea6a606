"""The catalogue admin's item pages: versions, the draft, publishing and suspending."""

from __future__ import annotations

import pytest

from tongban.catalog.models import ItemStatus, ItemVersion
from tongban.catalog.tests.factories import make_version
from tongban.core.selectors import event_list_for
from tongban.org.models import Department, Region, User
from tongban.org.tests.factories import CountyFactory, DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def food(demo) -> ItemVersion:
    """食品经营许可 of 沅江市's market regulator, published as version 1."""
    return make_version(
        region=Region.objects.get(code="430981"),
        department=Department.objects.get(short_name="市场监管局"),
        content={"name": "食品经营许可", "legal_limit": 20, "promised_limit": 10},
    )


@pytest.fixture
def admin_client(client, demo):
    client.force_login(User.objects.get(username="shixiang"))
    return client


def draft_data(**changes):
    """What the draft form posts for an unchanged 食品经营许可, with `changes` on top."""
    data = {
        "name": "食品经营许可",
        "implementing_body": "沅江市市场监督管理局",
        "legal_limit": "20",
        "promised_limit": "10",
        "limit_unit": "working",
        "prereview_limit": "1",
        "extension_days": "0",
        "claimed_visits": "1",
        "online_depth": "offline",
        "for_natural_person": "on",
        "delivery_window": "on",
        "conditions": "",
        "office_address": "沅江市政务服务中心二楼",
        "office_phone": "0737-2722345",
        "office_hours": "",
        "guide_reviewed_at": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_admin_starts_a_draft_edits_it_and_publishes_it(admin_client, food):
    item = food.item
    # given the item page with version 1 published
    page = admin_client.get(f"/items/manage/{item.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "食品经营许可" in html and item.local_code in html
    assert "承诺 10 个工作日" in html and "法定 20 个工作日" in html
    assert "创建新版本草稿" in html and f'href="/items/{item.local_code}/"' in html

    # when a draft is started
    response = admin_client.post(f"/items/manage/{item.pk}/draft/start/")

    # then the draft form opens on version 2, and the item page offers to edit it
    assert response.status_code == 302
    assert response["Location"] == f"/items/manage/{item.pk}/draft/"
    assert "编辑草稿" in admin_client.get(f"/items/manage/{item.pk}/").content.decode()

    # when the promised limit is shortened to 5 days
    response = admin_client.post(f"/items/manage/{item.pk}/draft/", draft_data(promised_limit="5"))

    # then the draft holds it, and the published version does not
    assert response.status_code == 302
    draft = item.versions.get(version=2)
    assert draft.status == ItemStatus.DRAFT and draft.promised_limit == 5
    food.refresh_from_db()
    assert food.promised_limit == 10

    # when a pre-review limit of 6 days is typed with another change
    response = admin_client.post(
        f"/items/manage/{item.pk}/draft/",
        draft_data(promised_limit="4", prereview_limit="6", office_hours="工作日 9:00-17:00"),
    )

    # then the page says why, next to the field, keeps what was typed and saves nothing
    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="error" data-field="prereview_limit">网上预审时限不能超过 5 个工作日' in html
    assert 'name="promised_limit" value="4"' in html
    assert 'value="工作日 9:00-17:00"' in html
    draft.refresh_from_db()
    assert draft.promised_limit == 5 and draft.prereview_limit == 1

    # when the draft is published
    response = admin_client.post(f"/items/manage/{item.pk}/draft/publish/", follow=True)

    # then version 2 is published, version 1 is history, and the admin is told so
    assert response.redirect_chain == [(f"/items/manage/{item.pk}/", 302)]
    html = response.content.decode()
    assert "已发布第 2 版；第 1 版转为历史版本。" in html
    assert 'data-version="2" data-status="published"' in html
    assert 'data-version="1" data-status="superseded"' in html
    assert "承诺 5 个工作日" in html
    statuses = dict(item.versions.values_list("version", "status"))
    assert statuses == {1: ItemStatus.SUPERSEDED, 2: ItemStatus.PUBLISHED}
    kinds = [e.kind for e in event_list_for(subject=item)]
    assert kinds[-3:] == [
        "catalog.draft_started",
        "catalog.draft_updated",
        "catalog.version_published",
    ]
    assert "发布版本（第 2 版）" in html


def test_an_approver_may_not_manage_items(client, food):
    client.force_login(User.objects.get(username="shenpi"))

    assert client.get(f"/items/manage/{food.item.pk}/").status_code == 403
    assert client.post(f"/items/manage/{food.item.pk}/draft/start/").status_code == 403
    assert not food.item.versions.filter(status=ItemStatus.DRAFT).exists()


def test_an_item_outside_the_admins_region_is_not_found(admin_client, demo):
    elsewhere = CountyFactory(code="430902", name="资阳区")
    other = make_version(region=elsewhere, department=DepartmentFactory(region=elsewhere))

    assert admin_client.get(f"/items/manage/{other.item.pk}/").status_code == 404
    assert admin_client.post(f"/items/manage/{other.item.pk}/draft/start/").status_code == 404
    assert not other.item.versions.filter(status=ItemStatus.DRAFT).exists()


def test_state_changes_are_post_only(admin_client, food):
    assert admin_client.get(f"/items/manage/{food.item.pk}/draft/start/").status_code == 405
    assert admin_client.get(f"/items/manage/{food.item.pk}/draft/publish/").status_code == 405
    assert admin_client.get(f"/items/manage/{food.item.pk}/suspend/").status_code == 405


def test_suspending_needs_a_reason(admin_client, food):
    item = food.item
    # when suspended without a reason
    response = admin_client.post(f"/items/manage/{item.pk}/suspend/", {"reason": "  "})

    # then nothing changes and the page asks for the reason
    assert response.status_code == 200
    assert (
        '<p class="error" data-field="reason">请填写暂停办理的原因。</p>'
        in response.content.decode()
    )
    food.refresh_from_db()
    assert food.status == ItemStatus.PUBLISHED

    # when a reason is given
    response = admin_client.post(
        f"/items/manage/{item.pk}/suspend/", {"reason": "设定依据已废止"}, follow=True
    )

    # then the version is suspended and the reason is in the item's record
    html = response.content.decode()
    assert "第 1 版已暂停办理。" in html and "暂停办理（第 1 版）：设定依据已废止" in html
    food.refresh_from_db()
    assert food.status == ItemStatus.SUSPENDED


def test_the_draft_page_without_a_draft_sends_the_admin_back(admin_client, food):
    response = admin_client.get(f"/items/manage/{food.item.pk}/draft/", follow=True)

    assert response.redirect_chain == [(f"/items/manage/{food.item.pk}/", 302)]
    assert "该事项目前没有草稿" in response.content.decode()


def test_a_draft_without_steps_is_not_published(admin_client, demo):
    draft = make_version(
        publish=False,
        region=Region.objects.get(code="430981"),
        department=Department.objects.get(short_name="民政局"),
        children={"steps": []},
    )

    response = admin_client.post(f"/items/manage/{draft.item.pk}/draft/publish/", follow=True)

    assert response.redirect_chain == [(f"/items/manage/{draft.item.pk}/draft/", 302)]
    assert "发布前请至少设置一个办理环节。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == ItemStatus.DRAFT
