"""The SMS invitation to rate: off without a public address, then once per decided case."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tongban.reviews.models import Evaluation
from tongban.reviews.tasks import invite_concluded_cases

from .factories import accepted_case, concluded_case, make_world

pytestmark = pytest.mark.django_db


def test_decided_cases_are_invited_once_with_a_link_that_rates_them(
    settings, sms_outbox, django_capture_on_commit_callbacks
):
    world = make_world()
    case = concluded_case(world)
    accepted_case(world)  # not decided: not invited
    settings.REVIEWS_PUBLIC_BASE_URL = ""
    assert invite_concluded_cases.call() == 0
    settings.REVIEWS_PUBLIC_BASE_URL = "https://zwfw.example.gov.cn/"
    sms_outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = invite_concluded_cases.call()
        again = invite_concluded_cases.call()

    assert (first, again) == (1, 0)
    [message] = sms_outbox
    assert message.mobile == "13800138000" and case.number in message.text
    link = re.search(r"https://zwfw\.example\.gov\.cn(/reviews/rate/\?t=\S+)", message.text)
    Client().post(link.group(1), {"occasion": "completion", "level": "very_satisfied"})
    assert Evaluation.objects.get().channel == "sms"
