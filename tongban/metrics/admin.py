"""The rollups in the admin: read only (they are recomputed, never edited)."""

from django.contrib import admin

from tongban.core.admin import ReadOnlyAdmin

from .models import CaseDay, RollupState


@admin.register(CaseDay)
class CaseDayAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "region_code",
        "department_id",
        "item_id",
        "channel",
        "accepted",
        "completed",
    ]
    list_filter = ["channel"]
    date_hierarchy = "day"
    search_fields = ["region_code"]


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_event_id", "last_run_at", "last_rebuild_at", "days_rolled"]
