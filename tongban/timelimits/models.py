"""The holiday tables behind the working-day calendar.

A `CalendarDay` says that one date is a day off or a 调休 working day, nationally (no region) or for
one region and every region below it. A `CalendarYear` records that the national arrangement of a
year is known (seeded from the `chinesecalendar` package, or imported from the State Council's
notice): only those years are "covered"; any other year is counted Monday–Friday with a warning.
`CalendarRevision` is one row whose token changes with every change to these tables, so that each
process's cached calendars notice a change made by another process.

Rows are written only by `tongban.timelimits.services`; nothing here has side effects in save().
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core import now as core_now
from tongban.core.constraints import choices_constraint
from tongban.org.models import Region


class DayKind(models.TextChoices):
    DAY_OFF = "day_off", _("放假")
    WORKDAY = "workday", _("调休上班")


class DaySource(models.TextChoices):
    PACKAGE = "package", _("内置数据")
    NOTICE = "notice", _("国务院通知")
    MANUAL = "manual", _("手工录入")


class CalendarDay(models.Model):
    """One date that differs from, or names a day of, the plain Monday–Friday week."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("留空表示全国。"),
    )
    date = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=DaySource.choices)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("录入时间"), default=core_now.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("日历日")
        ordering = ["date"]
        constraints = [
            choices_constraint("kind", DayKind, "timelimits_day_kind_valid"),
            choices_constraint("source", DaySource, "timelimits_day_source_valid"),
            # Package seeds and notices are national; a region's own days are entered by hand.
            models.CheckConstraint(
                condition=Q(region__isnull=True) | Q(source=DaySource.MANUAL),
                name="timelimits_day_regional_is_manual",
            ),
            # NULL is never equal to NULL in a unique index, so national rows need their own.
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(region__isnull=True),
                name="timelimits_day_national_date_unique",
            ),
            models.UniqueConstraint(
                fields=["region", "date"],
                condition=Q(region__isnull=False),
                name="timelimits_day_region_date_unique",
            ),
        ]

    def __str__(self) -> str:
        where = self.region.name if self.region_id and self.region else _("全国")
        return f"{where} {self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()


class CalendarYear(models.Model):
    """A year whose national holiday arrangement is in the tables."""

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=10, choices=DaySource.choices)
    recorded_at = models.DateTimeField(_("导入时间"), default=core_now.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("已覆盖年份")
        verbose_name_plural = _("已覆盖年份")
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=[DaySource.PACKAGE, DaySource.NOTICE]),
                name="timelimits_year_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=1949, year__lte=9999), name="timelimits_year_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}（{self.get_source_display()}）"


class CalendarRevision(models.Model):
    """The single row whose token changes whenever a calendar table changes.

    A random token rather than a counter: a change rolled back after a process cached its result
    can never come back under a token that another, committed change then uses.
    """

    token = models.CharField(_("版本标识"), max_length=32)
    changed_at = models.DateTimeField(_("变更时间"), default=core_now.now)

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="timelimits_revision_single")]

    def __str__(self) -> str:
        return self.token
