"""The states of a 督办 directive and the moves between them, in one table.

Only `tongban.supervision.services` moves a directive: it locks the row, asks `can_move`, writes and
appends the event in one transaction.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DirectiveStatus(models.TextChoices):
    ISSUED = "issued", _("待答复")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")
    ESCALATED = "escalated", _("已升级")


D = DirectiveStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # The department answers; left unanswered past its due date, the sweep escalates it to the
    # department head.
    D.ISSUED: frozenset({D.REPLIED, D.ESCALATED}),
    # Escalated still waits for the department's answer: escalation adds pressure, not a new order.
    D.ESCALATED: frozenset({D.REPLIED}),
    # The supervisor accepts the answer (closed) or sends it back (issued again, with a new limit).
    D.REPLIED: frozenset({D.CLOSED, D.ISSUED}),
    D.CLOSED: frozenset(),
}

# The directive waits for the department: its clock (and card) runs.
AWAITING_REPLY = frozenset({D.ISSUED, D.ESCALATED})


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())
