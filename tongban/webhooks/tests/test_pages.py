"""The webhook pages: who sees what, the create form's errors, and replaying from the list."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tongban.core.models import Event
from tongban.org.models import Department, User
from tongban.webhooks import services
from tongban.webhooks.models import DeliveryStatus, WebhookEndpoint

from .factories import WebhookEndpointFactory, case_event

pytestmark = pytest.mark.django_db

MARKET = "沅江市市场监督管理局"
POLICE = "沅江市公安局"


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def endpoints(demo):
    market = WebhookEndpointFactory(department=Department.objects.get(name=MARKET), name="审批系统")
    police = WebhookEndpointFactory(department=Department.objects.get(name=POLICE), name="户政系统")
    return market, police


@pytest.fixture
def failed_deliveries(endpoints, django_capture_on_commit_callbacks):
    """One failed delivery per endpoint (nobody listens at the factory's URL)."""
    with (
        override_settings(WEBHOOK_MAX_ATTEMPTS=1),
        django_capture_on_commit_callbacks(execute=True),
    ):
        deliveries = services.webhooks_enqueue(
            departments=[e.department for e in endpoints], event=case_event(), body={}
        )
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED
    return {d.endpoint.department.name: d for d in deliveries}


def test_the_sysadmin_sees_every_endpoint_of_the_county_and_its_secret(endpoints):
    market, _ = endpoints
    client = client_for("admin")

    page = client.get(reverse("webhooks:index")).content.decode()
    detail = client.get(reverse("webhooks:endpoint_detail", args=[market.pk])).content.decode()

    assert "审批系统" in page and "户政系统" in page and "新增推送地址" in page
    assert market.secret in detail and "停用" in detail


def test_a_department_head_sees_their_own_department_only(endpoints, failed_deliveries):
    market, police = endpoints
    client = client_for("fuzeren")

    page = client.get(reverse("webhooks:index")).content.decode()

    assert "审批系统" in page and "户政系统" not in page
    assert "新增推送地址" not in page
    assert str(failed_deliveries[MARKET].delivery_id) in page
    assert str(failed_deliveries[POLICE].delivery_id) not in page
    own = client.get(reverse("webhooks:endpoint_detail", args=[market.pk])).content.decode()
    assert market.secret not in own
    police_delivery = failed_deliveries[POLICE].delivery_id
    assert client.get(reverse("webhooks:endpoint_detail", args=[police.pk])).status_code == 404
    assert (
        client.get(reverse("webhooks:delivery_detail", args=[police_delivery])).status_code == 404
    )
    assert (
        client.post(reverse("webhooks:delivery_replay", args=[police_delivery])).status_code == 404
    )
    assert client.get(reverse("webhooks:endpoint_new")).status_code == 403


@pytest.mark.parametrize("username", ["shenpi", "chuangkou", "jiancha"])
def test_other_roles_have_no_webhook_pages(endpoints, username):
    assert client_for(username).get(reverse("webhooks:index")).status_code == 403


def test_the_delivery_page_shows_attempts_status_and_error(failed_deliveries):
    delivery = failed_deliveries[MARKET]

    page = (
        client_for("fuzeren")
        .get(reverse("webhooks:delivery_detail", args=[delivery.delivery_id]))
        .content.decode()
    )

    assert str(delivery.delivery_id) in page
    assert "投递失败" in page
    assert "无法连接接收地址" in page
    assert "重新投递" in page


def test_replay_from_the_list_keeps_the_delivery_id(
    failed_deliveries, django_capture_on_commit_callbacks, receiver
):
    delivery = failed_deliveries[MARKET]
    WebhookEndpoint.objects.filter(pk=delivery.endpoint.pk).update(url=receiver.url)
    client = client_for("fuzeren")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:delivery_replay", args=[delivery.delivery_id]))

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert receiver.requests[0].headers["X-Tongban-Delivery"] == str(delivery.delivery_id)
    page = client.get(response.url).content.decode()
    assert "已重新投递" in page


def test_replay_needs_a_post_with_the_csrf_token(failed_deliveries):
    delivery = failed_deliveries[MARKET]
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="fuzeren"))
    url = reverse("webhooks:delivery_replay", args=[delivery.delivery_id])

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_the_sysadmin_creates_an_endpoint(demo):
    client = client_for("admin")
    market = Department.objects.get(name=MARKET)

    response = client.post(
        reverse("webhooks:endpoint_new"),
        {
            "department": market.pk,
            "name": "审批系统",
            "url": "https://scjg.example.gov.cn/tongban/hook",
            "kinds": "case.accepted\ncase.completed",
        },
    )

    endpoint = WebhookEndpoint.objects.get(name="审批系统")
    assert response.url == reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    assert endpoint.department == market
    assert endpoint.kinds == ["case.accepted", "case.completed"]
    assert len(endpoint.secret) == 64
    assert Event.objects.filter(kind="webhook_endpoint.created", actor__username="admin").exists()
    assert "请把签名密钥配置到部门系统中" in client.get(response.url).content.decode()


def test_the_create_form_says_when_a_new_endpoint_starts_receiving(demo, settings):
    settings.WEBHOOK_ENDPOINT_CACHE_SECONDS = 5
    page = client_for("admin").get(reverse("webhooks:endpoint_new")).content.decode()

    assert "新地址在 5 秒内开始接收推送。" in page


def test_the_create_form_names_what_is_wrong_in_chinese(endpoints):
    market, _ = endpoints

    response = client_for("admin").post(
        reverse("webhooks:endpoint_new"),
        {"department": market.department.pk, "name": "审批系统", "url": "ftp://x", "kinds": "案件"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="url"' in page and "输入一个有效的 URL" in page
    assert 'data-field="kinds"' in page and "无法识别的事件类型：案件" in page

    response = client_for("admin").post(
        reverse("webhooks:endpoint_new"),
        {"department": market.department.pk, "name": "审批系统", "url": "https://a.example/h"},
    )
    assert "该部门已有同名的推送地址。" in response.content.decode()
    assert WebhookEndpoint.objects.filter(name="审批系统").count() == 1


def test_the_sysadmin_pauses_an_endpoint(endpoints):
    market, _ = endpoints
    client = client_for("admin")

    client.post(reverse("webhooks:endpoint_set_active", args=[market.pk]), {"active": "0"})

    market.refresh_from_db()
    assert not market.active
    assert Event.objects.filter(kind="webhook_endpoint.deactivated").exists()
    head = client_for("fuzeren")
    response = head.post(reverse("webhooks:endpoint_set_active", args=[market.pk]), {"active": "1"})
    assert response.status_code == 403


def test_an_endpoint_cannot_be_created_for_a_department_outside_ones_region(demo):
    from tongban.org.tests.factories import DepartmentFactory, ProvinceFactory

    elsewhere = DepartmentFactory(region=ProvinceFactory(code="44", name="广东省"))

    with pytest.raises(services.PermissionDeniedError):
        services.webhook_endpoint_create(
            department=elsewhere,
            name="x",
            url="https://a.example/h",
            actor=User.objects.get(username="admin"),
        )
