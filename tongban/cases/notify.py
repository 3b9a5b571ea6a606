"""What a case event sets off after commit: SMS to the applicant, webhooks to department systems.

Called by the services only; each call registers a `transaction.on_commit` hook so that nothing
leaves the machine for a change that rolls back. Never raises into the service.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.core.models import Event
from tongban.core.sms import send_sms

logger = logging.getLogger(__name__)

_SMS_TEXTS = {
    "submitted": _("【通办】您的申请“%(title)s”已提交，办件编号 %(number)s，查询码 %(code)s。"),
    "accepted": _("【通办】您的申请“%(title)s”（%(number)s）已受理，承诺办结期限 %(due)s。"),
    "supplement": _("【通办】您的申请“%(title)s”（%(number)s）需补正材料，请查看一次性告知书。"),
    "refused": _("【通办】您的申请“%(title)s”（%(number)s）不予受理，请查看决定书。"),
    "suspended": _("【通办】您的办件“%(title)s”（%(number)s）进入特别程序，期间不计入办理时限。"),
    "extended": _("【通办】您的办件“%(title)s”（%(number)s）已依法延期，新的办结期限 %(due)s。"),
    "completed": _("【通办】您的办件“%(title)s”（%(number)s）已办结（准予）。"),
    "denied": _("【通办】您的办件“%(title)s”（%(number)s）已办结（不予许可），请查看决定书。"),
    "pickup": _("【通办】您的办件“%(title)s”（%(number)s）结果已可领取，请到%(hall)s领取。"),
}


def sms_text(*, case: Any, what: str) -> str:
    from django.utils import timezone

    due = (
        timezone.localtime(case.promised_due).strftime("%Y年%m月%d日") if case.promised_due else ""
    )
    return str(_SMS_TEXTS[what]) % {
        "title": case.title,
        "number": case.number,
        "code": case.query_code,
        "due": due,
        "hall": case.hall.name if case.hall_id else _("办理大厅"),
    }


def applicant_sms_on_commit(*, case: Any, what: str) -> None:
    mobile = case.applicant.mobile
    if not mobile or case.parent_id is not None:
        return
    text = sms_text(case=case, what=what)

    def send() -> None:
        try:
            send_sms(mobile=mobile, text=text)
        except Exception:  # an SMS gateway outage must not undo a committed decision
            logger.exception("SMS to applicant of case %s failed", case.number)

    transaction.on_commit(send)


def case_event_on_commit(
    *, case: Any, event: Event, department_ids: set[int] | None = None
) -> None:
    """Department systems subscribed to the case's departments receive the event (pass the
    departments when the caller knows them: a case just created has no steps to ask about)."""
    from tongban.cases.selectors import case_department_ids, case_webhook_body

    if department_ids is None:
        department_ids = case_department_ids(case)
    if not department_ids:
        return
    from tongban.org.models import Department
    from tongban.webhooks.services import webhooks_enqueue

    webhooks_enqueue(
        # Only their ids are read: no need to load the rows.
        departments=[Department(pk=pk) for pk in department_ids],
        event=event,
        body=case_webhook_body(case=case, event=event),
    )


def case_events_on_commit(*, case: Any, events: list[Event], department_ids: set[int]) -> None:
    """case_event_on_commit for several events of one case and the same departments, with one
    look-up of the departments' endpoints for all of them."""
    if not department_ids:
        return
    from tongban.cases.selectors import case_webhook_body
    from tongban.org.models import Department
    from tongban.webhooks.services import webhooks_enqueue_many

    webhooks_enqueue_many(
        departments=[Department(pk=pk) for pk in department_ids],
        events=[(event, case_webhook_body(case=case, event=event)) for event in events],
    )
