"""The catalogue in Django's admin for superusers: entries, items with their versions, bundles."""

from django.contrib import admin

from .models import (
    Bundle,
    BundleItem,
    CatalogEntry,
    Fee,
    FormField,
    ItemVersion,
    MaterialRequirement,
    ProcessStep,
    ServiceItem,
    SpecialProcedure,
    Synonym,
)


@admin.register(CatalogEntry)
class CatalogEntryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "level"]
    list_filter = ["kind", "level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


class VersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ("version", "status", "name", "promised_limit", "legal_limit", "published_at")
    readonly_fields = ("version", "status", "name", "promised_limit", "legal_limit", "published_at")
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["local_code", "entry", "department", "region"]
    list_filter = ["department"]
    search_fields = ["local_code", "entry__name"]
    raw_id_fields = ["entry", "region", "department"]
    inlines = [VersionInline]


class MaterialInline(admin.TabularInline):
    model = MaterialRequirement
    extra = 0


class StepInline(admin.TabularInline):
    model = ProcessStep
    extra = 0


class FieldInline(admin.TabularInline):
    model = FormField
    extra = 0


class FeeInline(admin.TabularInline):
    model = Fee
    extra = 0


class ProcedureInline(admin.TabularInline):
    model = SpecialProcedure
    extra = 0


@admin.register(ItemVersion)
class ItemVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "status", "promised_limit", "legal_limit", "online_depth"]
    list_filter = ["status", "online_depth"]
    search_fields = ["name", "item__local_code"]
    raw_id_fields = ["item", "created_by"]
    inlines = [MaterialInline, StepInline, FieldInline, FeeInline, ProcedureInline]


class BundleItemInline(admin.TabularInline):
    model = BundleItem
    extra = 0
    raw_id_fields = ["item"]


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "stage", "promised_limit", "status"]
    inlines = [BundleItemInline]


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    list_display = ["term", "expansion"]
    search_fields = ["term", "expansion"]
