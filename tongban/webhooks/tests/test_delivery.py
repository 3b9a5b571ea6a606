"""Sending events to department systems: signed, retried with back-off, given up, replayed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from tongban.core.models import Event
from tongban.org.tests.factories import DepartmentFactory
from tongban.webhooks import services
from tongban.webhooks.models import DeliveryStatus, WebhookDelivery
from tongban.webhooks.signing import verify

from .factories import WebhookEndpointFactory, case_event

pytestmark = pytest.mark.django_db


def enqueue(django_capture_on_commit_callbacks, *, departments, event=None, body=None):
    """Enqueue as a service would, and run what happens after the commit (the immediate backend
    of the test settings then sends at once)."""
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = services.webhooks_enqueue(
            departments=departments,
            event=event or case_event(),
            body=body if body is not None else {"case_number": "4309812026112300001"},
        )
    return [WebhookDelivery.objects.get(pk=d.pk) for d in deliveries]


class TestEnqueue:
    def test_only_active_endpoints_of_the_departments_whose_filter_matches(self):
        market, police = DepartmentFactory(), DepartmentFactory()
        wants_all = WebhookEndpointFactory(department=market)
        wants_cases = WebhookEndpointFactory(department=market, kinds=["case.*"])
        WebhookEndpointFactory(department=market, kinds=["ticket.created"])
        WebhookEndpointFactory(department=market, active=False)
        WebhookEndpointFactory(department=police)

        deliveries = services.webhooks_enqueue(
            departments=[market], event=case_event("case.accepted"), body={}
        )

        assert {d.endpoint for d in deliveries} == {wants_all, wants_cases}
        assert all(d.status == DeliveryStatus.PENDING for d in deliveries)
        assert len({d.delivery_id for d in deliveries}) == 2

    def test_nothing_is_sent_before_the_commit(self, receiver, django_capture_on_commit_callbacks):
        endpoint = WebhookEndpointFactory(url=receiver.url)

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.webhooks_enqueue(
                departments=[endpoint.department], event=case_event(), body={}
            )

        assert receiver.requests == []
        assert len(callbacks) == 1


class TestSending:
    def test_the_receiver_gets_a_signed_body_it_can_verify(
        self, receiver, django_capture_on_commit_callbacks
    ):
        endpoint = WebhookEndpointFactory(url=receiver.url)
        event = case_event("case.accepted", case_id="42")

        [delivery] = enqueue(
            django_capture_on_commit_callbacks,
            departments=[endpoint.department],
            event=event,
            body={"case_number": "4309812026112300001", "申请人": "李四"},
        )

        assert delivery.status == DeliveryStatus.SUCCEEDED
        assert delivery.delivered_at is not None
        assert delivery.attempts == 1 and delivery.last_status_code == 200
        [request] = receiver.requests
        assert request.path == "/tongban/hook"
        assert request.headers["X-Tongban-Delivery"] == str(delivery.delivery_id)
        assert request.headers["X-Tongban-Event"] == "case.accepted"
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
        assert verify(
            secret=endpoint.secret,
            timestamp=request.headers["X-Tongban-Timestamp"],
            body=request.body,
            signature=request.headers["X-Tongban-Signature"],
            now=time.time(),
        )
        document = json.loads(request.body)
        assert document["delivery_id"] == str(delivery.delivery_id)
        assert document["event"]["kind"] == "case.accepted"
        assert document["event"]["subject_id"] == "42"
        assert document["event"]["id"] == event.pk
        assert document["data"] == {"case_number": "4309812026112300001", "申请人": "李四"}

    def test_a_forged_or_tampered_body_does_not_verify(
        self, receiver, django_capture_on_commit_callbacks
    ):
        endpoint = WebhookEndpointFactory(url=receiver.url)
        enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])
        [request] = receiver.requests
        headers = request.headers

        def check(secret: str, body: bytes, timestamp: str, now: float | None = None) -> bool:
            return verify(
                secret=secret,
                timestamp=timestamp,
                body=body,
                signature=headers["X-Tongban-Signature"],
                now=now or time.time(),
            )

        stamp = headers["X-Tongban-Timestamp"]
        assert check(endpoint.secret, request.body, stamp)
        assert not check("another-secret", request.body, stamp)
        assert not check(endpoint.secret, request.body.replace(b"0001", b"0002"), stamp)
        assert not check(endpoint.secret, request.body, str(int(stamp) + 1))
        assert not check(endpoint.secret, request.body, stamp, now=int(stamp) + 3600)

    def test_a_500_then_a_200_is_retried_after_the_back_off(
        self, receiver, django_capture_on_commit_callbacks
    ):
        receiver.answers = [500, 200]
        endpoint = WebhookEndpointFactory(url=receiver.url)
        before = timezone.now()

        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])

        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 1
        assert delivery.last_status_code == 500
        assert "HTTP 500" in delivery.last_error and "服务暂不可用" in delivery.last_error
        wait = delivery.next_attempt_at - before
        assert timedelta(minutes=1) <= wait < timedelta(minutes=1, seconds=30)

        # Not due yet: the sweep leaves it alone.
        assert services.webhooks_retry_due() == 0
        assert len(receiver.requests) == 1

        assert services.webhooks_retry_due(now=delivery.next_attempt_at) == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED
        assert delivery.attempts == 2
        assert [r.headers["X-Tongban-Delivery"] for r in receiver.requests] == [
            str(delivery.delivery_id)
        ] * 2
        assert [a.status_code for a in delivery.attempt_log.order_by("id")] == [500, 200]

    @override_settings(WEBHOOK_MAX_ATTEMPTS=4)
    def test_the_back_off_grows_and_the_delivery_fails_after_the_last_attempt(
        self, receiver, django_capture_on_commit_callbacks
    ):
        receiver.answers = [503]
        endpoint = WebhookEndpointFactory(url=receiver.url)
        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])
        waits = []
        now = timezone.now()
        while delivery.status == DeliveryStatus.PENDING:
            waits.append(delivery.next_attempt_at - now)
            now = delivery.next_attempt_at
            delivery = services.webhook_deliver(delivery=delivery, now=now)

        assert [round(w.total_seconds() / 60) for w in waits] == [1, 5, 30]
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.attempts == 4
        assert delivery.next_attempt_at is None
        assert len(receiver.requests) == 4
        failed = Event.objects.get(kind="webhook_delivery.failed")
        assert failed.payload["delivery_id"] == str(delivery.delivery_id)
        assert failed.payload["attempts"] == 4

    def test_the_default_is_six_attempts_over_about_fifteen_hours(self):
        assert services.max_attempts() == 6
        waits = [services.backoff_after(n) for n in range(1, 6)]
        assert waits == [
            timedelta(minutes=1),
            timedelta(minutes=5),
            timedelta(minutes=30),
            timedelta(hours=2),
            timedelta(hours=12),
        ]
        assert services.backoff_after(9) == timedelta(hours=12)

    def test_a_receiver_that_is_down_is_a_failed_attempt_with_a_reason(
        self, django_capture_on_commit_callbacks
    ):
        endpoint = WebhookEndpointFactory(url="http://127.0.0.1:9/nobody-listens")

        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])

        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 1
        assert delivery.last_status_code is None
        assert "无法连接接收地址" in delivery.last_error

    @override_settings(WEBHOOK_TIMEOUT_SECONDS=0.5)
    def test_a_slow_receiver_times_out(self, receiver, django_capture_on_commit_callbacks):
        receiver.delay_seconds = 1.5
        endpoint = WebhookEndpointFactory(url=receiver.url)

        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])

        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.last_status_code is None
        assert delivery.last_error == "接收地址在 0.5 秒内没有响应。"

    def test_a_redirect_is_not_a_delivery(self, receiver, django_capture_on_commit_callbacks):
        receiver.answers = [302]
        endpoint = WebhookEndpointFactory(url=receiver.url)

        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])

        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.last_status_code == 302

    def test_a_delivery_being_sent_or_not_due_is_not_sent_again(
        self, receiver, django_capture_on_commit_callbacks
    ):
        receiver.answers = [500]
        endpoint = WebhookEndpointFactory(url=receiver.url)
        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[endpoint.department])

        again = services.webhook_deliver(delivery=delivery)

        assert again.attempts == 1
        assert len(receiver.requests) == 1

    def test_a_paused_endpoint_gives_up_without_sending(
        self, receiver, django_capture_on_commit_callbacks
    ):
        endpoint = WebhookEndpointFactory(url=receiver.url)
        with django_capture_on_commit_callbacks(execute=False):
            [delivery] = services.webhooks_enqueue(
                departments=[endpoint.department], event=case_event(), body={}
            )
        endpoint.active = False
        endpoint.save()

        delivery = services.webhook_deliver(delivery=delivery)

        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.last_error == "推送地址已停用，未投递。"
        assert receiver.requests == []

    def test_a_backend_that_can_defer_gets_the_retry_at_its_time(
        self, receiver, django_capture_on_commit_callbacks
    ):
        from django_tasks import default_task_backend

        receiver.answers = [500]
        endpoint = WebhookEndpointFactory(url=receiver.url)
        with django_capture_on_commit_callbacks(execute=False):
            [delivery] = services.webhooks_enqueue(
                departments=[endpoint.department], event=case_event(), body={}
            )
        dummy = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        with override_settings(TASKS=dummy):
            default_task_backend.clear()  # type: ignore[attr-defined]
            with django_capture_on_commit_callbacks(execute=True):
                delivery = services.webhook_deliver(delivery=delivery)
            [queued] = default_task_backend.results  # type: ignore[attr-defined]

        assert queued.args == [str(delivery.delivery_id)]
        assert queued.task.run_after == delivery.next_attempt_at


class TestReplay:
    @override_settings(WEBHOOK_MAX_ATTEMPTS=1)
    def test_replay_sends_again_with_the_same_delivery_id(
        self, receiver, demo, django_capture_on_commit_callbacks
    ):
        from tongban.org.models import Department, User

        receiver.answers = [500, 200]
        department = Department.objects.get(name="沅江市市场监督管理局")
        endpoint = WebhookEndpointFactory(department=department, url=receiver.url)
        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[department])
        assert delivery.status == DeliveryStatus.FAILED
        head = User.objects.get(username="fuzeren")

        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_replay(delivery=delivery, actor=head)

        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED
        ids = {r.headers["X-Tongban-Delivery"] for r in receiver.requests}
        assert ids == {str(delivery.delivery_id)}
        assert len(receiver.requests) == 2
        assert json.loads(receiver.requests[0].body) == json.loads(receiver.requests[1].body)
        replayed = Event.objects.get(kind="webhook_delivery.replayed")
        assert replayed.actor == head
        assert replayed.subject_id == str(endpoint.pk)

    def test_only_a_failed_delivery_can_be_replayed(
        self, receiver, demo, django_capture_on_commit_callbacks
    ):
        from tongban.org.models import Department, User

        department = Department.objects.get(name="沅江市市场监督管理局")
        WebhookEndpointFactory(department=department, url=receiver.url)
        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[department])

        with pytest.raises(ValidationError) as error:
            services.webhook_replay(delivery=delivery, actor=User.objects.get(username="admin"))

        assert error.value.messages == ["只有投递失败的推送才能重新投递。"]

    @override_settings(WEBHOOK_MAX_ATTEMPTS=1)
    def test_another_departments_head_may_not_replay(
        self, receiver, demo, django_capture_on_commit_callbacks
    ):
        from tongban.org.models import Department, User

        receiver.answers = [500]
        department = Department.objects.get(name="沅江市公安局")
        WebhookEndpointFactory(department=department, url=receiver.url)
        [delivery] = enqueue(django_capture_on_commit_callbacks, departments=[department])

        with pytest.raises(services.PermissionDeniedError):
            services.webhook_replay(delivery=delivery, actor=User.objects.get(username="fuzeren"))


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_post_the_attempt_only_once(receiver):
    """The queued task and the sweep (or two workers' sweeps) may reach the same delivery at the
    same moment; the lease lets one of them post."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    receiver.delay_seconds = 0.5
    endpoint = WebhookEndpointFactory(url=receiver.url)
    dummy = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with override_settings(TASKS=dummy):  # queued, not sent: the two senders below race for it
        [delivery] = services.webhooks_enqueue(
            departments=[endpoint.department], event=case_event(), body={}
        )
    assert receiver.requests == []
    start = threading.Barrier(2)

    def send() -> None:
        try:
            start.wait()
            services.webhook_deliver(delivery=delivery)
        finally:
            connection.close()

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()

    delivery.refresh_from_db()
    assert len(receiver.requests) == 1
    assert delivery.attempts == 1
    assert delivery.status == DeliveryStatus.SUCCEEDED
