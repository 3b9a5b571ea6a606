"""The catalogue admin's home: the items of the departments in scope, with versions and limits."""

from __future__ import annotations

import pytest

from tongban.catalog import services
from tongban.catalog.tests.factories import make_version
from tongban.org.models import Department, Region, User

pytestmark = pytest.mark.django_db


def test_the_list_shows_published_versions_drafts_and_filters_by_department(client, demo):
    county = Region.objects.get(code="430981")
    market = Department.objects.get(short_name="市场监管局")
    police = Department.objects.get(short_name="公安局")
    food = make_version(
        region=county, department=market, content={"name": "食品经营许可", "promised_limit": 5}
    )
    make_version(
        region=county, department=police, content={"name": "公章刻制备案", "promised_limit": 0}
    )
    services.item_draft_start(actor=None, item=food.item)
    client.force_login(User.objects.get(username="shixiang"))

    page = client.get("/catalogue/").content.decode()
    only_police = client.get("/catalogue/", {"department": police.pk}).content.decode()

    assert "共 2 个事项" in page and "食品经营许可" in page and "第 2 版" in page
    assert "即办件" in page
    assert "公章刻制备案" in only_police and "食品经营许可" not in only_police
