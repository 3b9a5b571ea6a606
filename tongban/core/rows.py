"""Inserting a few new rows of one model in one short statement, for the hot write paths.

`bulk_create` rebuilds its query for every call: for the two events or two materials a case
creation writes, building the statement costs more than the database spends on it. `insert_new`
writes the same rows as `bulk_create` would (each field's `pre_save` and `get_db_prep_save`, so
defaults, `auto_now` and JSON are what the ORM writes) from a statement built once per model and
row count, and sets each object's primary key as `save()` does. No signals are sent: use it only
for models nobody listens to (docs/decisions/0014-item-version-and-endpoint-cache.md).

On SQLite, when nothing watches the connection (no query log, no execute wrapper), a statement
goes straight to the driver's cursor inside Django's error translation, and a value that needs no
conversion (a str, int or bool for a text, number or key column) is passed as it is: the wrapper
and the per-field calls cost more than SQLite's own work on these small statements
(docs/decisions/0016-lean-row-statements.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple, TypeVar

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)


_Preparer = tuple[models.Field, str, frozenset[type], bool]


class _Statement(NamedTuple):
    sql: str  # with %s placeholders, for Django's cursor
    qmark: str  # with ?, for the SQLite driver's own
    preparers: tuple[_Preparer, ...]  # one a parameter, in order


def _built(sql: str, fields: tuple[models.Field, ...]) -> _Statement:
    # The statement holds no "%s" but its placeholders (names are quoted model metadata).
    preparers = tuple((f, f.attname, _as_is(f), _plain_pre_save(f)) for f in fields)
    return _Statement(sql, sql.replace("%s", "?"), preparers)


@cache
def _statement(model: type[models.Model], alias: str, count: int) -> _Statement:
    ops = connections[alias].ops
    fields = tuple(f for f in model._meta.concrete_fields if _keyed(model) or not f.primary_key)
    columns = ", ".join(ops.quote_name(f.column or f.attname) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    assert model._meta.pk is not None and model._meta.pk.column
    pk = ops.quote_name(model._meta.pk.column)
    # Names from the model's own metadata, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([one] * count)} RETURNING {pk}"
    )
    return _built(sql, fields)


_NONE = type(None)


def _as_is(field: models.Field) -> frozenset[type]:
    """The value types that get_db_prep_save returns unchanged for this field: a str for a text
    column, an int for a number or key, a bool for a flag, None for any of them; nothing for a
    JSON, date, time, UUID, decimal or file field, which converts even these."""
    if isinstance(field, models.ForeignKey):
        return _as_is(field.target_field)
    if isinstance(field, models.JSONField | models.FileField | models.GenericIPAddressField):
        return frozenset()
    if isinstance(field, models.CharField | models.TextField):
        return frozenset({str, _NONE})
    if isinstance(field, models.IntegerField):  # the auto keys too
        return frozenset({int, _NONE})
    if isinstance(field, models.BooleanField):
        return frozenset({bool, _NONE})
    return frozenset()


def _plain_pre_save(field: models.Field) -> bool:
    """pre_save is getattr: no auto_now, no file to commit."""
    if isinstance(field, models.DateField):  # DateTimeField too
        return not (field.auto_now or field.auto_now_add)
    return type(field).pre_save is models.Field.pre_save


def _object_params(
    statement: _Statement,
    obj: models.Model,
    add: bool,
    connection: BaseDatabaseWrapper,
    params: list[Any],
) -> None:
    """Each field's value as the ORM writes it: pre_save (unless it is a plain read), then
    get_db_prep_save (unless the value passes as it is)."""
    for field, attname, as_is, plain in statement.preparers:
        value = getattr(obj, attname) if plain else field.pre_save(obj, add)
        params.append(value if type(value) in as_is else field.get_db_prep_save(value, connection))


def _row_params(
    statement: _Statement,
    row: dict[str, object],
    connection: BaseDatabaseWrapper,
    params: list[Any],
) -> None:
    for field, attname, as_is, _plain in statement.preparers:
        value = row[attname]
        params.append(value if type(value) in as_is else field.get_db_prep_save(value, connection))


def _run(
    connection: BaseDatabaseWrapper, statement: _Statement, params: list[Any], fetch: bool
) -> list[Any]:
    """Execute one statement; its rows when fetch."""
    if (
        connection.vendor == "sqlite"
        and not connection.queries_logged
        and not connection.execute_wrappers
    ):
        if connection.connection is None:
            connection.ensure_connection()
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            cursor = connection.connection.execute(statement.qmark, params)
            return cursor.fetchall() if fetch else []
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        return cursor.fetchall() if fetch else []


def _keyed(model: type[models.Model]) -> bool:
    """A model whose key is made in Python (a UUID), not by the database."""
    assert model._meta.pk is not None
    return model._meta.pk.has_default()


def insert_new(objs: Sequence[M]) -> list[M]:
    """Insert unsaved objects of one model and give them their keys (the database's, or the key
    made in Python for a model with a UUID key)."""
    if not objs:
        return []
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    statement = _statement(model, alias, len(objs))
    params: list[Any] = []
    for obj in objs:
        if type(obj) is not model or not obj._state.adding or (obj.pk is not None) != _keyed(model):
            raise ValueError("insert_new takes new objects of one model")
        _object_params(statement, obj, True, connection, params)
    keys = _run(connection, statement, params, fetch=True)
    keyed = _keyed(model)
    for obj, (pk,) in zip(objs, keys, strict=True):
        if not keyed:  # a key made in Python stays as it was made (not as the database spells it)
            obj.pk = pk
        obj._state.adding = False
        obj._state.db = alias
    return list(objs)


def insert_values(model: type[models.Model], rows: Sequence[dict[str, object]]) -> list[int]:
    """`insert_new` without the model objects: each row gives every field's value by attribute
    name (defaults are not applied). Returns the new keys."""
    if not rows:
        return []
    alias = router.db_for_write(model)
    connection = connections[alias]
    statement = _statement(model, alias, len(rows))
    params: list[Any] = []
    for row in rows:
        _row_params(statement, row, connection, params)
    return [pk for (pk,) in _run(connection, statement, params, fetch=True)]


@cache
def _update_statement(
    model: type[models.Model], alias: str, names: tuple[str, ...] | None
) -> _Statement:
    ops = connections[alias].ops
    fields = tuple(
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and (names is None or f.attname in names)
    )
    assignments = ", ".join(f"{ops.quote_name(f.column or f.attname)} = %s" for f in fields)
    assert model._meta.pk is not None and model._meta.pk.column
    pk = ops.quote_name(model._meta.pk.column)
    # Names from the model's own metadata, quoted; every value is a parameter.
    sql = f"UPDATE {ops.quote_name(model._meta.db_table)} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    return _built(sql, fields)


def update_existing(obj: models.Model, fields: Sequence[str] | None = None) -> None:
    """Write the fields named by attribute name (every field when None) of a saved object, as
    `save(update_fields=…)` would, from a statement built once per model and set of fields. For a
    writer that holds the current row in memory (tongban.cases.yearfast); no signals are sent."""
    model = type(obj)
    alias = router.db_for_write(model)
    connection = connections[alias]
    statement = _update_statement(model, alias, None if fields is None else tuple(sorted(fields)))
    params: list[Any] = []
    _object_params(statement, obj, False, connection, params)
    assert model._meta.pk is not None
    params.append(model._meta.pk.get_db_prep_save(obj.pk, connection))
    _run(connection, statement, params, fetch=False)
