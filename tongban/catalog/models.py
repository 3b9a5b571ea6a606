"""The catalogue: what every case is an instance of.

- `CatalogEntry` (基本目录) is the standard definition shared by all regions.
- `ServiceItem` (实施清单) is one region's and department's implementation of an entry: a stable
  identity. Its content — limits, materials, steps, form, fees — lives in `ItemVersion` rows: editing
  happens on a draft version, publishing makes it the one published version, and the version it
  replaces is kept, so a case keeps the version it was started under (cases point at versions).
- `Bundle` (一件事) combines items; its merged form and materials are computed (selectors), not stored.

The database allows what the catalogue audit exists to find (a promised limit above the legal one, a
即办件 claim with days attached): those are findings about real catalogues, not impossible data.
What is impossible — a choice outside its list, two published versions — is refused here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core import now as core_now
from tongban.core.constraints import choices_constraint
from tongban.org.models import Department, Region, Role
from tongban.timelimits.calendar import DayUnit


class ItemKind(models.TextChoices):
    LICENSE = "license", _("行政许可")
    CONFIRMATION = "confirmation", _("行政确认")
    PAYMENT = "payment", _("行政给付")
    REWARD = "reward", _("行政奖励")
    RULING = "ruling", _("行政裁决")
    OTHER_POWER = "other_power", _("其他行政权力")
    PUBLIC_SERVICE = "public_service", _("公共服务")


class EntryLevel(models.TextChoices):
    MAIN = "main", _("主项")
    SUB = "sub", _("子项")
    HANDLING = "handling", _("业务办理项")


class CatalogEntry(models.Model):
    """基本目录: the standard item, the same name, code, kind and legal basis everywhere."""

    code = models.CharField(_("基本编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=200)
    kind = models.CharField(_("事项类型"), max_length=20, choices=ItemKind.choices)
    level = models.CharField(
        _("层级"), max_length=10, choices=EntryLevel.choices, default=EntryLevel.MAIN
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    legal_basis = models.TextField(_("设定依据"), blank=True)

    class Meta:
        verbose_name = _("基本目录事项")
        verbose_name_plural = _("基本目录")
        ordering = ["code"]
        constraints = [
            choices_constraint("kind", ItemKind, "catalog_entry_kind_valid"),
            choices_constraint("level", EntryLevel, "catalog_entry_level_valid"),
            models.CheckConstraint(
                condition=Q(level=EntryLevel.MAIN, parent__isnull=True)
                | (~Q(level=EntryLevel.MAIN) & Q(parent__isnull=False)),
                name="catalog_entry_parent_matches_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ServiceItem(models.Model):
    """实施清单: an entry implemented by one department of one region. Its content is versioned."""

    entry = models.ForeignKey(
        CatalogEntry, verbose_name=_("基本目录事项"), on_delete=models.PROTECT, related_name="items"
    )
    region = models.ForeignKey(Region, verbose_name=_("实施区划"), on_delete=models.PROTECT)
    department = models.ForeignKey(Department, verbose_name=_("实施部门"), on_delete=models.PROTECT)
    local_code = models.CharField(_("实施编码"), max_length=60)
    created_at = models.DateTimeField(_("创建时间"), default=core_now.now)

    class Meta:
        verbose_name = _("实施清单事项")
        verbose_name_plural = _("实施清单")
        ordering = ["region__code", "local_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "local_code"], name="catalog_item_local_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.local_code} {self.entry.name}"


class ItemStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUSPENDED = "suspended", _("暂停办理")
    SUPERSEDED = "superseded", _("历史版本")


class OnlineDepth(models.TextChoices):
    FULL_ONLINE = "full_online", _("全程网办")
    PREREVIEW = "prereview", _("网上预审")
    OFFLINE = "offline", _("线下办理")


class CrossRegionScope(models.TextChoices):
    NONE = "none", _("不支持跨域通办")
    PROVINCE = "province", _("省内通办")
    NATIONAL = "national", _("跨省通办")


class ResultType(models.TextChoices):
    CERTIFICATE = "certificate", _("证照")
    DOCUMENT = "document", _("批文或文书")
    RECORD = "record", _("备案或登记记录")
    NONE = "none", _("无")


LIMIT_UNITS = [(DayUnit.WORKING.value, _("工作日")), (DayUnit.NATURAL.value, _("自然日"))]
MAX_PREREVIEW_DAYS = 5  # 行政许可法 第三十二条: answer an application within five days


class ItemVersion(models.Model):
    """One version of an item's content. Exactly one version of an item is published at a time."""

    item = models.ForeignKey(
        ServiceItem, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.DRAFT
    )
    name = models.CharField(_("事项名称"), max_length=200)
    implementing_body = models.CharField(_("实施主体"), max_length=100)

    legal_limit = models.PositiveIntegerField(_("法定办结时限"), null=True, blank=True)
    promised_limit = models.PositiveIntegerField(_("承诺办结时限"))
    limit_unit = models.CharField(
        _("时限单位"), max_length=10, choices=LIMIT_UNITS, default=DayUnit.WORKING.value
    )
    declared_immediate = models.BooleanField(_("申报为即办件"), default=False)
    prereview_limit = models.PositiveSmallIntegerField(_("网上预审时限（工作日）"), default=1)
    extension_allowed = models.BooleanField(_("可以延期"), default=False)
    extension_days = models.PositiveSmallIntegerField(_("可延期天数"), default=0)

    claimed_visits = models.PositiveSmallIntegerField(_("承诺跑动次数"), default=1)
    online_depth = models.CharField(
        _("网办深度"), max_length=12, choices=OnlineDepth.choices, default=OnlineDepth.OFFLINE
    )
    for_natural_person = models.BooleanField(_("服务对象：自然人"), default=True)
    for_legal_person = models.BooleanField(_("服务对象：法人"), default=False)
    conditions = models.TextField(_("受理条件"), blank=True)
    delivery_window = models.BooleanField(_("窗口领取"), default=True)
    delivery_mail = models.BooleanField(_("邮寄送达"), default=False)
    delivery_electronic = models.BooleanField(_("电子送达"), default=False)
    tolerance_allowed = models.BooleanField(_("可容缺受理"), default=False)
    commitment_allowed = models.BooleanField(_("可告知承诺"), default=False)
    cross_region_scope = models.CharField(
        _("跨域通办范围"),
        max_length=10,
        choices=CrossRegionScope.choices,
        default=CrossRegionScope.NONE,
    )
    result_type = models.CharField(
        _("办理结果类型"), max_length=12, choices=ResultType.choices, default=ResultType.DOCUMENT
    )
    result_name = models.CharField(_("办理结果名称"), max_length=100, blank=True)
    certificate_type = models.CharField(_("证照类型代码"), max_length=40, blank=True)

    office_address = models.CharField(_("办理地点"), max_length=200, blank=True)
    office_phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    office_hours = models.CharField(_("办理时间"), max_length=200, blank=True)

    guide_reviewed_at = models.DateField(_("办事指南审核日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=core_now.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("事项版本")
        verbose_name_plural = _("事项版本")
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "version"], name="catalog_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=ItemStatus.PUBLISHED),
                name="catalog_one_published_version",
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=ItemStatus.DRAFT),
                name="catalog_one_draft_version",
            ),
            choices_constraint("status", ItemStatus, "catalog_version_status_valid"),
            choices_constraint("online_depth", OnlineDepth, "catalog_version_online_depth_valid"),
            choices_constraint(
                "cross_region_scope", CrossRegionScope, "catalog_version_cross_region_valid"
            ),
            choices_constraint("result_type", ResultType, "catalog_version_result_type_valid"),
            models.CheckConstraint(
                condition=Q(limit_unit__in=[u.value for u in DayUnit]),
                name="catalog_version_limit_unit_valid",
            ),
            models.CheckConstraint(
                condition=Q(prereview_limit__gte=1, prereview_limit__lte=MAX_PREREVIEW_DAYS),
                name="catalog_version_prereview_within_law",
            ),
            models.CheckConstraint(
                condition=Q(extension_allowed=True) | Q(extension_days=0),
                name="catalog_version_extension_days_need_permission",
            ),
            models.CheckConstraint(
                condition=Q(for_natural_person=True) | Q(for_legal_person=True),
                name="catalog_version_has_service_object",
            ),
            models.CheckConstraint(
                condition=Q(status=ItemStatus.DRAFT) | Q(published_at__isnull=False),
                name="catalog_version_published_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（第 {self.version} 版，{self.get_status_display()}）"

    def clean(self) -> None:
        # The same rules as the check constraints below, said in words a catalogue admin can act on.
        errors: dict[str, object] = {}
        if not 1 <= (self.prereview_limit or 0) <= MAX_PREREVIEW_DAYS:
            errors["prereview_limit"] = _(
                "网上预审时限应为 1 至 5 个工作日（《行政许可法》第三十二条）。"
            )
        if self.extension_days and not self.extension_allowed:
            errors["extension_days"] = _("未设置“可以延期”时，可延期天数应为 0。")
        if not (self.for_natural_person or self.for_legal_person):
            errors["for_natural_person"] = _("服务对象至少选择自然人或法人之一。")
        if errors:
            raise ValidationError(errors)

    @property
    def is_immediate(self) -> bool:
        """即办件: promised to be done the day it is accepted."""
        return self.promised_limit == 0

    @property
    def has_fees(self) -> bool:
        return self.fees.exists()


class SpecialProcedureKind(models.TextChoices):
    HEARING = "hearing", _("听证")
    TENDER = "tender", _("招标、拍卖")
    INSPECTION = "inspection", _("检验、检测、检疫")
    APPRAISAL = "appraisal", _("鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")
    SITE_CHECK = "site_check", _("现场勘验")
    PUBLIC_NOTICE = "public_notice", _("公示")


class SpecialProcedure(models.Model):
    """A special procedure the item allows; when it does not count in the limit, it suspends the clock."""

    version = models.ForeignKey(
        ItemVersion, on_delete=models.CASCADE, related_name="special_procedures"
    )
    kind = models.CharField(_("特别程序"), max_length=20, choices=SpecialProcedureKind.choices)
    counts_in_limit = models.BooleanField(_("计入办结时限"), default=False)
    max_days = models.PositiveSmallIntegerField(_("最长时限"), null=True, blank=True)

    class Meta:
        verbose_name = _("特别程序")
        verbose_name_plural = _("特别程序")
        constraints = [
            choices_constraint(
                "kind", SpecialProcedureKind, "catalog_special_procedure_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["version", "kind"], name="catalog_special_procedure_once"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Necessity(models.TextChoices):
    REQUIRED = "required", _("必要")
    CONDITIONAL = "conditional", _("容缺后补或情形必要")
    OPTIONAL = "optional", _("非必要")


class MaterialForm(models.TextChoices):
    ORIGINAL = "original", _("原件")
    COPY = "copy", _("复印件")
    ORIGINAL_AND_COPY = "original_and_copy", _("原件和复印件")
    ELECTRONIC = "electronic", _("电子材料")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人自备")
    CERTIFICATE = "certificate", _("电子证照库调取")
    GOVERNMENT = "government", _("政府部门核发")


class MaterialRequirement(models.Model):
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="materials")
    order = models.PositiveSmallIntegerField(_("序号"), default=0)
    name = models.CharField(_("材料名称"), max_length=200)
    # Bundles merge materials by this key: one upload of 身份证 serves every item that needs it.
    material_type = models.SlugField(_("材料类型代码"), max_length=60)
    necessity = models.CharField(
        _("必要性"), max_length=12, choices=Necessity.choices, default=Necessity.REQUIRED
    )
    condition = models.CharField(_("适用情形"), max_length=200, blank=True)
    form = models.CharField(
        _("材料形式"), max_length=20, choices=MaterialForm.choices, default=MaterialForm.ORIGINAL
    )
    copies = models.PositiveSmallIntegerField(_("份数"), default=1)
    source = models.CharField(
        _("来源渠道"),
        max_length=12,
        choices=MaterialSource.choices,
        default=MaterialSource.APPLICANT,
    )
    certificate_type = models.CharField(_("对应证照类型"), max_length=40, blank=True)
    tolerable = models.BooleanField(_("可容缺"), default=False)
    blank_form = models.FileField(_("空白表格"), upload_to="catalog/forms/", blank=True)
    sample = models.FileField(_("示例样表"), upload_to="catalog/samples/", blank=True)
    notes = models.CharField(_("填报须知"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["version", "order", "id"]
        constraints = [
            choices_constraint("necessity", Necessity, "catalog_material_necessity_valid"),
            choices_constraint("form", MaterialForm, "catalog_material_form_valid"),
            choices_constraint("source", MaterialSource, "catalog_material_source_valid"),
            models.CheckConstraint(
                condition=~Q(necessity=Necessity.CONDITIONAL) | ~Q(condition=""),
                name="catalog_material_condition_stated",
            ),
            models.CheckConstraint(
                condition=Q(copies__gte=1), name="catalog_material_copies_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProcessStep(models.Model):
    """One back-office step; steps sharing a parallel group run at the same time (并联审批)."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("环节名称"), max_length=50)
    department = models.ForeignKey(
        Department,
        verbose_name=_("办理部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    role = models.CharField(
        _("办理岗位"), max_length=20, choices=Role.choices, default=Role.APPROVER
    )
    limit = models.PositiveSmallIntegerField(_("环节时限（工作日）"), default=1)
    parallel_group = models.PositiveSmallIntegerField(_("并联组"), null=True, blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = _("办理环节")
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "order"], name="catalog_step_order_unique"),
            choices_constraint("role", Role, "catalog_step_role_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class FieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("选项")
    ID_NUMBER = "id_number", _("身份证号码")
    CREDIT_CODE = "credit_code", _("统一社会信用代码")
    MOBILE = "mobile", _("手机号码")
    ADDRESS = "address", _("地址")
    REGION = "region", _("行政区划")
    FILE = "file", _("文件")


class FormField(models.Model):
    """One field of the item's application form; the same schema renders the form and validates it."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="form_fields")
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    key = models.SlugField(_("字段代码"), max_length=60)
    label = models.CharField(_("字段名称"), max_length=100)
    field_type = models.CharField(
        _("类型"), max_length=12, choices=FieldType.choices, default=FieldType.TEXT
    )
    required = models.BooleanField(_("必填"), default=True)
    choices = models.JSONField(_("可选值"), default=list, blank=True)
    # {"min": …, "max": …, "max_length": …, "pattern": …}: what a valid answer looks like.
    validation = models.JSONField(_("校验规则"), default=dict, blank=True)
    help_text = models.CharField(_("填写说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("表单字段")
        verbose_name_plural = _("表单字段")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="catalog_field_key_unique"),
            choices_constraint("field_type", FieldType, "catalog_field_type_valid"),
        ]

    def __str__(self) -> str:
        return self.label


class Fee(models.Model):
    """A charge with its legal basis; an item without fees is 不收费."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="fees")
    name = models.CharField(_("收费项目"), max_length=100)
    standard = models.CharField(_("收费标准"), max_length=200)
    legal_basis = models.TextField(_("收费依据"), blank=True)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")

    def __str__(self) -> str:
        return self.name


class LifeStage(models.TextChoices):
    PERSON = "person", _("个人从出生到身后")
    ENTERPRISE = "enterprise", _("企业从开办到注销")
    PROJECT = "project", _("项目从立项到竣工验收")


class Bundle(models.Model):
    """一件事: one form and one set of materials that start the items' approvals together."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("实施区划"), on_delete=models.PROTECT)
    stage = models.CharField(_("生命周期阶段"), max_length=12, choices=LifeStage.choices)
    description = models.TextField(_("简介"), blank=True)
    promised_limit = models.PositiveIntegerField(_("承诺办结时限"))
    limit_unit = models.CharField(
        _("时限单位"), max_length=10, choices=LIMIT_UNITS, default=DayUnit.WORKING.value
    )
    # A bundle that must be renewed, e.g. 公租房 re-reviewed every twelve months.
    review_months = models.PositiveSmallIntegerField(_("复核周期（月）"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.DRAFT
    )

    class Meta:
        verbose_name = _("一件事")
        verbose_name_plural = _("一件事")
        ordering = ["code"]
        constraints = [
            choices_constraint("stage", LifeStage, "catalog_bundle_stage_valid"),
            choices_constraint("status", ItemStatus, "catalog_bundle_status_valid"),
            models.CheckConstraint(
                condition=Q(limit_unit__in=[u.value for u in DayUnit]),
                name="catalog_bundle_limit_unit_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BundleItem(models.Model):
    """An item in a bundle; it can start once the items it depends on are decided."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("事项"),
        on_delete=models.PROTECT,
        related_name="bundle_memberships",
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    depends_on = models.ManyToManyField(
        "self", verbose_name=_("前置事项"), symmetrical=False, blank=True, related_name="enables"
    )

    class Meta:
        verbose_name = _("一件事中的事项")
        verbose_name_plural = _("一件事中的事项")
        ordering = ["bundle", "order"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "item"], name="catalog_bundle_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.bundle} · {self.item}"


class FieldMapping(models.Model):
    """An output of one item fills an input of another: the licence's credit code feeds the tax form."""

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="field_mappings")
    source = models.ForeignKey(
        BundleItem, verbose_name=_("来源事项"), on_delete=models.CASCADE, related_name="+"
    )
    source_key = models.SlugField(_("来源字段"), max_length=60)
    target = models.ForeignKey(
        BundleItem, verbose_name=_("目标事项"), on_delete=models.CASCADE, related_name="+"
    )
    target_key = models.SlugField(_("目标字段"), max_length=60)

    class Meta:
        verbose_name = _("字段映射")
        verbose_name_plural = _("字段映射")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "target_key"], name="catalog_mapping_target_once"
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="catalog_mapping_between_items"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_key} → {self.target_key}"


class Synonym(models.Model):
    """An everyday word and the catalogue words it means: 开饭店 → 食品经营许可."""

    term = models.CharField(_("群众用语"), max_length=50, unique=True)
    expansion = models.CharField(_("对应事项用语"), max_length=200, help_text=_("多个词用空格分隔"))

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["term"]

    def __str__(self) -> str:
        return f"{self.term} → {self.expansion}"


class SearchDocumentKind(models.TextChoices):
    ITEM = "item", _("事项")
    BUNDLE = "bundle", _("一件事")


class SearchDocument(models.Model):
    """One searchable row per published item (its published version) or published bundle.

    Written only by `tongban.catalog.search`; the text columns hold jieba-segmented, space-joined
    words so that the database's full-text index (SQLite FTS5, PostgreSQL tsvector, both created by
    the migration) splits Chinese where a citizen would.
    """

    kind = models.CharField(_("类别"), max_length=10, choices=SearchDocumentKind.choices)
    item = models.OneToOneField(
        ServiceItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(
        ItemVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    bundle = models.OneToOneField(
        Bundle, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(_("编码"), max_length=60)
    name = models.CharField(_("名称"), max_length=200)
    department = models.CharField(_("实施部门"), max_length=200, blank=True)
    item_kind = models.CharField(_("事项类型"), max_length=20, blank=True)
    immediate = models.BooleanField(_("即办件"), default=False)
    full_online = models.BooleanField(_("全程网办"), default=False)
    name_text = models.TextField(_("名称分词"))
    pinyin_text = models.TextField(_("拼音"))
    body_text = models.TextField(_("内容分词"), blank=True)
    grams_text = models.TextField(_("名称二元字组"), blank=True)
    indexed_at = models.DateTimeField(_("索引时间"), default=core_now.now)
    # The item's or bundle's region, copied so that a portal's search filters inside the full-text
    # query itself: a filter after the query's LIMIT would lose the portal's own results.
    region_code = models.CharField(_("实施区划代码"), max_length=12, db_index=True)
    # What the item issues (营业执照, 居民身份证): a citizen often searches for the paper she wants,
    # and the item that issues it must rank above the many that only ask for it as a material.
    result_name = models.CharField(_("办理结果名称"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("搜索索引条目")
        verbose_name_plural = _("搜索索引")
        constraints = [
            choices_constraint("kind", SearchDocumentKind, "catalog_search_kind_valid"),
            models.CheckConstraint(
                condition=Q(
                    kind=SearchDocumentKind.ITEM,
                    item__isnull=False,
                    version__isnull=False,
                    bundle__isnull=True,
                )
                | Q(
                    kind=SearchDocumentKind.BUNDLE,
                    item__isnull=True,
                    version__isnull=True,
                    bundle__isnull=False,
                ),
                name="catalog_search_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.name
