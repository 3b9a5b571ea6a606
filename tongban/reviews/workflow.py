"""The states of a bad review's rectification (差评整改) and the moves between them, in one table.

Only `tongban.reviews.services` moves a rectification: it locks the row, asks `can_move`, writes and
appends the event in one transaction. A move missing here is refused there with a Chinese message.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RectificationState(models.TextChoices):
    OPENED = "opened", _("待回访核实")
    VERIFIED = "verified", _("待整改回复")
    REPLIED = "replied", _("已整改回复")
    APPEALED = "appealed", _("申诉复核中")
    CLOSED = "closed", _("已办结")


R = RectificationState

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # The department calls the applicant back (回访核实) first; it may also show the review false.
    R.OPENED: frozenset({R.VERIFIED, R.APPEALED}),
    # Verified: the department rectifies and replies, or appeals on what the call showed.
    R.VERIFIED: frozenset({R.REPLIED, R.APPEALED}),
    # Replied: the applicant's one re-rating closes it; evidence found later can still be appealed.
    R.REPLIED: frozenset({R.CLOSED, R.APPEALED}),
    # A rejected appeal returns the rectification to where it stood; an upheld one ends it.
    R.APPEALED: frozenset({R.OPENED, R.VERIFIED, R.REPLIED, R.CLOSED}),
    R.CLOSED: frozenset(),
}

# States in which the department still owes something, and the clock of each.
OPEN_STATES = frozenset({R.OPENED, R.VERIFIED, R.APPEALED})


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())
