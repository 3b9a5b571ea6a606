"""Starting a case through the API, as the window's script and department systems do it many times a
second: the answer is the case as any later read shows it, every subscribed system hears of both
first events, the number counter counts on its own, and a token's account is what it is now."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tongban.cases import services
from tongban.cases.models import Case
from tongban.catalog import selectors as catalog_selectors
from tongban.catalog.models import ItemStatus, ItemVersion
from tongban.catalog.services import version_publish, version_suspend
from tongban.core.eventlog import verify_event_log
from tongban.org.tokens import api_token_create
from tongban.webhooks import services as webhook_services
from tongban.webhooks.models import WebhookDelivery, WebhookEndpoint
from tongban.webhooks.tests.factories import WebhookEndpointFactory

from .factories import FORM, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def token_client(user: Any) -> Client:
    _row, token = api_token_create(user=user, name="窗口脚本")
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token}"})


def window_payload(world: Any) -> dict[str, Any]:
    return {
        "item": world.item.pk,
        "applicant": {"id_number": world.applicant.id_number},
        "channel": "window",
        "hall_id": world.hall.pk,
        "form": FORM,
    }


def create(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/cases", body, content_type="application/json")


def test_the_create_answer_is_the_case_as_it_reads_back(world):
    clerk = token_client(world.clerk)

    created = create(clerk, window_payload(world))

    assert created.status_code == 201, created.content
    answer = created.json()
    read_back = clerk.get(f"/api/v1/cases/{answer['number']}")
    assert read_back.status_code == 200
    assert answer == read_back.json()
    assert [m["name"] for m in answer["materials"]] == ["申请书", "场所证明"]
    assert all(m["files"] == [] and m["status"] == "pending" for m in answer["materials"])
    assert [e["kind"] for e in answer["events"]] == ["case.created", "case.submitted"]
    assert answer["steps"] == [] and answer["extensions"] == []
    assert verify_event_log().intact


def test_a_clerk_outside_the_hall_is_refused_without_creating_anything(world):
    stranger = token_client(world.approver)

    refused = create(stranger, window_payload(world))

    assert refused.status_code == 422
    assert refused.json()["errors"]["hall_id"] == ["未知的大厅，或您不在该大厅工作。"]
    assert not Case.objects.exists()


def test_each_subscribed_system_hears_of_both_first_events_in_order(world):
    everything = WebhookEndpointFactory(department=world.main)
    submissions = WebhookEndpointFactory(department=world.main, kinds=["case.submitted"])
    WebhookEndpointFactory(department=world.main, active=False)
    WebhookEndpointFactory(department=world.other)
    clerk = token_client(world.clerk)

    number = create(clerk, window_payload(world)).json()["number"]

    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [(d.endpoint_id, d.event_kind) for d in deliveries] == [
        (everything.pk, "case.created"),
        (everything.pk, "case.submitted"),
        (submissions.pk, "case.submitted"),
    ]
    assert {d.body["data"]["case"]["number"] for d in deliveries} == {number}


def test_an_endpoint_added_or_switched_off_is_seen_by_the_next_case(world):
    clerk = token_client(world.clerk)
    create(clerk, window_payload(world))
    assert not WebhookDelivery.objects.exists()

    endpoint = WebhookEndpointFactory(department=world.main, kinds=["case.created"])
    create(clerk, window_payload(world))
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1

    endpoint.active = False
    endpoint.save()
    create(clerk, window_payload(world))
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


@pytest.mark.django_db(transaction=True)
def test_numbers_count_up_outside_and_inside_a_transaction():
    today = timezone.localdate()
    assert not connection.in_atomic_block

    first = services.case_number_next(region_code="430981", day=today)
    second = services.case_number_next(region_code="430981", day=today)
    with transaction.atomic():
        third = services.case_number_next(region_code="430981", day=today)
    other_region = services.case_number_next(region_code="430902", day=today)

    prefix = f"430981{today:%Y%m%d}"
    assert [first, second, third] == [f"{prefix}00001", f"{prefix}00002", f"{prefix}00003"]
    assert other_region == f"430902{today:%Y%m%d}00001"


class FakeClock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def _remembering(monkeypatch, settings, setting: str, module: Any, forget: Any):
    """Turn one of the per-process caches on, as in production, on a clock the test moves."""
    setattr(settings, setting, 5)
    clock = FakeClock()
    monkeypatch.setattr(module, "_clock", clock)
    forget()
    yield clock
    forget()


@pytest.fixture
def remembered(monkeypatch, settings):
    """Item versions remembered per process."""
    yield from _remembering(
        monkeypatch,
        settings,
        "ITEM_VERSION_CACHE_SECONDS",
        catalog_selectors,
        catalog_selectors.version_cache_forget,
    )


@pytest.fixture
def endpoints_remembered(monkeypatch, settings):
    """A department's endpoints remembered per process."""
    yield from _remembering(
        monkeypatch,
        settings,
        "WEBHOOK_ENDPOINT_CACHE_SECONDS",
        webhook_services,
        webhook_services.endpoint_cache_forget,
    )


def test_a_version_read_moments_ago_is_not_asked_for_again(world, remembered):
    clerk = token_client(world.clerk)
    assert create(clerk, window_payload(world)).status_code == 201

    with CaptureQueriesContext(connection) as queries:
        second = create(clerk, window_payload(world))

    assert second.status_code == 201, second.content
    assert not [q for q in queries if 'FROM "catalog_itemversion"' in q["sql"]]
    assert second.json()["title"] == world.item.name
    assert Case.objects.get(number=second.json()["number"]).version_id == world.item.pk


def test_a_version_suspended_here_takes_no_application_from_that_moment(world, remembered):
    clerk = token_client(world.clerk)
    assert create(clerk, window_payload(world)).status_code == 201

    version_suspend(actor=world.approver, version=world.item, reason="系统升级")
    refused = create(clerk, window_payload(world))

    assert refused.status_code == 422
    assert refused.json()["errors"] == {"item": ["该事项当前未发布，不能申请。"]}
    version_publish(actor=world.approver, version=ItemVersion.objects.get(pk=world.item.pk))
    assert create(clerk, window_payload(world)).status_code == 201
    assert Case.objects.count() == 2


def test_a_version_suspended_elsewhere_is_seen_within_the_cache_time(world, remembered):
    clerk = token_client(world.clerk)
    assert create(clerk, window_payload(world)).status_code == 201
    # Another process suspends it: this one is not told, and trusts what it read for
    # ITEM_VERSION_CACHE_SECONDS.
    ItemVersion.objects.filter(pk=world.item.pk).update(status=ItemStatus.SUSPENDED)

    remembered.at += 4.9
    assert create(clerk, window_payload(world)).status_code == 201
    remembered.at += 0.2
    refused = create(clerk, window_payload(world))
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"item": ["该事项当前未发布，不能申请。"]}


def test_with_no_cache_time_every_application_reads_its_version(world, remembered, settings):
    settings.ITEM_VERSION_CACHE_SECONDS = 0
    clerk = token_client(world.clerk)
    assert create(clerk, window_payload(world)).status_code == 201

    ItemVersion.objects.filter(pk=world.item.pk).update(status=ItemStatus.SUSPENDED)

    assert create(clerk, window_payload(world)).status_code == 422


def test_a_remembered_version_is_a_copy_for_each_caller(world, remembered):
    first = catalog_selectors.version_get(version_id=world.item.pk)
    assert first is not None
    first.name = "改过的名称"

    second = catalog_selectors.version_get(version_id=world.item.pk)

    assert second is not None and second is not first
    assert second.name == world.item.name
    assert second.item.department == world.main


def test_remembered_endpoints_are_not_asked_for_again_and_still_hear_of_every_case(
    world, endpoints_remembered
):
    endpoint = WebhookEndpointFactory(department=world.main, kinds=["case.created"])
    clerk = token_client(world.clerk)
    create(clerk, window_payload(world))

    with CaptureQueriesContext(connection) as queries:
        create(clerk, window_payload(world))

    assert not [q for q in queries if 'FROM "webhooks_webhookendpoint"' in q["sql"]]
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 2


def test_an_endpoint_saved_here_is_heard_by_the_next_case_within_the_cache_time(
    world, endpoints_remembered
):
    clerk = token_client(world.clerk)
    create(clerk, window_payload(world))

    endpoint = WebhookEndpointFactory(department=world.main, kinds=["case.created"])
    create(clerk, window_payload(world))
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1

    endpoint.active = False
    endpoint.save()
    create(clerk, window_payload(world))
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_an_endpoint_added_elsewhere_is_heard_after_the_cache_time(world, endpoints_remembered):
    clerk = token_client(world.clerk)
    create(clerk, window_payload(world))
    # Another process adds it (bulk_create sends no signal here, as that process's save would not).
    added = WebhookEndpointFactory.build(department=world.main, kinds=["case.created"])
    WebhookEndpoint.objects.bulk_create([added])

    endpoints_remembered.at += 4.9
    create(clerk, window_payload(world))
    assert not WebhookDelivery.objects.exists()
    endpoints_remembered.at += 0.2
    create(clerk, window_payload(world))
    assert WebhookDelivery.objects.count() == 1
