"""Background work of the webhooks app: one attempt at a delivery, and the periodic sweep."""

from __future__ import annotations

from django_tasks import task

from .models import WebhookDelivery
from .services import webhook_deliver, webhooks_retry_due


@task()
def deliver_webhook(delivery_id: str) -> str | None:
    """Attempt the delivery if it is still due; a delivery deleted or already sent is left alone."""
    delivery = WebhookDelivery.objects.filter(delivery_id=delivery_id).first()
    if delivery is None:
        return None
    return webhook_deliver(delivery=delivery).status


@task()
def retry_due_webhooks() -> int:
    return webhooks_retry_due()
