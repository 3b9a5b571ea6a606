"""GET /api/v1/metrics/indicators and /claimed-vs-actual: figures, who sees what, Chinese errors."""

from __future__ import annotations

import pytest
from django.test import Client

from tongban.metrics import rollup
from tongban.org.models import Role
from tongban.org.tests.factories import CountyFactory, RoleAssignmentFactory, UserFactory

from .factories import County, make_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def county() -> County:
    county = make_county()
    # The factory moved one case's dates without an event: only a rebuild sees that.
    rollup.rollup_rebuild()
    return county


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def supervisor_of(code_region) -> object:
    user = UserFactory()
    RoleAssignmentFactory(user=user, role=Role.SUPERVISOR, region=code_region)
    return user


def period(county: County) -> dict[str, str]:
    return {"from": county.start.isoformat(), "to": county.end.isoformat()}


def by_key(body: dict) -> dict[str, dict]:
    return {f["key"]: f for f in body["figures"]}


def test_a_supervisor_gets_every_figure_of_their_region(county):
    client = client_of(supervisor_of(county.world.main.region))
    response = client.get("/api/v1/metrics/indicators", period(county))
    assert response.status_code == 200
    body = response.json()
    assert body["scope"]["region"] == county.world.main.region.code
    figures = by_key(body)
    assert figures["on_time_rate"] == {
        "key": "on_time_rate",
        "name": "按时办结率",
        "numerator": 2,
        "denominator": 3,
        "value": pytest.approx(2 / 3),
        "unit": "ratio",
        "target": 0.99,
        "meets_target": False,
        "higher_is_better": True,
    }
    assert figures["accepted_count"]["numerator"] == 6
    assert figures["online_rate"]["denominator"] == 6


def test_keys_and_filters_narrow_the_answer(county):
    client = client_of(supervisor_of(county.world.main.region))
    response = client.get(
        "/api/v1/metrics/indicators",
        {**period(county), "channel": "online", "keys": "accepted_count,online_rate"},
    )
    figures = by_key(response.json())
    assert list(figures) == ["accepted_count", "online_rate"]
    assert figures["online_rate"]["value"] == 1.0


def test_a_department_user_sees_their_department_and_nothing_else(county):
    client = client_of(county.world.approver)  # an approver of world.main
    mine = client.get("/api/v1/metrics/indicators", period(county))
    assert mine.status_code == 200
    assert mine.json()["scope"]["department"] == county.world.main.pk
    assert by_key(mine.json())["accepted_count"]["numerator"] == 6
    other = client.get(
        "/api/v1/metrics/indicators", {**period(county), "department": county.world.other.pk}
    )
    assert other.status_code == 404
    whole_county = client.get(
        "/api/v1/metrics/indicators",
        {**period(county), "region": county.world.main.region.code},
    )
    assert whole_county.status_code == 404


def test_a_supervisor_elsewhere_cannot_see_this_county(county):
    neighbour = CountyFactory(code="430921", name="南县")
    client = client_of(supervisor_of(neighbour))
    response = client.get(
        "/api/v1/metrics/indicators",
        {**period(county), "region": county.world.main.region.code},
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到请求的对象。"


def test_someone_without_a_role_that_sees_figures_is_refused(county):
    response = client_of(county.world.citizen).get("/api/v1/metrics/indicators")
    assert response.status_code == 403
    assert response.json()["detail"] == "您无权查看统计指标。"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"from": "2026-13-01"}, "from", "起始日期（from）应为 YYYY-MM-DD"),
        ({"to": "昨天"}, "to", "截止日期（to）应为 YYYY-MM-DD"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "from", "不能晚于截止日期"),
        ({"channel": "fax"}, "channel", "online 或 window"),
        ({"keys": "speed"}, "keys", "未知的指标：speed"),
    ],
)
def test_bad_parameters_are_refused_in_chinese_naming_the_field(county, query, field, words):
    client = client_of(supervisor_of(county.world.main.region))
    response = client.get("/api/v1/metrics/indicators", query)
    assert response.status_code == 422
    assert words in response.json()["errors"][field][0]


def test_claimed_vs_actual_lists_the_item_with_its_flags(county):
    client = client_of(supervisor_of(county.world.main.region))
    response = client.get("/api/v1/metrics/claimed-vs-actual", period(county))
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["item_id"] == county.world.item.item_id
    assert (item["cases"], item["claimed_visits"], item["p90_visits"]) == (3, 1, 3)
    assert item["flags"] and "跑动" in item["flags"][0]


def test_claimed_vs_actual_checks_dates_too(county):
    client = client_of(supervisor_of(county.world.main.region))
    response = client.get("/api/v1/metrics/claimed-vs-actual", {"from": "x"})
    assert response.status_code == 422
    assert "from" in response.json()["errors"]
