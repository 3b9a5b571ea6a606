"""Cases in Django's admin: read-only. A case changes only through cases.services (its workflow,
its clock and its events); an admin form that saved a row directly would bypass all three."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tongban.core.admin import ReadOnlyAdmin

from .models import Case, Step


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    can_delete = False
    fields = ("order", "stage", "name", "department", "status", "due", "handled_by", "opinion")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "department", "status", "channel", "promised_due", "visits"]
    list_filter = ["status", "channel", "department"]
    search_fields = ["number", "title", "applicant__name"]
    date_hierarchy = "created_at"
    inlines = [StepInline]
