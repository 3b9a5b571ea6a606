"""Rollup tables: additive counters per day (or month) and dimension, from which every case
indicator is answered without scanning cases.

`CaseDay` is the source of truth of the rollups, computed from the cases, the event log, the
evaluations and the rectifications of one local day (see `tongban.metrics.rollup`). The coarser
tables are sums of `CaseDay` rows: `CaseMonth` keeps every dimension, `DepartmentDay` and
`DepartmentMonth` drop the item and the hall, `RegionDay` and `RegionMonth` keep only the region
and the channel, so that a year over a province sums a few hundred rows.
Which date puts a case into a row is documented per counter in docs/indicators.md.

Rows are only ever replaced a whole day (or month) at a time, in one transaction; nothing here
may be updated in place.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core import now as core_now

# Working days taken by a completed case, bucketed: (column suffix, lowest value, highest value).
# The 90th percentile is read from these buckets (its bucket's upper bound).
DAYS_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2", 2, 2),
    ("3", 3, 3),
    ("4", 4, 4),
    ("5", 5, 5),
    ("6_10", 6, 10),
    ("11_15", 11, 15),
    ("16_20", 16, 20),
    ("21_30", 21, 30),
    ("31_plus", 31, None),
)

# Actual visits of a completed case, bucketed (3 means "3 or more").
VISIT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2", 2, 2),
    ("3_plus", 3, None),
)

# Every additive counter, in the order the tables declare them.
COUNTERS: tuple[str, ...] = (
    "accepted",
    "accepted_online",
    "supplemented",
    "supplemented_once",
    "completed",
    "completed_same_day",
    "completed_on_time",
    "completed_late",
    "completed_full_online",
    "visits_sum",
    *(f"visits_{suffix}" for suffix, _lo, _hi in VISIT_BUCKETS),
    *(f"taken_{suffix}" for suffix, _lo, _hi in DAYS_BUCKETS),
    "days_taken_sum",
    "days_promised_sum",
    "yellow_cards",
    "red_cards",
    "evaluations",
    "good_reviews",
    "bad_reviews",
    "rectifications_due",
    "rectified_in_time",
)


def _counter(label: Any) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(label, default=0)


class Counters(models.Model):
    """The counters shared by every rollup table (see docs/indicators.md for each one)."""

    region_code = models.CharField(_("区划代码"), max_length=12)
    department_id = models.IntegerField(_("部门"), null=True, blank=True)
    channel = models.CharField(_("申请渠道"), max_length=10)

    accepted = _counter(_("受理件数"))
    accepted_online = _counter(_("网上受理件数"))
    supplemented = _counter(_("有补正的受理件"))
    supplemented_once = _counter(_("仅补正一次的受理件"))
    completed = _counter(_("办结件数"))
    completed_same_day = _counter(_("当日办结件数"))
    completed_on_time = _counter(_("按时办结件数"))
    completed_late = _counter(_("超期办结件数"))
    completed_full_online = _counter(_("全程网办办结件数"))
    visits_sum = _counter(_("办结件跑动次数合计"))
    visits_0 = _counter(_("零跑动办结件"))
    visits_1 = _counter(_("跑动一次办结件"))
    visits_2 = _counter(_("跑动两次办结件"))
    visits_3_plus = _counter(_("跑动三次及以上办结件"))
    taken_0 = _counter(_("用时0个工作日"))
    taken_1 = _counter(_("用时1个工作日"))
    taken_2 = _counter(_("用时2个工作日"))
    taken_3 = _counter(_("用时3个工作日"))
    taken_4 = _counter(_("用时4个工作日"))
    taken_5 = _counter(_("用时5个工作日"))
    taken_6_10 = _counter(_("用时6–10个工作日"))
    taken_11_15 = _counter(_("用时11–15个工作日"))
    taken_16_20 = _counter(_("用时16–20个工作日"))
    taken_21_30 = _counter(_("用时21–30个工作日"))
    taken_31_plus = _counter(_("用时31个工作日以上"))
    days_taken_sum = models.BigIntegerField(_("办理用时合计（工作日）"), default=0)
    days_promised_sum = models.BigIntegerField(_("承诺时限合计"), default=0)
    yellow_cards = _counter(_("黄牌数"))
    red_cards = _counter(_("红牌数"))
    evaluations = _counter(_("评价数"))
    good_reviews = _counter(_("好评数"))
    bad_reviews = _counter(_("差评数"))
    rectifications_due = _counter(_("到期差评整改"))
    rectified_in_time = _counter(_("按期整改"))

    class Meta:
        abstract = True


class CaseDay(Counters):
    """One local day, every dimension: the rows the rollup writes from what happened."""

    day = models.DateField(_("日期"))
    item_id = models.IntegerField(_("事项"), null=True, blank=True)
    hall_id = models.IntegerField(_("受理大厅"), null=True, blank=True)

    class Meta:
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        indexes = [
            models.Index(fields=["day", "region_code"], name="metrics_caseday_day"),
            models.Index(fields=["item_id", "day"], name="metrics_caseday_item"),
            models.Index(fields=["hall_id", "day"], name="metrics_caseday_hall"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code}"


class CaseMonth(Counters):
    """The sum of a month's `CaseDay` rows, every dimension (for hall and item scopes)."""

    month = models.DateField(_("月份"))
    item_id = models.IntegerField(_("事项"), null=True, blank=True)
    hall_id = models.IntegerField(_("受理大厅"), null=True, blank=True)

    class Meta:
        verbose_name = _("月统计")
        verbose_name_plural = _("月统计")
        indexes = [
            models.Index(fields=["month", "region_code"], name="metrics_casemonth_month"),
            models.Index(fields=["item_id", "month"], name="metrics_casemonth_item"),
            models.Index(fields=["hall_id", "month"], name="metrics_casemonth_hall"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_code}"


class DepartmentDay(Counters):
    """The sum of a day's `CaseDay` rows per region, department and channel."""

    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("部门日统计")
        verbose_name_plural = _("部门日统计")
        indexes = [
            models.Index(fields=["day", "region_code"], name="metrics_deptday_day"),
            models.Index(fields=["department_id", "day"], name="metrics_deptday_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code} {self.department_id}"


class DepartmentMonth(Counters):
    """The sum of a month's `CaseDay` rows per region, department and channel."""

    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("部门月统计")
        verbose_name_plural = _("部门月统计")
        indexes = [
            models.Index(fields=["month", "region_code"], name="metrics_deptmonth_month"),
            models.Index(fields=["department_id", "month"], name="metrics_deptmonth_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_code} {self.department_id}"


class RegionDay(Counters):
    """The sum of a day's `CaseDay` rows per region and channel (department left empty)."""

    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("区划日统计")
        verbose_name_plural = _("区划日统计")
        indexes = [models.Index(fields=["day", "region_code"], name="metrics_regionday_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code}"


class RegionMonth(Counters):
    """The sum of a month's `CaseDay` rows per region and channel: a year over a province is a
    few hundred rows."""

    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("区划月统计")
        verbose_name_plural = _("区划月统计")
        indexes = [models.Index(fields=["month", "region_code"], name="metrics_regionmonth_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_code}"


class RollupState(models.Model):
    """Where the incremental rollup stands. Its row is locked while a run writes, so two runs
    at once take turns instead of counting twice."""

    name = models.CharField(max_length=20, primary_key=True)
    last_event_id = models.BigIntegerField(_("已处理事件"), default=0)
    last_evaluation_id = models.BigIntegerField(_("已处理评价"), default=0)
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)
    last_rebuild_at = models.DateTimeField(_("上次重建"), null=True, blank=True)
    days_rolled = models.PositiveIntegerField(_("上次重算天数"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), default=core_now.now)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"
