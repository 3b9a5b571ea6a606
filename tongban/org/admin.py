"""The organisation in Django's admin, for superusers; day-to-day staff management is on /org/."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ApiToken, Applicant, Department, Hall, Region, RoleAssignment, User, Window
from .tokens import api_token_revoke


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["region", "department", "hall"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "kind", "mobile", "is_active", "locked_until"]
    list_filter = ["kind", "is_active"]
    search_fields = ["username", "full_name", "mobile"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("通办", {"fields": ("kind", "full_name", "mobile", "failed_sign_ins", "locked_until")}),
    )
    inlines = [RoleAssignmentInline]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "code", "region"]
    search_fields = ["name", "short_name", "code"]
    raw_id_fields = ["region"]


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "phone"]
    search_fields = ["name"]
    raw_id_fields = ["region"]
    inlines = [WindowInline]


@admin.register(Applicant)
class ApplicantAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "id_number", "credit_code", "mobile"]
    search_fields = ["name", "id_number", "credit_code", "mobile"]
    raw_id_fields = ["account"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `tongban token create` (the only moment the token is visible) and
    revoked here or with `tongban token revoke`; nothing else about a token can be edited."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    fields = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="吊销所选令牌")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for api_token in queryset:
            api_token_revoke(token=api_token, actor=request.user)
        self.message_user(request, f"已吊销 {queryset.count()} 个令牌。")
