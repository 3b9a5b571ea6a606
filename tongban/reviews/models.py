"""好差评: the applicant's evaluations of a case, and the rectification each bad one opens.

An evaluation is one applicant's word about one service occasion of one case; it is never edited
or deleted. A re-rating after the department's reply is a new row pointing at the first, which
stays. An upheld appeal only flags the review out of the statistics (`excluded_from_statistics`):
the record keeps it. Writes go through `tongban.reviews.services`; nothing here has side effects.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.cases.models import Case
from tongban.core import now as core_now
from tongban.core.constraints import choices_constraint
from tongban.org.models import Department, Region

from .workflow import RectificationState


class Level(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    VERY_DISSATISFIED = "very_dissatisfied", _("非常不满意")


# 好评 for the 好评率; 差评 need reasons and open a rectification (DESIGN §4 "好差评").
GOOD_LEVELS = frozenset({Level.VERY_SATISFIED, Level.SATISFIED})
BAD_LEVELS = frozenset({Level.DISSATISFIED, Level.VERY_DISSATISFIED})


class Occasion(models.TextChoices):
    ACCEPTANCE = "acceptance", _("受理服务")
    COMPLETION = "completion", _("办结服务")


class Channel(models.TextChoices):
    PORTAL = "portal", _("网上办事门户")
    QUERY_CODE = "query_code", _("办件查询码")
    SMS = "sms", _("短信评价链接")
    DEVICE = "device", _("窗口评价器/二维码")
    HOTLINE = "hotline", _("热线回访")


class ReasonTag(models.TextChoices):
    ATTITUDE = "attitude", _("态度差")
    MANY_TRIPS = "many_trips", _("多次跑动")
    OVERDUE = "overdue", _("超时办理")
    UNCLEAR_MATERIALS = "unclear_materials", _("材料要求不清")
    SYSTEM_FAILURE = "system_failure", _("系统故障")
    OTHER = "other", _("其他")


class Evaluation(models.Model):
    """One rating of one service occasion of one case, in the applicant's own words."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.PROTECT, related_name="evaluations"
    )
    occasion = models.CharField(_("评价环节"), max_length=12, choices=Occasion.choices)
    level = models.CharField(_("评价等级"), max_length=20, choices=Level.choices)
    tags = models.JSONField(_("差评原因"), default=list, blank=True)
    text = models.TextField(_("评价内容"), blank=True)
    channel = models.CharField(_("评价渠道"), max_length=12, choices=Channel.choices)
    # Copied from the case when rated: the figures of a department stay as they were rated.
    department = models.ForeignKey(
        Department,
        verbose_name=_("被评价部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT)
    # The applicant's portal account when they rated signed in; the agent for a hotline callback.
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录坐席"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rerating_of = models.OneToOneField(
        "self",
        verbose_name=_("原评价"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rerating",
    )
    excluded_from_statistics = models.BooleanField(_("不计入统计"), default=False)
    created_at = models.DateTimeField(_("评价时间"), default=core_now.now, db_index=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One first evaluation per case and occasion; its one re-rating is held by the
            # OneToOne on rerating_of, so two re-ratings at once cannot both be stored either.
            models.UniqueConstraint(
                fields=["case", "occasion"],
                condition=Q(rerating_of__isnull=True),
                name="reviews_one_evaluation_per_occasion",
            ),
            choices_constraint("occasion", Occasion, "reviews_evaluation_occasion_valid"),
            choices_constraint("level", Level, "reviews_evaluation_level_valid"),
            choices_constraint("channel", Channel, "reviews_evaluation_channel_valid"),
            # A bad review carries its reasons: a bulk write cannot store one without text.
            models.CheckConstraint(
                condition=~Q(level__in=[level.value for level in sorted(BAD_LEVELS)]) | ~Q(text=""),
                name="reviews_bad_review_has_text",
            ),
            models.CheckConstraint(
                condition=~Q(channel=Channel.HOTLINE) | Q(recorded_by__isnull=False),
                name="reviews_hotline_has_agent",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "created_at"], name="reviews_eval_dept_time"),
            models.Index(fields=["region", "created_at"], name="reviews_eval_region_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_occasion_display()} {self.get_level_display()}"

    @property
    def is_bad(self) -> bool:
        return self.level in BAD_LEVELS

    def tag_labels(self) -> list[str]:
        labels = dict(ReasonTag.choices)
        return [str(labels.get(tag, tag)) for tag in self.tags]


class Rectification(models.Model):
    """The work a bad review opens: verify with the applicant, rectify and reply, or appeal.

    `verify_due` and `reply_due` are fixed when the review arrives; `due` is the one that runs now
    (verify while opened, reply while verified or under appeal from there, none once replied or
    closed), indexed so that the supervision board counts rectification cards like case cards.
    """

    evaluation = models.OneToOneField(
        Evaluation, verbose_name=_("差评"), on_delete=models.PROTECT, related_name="rectification"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("整改部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(Region, verbose_name=_("区划"), on_delete=models.PROTECT)
    state = models.CharField(
        _("状态"),
        max_length=10,
        choices=RectificationState.choices,
        default=RectificationState.OPENED,
    )
    opened_at = models.DateTimeField(_("差评时间"), default=core_now.now)
    verify_due = models.DateTimeField(_("回访核实期限"))
    reply_due = models.DateTimeField(_("整改回复期限"))
    due = models.DateTimeField(_("当前期限"), null=True, blank=True, db_index=True)

    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verification_note = models.TextField(_("回访核实情况"), blank=True)
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply = models.TextField(_("整改回复"), blank=True)
    # Set at the reply: the 差评整改率 counts replies made by reply_due.
    replied_in_time = models.BooleanField(_("按期整改"), null=True, blank=True)
    # Where an appeal was filed from, so that a rejection returns it there.
    state_before_appeal = models.CharField(max_length=10, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("差评整改")
        verbose_name_plural = _("差评整改")
        ordering = ["due", "id"]
        constraints = [
            choices_constraint("state", RectificationState, "reviews_rect_state_valid"),
            models.CheckConstraint(
                condition=Q(reply_due__gte=models.F("verify_due")),
                name="reviews_rect_reply_after_verify",
            ),
            models.CheckConstraint(
                condition=~Q(state=RectificationState.REPLIED) | Q(replied_at__isnull=False),
                name="reviews_rect_replied_has_time",
            ),
        ]
        indexes = [
            # The supervision board: a department's running rectification clocks by due date.
            models.Index(fields=["department", "due"], name="reviews_rect_dept_due"),
        ]

    def __str__(self) -> str:
        return f"差评整改 #{self.pk}"


class AppealDecision(models.TextChoices):
    PENDING = "", _("待复核")
    UPHELD = "upheld", _("申诉成立")
    REJECTED = "rejected", _("申诉不成立")


class Appeal(models.Model):
    """申诉复核: the department shows a review false; a supervisor upholds or rejects it."""

    rectification = models.OneToOneField(
        Rectification, verbose_name=_("差评整改"), on_delete=models.PROTECT, related_name="appeal"
    )
    evidence = models.TextField(_("申诉理由及证据"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(_("申诉时间"), default=core_now.now)
    decision = models.CharField(
        _("复核结论"), max_length=10, choices=AppealDecision.choices, blank=True
    )
    decision_reason = models.TextField(_("复核理由"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("申诉复核")
        verbose_name_plural = _("申诉复核")
        ordering = ["filed_at", "id"]
        constraints = [
            choices_constraint("decision", AppealDecision, "reviews_appeal_decision_valid"),
            models.CheckConstraint(
                condition=Q(decision="") | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="reviews_appeal_decided_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"申诉 #{self.pk}"


class Invitation(models.Model):
    """An SMS inviting the applicant to rate a concluded case, sent once per case and occasion."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    occasion = models.CharField(max_length=12, choices=Occasion.choices)
    sent_at = models.DateTimeField(default=core_now.now)

    class Meta:
        verbose_name = _("评价邀请")
        verbose_name_plural = _("评价邀请")
        constraints = [
            models.UniqueConstraint(fields=["case", "occasion"], name="reviews_one_invitation"),
            choices_constraint("occasion", Occasion, "reviews_invitation_occasion_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.occasion}"
