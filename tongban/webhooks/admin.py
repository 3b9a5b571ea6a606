"""Webhooks in Django's admin, for superusers to look at; endpoints are managed on /webhooks/."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "url", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url", "department__name"]
    raw_id_fields = ["department"]
    exclude = ["secret"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the page creates endpoints, with the permission check and a new secret


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["started_at", "duration_ms", "status_code", "error"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["delivery_id", "event_kind", "endpoint", "status", "attempts", "created_at"]
    list_filter = ["status"]
    search_fields = ["delivery_id", "event_kind"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
