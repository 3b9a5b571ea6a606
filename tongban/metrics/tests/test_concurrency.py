"""Two rollups at once (several workers may each run the periodic task): neither counts twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tongban.metrics import rollup
from tongban.metrics.models import CaseDay

from .factories import services_only_cases
from .test_indicators import table_rows

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has one writer at a time by design; racing workers are PostgreSQL's to prove",
    ),
]


def test_two_rollups_at_once_give_the_rows_of_one():
    services_only_cases()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            rollup.rollup_pending()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    raced = table_rows()
    accepted = sum(CaseDay.objects.values_list("accepted", flat=True))
    assert accepted == 4
    rollup.rollup_rebuild()
    assert table_rows() == raced
