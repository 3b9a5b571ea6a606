"""The event log: hash chains, checkpoints, refusal of changes, and detection of tampering."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from tongban.core.dbguard import guard_lifted
from tongban.core.eventlog import verify_event_log
from tongban.core.models import Event, EventLogImmutableError, EventSeal
from tongban.core.selectors import event_list_for
from tongban.core.services import event_append, event_chain_start, event_log_seal

CASE = ("cases.case", "1")
OTHER = ("cases.case", "2")


def tamper(sql: str, params: list) -> None:
    """What someone with direct database access could do, bypassing the app and the triggers."""
    with guard_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
class TestChain:
    def test_events_of_a_subject_form_a_chain(self):
        first = event_append(subject=CASE, kind="case.submitted", payload={"channel": "online"})
        second = event_append(subject=CASE, kind="case.accepted")
        elsewhere = event_append(subject=OTHER, kind="case.submitted")

        assert (first.seq, second.seq, elsewhere.seq) == (1, 2, 1)
        assert first.prev_hash == "" and second.prev_hash == first.hash
        assert elsewhere.prev_hash == ""
        assert [e.kind for e in event_list_for(subject=CASE)] == ["case.submitted", "case.accepted"]

    def test_a_new_subjects_first_events_chain_like_appended_ones(self):
        from tongban.org.models import Region

        region = Region.objects.create(code="43", name="湖南省", level="province")
        first, second = event_chain_start(
            subject=region,
            events=[("org.created", None, {"a": 1}), ("org.checked", None, {})],
        )
        third = event_append(subject=region, kind="org.renamed")

        assert [e.seq for e in (first, second, third)] == [1, 2, 3]
        assert second.prev_hash == first.hash and third.prev_hash == second.hash
        assert verify_event_log().intact

    def test_payload_reads_back_exactly_as_hashed(self):
        import datetime as dt
        from decimal import Decimal

        event = event_append(
            subject=CASE,
            kind="case.fee_recorded",
            payload={
                "amount": Decimal("12.50"),
                "on": dt.date(2026, 10, 13),
                "名称": "食品经营许可",
            },
        )

        stored = Event.objects.get(pk=event.pk)
        assert stored.payload == {"amount": "12.50", "on": "2026-10-13", "名称": "食品经营许可"}
        assert verify_event_log().intact

    def test_an_intact_log_verifies(self):
        for _ in range(3):
            event_append(subject=CASE, kind="case.touched")
        event_log_seal()
        event_append(subject=OTHER, kind="case.touched")

        report = verify_event_log()

        assert report.intact
        assert (report.events_checked, report.subjects_checked, report.seals_checked) == (4, 2, 1)
        assert report.unsealed_events == 1


@pytest.mark.django_db
class TestRefusal:
    def test_the_model_layer_refuses_changes(self):
        event = event_append(subject=CASE, kind="case.submitted")

        event.kind = "case.refused"
        with pytest.raises(EventLogImmutableError):
            event.save()
        with pytest.raises(EventLogImmutableError):
            event.delete()
        with pytest.raises(EventLogImmutableError):
            Event.objects.filter(pk=event.pk).update(kind="case.refused")
        with pytest.raises(EventLogImmutableError):
            Event.objects.all().delete()
        assert Event.objects.get(pk=event.pk).kind == "case.submitted"

    @pytest.mark.parametrize(
        "sql",
        ["UPDATE core_event SET kind = 'case.refused'", "DELETE FROM core_event"],
        ids=["update", "delete"],
    )
    def test_the_database_refuses_raw_sql(self, sql):
        event_append(subject=CASE, kind="case.submitted")

        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

        assert Event.objects.get().kind == "case.submitted"

    def test_the_database_refuses_changing_a_seal(self):
        event_append(subject=CASE, kind="case.submitted")
        event_log_seal()

        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE core_eventseal SET event_count = 0")


@pytest.mark.django_db
class TestTamperingIsDetected:
    def test_a_row_changed_by_hand_is_named(self):
        event_append(subject=CASE, kind="case.submitted")
        changed = event_append(subject=CASE, kind="case.refused", payload={"reason": "材料不全"})
        event_append(subject=CASE, kind="case.accepted")

        tamper("UPDATE core_event SET payload = %s WHERE id = %s", ['{"reason": "无"}', changed.pk])
        report = verify_event_log()

        assert not report.intact
        assert report.first_breach is not None
        assert report.first_breach.event_id == changed.pk
        assert "被改动" in report.first_breach.message

    def test_a_deleted_middle_row_breaks_the_chain(self):
        event_append(subject=CASE, kind="case.submitted")
        removed = event_append(subject=CASE, kind="case.supplement_requested")
        after = event_append(subject=CASE, kind="case.accepted")

        tamper("DELETE FROM core_event WHERE id = %s", [removed.pk])
        report = verify_event_log()

        assert report.first_breach is not None
        assert report.first_breach.event_id == after.pk

    def test_deleting_a_whole_sealed_history_is_detected_by_the_checkpoint(self):
        event_append(subject=CASE, kind="case.submitted")
        event_append(subject=OTHER, kind="case.submitted")
        event_append(subject=OTHER, kind="case.accepted")
        seal = event_log_seal()
        assert seal is not None

        tamper("DELETE FROM core_event WHERE subject_type = %s AND subject_id = %s", list(OTHER))
        report = verify_event_log()

        assert not report.intact
        assert any(b.seal_id == seal.pk and "删除" in b.message for b in report.breaches)

    def test_verify_log_command_reports_and_fails(self, capsys):
        event = event_append(subject=CASE, kind="case.submitted")
        call_command("verify-log")
        assert "事件日志完整" in capsys.readouterr().out

        tamper("UPDATE core_event SET kind = 'case.forged' WHERE id = %s", [event.pk])

        with pytest.raises(CommandError) as failure:
            call_command("verify-log")
        assert f"事件 #{event.pk}" in str(failure.value)


@pytest.mark.django_db
class TestSeals:
    def test_seals_chain_and_cover_only_new_events(self):
        event_append(subject=CASE, kind="a")
        first = event_log_seal()
        assert event_log_seal() is None  # nothing new
        event_append(subject=CASE, kind="b")
        event_append(subject=OTHER, kind="c")
        second = event_log_seal()

        assert first is not None and second is not None
        assert second.prev_hash == first.hash
        assert second.after_event_id == first.last_event_id
        assert second.event_count == 2
        assert EventSeal.objects.count() == 2

    def test_seal_task_runs_through_the_task_backend(self):
        from tongban.core.tasks import seal_event_log

        event_append(subject=CASE, kind="a")
        result = seal_event_log.enqueue()

        assert result.return_value == EventSeal.objects.get().pk


def _append_in_thread(subject, kind, started, release, done):
    try:
        with transaction.atomic():
            event_append(subject=subject, kind=kind)
            started.set()
            release.wait(10)
        done.set()
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has one writer at a time by design; concurrency is PostgreSQL's to prove",
)
class TestConcurrency:
    def test_writers_of_different_subjects_do_not_wait_for_each_other(self):
        started, release, done = threading.Event(), threading.Event(), threading.Event()
        holder = threading.Thread(
            target=_append_in_thread, args=(CASE, "held", started, release, done)
        )
        holder.start()
        assert started.wait(10)

        # While the first transaction is still open, another subject's event commits at once.
        event_append(subject=OTHER, kind="not-blocked")
        assert not done.is_set()

        release.set()
        holder.join(10)
        assert done.is_set()
        assert verify_event_log().intact

    def test_racing_writers_of_one_subject_keep_one_unbroken_chain(self):
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                for i in range(15):
                    event_append(subject=CASE, kind=f"writer{n}.{i}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert errors == []
        assert list(event_list_for(subject=CASE).values_list("seq", flat=True)) == list(
            range(1, 61)
        )
        assert verify_event_log().intact

    def test_sealing_waits_for_writers_so_no_event_is_left_outside(self):
        started, release, done = threading.Event(), threading.Event(), threading.Event()
        holder = threading.Thread(
            target=_append_in_thread, args=(CASE, "slow", started, release, done)
        )
        holder.start()
        assert started.wait(10)
        event_append(subject=OTHER, kind="fast")
        threading.Timer(0.5, release.set).start()

        seal = event_log_seal()  # waits for the slow transaction, then covers both events
        holder.join(10)

        assert seal is not None and seal.event_count == 2
        assert verify_event_log().intact


@pytest.mark.django_db
def test_the_admin_shows_events_but_cannot_change_them(admin_client):
    event = event_append(subject=CASE, kind="case.submitted")
    assert admin_client.get("/django-admin/core/event/").status_code == 200
    assert admin_client.get(f"/django-admin/core/event/{event.pk}/delete/").status_code == 403


def test_a_payload_is_normalised_as_it_reads_back_from_json():
    """The short copy for plain payloads gives what the JSON round trip gives, and a copy."""
    import datetime as dt
    import json
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder

    from tongban.cases.workflow import CaseStatus
    from tongban.core.eventlog import normalise_payload

    plain = {"number": "4309812026", "visits": 2, "ok": True, "none": None, "名": ["甲", {"乙": 1}]}
    payloads = [
        plain,
        {"status": CaseStatus.ACCEPTED, "from": CaseStatus.SUBMITTED},  # choices: str subclasses
        {"at": dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.UTC), "day": dt.date(2026, 12, 8)},
        {"pair": (1, 2), "amount": Decimal("1.50"), "ratio": 0.25, "n": [1.0, float("inf")]},
        {1: "a key that is no string"},
        {},
    ]
    for payload in payloads:
        expected = json.loads(json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False))
        normalised = normalise_payload(payload)
        assert normalised == expected
        assert json.dumps(normalised) == json.dumps(expected)  # the same types, not just equal
    choices = normalise_payload({"status": CaseStatus.ACCEPTED})
    assert type(choices["status"]) is str
    copy = normalise_payload(plain)
    plain["名"][1]["乙"] = 2
    assert copy["名"][1]["乙"] == 1  # later changes to the caller's payload do not reach it
