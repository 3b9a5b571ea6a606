"""The append-only event log that every app writes through.

An `Event` records who did what to which subject, when. Each subject's events form a hash chain
(`seq` 1, 2, 3 … each storing the previous row's hash), and `EventSeal` checkpoints chain every
event written since the last seal, so deleting a whole subject's history is detected too.

This module must never update or delete an event: the model layer refuses it, and so do database
triggers (see the migrations). Hashing and verification live in `tongban.core.eventlog`.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import now as core_now


class EventLogImmutableError(Exception):
    """Raised on any attempt to change or remove an event or a seal."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise EventLogImmutableError("事件日志只能追加，不能修改或删除。")


class AppendOnlyQuerySet(models.QuerySet):
    update = _refuse
    delete = _refuse
    bulk_update = _refuse
    update_or_create = _refuse


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()


class Event(AppendOnlyModel):
    """One thing that happened to one subject (a case, a ticket, a user …)."""

    subject_type = models.CharField(_("对象类型"), max_length=64)
    subject_id = models.CharField(_("对象编号"), max_length=64)
    seq = models.PositiveIntegerField(_("序号"))
    kind = models.CharField(_("事件类型"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The actor's name at the time: the record stays readable when accounts are renamed.
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    occurred_at = models.DateTimeField(_("发生时间"), default=core_now.now, db_index=True)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件日志")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "seq"], name="core_event_subject_seq_unique"
            ),
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="core_event_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type}:{self.subject_id} #{self.seq} {self.kind}"


class EventSeal(AppendOnlyModel):
    """A checkpoint over every event with after_event_id < id <= last_event_id, chained to the last."""

    sealed_at = models.DateTimeField(_("封存时间"), default=core_now.now)
    after_event_id = models.BigIntegerField(_("起点（不含）"))
    last_event_id = models.BigIntegerField(_("终点（含）"), unique=True)
    event_count = models.PositiveIntegerField(_("事件数"))
    root = models.CharField(_("事件哈希汇总"), max_length=64)
    # Unique: two sealers racing on the same predecessor cannot both win.
    prev_hash = models.CharField(_("前一检查点哈希"), max_length=64, unique=True)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("检查点")
        verbose_name_plural = _("事件日志检查点")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_event_id__gt=models.F("after_event_id")),
                name="core_eventseal_range_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return f"检查点 #{self.pk}（事件 {self.after_event_id + 1}–{self.last_event_id}）"
