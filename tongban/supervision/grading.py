"""Quarterly grades of departments (优秀 / 良好 / 合格 / 不合格) from three figures.

Pure functions over numbers, tested without the database. The thresholds are written down in
docs/decisions/0010-supervision-cards.md; a department gets the best grade whose every threshold
it meets, so a single bad figure is enough to pull the grade down.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


@dataclass(frozen=True)
class Threshold:
    grade: Grade
    max_red_per_100: Decimal  # red cards per 100 cases handled, at most
    min_on_time: Decimal  # completed on or before the promised due date / completed, at least
    max_bad_review: Decimal  # bad reviews / reviews, at most

    @property
    def min_on_time_percent(self) -> Decimal:
        return (self.min_on_time * 100).normalize()

    @property
    def max_bad_review_percent(self) -> Decimal:
        return (self.max_bad_review * 100).normalize()


# Best first. Percentages as fractions; Decimal so that a figure on the line is judged exactly.
THRESHOLDS = (
    Threshold(Grade.EXCELLENT, Decimal("1"), Decimal("0.98"), Decimal("0.005")),
    Threshold(Grade.GOOD, Decimal("3"), Decimal("0.95"), Decimal("0.01")),
    Threshold(Grade.PASS, Decimal("5"), Decimal("0.90"), Decimal("0.02")),
)


@dataclass(frozen=True)
class Figures:
    handled: int
    red_cards: int
    completed: int
    on_time: int
    reviews: int
    bad_reviews: int

    @property
    def red_per_100(self) -> Decimal | None:
        if not self.handled:
            return None
        return Decimal(self.red_cards * 100) / Decimal(self.handled)

    @property
    def on_time_rate(self) -> Decimal | None:
        return Decimal(self.on_time) / Decimal(self.completed) if self.completed else None

    @property
    def bad_review_rate(self) -> Decimal | None:
        return Decimal(self.bad_reviews) / Decimal(self.reviews) if self.reviews else None


def grade_of(figures: Figures) -> Grade | None:
    """The grade, or None when the department handled no case in the period (nothing to judge).

    A figure with no denominator (no case completed, no review given) does not count against it.
    """
    if not figures.handled and not figures.completed:
        return None
    red, on_time, bad = figures.red_per_100, figures.on_time_rate, figures.bad_review_rate
    for threshold in THRESHOLDS:
        if (
            (red is None or red <= threshold.max_red_per_100)
            and (on_time is None or on_time >= threshold.min_on_time)
            and (bad is None or bad <= threshold.max_bad_review)
        ):
            return threshold.grade
    return Grade.FAIL
