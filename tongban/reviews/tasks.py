"""Background work of 好差评: inviting applicants to rate their decided cases by SMS.

Off until REVIEWS_PUBLIC_BASE_URL is set (the link must point at the public site). Safe to run
twice at once: an invitation is sent once per case and occasion (services.invitation_send).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from . import selectors, services
from .models import Occasion

# Cases decided longer ago than this are not invited any more: the applicant has moved on.
INVITE_WITHIN_DAYS = 7


@task()
def invite_concluded_cases() -> int:
    base_url = getattr(settings, "REVIEWS_PUBLIC_BASE_URL", "")
    if not base_url:
        return 0
    since = timezone.now() - timedelta(days=INVITE_WITHIN_DAYS)
    return sum(
        services.invitation_send(case=case, occasion=Occasion.COMPLETION, base_url=base_url)
        for case in selectors.cases_to_invite(since=since)
    )
