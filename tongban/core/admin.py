"""The event log in Django's admin: read-only, for superusers auditing the record."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Event, EventSeal


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "subject_type", "subject_id", "seq", "kind", "actor_label"]
    list_filter = ["subject_type", "kind"]
    search_fields = ["subject_id", "kind", "actor_label"]
    date_hierarchy = "occurred_at"


@admin.register(EventSeal)
class EventSealAdmin(ReadOnlyAdmin):
    list_display = ["id", "sealed_at", "after_event_id", "last_event_id", "event_count", "hash"]
