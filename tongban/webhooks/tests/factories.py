"""Factories for webhooks: an endpoint of a department, and an event to send."""

from __future__ import annotations

import factory

from tongban.core.models import Event
from tongban.core.services import event_append
from tongban.org.tests.factories import DepartmentFactory
from tongban.webhooks.models import WebhookEndpoint


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"业务系统{n}")
    url = "http://127.0.0.1:9/hook"
    secret = factory.Sequence(lambda n: f"test-secret-{n:04d}")
    kinds = factory.LazyFunction(list)


def case_event(kind: str = "case.accepted", case_id: str = "1") -> Event:
    """An event of a case as the cases app would append it."""
    return event_append(subject=("cases.case", case_id), kind=kind, payload={"status": "accepted"})
