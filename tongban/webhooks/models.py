"""Outgoing webhooks: where a department's business system wants events sent, and each sending.

An endpoint belongs to one department; a delivery is one event on its way to one endpoint, with a
delivery id that stays the same through retries and replays so that the receiver can de-duplicate.
Each attempt is kept, so that "when did you try, and what did we get back" has an answer.
Nothing here sends anything: `services.webhook_deliver` does, explicitly.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core import now as core_now
from tongban.core.constraints import choices_constraint


def _validate_kinds(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
        raise ValidationError(_("事件类型必须是非空字符串的列表。"))


class WebhookEndpoint(models.Model):
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
    )
    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    # Kept in clear: signing needs it. It is shown only to those who manage the endpoint.
    secret = models.CharField(_("签名密钥"), max_length=128)
    # Event kinds to send ("case.accepted", or "case.*" for a family); empty: every kind.
    kinds = models.JSONField(_("事件类型"), default=list, blank=True, validators=[_validate_kinds])
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=core_now.now)

    class Meta:
        verbose_name = _("推送地址")
        verbose_name_plural = _("推送地址")
        ordering = ["department__region__code", "department__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="webhooks_endpoint_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"),
                name="webhooks_endpoint_url_http",
            ),
            models.CheckConstraint(
                condition=~Q(secret=""), name="webhooks_endpoint_secret_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.name}"

    def accepts(self, kind: str) -> bool:
        if not self.kinds:
            return True
        return any(
            kind == wanted or (wanted.endswith(".*") and kind.startswith(wanted[:-1]))
            for wanted in self.kinds
        )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    SUCCEEDED = "succeeded", _("已送达")
    FAILED = "failed", _("投递失败")


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("推送地址"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    delivery_id = models.UUIDField(_("投递编号"), default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(
        "core.Event",
        verbose_name=_("事件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    event_kind = models.CharField(_("事件类型"), max_length=64)
    # The exact JSON document the receiver gets, so that a replay sends the same content.
    body = models.JSONField(_("推送内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("本轮尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=core_now.now)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due",
            ),
            models.Index(
                fields=["endpoint", "status", "-created_at"], name="webhooks_delivery_by_endpoint"
            ),
        ]
        constraints = [
            choices_constraint("status", DeliveryStatus, "webhooks_delivery_status_valid"),
            # A pending delivery always knows when to try next; a finished one never does.
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.PENDING, next_attempt_at__isnull=False)
                | (~Q(status=DeliveryStatus.PENDING) & Q(next_attempt_at__isnull=True)),
                name="webhooks_delivery_next_attempt_iff_pending",
            ),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.SUCCEEDED, delivered_at__isnull=False)
                | (~Q(status=DeliveryStatus.SUCCEEDED) & Q(delivered_at__isnull=True)),
                name="webhooks_delivery_delivered_iff_succeeded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_kind} → {self.endpoint}（{self.delivery_id}）"


class WebhookAttempt(models.Model):
    """One HTTP POST of a delivery and what came back (a status code, or why none came)."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("推送记录"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    started_at = models.DateTimeField(_("开始时间"))
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"))
    status_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("投递尝试")
        verbose_name_plural = _("投递尝试")
        ordering = ["delivery", "started_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery.delivery_id} {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
