"""Reads of the webhooks app, always scoped to the actor."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from . import permissions
from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list_visible_to(*, actor: Any) -> QuerySet[WebhookEndpoint]:
    return permissions.endpoints_visible_to(actor)


def delivery_list_visible_to(*, actor: Any, status: str | None = None) -> QuerySet[WebhookDelivery]:
    deliveries = permissions.deliveries_visible_to(actor).order_by("-created_at", "-id")
    return deliveries.filter(status=status) if status else deliveries


def delivery_list_failed_visible_to(*, actor: Any) -> QuerySet[WebhookDelivery]:
    return delivery_list_visible_to(actor=actor, status=DeliveryStatus.FAILED)


def delivery_list_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return endpoint.deliveries.order_by("-created_at", "-id")


def attempt_list_for_delivery(*, delivery: WebhookDelivery) -> QuerySet[WebhookAttempt]:
    return delivery.attempt_log.order_by("started_at", "id")
