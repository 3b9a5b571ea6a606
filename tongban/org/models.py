"""Regions, departments, halls, windows, accounts, role assignments and applicants.

Invariants live in the database (choices, code shapes, which roles need a department or a hall);
cross-row rules (a town's code starts with its county's) are checked by the services' full_clean().
Nothing here has side effects in save().
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core import now as core_now
from tongban.core.constraints import choices_constraint
from tongban.core.validators import validate_credit_code, validate_id_number, validate_mobile


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县（市、区）")
    TOWN = "town", _("乡镇（街道）")
    VILLAGE = "village", _("村（社区）")


# GB/T 2260 and the statistical division codes: 2, 4, 6, 9 and 12 digits from province to village.
CODE_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWN: 9,
    RegionLevel.VILLAGE: 12,
}
PARENT_LEVEL = {
    RegionLevel.CITY: RegionLevel.PROVINCE,
    RegionLevel.COUNTY: RegionLevel.CITY,
    RegionLevel.TOWN: RegionLevel.COUNTY,
    RegionLevel.VILLAGE: RegionLevel.TOWN,
}


class Region(models.Model):
    """A node of the administrative tree. A region's subtree is every code that starts with its code."""

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]
        constraints = [
            choices_constraint("level", RegionLevel, "org_region_level_valid"),
            models.CheckConstraint(
                condition=(
                    Q(level=RegionLevel.PROVINCE, code__regex=r"^[0-9]{2}$")
                    | Q(level=RegionLevel.CITY, code__regex=r"^[0-9]{4}$")
                    | Q(level=RegionLevel.COUNTY, code__regex=r"^[0-9]{6}$")
                    | Q(level=RegionLevel.TOWN, code__regex=r"^[0-9]{9}$")
                    | Q(level=RegionLevel.VILLAGE, code__regex=r"^[0-9]{12}$")
                ),
                name="org_region_code_matches_level",
            ),
            models.CheckConstraint(
                condition=Q(level=RegionLevel.PROVINCE, parent__isnull=True)
                | (~Q(level=RegionLevel.PROVINCE) & Q(parent__isnull=False)),
                name="org_region_parent_unless_province",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        expected = (
            CODE_LENGTH.get(RegionLevel(self.level)) if self.level in RegionLevel.values else None
        )
        if expected is None:
            raise ValidationError({"level": _("层级无效。")})
        if not self.code.isdigit() or len(self.code) != expected:
            raise ValidationError(
                {
                    "code": _("%(level)s级区划代码应为 %(n)d 位数字。")
                    % {"level": self.get_level_display(), "n": expected}
                }
            )
        if self.parent is not None:
            if PARENT_LEVEL.get(RegionLevel(self.level)) != self.parent.level:
                raise ValidationError({"parent": _("上级区划的层级不对。")})
            if not self.code.startswith(self.parent.code):
                raise ValidationError(
                    {
                        "code": _("区划代码 %(code)s 不在上级区划 %(parent)s（%(pcode)s）之下。")
                        % {"code": self.code, "parent": self.parent.name, "pcode": self.parent.code}
                    }
                )

    @staticmethod
    def lineage_codes(code: str) -> list[str]:
        """The code and its ancestors' codes, top first: 430981112 → 43, 4309, 430981, 430981112.
        A division code is its own path, so no query is needed."""
        return [code[:n] for n in sorted(CODE_LENGTH.values()) if n <= len(code)]

    @property
    def full_name(self) -> str:
        names = []
        node: Region | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Department(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT)
    name = models.CharField(_("部门名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30)
    code = models.CharField(_("部门代码"), max_length=32)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["region__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["region", "code"], name="org_department_code_unique"),
            models.UniqueConstraint(fields=["region", "name"], name="org_department_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class HallKind(models.TextChoices):
    COUNTY_CENTRE = "county_centre", _("县级政务服务中心")
    TOWN_CENTRE = "town_centre", _("乡镇（街道）便民服务中心")
    VILLAGE_ROOM = "village_room", _("村（社区）便民服务站")


class Hall(models.Model):
    region = models.ForeignKey(Region, verbose_name=_("所属区划"), on_delete=models.PROTECT)
    name = models.CharField(_("大厅名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=HallKind.choices)
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("咨询电话"), max_length=30, blank=True)
    opening_hours = models.CharField(_("办公时间"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("大厅")
        verbose_name_plural = _("大厅")
        ordering = ["region__code", "name"]
        constraints = [
            choices_constraint("kind", HallKind, "org_hall_kind_valid"),
            models.UniqueConstraint(fields=["region", "name"], name="org_hall_name_unique"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="org_hall_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="org_hall_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WindowKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("综合窗口")
    SPECIALISED = "specialised", _("专业窗口")
    CONSULTING = "consulting", _("咨询窗口")


class Window(models.Model):
    hall = models.ForeignKey(
        Hall, verbose_name=_("大厅"), on_delete=models.CASCADE, related_name="windows"
    )
    number = models.CharField(_("窗口号"), max_length=10)
    name = models.CharField(_("窗口名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=WindowKind.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("进驻部门"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["hall", "number"]
        constraints = [
            choices_constraint("kind", WindowKind, "org_window_kind_valid"),
            models.UniqueConstraint(fields=["hall", "number"], name="org_window_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class AccountKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    APPLICANT = "applicant", _("群众/企业")


class User(AbstractUser):
    """A staff member (username + password) or a portal account (mobile + one-time code)."""

    kind = models.CharField(
        _("账号类型"), max_length=10, choices=AccountKind.choices, default=AccountKind.STAFF
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    mobile = models.CharField(
        _("手机号码"), max_length=11, blank=True, validators=[validate_mobile]
    )
    failed_sign_ins = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            choices_constraint("kind", AccountKind, "org_user_kind_valid"),
            models.UniqueConstraint(
                fields=["kind", "mobile"], condition=~Q(mobile=""), name="org_user_mobile_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.full_name:
            return self.full_name
        if self.kind == AccountKind.APPLICANT and len(self.mobile) == 11:
            return f"{self.mobile[:3]}****{self.mobile[7:]}"
        return self.username

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("窗口人员")
    APPROVER = "approver", _("审批人员")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    SUPERVISOR = "supervisor", _("监察人员")
    CATALOGUE_ADMIN = "catalogue_admin", _("事项管理员")
    HOTLINE_AGENT = "hotline_agent", _("热线坐席")
    HOTLINE_HANDLER = "hotline_handler", _("承办人员")
    SYSADMIN = "sysadmin", _("系统管理员")


# Roles whose work belongs to one department, and roles that sit at a hall.
DEPARTMENT_ROLES = frozenset({Role.APPROVER, Role.DEPARTMENT_HEAD, Role.HOTLINE_HANDLER})
HALL_ROLES = frozenset({Role.WINDOW_CLERK})


class RoleAssignment(models.Model):
    """A role held in a region's subtree, narrowed to one department or one hall where the role needs it."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    region = models.ForeignKey(Region, verbose_name=_("区划范围"), on_delete=models.PROTECT)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT
    )
    hall = models.ForeignKey(
        Hall, verbose_name=_("大厅"), null=True, blank=True, on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("角色分配")
        verbose_name_plural = _("角色分配")
        ordering = ["user", "role"]
        constraints = [
            choices_constraint("role", Role, "org_roleassignment_role_valid"),
            models.CheckConstraint(
                condition=~Q(role__in=[r.value for r in sorted(DEPARTMENT_ROLES)])
                | Q(department__isnull=False),
                name="org_roleassignment_department_required",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=[r.value for r in sorted(HALL_ROLES)])
                | Q(hall__isnull=False),
                name="org_roleassignment_hall_required",
            ),
        ]

    def __str__(self) -> str:
        where = self.department or self.hall or self.region
        return f"{self.get_role_display()}（{where}）"

    def clean(self) -> None:
        errors = {}
        if self.role in DEPARTMENT_ROLES and self.department_id is None:
            errors["department"] = _("该角色必须指定部门。")
        if self.role in HALL_ROLES and self.hall_id is None:
            errors["hall"] = _("窗口人员必须指定大厅。")
        region = self.region if self.region_id else None
        department = self.department if self.department_id else None
        hall = self.hall if self.hall_id else None
        if region is not None:
            if department is not None and not department.region.code.startswith(region.code):
                errors["department"] = _("部门不在所选区划范围内。")
            if hall is not None and not hall.region.code.startswith(region.code):
                errors["hall"] = _("大厅不在所选区划范围内。")
        if errors:
            raise ValidationError(errors)


class ApplicantKind(models.TextChoices):
    NATURAL = "natural", _("自然人")
    LEGAL = "legal", _("法人或其他组织")


class Applicant(models.Model):
    """Who applies: a natural person by ID number, or a legal person by unified social credit code."""

    kind = models.CharField(_("申请人类型"), max_length=10, choices=ApplicantKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    id_number = models.CharField(
        _("身份证号码"), max_length=18, blank=True, validators=[validate_id_number]
    )
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    mobile = models.CharField(
        _("手机号码"), max_length=11, blank=True, validators=[validate_mobile]
    )
    account = models.ForeignKey(
        User,
        verbose_name=_("门户账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applicants",
    )
    created_at = models.DateTimeField(_("登记时间"), default=core_now.now)

    class Meta:
        verbose_name = _("申请人")
        verbose_name_plural = _("申请人")
        ordering = ["name"]
        constraints = [
            choices_constraint("kind", ApplicantKind, "org_applicant_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind=ApplicantKind.NATURAL) & ~Q(id_number="") & Q(credit_code=""))
                | (Q(kind=ApplicantKind.LEGAL) & ~Q(credit_code="") & Q(id_number="")),
                name="org_applicant_identifier_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~Q(id_number=""),
                name="org_applicant_id_number_unique",
            ),
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="org_applicant_credit_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identifier(self) -> str:
        return self.id_number or self.credit_code


class LoginCode(models.Model):
    """A one-time sign-in code sent to a mobile number; only its hash is kept."""

    mobile = models.CharField(_("手机号码"), max_length=11, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=core_now.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [models.Index(fields=["mobile", "created_at"], name="org_logincode_mobile_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="org_logincode_expiry_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.mobile} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for the API: a person's script or a department's business system acting as
    its staff account. Only the token's SHA-256 is kept; the prefix names it without revealing it."""

    user = models.ForeignKey(
        User, verbose_name=_("所属账号"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=100, blank=True)
    prefix = models.CharField(_("令牌前缀"), max_length=16, unique=True)
    token_hash = models.CharField(_("令牌哈希"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), default=core_now.now)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="org_apitoken_revoked_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 - a shape, not a secret
                name="org_apitoken_hash_is_sha256_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"tb_{self.prefix}…（{self.user}）"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
