"""insert_new writes exactly the rows bulk_create would, and gives the objects their keys."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from tongban.cases.models import Case, CaseMaterial, MaterialStatus
from tongban.cases.tests.factories import make_world
from tongban.cases.workflow import CaseStatus
from tongban.core.models import Event
from tongban.core.rows import insert_new, insert_values, update_existing
from tongban.core.services import _chained

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 12, 4, 1, 2, 3, 456789, tzinfo=dt.UTC)


def _events(subject_id: str) -> list[Event]:
    first = _chained(
        "cases.case", subject_id, 1, "case.created", None, "系统", AT, {"名": "张三"}, ""
    )
    second = _chained(
        "cases.case", subject_id, 2, "case.submitted", None, "系统", AT, {"n": [1, 2.5]}, first.hash
    )
    return [first, second]


def _saved_case(number: str, channel: str) -> Case:
    world = make_world()
    return Case.objects.create(
        number=number,
        query_code="ABCDEFGH",
        version=world.item,
        title="测试",
        region=world.item.item.region,
        applicant=world.applicant,
        channel=channel,
    )


def _stored(model, pks):
    rows = [model_to_dict(row) for row in model.objects.filter(pk__in=pks).order_by("pk")]
    for row in rows:
        row.pop("id")
    return rows


def test_events_are_stored_as_bulk_create_stores_them():
    ours = insert_new(_events("1"))
    theirs = Event.objects.bulk_create(_events("2"))

    assert [e.pk for e in ours] == sorted(e.pk for e in ours)
    mine, reference = _stored(Event, [e.pk for e in ours]), _stored(Event, [e.pk for e in theirs])
    for row in reference:
        row["subject_id"] = "1"
    assert [{k: v for k, v in r.items() if k not in ("hash", "prev_hash")} for r in mine] == [
        {k: v for k, v in r.items() if k not in ("hash", "prev_hash")} for r in reference
    ]
    assert [r["payload"] for r in mine] == [{"名": "张三"}, {"n": [1, 2.5]}]
    assert Event.objects.get(pk=ours[0].pk).occurred_at == AT
    assert [Event.objects.get(pk=e.pk).hash for e in ours] == [e.hash for e in ours]


def test_a_case_and_its_materials_read_back_as_the_orm_writes_them():
    world = make_world()
    template = Case.objects.create(
        number="43098120261204ZZ001",
        query_code="ABCDEFGH",
        version=world.item,
        title="测试",
        region=world.item.item.region,
        department=world.main,
        applicant=world.applicant,
        channel="window",
        form_data={"name": "王五"},
    )
    ours = Case(
        **{
            f.attname: getattr(template, f.attname)
            for f in Case._meta.concrete_fields
            if not f.primary_key
        }
    )
    ours.number = "43098120261204ZZ002"
    insert_new([ours])

    mine, reference = _stored(Case, [ours.pk]), _stored(Case, [template.pk])
    mine[0].pop("number"), reference[0].pop("number")
    assert mine == reference
    assert not ours._state.adding
    materials = insert_new(
        [
            CaseMaterial(case=ours, name=n, material_type=t)
            for n, t in (("申请书", "a"), ("证明", "b"))
        ]
    )
    assert [m.name for m in ours.materials.order_by("pk")] == ["申请书", "证明"]
    assert [m.pk for m in materials] == list(
        ours.materials.order_by("pk").values_list("pk", flat=True)
    )


def test_a_duplicate_fails_like_an_insert_and_saved_objects_are_refused():
    rows = insert_new(_events("3"))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new(_events("3"))
    with pytest.raises(ValueError):
        insert_new(rows)
    assert insert_new([]) == []


def test_a_model_keyed_by_uuid_is_inserted_with_its_own_key():
    from tongban.cases.models import Upload

    case = _saved_case("43098120261204ZZ003", "online")
    upload = Upload(
        case=case,
        file="cases/2026/12/04/x",
        original_name="申请书.pdf",
        content_type="application/pdf",
        size=3,
        sha256="0" * 64,
    )
    key = upload.pk

    insert_new([upload])

    assert upload.pk == key
    assert Upload.objects.get(pk=key).original_name == "申请书.pdf"


def test_insert_values_writes_what_insert_new_writes():
    first, second = _events("4")
    fields = {f.attname: getattr(second, f.attname) for f in Event._meta.concrete_fields}
    fields.pop("id")

    insert_new([first])
    (key,) = insert_values(Event, [fields])

    stored = Event.objects.get(pk=key)
    assert (stored.seq, stored.payload, stored.occurred_at, stored.hash) == (
        2,
        {"n": [1, 2.5]},
        AT,
        second.hash,
    )
    assert stored.prev_hash == first.hash


def test_update_existing_writes_the_named_fields_as_save_does():
    case = _saved_case("43098120261204ZZ004", "window")
    case.visits, case.clock, case.title = 2, [{"t": "start", "at": AT.isoformat()}], "改过"

    update_existing(case, ["visits", "clock"])

    stored = Case.objects.get(pk=case.pk)
    assert (stored.visits, stored.clock, stored.title) == (2, case.clock, "测试")
    case.promised_due = AT
    update_existing(case)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.title, stored.promised_due) == ("改过", AT)


def test_a_value_that_needs_converting_is_converted_and_a_plain_one_passes():
    """JSON holding a bare string, a choice member for a text column, a flag and a missing time
    read back as the ORM writes them, on the driver's own cursor (SQLite, nothing watching) and
    on Django's (a captured connection)."""
    from contextlib import nullcontext
    from unittest import mock

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    case = _saved_case("43098120261204ZZ005", "window")
    first = _events("5")[0]
    fields = {f.attname: getattr(first, f.attname) for f in Event._meta.concrete_fields}
    fields.pop("id")
    fields["payload"] = "只是一段文字"
    case.status, case.commitment, case.promised_due = CaseStatus.ACCEPTED, True, None
    unwatched = connections["default"]
    # On SQLite the unwatched statements never reach Django's cursor.
    bypass = (
        mock.patch.object(unwatched, "cursor", side_effect=AssertionError("Django's cursor"))
        if unwatched.vendor == "sqlite"
        else nullcontext()
    )
    with bypass:
        (key,) = insert_values(Event, [fields])
        update_existing(case, ["status", "commitment", "promised_due"])
    assert Event.objects.get(pk=key).payload == "只是一段文字"
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.commitment, stored.promised_due) == ("accepted", True, None)

    case.status, case.commitment = CaseStatus.COMPLETED, False
    with CaptureQueriesContext(connection) as seen:  # a watched connection: through Django's cursor
        update_existing(case, ["status", "commitment"])
    assert any('UPDATE "cases_case"' in q["sql"] for q in seen.captured_queries)
    stored = Case.objects.get(pk=case.pk)
    assert (stored.status, stored.commitment) == ("completed", False)


def test_the_short_conversions_give_what_get_db_prep_save_gives():
    """Every field of the rows the demo writes most, with values of every type its converter
    shortens and some it passes on: the same parameter either way, on this connection."""
    import uuid
    import zoneinfo

    from tongban.cases.models import Step, Upload
    from tongban.core.rows import _converter

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    values = [
        None,
        AT,
        AT.astimezone(shanghai),
        dt.datetime(2026, 2, 17, 23, 59, 59, tzinfo=shanghai),  # a day earlier in UTC
        dt.date(2026, 10, 8),
        "2026-10-08",
        {"名": "张三", "n": [1, 2.5, None, True], "at": "2026-12-04"},
        [{"stop": "2026-12-04T01:02:03+00:00"}],
        "只是一段文字",
        uuid.UUID("12345678123456781234567812345678"),
        "12345678-1234-5678-1234-567812345678",
    ]
    shortened: set[tuple[str, str]] = set()
    for model in (Case, Step, CaseMaterial, Event, Upload):
        for field in model._meta.concrete_fields:
            convert = _converter(field, connection.vendor)
            if connection.vendor != "sqlite":  # elsewhere every value takes the ORM's way
                assert convert == field.get_db_prep_save
                continue
            for value in values:
                try:
                    expected = field.get_db_prep_save(value, connection)
                except Exception as exc:  # a value this field does not take: refused alike
                    with pytest.raises(type(exc)):
                        convert(value, connection)
                    continue
                assert convert(value, connection) == expected, (model.__name__, field.name, value)
                if convert != field.get_db_prep_save and value is not None:
                    shortened.add((type(field).__name__, type(value).__name__))
    if connection.vendor == "sqlite":
        assert {
            ("DateTimeField", "datetime"),
            ("DateField", "date"),
            ("JSONField", "dict"),
            ("JSONField", "list"),
            ("UUIDField", "UUID"),
        } <= shortened


def _in_table(key: int) -> bool:
    """Whether the event is in the table, asked of the driver itself (no flush on the way)."""
    raw = connection.connection
    if connection.vendor == "sqlite":
        return raw.execute("SELECT 1 FROM core_event WHERE id = ?", [key]).fetchone() is not None
    with raw.cursor() as cursor:
        cursor.execute("SELECT 1 FROM core_event WHERE id = %s", [key])
        return cursor.fetchone() is not None


def test_a_buffer_keeps_rows_until_someone_else_sends_a_statement():
    from tongban.core.rows import Buffer

    case = _saved_case("43098120261204ZZ006", "window")
    before = Event.objects.bulk_create(_events("6"))
    buffer = Buffer()
    with buffer.holding():
        held = connection.vendor == "sqlite"
        assert buffer.on is held
        mine = buffer.insert(_events("7"))
        # The keys continue the table's own sequence.
        assert [e.pk for e in mine] == [before[-1].pk + 1, before[-1].pk + 2]
        assert _in_table(mine[0].pk) is not held
        case.visits, case.title = 3, "改过"
        buffer.update(case, ["visits"])  # a row written earlier: its changed column is kept
        # A read writes what is kept first.
        assert Case.objects.filter(pk=case.pk, visits=3).exists()
        assert _in_table(mine[1].pk)

        # Someone else's insert takes the next key; the buffer asks again and goes on after it.
        theirs = Event.objects.bulk_create(_events("8"))
        (after,) = buffer.insert(_events("9")[:1])
        assert after.pk == theirs[-1].pk + 1
        buffer.flush()
    # Written as insert_new writes them: every field, the hashes as made.
    assert [Event.objects.get(pk=e.pk).hash for e in mine] == [e.hash for e in mine]
    assert [r["payload"] for r in _stored(Event, [e.pk for e in mine])] == [
        {"名": "张三"},
        {"n": [1, 2.5]},
    ]
    assert Event.objects.get(pk=mine[0].pk).occurred_at == AT
    assert Case.objects.get(pk=case.pk).title == "测试"  # only what was named


def test_a_row_changed_before_it_is_written_is_written_once_as_it_now_is():
    from unittest import mock

    from tongban.core.rows import Buffer

    case = _saved_case("43098120261204ZZ007", "window")
    buffer = Buffer()
    with buffer.holding():
        (material,) = buffer.insert(
            [
                CaseMaterial(
                    case=case, material_type="id-card", name="身份证", status=MaterialStatus.PENDING
                )
            ]
        )
        material.status, material.checked = MaterialStatus.PROVIDED, True
        buffer.update(material, ["status", "checked"])
        material.name = "改了没说"  # changed in memory only: not written
        if connection.vendor == "sqlite":
            sent = []
            real = connection.connection

            class Spy:
                def executemany(self, sql, rows):
                    sent.append(sql.split()[0])
                    return real.executemany(sql, rows)

            with mock.patch.object(connection, "connection", Spy()):
                buffer.flush()
            assert sent == ["INSERT"]  # no UPDATE: the change went into the kept row
    stored = CaseMaterial.objects.get(pk=material.pk)
    assert (stored.name, stored.status, stored.checked) == ("身份证", "provided", True)


def test_rows_kept_when_an_error_leaves_the_block_are_not_written():
    from tongban.core.rows import Buffer

    buffer = Buffer()
    with pytest.raises(RuntimeError), buffer.holding():
        (kept,) = buffer.insert(_events("10")[:1])
        raise RuntimeError("interrupted")
    assert not buffer.on
    if connection.vendor == "sqlite":
        assert not Event.objects.filter(pk=kept.pk).exists()


def test_an_unsynced_read_leaves_kept_rows_kept_and_refuses_a_write():
    """On SQLite; elsewhere the buffer keeps nothing, so the row is there at once and an
    unsynced block changes nothing."""
    from tongban.core.rows import Buffer

    buffer = Buffer()
    held = connection.vendor == "sqlite"
    with buffer.holding():
        (kept,) = buffer.insert(_events("11")[:1])
        with buffer.unsynced():
            assert Event.objects.filter(pk=kept.pk).exists() is not held
            if held:
                with pytest.raises(RuntimeError), transaction.atomic():
                    Event.objects.bulk_create(_events("12")[:1])
        assert Event.objects.filter(pk=kept.pk).exists()  # an ordinary read writes it first
