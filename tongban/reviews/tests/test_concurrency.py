"""Two evaluations of one case submitted at the same moment: exactly one is stored.

Each thread has its own database connection, as two web workers would; a barrier releases them
together so that both pass the "already rated?" check before either commits, and the unique
constraint decides. SQLite has one writer at a time by design: this is PostgreSQL's to prove.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from tongban.core.eventlog import verify_event_log
from tongban.core.selectors import event_list_for
from tongban.reviews import services
from tongban.reviews.models import Evaluation, Rectification

from .factories import concluded_case, make_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has one writer at a time by design; racing writers are PostgreSQL's to prove",
    ),
]

BAD = {"level": "dissatisfied", "tags": ["overdue"], "text": "超时"}


def race(calls: list[Any]) -> list[str]:
    """Run every call at the same moment, each in its own thread; 'stored' or the refusal."""
    barrier = threading.Barrier(len(calls))
    answers: list[str] = [""] * len(calls)

    def run(index: int, call: Any) -> None:
        try:
            barrier.wait(timeout=30)
            call()
            answers[index] = "stored"
        except services.ReviewStateError as error:
            answers[index] = " ".join(error.messages)
        except Exception as error:  # reported by the assertion, not lost in a thread
            answers[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def test_two_evaluations_of_one_case_at_once_store_exactly_one():
    world = make_world()
    # A few rounds: a race that a missing constraint loses only sometimes should not pass by luck.
    for _round in range(3):
        case = concluded_case(world)

        def by_code(level: str, case: Any = case) -> Any:
            return lambda: services.evaluation_by_query_code(
                actor=None,
                case=case,
                occasion="completion",
                level=level,
                **({"tags": BAD["tags"], "text": BAD["text"]} if level == "dissatisfied" else {}),
            )

        answers = race([by_code("dissatisfied"), by_code("very_satisfied")])

        assert answers.count("stored") == 1, answers
        [lost] = [a for a in answers if a != "stored"]
        assert lost == f"办件 {case.number} 的这项服务已经评价过，每项服务只能评价一次。"
        [kept] = Evaluation.objects.filter(case=case)
        # A bad review opens its rectification only if it is the one kept.
        assert Rectification.objects.filter(evaluation__case=case).count() == int(kept.is_bad)
        refused = [
            e.payload for e in event_list_for(subject=case) if e.kind == "review.refused_attempt"
        ]
        assert [p["reason"] for p in refused] == ["duplicate"]
    assert verify_event_log().intact


def test_two_re_ratings_at_once_store_exactly_one():
    world = make_world()
    case = concluded_case(world)
    first = services.evaluation_by_applicant(
        actor=world.citizen, case=case, occasion="completion", **BAD
    )
    services.rectification_verify(
        actor=world.approver, rectification=first.rectification, note="属实"
    )
    services.rectification_reply(
        actor=world.approver, rectification=first.rectification, reply="已整改"
    )

    def rerate(level: str) -> Any:
        return lambda: services.evaluation_by_applicant(
            actor=world.citizen, case=case, occasion="completion", level=level
        )

    answers = race([rerate("satisfied"), rerate("very_satisfied")])

    assert answers.count("stored") == 1, answers
    assert Evaluation.objects.filter(rerating_of=first).count() == 1
    assert Rectification.objects.get(pk=first.rectification.pk).state == "closed"
