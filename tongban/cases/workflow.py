"""The states of a case and of a step, and the moves between them, in one table each.

Only `tongban.cases.services` moves a case: it locks the row, asks `check_move`, writes and appends
the event in one transaction. A move missing here is refused there with a Chinese message.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待受理")
    SUPPLEMENT = "supplement", _("待补正")
    WAITING = "waiting", _("待前置事项")
    ACCEPTED = "accepted", _("办理中")
    SUSPENDED = "suspended", _("特别程序中")
    COMPLETED = "completed", _("已办结")
    DENIED = "denied", _("不予许可")
    DELIVERED = "delivered", _("已送达")
    REFUSED = "refused", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    TERMINATED = "terminated", _("已终止")
    REVOKED = "revoked", _("已撤销")


S = CaseStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # A saved draft is submitted, or the applicant gives it up.
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    # The one answer to an application: accept, refuse, or one supplement notice listing everything.
    # A bundle child whose prerequisites are undecided waits after its parent is accepted.
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REFUSED, S.SUPPLEMENT, S.WAITING, S.WITHDRAWN}),
    # The applicant hands in what was asked; the application is answered again. Refusal is possible
    # when the supplement never comes.
    S.SUPPLEMENT: frozenset({S.SUBMITTED, S.REFUSED, S.WITHDRAWN}),
    # A bundle child starts when what it depends on is decided, or ends when that was denied.
    S.WAITING: frozenset({S.ACCEPTED, S.TERMINATED, S.WITHDRAWN}),
    # In the back office: special procedures pause it; a decision ends it; the applicant may still
    # withdraw before the decision; a case that cannot go on is terminated with a reason.
    S.ACCEPTED: frozenset({S.SUSPENDED, S.COMPLETED, S.DENIED, S.WITHDRAWN, S.TERMINATED}),
    S.SUSPENDED: frozenset({S.ACCEPTED, S.WITHDRAWN, S.TERMINATED}),
    # A result is handed over; a decision made on commitment is revoked when the check fails.
    S.COMPLETED: frozenset({S.DELIVERED, S.REVOKED}),
    S.DELIVERED: frozenset({S.REVOKED}),
    # The 不予许可 decision is the end; its letter is delivered without changing the status.
    S.DENIED: frozenset(),
    S.REFUSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.TERMINATED: frozenset(),
    S.REVOKED: frozenset(),
}

# Statuses in which the case is someone's work: the clock (pre-review or promised) is running.
OPEN_STATUSES = frozenset({S.SUBMITTED, S.SUPPLEMENT, S.WAITING, S.ACCEPTED, S.SUSPENDED})
# Before acceptance: the application still waits for its one answer.
UNANSWERED_STATUSES = frozenset({S.SUBMITTED})
# The back office holds it.
IN_PROGRESS_STATUSES = frozenset({S.ACCEPTED, S.SUSPENDED})
# Decided (办结), favourably or not.
CONCLUDED_STATUSES = frozenset({S.COMPLETED, S.DENIED, S.DELIVERED, S.REVOKED})
FINAL_STATUSES = frozenset({S.DENIED, S.DELIVERED, S.REFUSED, S.WITHDRAWN, S.TERMINATED, S.REVOKED})


def can_move(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("未开始")
    ACTIVE = "active", _("办理中")
    PASSED = "passed", _("已通过")
    RETURNED = "returned", _("已退回")
    CANCELLED = "cancelled", _("已取消")


STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    StepStatus.WAITING: frozenset({StepStatus.ACTIVE, StepStatus.CANCELLED}),
    # A step is passed, sent back to an earlier step (which becomes active again), or cancelled
    # when the case ends another way.
    StepStatus.ACTIVE: frozenset(
        {StepStatus.PASSED, StepStatus.RETURNED, StepStatus.WAITING, StepStatus.CANCELLED}
    ),
    # A step returned to is worked again; a passed step becomes active again when a later one
    # returns the case to it.
    StepStatus.PASSED: frozenset({StepStatus.ACTIVE}),
    StepStatus.RETURNED: frozenset({StepStatus.ACTIVE, StepStatus.WAITING}),
    StepStatus.CANCELLED: frozenset(),
}


def can_move_step(current: str, target: str) -> bool:
    return target in STEP_TRANSITIONS.get(current, frozenset())
