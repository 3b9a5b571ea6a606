"""Racing requests through the real HTTP stack: two clerks answering one case at the same moment,
and many cases started in one region at once.

Each request goes over a socket to pytest-django's live server, which answers every request in its
own thread with its own database connection, as gunicorn workers would; a barrier releases the
callers together so that their transactions meet at the row lock.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from tongban.cases import services
from tongban.cases.models import Case
from tongban.cases.selectors import case_timeline
from tongban.cases.workflow import CaseStatus
from tongban.core.eventlog import verify_event_log
from tongban.org.models import Applicant, Role

from .factories import FORM, make_world, staff

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has one writer at a time by design; racing requests are PostgreSQL's to prove",
    ),
]

CSRF = "racingrequestsracingrequests0123"  # any 32 letters and digits: cookie and header agree
NEW_PERSON = "11010519491231002X"


def session_of(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def call(base: str, session: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the live server's own http URL
        f"{base}/api/v1{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; csrftoken={CSRF}",
            "X-CSRFToken": CSRF,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def race(base: str, calls: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[int, dict]]:
    """Send every call at the same moment, each from its own thread; answers in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int, session: str, path: str, body: dict[str, Any]) -> None:
        barrier.wait(timeout=30)
        try:
            answers[index] = call(base, session, path, body)
        except Exception as error:  # reported by the assertion below, not lost in a thread
            answers[index] = (0, {"error": repr(error)})

    threads = [threading.Thread(target=run, args=(index, *one)) for index, one in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def window_case(world: Any) -> Case:
    return services.case_create(
        actor=world.clerk,
        applicant=world.applicant,
        channel="window",
        version=world.item,
        form_data=FORM,
        hall=world.hall,
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("accept", {}), ("accept", {})),
        (("accept", {}), ("refuse", {"reason": "材料不全", "basis": "行政许可法第三十二条"})),
    ],
    ids=["accept-accept", "accept-refuse"],
)
def test_two_clerks_answering_one_case_at_once_only_one_succeeds(live_server, first, second):
    world = make_world()
    sessions = [session_of(world.clerk), session_of(staff(Role.WINDOW_CLERK, hall=world.hall))]
    expected_status = {"accept": CaseStatus.ACCEPTED, "refuse": CaseStatus.REFUSED}
    labels = {"accept": "办理中", "refuse": "不予受理"}
    actions = {"accept": "受理", "refuse": "不予受理"}

    # A few rounds: a race that a missing lock loses only sometimes should not pass by luck.
    for _round in range(3):
        case = window_case(world)
        calls = [
            (sessions[0], f"/cases/{case.number}/{first[0]}", first[1]),
            (sessions[1], f"/cases/{case.number}/{second[0]}", second[1]),
        ]

        answers = race(live_server.url, calls)

        assert sorted(status for status, _body in answers) == [200, 409], answers
        winner = 0 if answers[0][0] == 200 else 1
        won, lost = (first, second) if winner == 0 else (second, first)
        assert answers[1 - winner][1] == {
            "detail": f"办件 {case.number} 当前为“{labels[won[0]]}”，"
            f"不能{actions[lost[0]]}。请刷新页面查看最新状态。"
        }
        case.refresh_from_db()
        assert case.status == expected_status[won[0]]
        kinds = [e.kind for e in case_timeline(case=case)]
        assert kinds.count("case.accepted") + kinds.count("case.refused") == 1
        assert kinds.count(f"case.{'accepted' if won[0] == 'accept' else 'refused'}") == 1
        # Steps were instantiated by the one acceptance, not twice.
        assert case.steps.count() == (5 if won[0] == "accept" else 0)
    assert verify_event_log().intact


def test_cases_started_at_once_in_one_region_get_unique_increasing_numbers(live_server):
    world = make_world()
    clerks = [world.clerk, *(staff(Role.WINDOW_CLERK, hall=world.hall) for _ in range(3))]
    sessions = [session_of(clerk) for clerk in clerks]
    body = {
        "item": world.item.pk,
        "channel": "window",
        "hall_id": world.hall.pk,
        # The same person, new to the hall, at every window: registered once, found by the rest.
        "applicant": {"id_number": NEW_PERSON, "name": "赵六", "mobile": "13912345678"},
        "form": {"name": "赵六", "mobile": "13912345678"},
    }
    count = 8

    answers = race(live_server.url, [(sessions[i % 4], "/cases", body) for i in range(count)])

    assert [status for status, _body in answers] == [201] * count, answers
    numbers = sorted(answer["number"] for _status, answer in answers)
    prefix = f"{world.main.region.code}{timezone.localdate():%Y%m%d}"
    assert numbers == [f"{prefix}{n:05d}" for n in range(1, count + 1)]
    assert Case.objects.filter(number__in=numbers, status=CaseStatus.SUBMITTED).count() == count
    assert Applicant.objects.filter(id_number=NEW_PERSON).count() == 1
    assert {answer["applicant"]["name"] for _status, answer in answers} == {"赵六"}
    # A case started after the race continues the sequence.
    assert window_case(world).number == f"{prefix}{count + 1:05d}"
    assert verify_event_log().intact
