"""Cases (办件): one application for one item version, or for a bundle with a child per item.

A case keeps the item version it was started under, so editing the catalogue never rewrites it.
Status changes only through `tongban.cases.services`, which checks `workflow.ALLOWED_TRANSITIONS`,
recomputes every due date the event can move and appends the case event. Nothing here has side
effects in `save()`.

Due dates are stored (indexed) so that inboxes and the supervision board are plain range queries;
the clock events they are computed from are stored beside them (`clock`), in the form
`tongban.cases.clocks` turns into `tongban.timelimits.clock` events.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import (
    LIMIT_UNITS,
    Bundle,
    BundleItem,
    ItemVersion,
    MaterialRequirement,
    ProcessStep,
    SpecialProcedureKind,
)
from tongban.core import now as core_now
from tongban.core.constraints import choices_constraint
from tongban.org.models import Applicant, Department, Hall, Region, Role
from tongban.timelimits.calendar import DayUnit

from .workflow import CaseStatus, StepStatus


class Channel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    WINDOW = "window", _("窗口受理")


class Decision(models.TextChoices):
    NONE = "", _("未决定")
    APPROVED = "approved", _("准予")
    DENIED = "denied", _("不予")


class DeliveryMethod(models.TextChoices):
    NONE = "", _("未选择")
    WINDOW = "window", _("窗口领取")
    MAIL = "mail", _("邮寄送达")
    ELECTRONIC = "electronic", _("电子送达")


class Case(models.Model):
    """One application. A bundle case (`bundle` set) is the parent of one child case per item."""

    number = models.CharField(_("办件编号"), max_length=40, unique=True)
    query_code = models.CharField(_("查询码"), max_length=12)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("一件事主件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    bundle = models.ForeignKey(
        Bundle, verbose_name=_("一件事"), null=True, blank=True, on_delete=models.PROTECT
    )
    bundle_member = models.ForeignKey(
        BundleItem,
        verbose_name=_("一件事中的事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.ForeignKey(
        ItemVersion,
        verbose_name=_("事项版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    title = models.CharField(_("事项名称"), max_length=200)
    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT)
    department = models.ForeignKey(
        Department,
        verbose_name=_("实施部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    hall = models.ForeignKey(
        Hall, verbose_name=_("受理大厅"), null=True, blank=True, on_delete=models.PROTECT
    )
    applicant = models.ForeignKey(
        Applicant, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("申请渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.DRAFT
    )
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    # What the case produced for the items that depend on it (a bundle's field mappings read it).
    outputs = models.JSONField(_("办理结果数据"), default=dict, blank=True)

    created_at = models.DateTimeField(_("创建时间"), default=core_now.now)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    # Limits copied from the version (or bundle) when the case started: the catalogue may change.
    promised_limit = models.PositiveIntegerField(_("承诺办结时限"), default=0)
    legal_limit = models.PositiveIntegerField(_("法定办结时限"), null=True, blank=True)
    limit_unit = models.CharField(
        _("时限单位"), max_length=10, choices=LIMIT_UNITS, default=DayUnit.WORKING.value
    )
    prereview_due = models.DateTimeField(_("预审期限"), null=True, blank=True, db_index=True)
    promised_due = models.DateTimeField(_("承诺办结期限"), null=True, blank=True, db_index=True)
    legal_due = models.DateTimeField(_("法定办结期限"), null=True, blank=True)
    tolerance_due = models.DateTimeField(_("容缺材料补齐期限"), null=True, blank=True)
    suspended_since = models.DateTimeField(_("挂起时间"), null=True, blank=True)
    extended_days = models.PositiveSmallIntegerField(_("已延期天数"), default=0)
    # Clock events as JSON (see cases/clocks.py); the due dates above are folded from them.
    clock = models.JSONField(_("计时事件"), default=list, blank=True)

    supplement_count = models.PositiveSmallIntegerField(_("补正次数"), default=0)
    visits = models.PositiveSmallIntegerField(_("实际跑动次数"), default=0)
    commitment = models.BooleanField(_("告知承诺"), default=False)
    commitment_text = models.TextField(_("承诺书内容"), blank=True)

    decision = models.CharField(
        _("决定"), max_length=10, choices=Decision.choices, default=Decision.NONE, blank=True
    )
    decision_reason = models.TextField(_("决定理由"), blank=True)
    refusal_basis = models.TextField(_("法律依据"), blank=True)
    result_name = models.CharField(_("办理结果"), max_length=100, blank=True)
    result_number = models.CharField(_("结果文号"), max_length=60, blank=True)
    delivery_method = models.CharField(
        _("送达方式"), max_length=12, choices=DeliveryMethod.choices, blank=True
    )
    delivery_detail = models.CharField(_("送达信息"), max_length=200, blank=True)
    close_reason = models.TextField(_("终止原因"), blank=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-id"]
        constraints = [
            choices_constraint("channel", Channel, "cases_case_channel_valid"),
            choices_constraint("status", CaseStatus, "cases_case_status_valid"),
            choices_constraint("decision", Decision, "cases_case_decision_valid"),
            choices_constraint("delivery_method", DeliveryMethod, "cases_case_delivery_valid"),
            models.CheckConstraint(
                condition=Q(limit_unit__in=[u.value for u in DayUnit]),
                name="cases_case_limit_unit_valid",
            ),
            # An item case has a version; a bundle parent has a bundle and no version.
            models.CheckConstraint(
                condition=Q(version__isnull=False, bundle__isnull=True)
                | Q(version__isnull=True, bundle__isnull=False, parent__isnull=True),
                name="cases_case_item_or_bundle",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True)
                | Q(submitted_at__isnull=False, accepted_at__gte=models.F("submitted_at")),
                name="cases_case_accepted_after_submitted",
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(accepted_at__isnull=False),
                name="cases_case_completed_after_accepted",
            ),
        ]
        indexes = [
            # A department's open cases by due date: the inbox and the supervision board.
            models.Index(fields=["department", "status", "promised_due"], name="cases_dept_due"),
            models.Index(fields=["applicant", "-created_at"], name="cases_applicant_recent"),
            models.Index(fields=["region", "status", "promised_due"], name="cases_region_due"),
            # The card sweep's batches: the open cases by id, without reading the closed ones.
            models.Index(fields=["status", "id"], name="cases_status_id"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_bundle(self) -> bool:
        return self.bundle_id is not None


class CaseNumberCounter(models.Model):
    """The last case number handed out per region per day (see services.case_number_next)."""

    region_code = models.CharField(max_length=12)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_code", "day"], name="cases_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.day} #{self.last}"


class StepKind(models.TextChoices):
    REVIEW = "review", _("审查")
    DECISION = "decision", _("决定")


class Step(models.Model):
    """One back-office step of a case; steps sharing a `stage` run at the same time (并联审批)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    definition = models.ForeignKey(
        ProcessStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.PositiveSmallIntegerField(_("顺序"))
    # Consecutive catalogue steps in one parallel group share a stage; stages run one after another.
    stage = models.PositiveSmallIntegerField(_("阶段"))
    name = models.CharField(_("环节名称"), max_length=50)
    department = models.ForeignKey(
        Department, verbose_name=_("办理部门"), on_delete=models.PROTECT, related_name="steps"
    )
    role = models.CharField(_("办理岗位"), max_length=20, choices=Role.choices)
    kind = models.CharField(
        _("环节类型"), max_length=10, choices=StepKind.choices, default=StepKind.REVIEW
    )
    limit = models.PositiveSmallIntegerField(_("环节时限（工作日）"))
    status = models.CharField(
        _("状态"), max_length=12, choices=StepStatus.choices, default=StepStatus.WAITING
    )
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    due = models.DateTimeField(_("环节期限"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    clock = models.JSONField(_("计时事件"), default=list, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opinion = models.TextField(_("办理意见"), blank=True)
    denial_proposed = models.BooleanField(_("建议不予许可"), default=False)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["case", "order"]
        constraints = [
            models.UniqueConstraint(fields=["case", "order"], name="cases_step_order_unique"),
            choices_constraint("status", StepStatus, "cases_step_status_valid"),
            choices_constraint("kind", StepKind, "cases_step_kind_valid"),
            choices_constraint("role", Role, "cases_step_role_valid"),
            models.CheckConstraint(
                condition=~Q(status=StepStatus.ACTIVE) | Q(started_at__isnull=False),
                name="cases_step_active_started",
            ),
        ]
        indexes = [
            # The department inbox: active steps of a department by due date.
            models.Index(fields=["department", "status", "due"], name="cases_step_inbox"),
            # The card sweep's batches: the active steps by id, without reading the finished ones.
            models.Index(fields=["status", "id"], name="cases_step_status_id"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.name}"


def upload_path(instance: Upload, filename: str) -> str:
    # Never the applicant's file name, never guessable: a random name under the day.
    return f"cases/{timezone.now():%Y/%m/%d}/{uuid.uuid4().hex}"


class Upload(models.Model):
    """A file an applicant or a clerk handed in; served only through a permission-checked view."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="uploads")
    file = models.FileField(_("文件"), upload_to=upload_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=core_now.now)

    class Meta:
        verbose_name = _("上传文件")
        verbose_name_plural = _("上传文件")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class MaterialStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    PROVIDED = "provided", _("已提交")
    MISSING = "missing", _("缺少")
    DEFECTIVE = "defective", _("有误")
    TOLERATED = "tolerated", _("容缺待补")
    WAIVED = "waived", _("免于提交")


class CaseMaterial(models.Model):
    """One required material of a case and where it stands."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="materials")
    requirement = models.ForeignKey(
        MaterialRequirement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    material_type = models.SlugField(_("材料类型代码"), max_length=60)
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必须提交"), default=True)
    tolerable = models.BooleanField(_("可容缺"), default=False)
    status = models.CharField(
        _("状态"), max_length=12, choices=MaterialStatus.choices, default=MaterialStatus.PENDING
    )
    uploads = models.ManyToManyField(Upload, verbose_name=_("文件"), blank=True, related_name="+")
    problem = models.CharField(_("问题说明"), max_length=300, blank=True)
    owed_by = models.DateField(_("容缺补齐日期"), null=True, blank=True)
    checked = models.BooleanField(_("窗口已核验原件"), default=False)

    class Meta:
        verbose_name = _("办件材料")
        verbose_name_plural = _("办件材料")
        ordering = ["case", "id"]
        constraints = [
            choices_constraint("status", MaterialStatus, "cases_material_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=MaterialStatus.TOLERATED) | Q(owed_by__isnull=False),
                name="cases_material_tolerated_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def open_problem(self) -> str:
        """What is wrong with it, while that still stands: once the material is accepted (or
        waived) the problem a supplement notice named is history, kept in that notice."""
        if self.status in (MaterialStatus.PROVIDED, MaterialStatus.WAIVED):
            return ""
        return self.problem

    @property
    def open_owed_by(self) -> date | None:
        """The day a tolerated (容缺) material is owed by, while it is still owed."""
        return self.owed_by if self.status == MaterialStatus.TOLERATED else None


class SupplementRequest(models.Model):
    """One 补正 notice: everything missing or wrong, listed at once (一次性告知)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supplements")
    sequence = models.PositiveSmallIntegerField(_("第几次补正"))
    # [{"kind": "material"|"field", "key": …, "name": …, "problem": …}, …]
    items = models.JSONField(_("补正内容"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("告知时间"), default=core_now.now)
    answered_at = models.DateTimeField(_("补正时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("补正告知")
        verbose_name_plural = _("补正告知")
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="cases_supplement_seq")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 第{self.sequence}次补正"

    @property
    def breaches_one_time_notice(self) -> bool:
        return self.sequence > 1


class Suspension(models.Model):
    """A special procedure (特别程序) during which the clock does not run."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="suspensions")
    kind = models.CharField(_("特别程序"), max_length=20, choices=SpecialProcedureKind.choices)
    reason = models.TextField(_("事由"))
    expected_days = models.PositiveSmallIntegerField(_("预计时长（工作日）"))
    started_at = models.DateTimeField(_("开始时间"), default=core_now.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("特别程序")
        verbose_name_plural = _("特别程序")
        ordering = ["case", "started_at"]
        constraints = [
            choices_constraint("kind", SpecialProcedureKind, "cases_suspension_kind_valid"),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(ended_at__isnull=True),
                name="cases_one_open_suspension",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"


class Extension(models.Model):
    """An extension requested by an approver; a department head grants it once."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField(_("延长天数"))
    reason = models.TextField(_("延期理由"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), default=core_now.now)
    granted = models.BooleanField(_("批准"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["case", "requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(granted=True), name="cases_one_granted_extension"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(granted__isnull=True), name="cases_one_open_extension"
            ),
            models.CheckConstraint(condition=Q(days__gte=1), name="cases_extension_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} 延期{self.days}天"


class PostCheck(models.Model):
    """The check after a decision made on the applicant's commitment (告知承诺核查)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="post_check")
    due = models.DateTimeField(_("核查期限"), db_index=True)
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    passed = models.BooleanField(_("核查通过"), null=True, blank=True)
    note = models.TextField(_("核查情况"), blank=True)

    class Meta:
        verbose_name = _("告知承诺核查")
        verbose_name_plural = _("告知承诺核查")

    def __str__(self) -> str:
        return f"{self.case_id} 告知承诺核查"
