"""Electronic supervision: the record of card alerts sent, and 督办 directives with their replies.

Cards themselves are never stored (DESIGN §4): a card is a stored due date read against the clock,
see `selectors`. What is stored is that an alert for one clock of one object turning one colour was
sent (`CardAlert`, unique per object, clock and colour), so a sweep run twice, or two sweeps at
once, send nothing twice. Nothing here has side effects in save().
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.cases.models import Case
from tongban.catalog.models import ServiceItem
from tongban.core.constraints import choices_constraint
from tongban.core.now import now
from tongban.org.models import Department

from .workflow import DirectiveStatus


class CardClock(models.TextChoices):
    """Which due date a card reads."""

    PROMISED = "promised", _("承诺时限")
    LEGAL = "legal", _("法定时限")
    PREREVIEW = "prereview", _("网上预审")
    TOLERANCE = "tolerance", _("容缺补齐")
    STEP = "step", _("办理环节")
    DIRECTIVE = "directive", _("督办")


class CardColour(models.TextChoices):
    GREEN = "green", _("绿牌")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


# Only turning yellow and turning red are alerted; green is the absence of an alert.
ALERT_COLOURS = (CardColour.YELLOW, CardColour.RED)


class CardAlert(models.Model):
    """One "turned yellow" / "turned red" for one clock of one object, sent once.

    `object_id` is a case id for the case clocks, a step id for `step` and a directive id for
    `directive`. The row is written in the same transaction as the event on the case (or
    directive) and the alerts are sent after commit, so the row is the proof they went out.
    """

    clock = models.CharField(_("时限"), max_length=12, choices=CardClock.choices)
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    colour = models.CharField(_("颜色"), max_length=8, choices=CardColour.choices)
    case = models.ForeignKey(
        Case, verbose_name=_("办件"), null=True, blank=True, on_delete=models.CASCADE
    )
    department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    step_name = models.CharField(_("环节"), max_length=50, blank=True)
    due = models.DateTimeField(_("期限"))
    created_at = models.DateTimeField(_("预警时间"), default=now)
    recipients = models.PositiveSmallIntegerField(_("短信接收人数"), default=0)

    class Meta:
        verbose_name = _("红黄牌预警")
        verbose_name_plural = _("红黄牌预警")
        ordering = ["-created_at", "-id"]
        constraints = [
            choices_constraint("clock", CardClock, "supervision_alert_clock_valid"),
            models.CheckConstraint(
                condition=Q(colour__in=[c.value for c in ALERT_COLOURS]),
                name="supervision_alert_colour_valid",
            ),
            models.UniqueConstraint(
                fields=["clock", "object_id", "colour"], name="supervision_alert_once"
            ),
        ]
        indexes = [
            # The board's alert list and red cards per week, per department.
            models.Index(fields=["department", "created_at"], name="supervision_alert_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.object_id} {self.get_colour_display()}"


class Directive(models.Model):
    """督办: a supervisor's order to a department about a case, an item or a pattern."""

    case = models.ForeignKey(
        Case,
        verbose_name=_("督办办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("督办事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pattern = models.CharField(_("督办问题"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("督办要求"))
    limit_days = models.PositiveSmallIntegerField(_("答复时限（工作日）"))
    status = models.CharField(
        _("状态"), max_length=10, choices=DirectiveStatus.choices, default=DirectiveStatus.ISSUED
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("督办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("督办时间"), default=now)
    # Counted from the issue (or from the last send-back) in the department region's working days.
    due = models.DateTimeField(_("答复期限"), db_index=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-issued_at", "-id"]
        constraints = [
            choices_constraint("status", DirectiveStatus, "supervision_directive_status_valid"),
            models.CheckConstraint(
                condition=Q(case__isnull=False) | Q(item__isnull=False) | ~Q(pattern=""),
                name="supervision_directive_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(limit_days__gte=1, limit_days__lte=30),
                name="supervision_directive_limit_range",
            ),
            models.CheckConstraint(
                condition=~Q(status=DirectiveStatus.CLOSED) | Q(closed_at__isnull=False),
                name="supervision_directive_closed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "status", "due"], name="supervision_dir_inbox"),
        ]

    def __str__(self) -> str:
        return f"督办 #{self.pk} → {self.department}"

    @property
    def subject_label(self) -> str:
        if self.case is not None:
            return f"{self.case.number} {self.case.title}"
        if self.item_id is not None:
            return str(self.item)
        return self.pattern


class ReplyKind(models.TextChoices):
    REPLY = "reply", _("部门答复")
    RETURNED = "returned", _("退回重办")
    ACCEPTED = "accepted", _("审核通过")


class DirectiveReply(models.Model):
    """One message on a directive: the department's answer, or the supervisor's verdict on it."""

    directive = models.ForeignKey(Directive, on_delete=models.CASCADE, related_name="replies")
    kind = models.CharField(_("类型"), max_length=10, choices=ReplyKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), default=now)

    class Meta:
        verbose_name = _("督办答复")
        verbose_name_plural = _("督办答复")
        ordering = ["directive", "created_at", "id"]
        constraints = [choices_constraint("kind", ReplyKind, "supervision_reply_kind_valid")]

    def __str__(self) -> str:
        return f"{self.directive_id} {self.get_kind_display()}"
