"""The indicators: their names, units, default targets and, for case indicators, which rollup
counters make the numerator and the denominator. docs/indicators.md defines each one in words.

Targets are defaults; a deployment overrides them with the setting METRICS_TARGETS
(a dict key -> fraction or number, None to drop a target).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

RATIO = "ratio"
COUNT = "count"
DAYS = "days"

CATALOGUE = "catalogue"
CASE = "case"


@dataclass(frozen=True)
class IndicatorDefinition:
    key: str
    name: str | Promise
    unit: str
    target: float | None
    higher_is_better: bool
    kind: str
    description: str | Promise
    # Rollup counters summed into the numerator and the denominator (case indicators only).
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()

    @property
    def effective_target(self) -> float | None:
        overrides = getattr(settings, "METRICS_TARGETS", None) or {}
        return overrides.get(self.key, self.target)


def _d(*args: object, **kwargs: object) -> tuple[str, IndicatorDefinition]:
    definition = IndicatorDefinition(*args, **kwargs)  # type: ignore[arg-type]
    return definition.key, definition


INDICATORS: dict[str, IndicatorDefinition] = dict(
    [
        # --- catalogue: what the items claim (published versions, as of now) ----------------------
        _d(
            "immediate_item_share",
            _("即办件占比"),
            RATIO,
            0.3,
            True,
            CATALOGUE,
            _("承诺时限为0的事项数 / 已发布事项数"),
        ),
        _d(
            "time_compression",
            _("时限压缩比"),
            RATIO,
            0.5,
            True,
            CATALOGUE,
            _("1 − 承诺时限之和 / 法定时限之和（有法定时限的已发布事项）"),
        ),
        _d(
            "full_online_item_share",
            _("全程网办事项占比"),
            RATIO,
            0.8,
            True,
            CATALOGUE,
            _("网办深度为全程网办的事项数 / 已发布事项数"),
        ),
        _d(
            "prereview_item_share",
            _("网上预审事项占比"),
            RATIO,
            None,
            True,
            CATALOGUE,
            _("网办深度为网上预审的事项数 / 已发布事项数"),
        ),
        _d(
            "offline_item_share",
            _("线下办理事项占比"),
            RATIO,
            None,
            False,
            CATALOGUE,
            _("网办深度为线下办理的事项数 / 已发布事项数"),
        ),
        # --- cases: what really happened -----------------------------------------------------------
        _d(
            "accepted_count",
            _("受理件数"),
            COUNT,
            None,
            True,
            CASE,
            _("受理日期在期间内的办件数"),
            ("accepted",),
            ("accepted",),
        ),
        _d(
            "completed_count",
            _("办结件数"),
            COUNT,
            None,
            True,
            CASE,
            _("办结日期在期间内的办件数"),
            ("completed",),
            ("completed",),
        ),
        _d(
            "immediate_rate",
            _("即办件率"),
            RATIO,
            None,
            True,
            CASE,
            _("受理当个工作日办结的办件 / 办结件"),
            ("completed_same_day",),
            ("completed",),
        ),
        _d(
            "online_rate",
            _("网办率"),
            RATIO,
            0.9,
            True,
            CASE,
            _("网上申请的受理件 / 受理件"),
            ("accepted_online",),
            ("accepted",),
        ),
        _d(
            "one_visit_rate",
            _("一次办好率（最多跑一次率）"),
            RATIO,
            0.9,
            True,
            CASE,
            _("跑动不超过一次的办结件 / 办结件"),
            ("visits_0", "visits_1"),
            ("completed",),
        ),
        _d(
            "zero_visit_rate",
            _("零跑动率"),
            RATIO,
            None,
            True,
            CASE,
            _("零跑动的办结件 / 办结件"),
            ("visits_0",),
            ("completed",),
        ),
        _d(
            "one_notice_rate",
            _("一次性告知合规率"),
            RATIO,
            1.0,
            True,
            CASE,
            _("只补正一次的受理件 / 有过补正的受理件"),
            ("supplemented_once",),
            ("supplemented",),
        ),
        _d(
            "on_time_rate",
            _("按时办结率"),
            RATIO,
            0.99,
            True,
            CASE,
            _("在承诺期限内办结的办件 / 办结件"),
            ("completed_on_time",),
            ("completed",),
        ),
        _d(
            "overdue_count",
            _("超期件"),
            COUNT,
            0,
            False,
            CASE,
            _("期间内超过承诺期限办结的办件，加上承诺期限在期间内已过仍未办结的办件"),
            ("completed_late",),
            ("completed_late",),
        ),
        _d(
            "yellow_cards",
            _("黄牌数"),
            COUNT,
            None,
            False,
            CASE,
            _("期间内亮出的黄牌（每个计时对象每种颜色一次）"),
            ("yellow_cards",),
            ("yellow_cards",),
        ),
        _d(
            "red_cards",
            _("红牌数"),
            COUNT,
            0,
            False,
            CASE,
            _("期间内亮出的红牌（含超过法定期限）"),
            ("red_cards",),
            ("red_cards",),
        ),
        _d(
            "good_review_rate",
            _("好评率"),
            RATIO,
            0.99,
            True,
            CASE,
            _("（非常满意 + 满意）/ 计入统计的评价"),
            ("good_reviews",),
            ("evaluations",),
        ),
        _d(
            "rectified_rate",
            _("差评整改率"),
            RATIO,
            1.0,
            True,
            CASE,
            _("按期整改的差评 / 整改期限在期间内的差评"),
            ("rectified_in_time",),
            ("rectifications_due",),
        ),
        _d(
            "bad_review_count",
            _("差评数"),
            COUNT,
            None,
            False,
            CASE,
            _("期间内计入统计的差评数"),
            ("bad_reviews",),
            ("bad_reviews",),
        ),
        _d(
            "avg_days_taken",
            _("平均办理用时（工作日）"),
            DAYS,
            None,
            False,
            CASE,
            _("办结件受理到办结的工作日之和 / 办结件"),
            ("days_taken_sum",),
            ("completed",),
        ),
        _d(
            "avg_days_promised",
            _("平均承诺时限（工作日）"),
            DAYS,
            None,
            False,
            CASE,
            _("办结件承诺时限之和 / 办结件"),
            ("days_promised_sum",),
            ("completed",),
        ),
    ]
)
