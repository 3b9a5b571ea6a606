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

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

M = TypeVar("M", bound=models.Model)


_Convert = Callable[[Any, BaseDatabaseWrapper], Any]
_Preparer = tuple[models.Field, str, frozenset[type], bool, _Convert]


class _Statement(NamedTuple):
    sql: str  # with %s placeholders, for Django's cursor
    qmark: str  # with ?, for the SQLite driver's own
    preparers: tuple[_Preparer, ...]  # one a parameter, in order


def _built(sql: str, fields: tuple[models.Field, ...], vendor: str) -> _Statement:
    # The statement holds no "%s" but its placeholders (names are quoted model metadata).
    preparers = tuple(
        (f, f.attname, _as_is(f), _plain_pre_save(f), _converter(f, vendor)) for f in fields
    )
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
    return _built(sql, fields, connections[alias].vendor)


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


def _converter(field: models.Field, vendor: str) -> _Convert:
    """get_db_prep_save, or on SQLite a shorter way to the same value for the types the hot
    paths write most: an aware datetime, a date, a dict or list for a JSON column, a UUID. Any
    other value goes to get_db_prep_save (test_rows compares the two on every type)."""
    generic: _Convert = field.get_db_prep_save
    if vendor != "sqlite":
        return generic
    if isinstance(field, models.DateTimeField) and settings.USE_TZ:

        def aware(value: Any, connection: BaseDatabaseWrapper) -> Any:
            # The SQLite backend's adapt_datetimefield_value: naive in the connection's zone.
            if type(value) is datetime and value.tzinfo is not None:
                return str(value.astimezone(connection.timezone).replace(tzinfo=None))
            return generic(value, connection)

        return aware
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):

        def day(value: Any, connection: BaseDatabaseWrapper) -> Any:
            return str(value) if type(value) is date else generic(value, connection)

        return day
    if isinstance(field, models.JSONField):
        encoder = field.encoder

        def document(value: Any, connection: BaseDatabaseWrapper) -> Any:
            # adapt_json_value, which every backend but Oracle's and PostgreSQL's keeps.
            if type(value) is dict or type(value) is list:
                return json.dumps(value, cls=encoder)
            return generic(value, connection)

        return document
    if isinstance(field, models.UUIDField):

        def key(value: Any, connection: BaseDatabaseWrapper) -> Any:
            return value.hex if type(value) is UUID else generic(value, connection)

        return key
    return generic


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
    for field, attname, as_is, plain, convert in statement.preparers:
        value = getattr(obj, attname) if plain else field.pre_save(obj, add)
        params.append(value if type(value) in as_is else convert(value, connection))


def _row_params(
    statement: _Statement,
    row: dict[str, object],
    connection: BaseDatabaseWrapper,
    params: list[Any],
) -> None:
    for _field, attname, as_is, _plain, convert in statement.preparers:
        value = row[attname]
        params.append(value if type(value) in as_is else convert(value, connection))


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
    return _built(sql, fields, connections[alias].vendor)


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


@cache
def _keyed_statement(model: type[models.Model], alias: str) -> _Statement:
    """One row with its key given: for a writer that hands out the keys itself (`Buffer`)."""
    ops = connections[alias].ops
    fields = tuple(model._meta.concrete_fields)
    columns = ", ".join(ops.quote_name(f.column or f.attname) for f in fields)
    # Names from the model's own metadata, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    return _built(sql, fields, connections[alias].vendor)


@cache
def _positions(model: type[models.Model], alias: str) -> dict[str, int]:
    """Each field's place in the row of `_keyed_statement`, by attribute name."""
    return {
        attname: i for i, (_f, attname, *_) in enumerate(_keyed_statement(model, alias).preparers)
    }


class Buffer:
    """Rows written together, a table at a time, just before anyone else sends a statement.

    A writer that holds its rows in memory (tongban.cases.yearfast) writes many small rows and
    changes them again minutes of simulated time later. Inside `holding()` on an unwatched SQLite
    connection, `insert` and `insert_values` hand out the keys themselves (the table's next
    AUTOINCREMENT value, which SQLite then moves past them) and keep the row; `update` changes the
    kept row, or keeps the changed columns of a row already written. `flush` writes what is kept,
    one `executemany` per table and per set of changed columns. Any other statement on the
    connection (a read, a service's own write, a savepoint) flushes first, so nobody ever reads a
    row that is still kept; after an INSERT someone else sent, the next keys are asked of the
    database again. The caller flushes before it commits.

    Elsewhere (PostgreSQL, a connection whose queries are logged or wrapped) every call writes at
    once through `insert_new`, `insert_values` and `update_existing`: the rows are the same.
    Values are converted for the database when the call is made, as those functions do, so the
    row written is the one the call described even if the object changes later in memory.
    """

    def __init__(self, using: str = "default") -> None:
        self.alias = using
        self.connection = connections[using]
        self.on = False
        self.rows: dict[type[models.Model], list[list[Any]]] = {}
        self.kept: dict[tuple[type[models.Model], Any], list[Any]] = {}
        self.changes: dict[tuple[type[models.Model], Any], dict[str, Any]] = {}
        self.skip = False  # inside unsynced()
        self.next_keys: dict[type[models.Model], int] = {}
        # INSERTs anyone else sent since holding() began, by table ("" for one not understood).
        self.others_inserted: Counter[str] = Counter()

    # --- the calls ------------------------------------------------------------------------------

    def insert(self, objs: Sequence[M]) -> list[M]:
        """`insert_new`."""
        if not self.on or not objs:
            return insert_new(objs)
        model = type(objs[0])
        statement = _keyed_statement(model, self.alias)
        keyed = _keyed(model)
        for obj in objs:
            if type(obj) is not model or not obj._state.adding or (obj.pk is not None) != keyed:
                raise ValueError("Buffer.insert takes new objects of one model")
            if not keyed:
                obj.pk = self._next_key(model)
            params: list[Any] = []
            _object_params(statement, obj, True, self.connection, params)
            self._keep(model, obj.pk, params)
            obj._state.adding = False
            obj._state.db = self.alias
        return list(objs)

    def insert_values(
        self, model: type[models.Model], rows: Sequence[dict[str, object]]
    ) -> list[int]:
        """`insert_values` (a model with a key made by the database)."""
        if not self.on:
            return insert_values(model, rows)
        statement = _keyed_statement(model, self.alias)
        assert model._meta.pk is not None
        pk_name = model._meta.pk.attname
        keys = []
        for row in rows:
            key = self._next_key(model)
            params: list[Any] = []
            _row_params(statement, {**row, pk_name: key}, self.connection, params)
            self._keep(model, key, params)
            keys.append(key)
        return keys

    def update(self, obj: models.Model, fields: Sequence[str]) -> None:
        """`update_existing` for the fields named."""
        if not self.on:
            update_existing(obj, fields)
            return
        model = type(obj)
        statement = _update_statement(model, self.alias, tuple(sorted(fields)))
        params: list[Any] = []
        _object_params(statement, obj, False, self.connection, params)
        names = [attname for _f, attname, *_ in statement.preparers]
        row = self.kept.get((model, obj.pk))
        if row is not None:  # not written yet: the row is written as it now is
            positions = _positions(model, self.alias)
            for name, value in zip(names, params, strict=True):
                row[positions[name]] = value
        else:
            self.changes.setdefault((model, obj.pk), {}).update(zip(names, params, strict=True))

    # --- writing --------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every kept row and change."""
        statements = self._statements()
        if not statements:
            return
        connection = self.connection
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors:
            for sql, rows in statements:
                connection.connection.executemany(sql, rows)

    def _statements(self) -> list[tuple[str, list[list[Any]]]]:
        """What is kept, as one statement and its rows per table and per set of changed columns;
        nothing is kept afterwards."""
        rows, changes = self.rows, self.changes
        self.rows, self.kept, self.changes = {}, {}, {}
        statements = [
            (_keyed_statement(model, self.alias).qmark, params) for model, params in rows.items()
        ]
        grouped: dict[tuple[type[models.Model], tuple[str, ...]], list[list[Any]]] = {}
        for (model, pk), values in changes.items():
            names = tuple(sorted(values))
            statement = _update_statement(model, self.alias, names)
            assert model._meta.pk is not None
            grouped.setdefault((model, names), []).append(
                [values[attname] for _f, attname, *_ in statement.preparers]
                + [model._meta.pk.get_db_prep_save(pk, self.connection)]
            )
        statements += [
            (_update_statement(model, self.alias, names).qmark, params)
            for (model, names), params in grouped.items()
        ]
        return statements

    def _keep(self, model: type[models.Model], pk: Any, params: list[Any]) -> None:
        self.rows.setdefault(model, []).append(params)
        self.kept[(model, pk)] = params

    def _next_key(self, model: type[models.Model]) -> int:
        key = self.next_keys.get(model)
        if key is None:
            # No row of this table is kept now (keys are handed out from next_keys alone, which
            # is emptied only right after a flush), so the table knows its largest key.
            assert model._meta.pk is not None and model._meta.pk.column
            table = model._meta.db_table
            column = self.connection.ops.quote_name(model._meta.pk.column)
            quoted = self.connection.ops.quote_name(table)
            # Names from the model's own metadata, quoted; the table's name is a parameter.
            sql = (
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "  # noqa: S608
                f"coalesce((SELECT max({column}) FROM {quoted}), 0))"
            )
            found = self.connection.connection.execute(sql, [table]).fetchone()
            key = found[0] + 1
        self.next_keys[model] = key + 1
        return key

    # --- the connection -------------------------------------------------------------------------

    @contextmanager
    def holding(self) -> Iterator[Buffer]:
        """Keep rows (SQLite, nothing watching the connection) or write them at once (elsewhere).
        On leaving without an error what is kept is written; after an error it is dropped, with
        the transaction the caller rolls back."""
        connection = self.connection
        if (
            connection.vendor != "sqlite"
            or connection.queries_logged
            or connection.execute_wrappers
        ):
            yield self
            return
        connection.ensure_connection()
        self.on = True
        try:
            with connection.execute_wrapper(self._before):
                yield self
            self.flush()
        finally:
            self.on = False
            self.rows, self.kept, self.changes, self.next_keys = {}, {}, {}, {}

    @contextmanager
    def unsynced(self) -> Iterator[None]:
        """Reads that need none of the rows kept since the last statement of anyone else
        (a table this buffer never writes, a row the caller knows it has not written since):
        they go out without writing what is kept first."""
        self.skip = True
        try:
            yield
        finally:
            self.skip = False

    def _before(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not self.skip:
            self.flush()
        elif sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            raise RuntimeError("Buffer.unsynced() is for reads")
        result = execute(sql, params, many, context)
        if sql.lstrip()[:6].upper() == "INSERT":
            found = _INSERT_INTO.match(sql)
            table = found.group(1) if found else ""
            self.others_inserted[table] += 1
            if table:
                for model in [m for m in self.next_keys if m._meta.db_table == table]:
                    del self.next_keys[model]
            else:
                self.next_keys.clear()
        return result


_INSERT_INTO = re.compile(r'\s*INSERT\s+INTO\s+"?(\w+)"?', re.IGNORECASE)
