"""The holiday tables in Django's admin, read-only: changes go through the calendar pages and the
`tongban calendar` command, so that each one is validated, logged and seen by every process."""

from django.contrib import admin

from tongban.core.admin import ReadOnlyAdmin

from .models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadOnlyAdmin):
    list_display = ["date", "region", "kind", "name", "source", "created_by"]
    list_filter = ["kind", "source"]
    search_fields = ["name", "region__name", "region__code"]
    date_hierarchy = "date"
    list_select_related = ["region", "created_by"]


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyAdmin):
    list_display = ["year", "source", "recorded_at", "recorded_by"]
    list_filter = ["source"]
