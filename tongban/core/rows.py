"""Inserting a few new rows of one model in one short statement, for the hot write paths.

`bulk_create` rebuilds its query for every call: for the two events or two materials a case
creation writes, building the statement costs more than the database spends on it. `insert_new`
writes the same rows as `bulk_create` would (each field's `pre_save` and `get_db_prep_save`, so
defaults, `auto_now` and JSON are what the ORM writes) from a statement built once per model and
row count, and sets each object's primary key as `save()` does. No signals are sent: use it only
for models nobody listens to (docs/decisions/0014-item-version-and-endpoint-cache.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)


@cache
def _statement(
    model: type[models.Model], alias: str, count: int
) -> tuple[str, tuple[models.Field, ...]]:
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
    return sql, fields


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
    sql, fields = _statement(model, alias, len(objs))
    params = []
    for obj in objs:
        if type(obj) is not model or not obj._state.adding or (obj.pk is not None) != _keyed(model):
            raise ValueError("insert_new takes new objects of one model")
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
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
    sql, fields = _statement(model, alias, len(rows))
    params = [
        field.get_db_prep_save(row[field.attname], connection) for row in rows for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


@cache
def _update_statement(
    model: type[models.Model], alias: str, names: tuple[str, ...] | None
) -> tuple[str, tuple[models.Field, ...]]:
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
    return sql, fields


def update_existing(obj: models.Model, fields: Sequence[str] | None = None) -> None:
    """Write the fields named by attribute name (every field when None) of a saved object, as
    `save(update_fields=…)` would, from a statement built once per model and set of fields. For a
    writer that holds the current row in memory (tongban.cases.yearfast); no signals are sent."""
    model = type(obj)
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, chosen = _update_statement(model, alias, None if fields is None else tuple(sorted(fields)))
    params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in chosen]
    assert model._meta.pk is not None
    params.append(model._meta.pk.get_db_prep_save(obj.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
