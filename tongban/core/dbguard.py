"""Database triggers that refuse changes to the event log, and the one sanctioned way around them.

The model layer already refuses updates and deletes; the triggers also stop raw SQL and other
programs sharing the database. Emptying the whole database (`flush`, used by tests and by nobody in
production) goes through `guard_lifted`, which needs PostgreSQL superuser rights or, on SQLite,
the right to drop triggers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

GUARDED_TABLES = ("core_event", "core_eventseal")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tongban_refuse_log_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '事件日志只能追加，不能修改或删除（% %）', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""


def install_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [_PG_FUNCTION]
        for table in GUARDED_TABLES:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION tongban_refuse_log_change()",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tongban_refuse_log_change()",
            ]
        return statements
    if vendor == "sqlite":
        statements = []
        for table in GUARDED_TABLES:
            for operation in ("UPDATE", "DELETE"):
                name = f"{table}_no_{operation.lower()}"
                statements += [
                    f"DROP TRIGGER IF EXISTS {name}",
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'event log is append-only'); END",
                ]
        return statements
    return []


def uninstall_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_{suffix} ON {table}"
            for table in GUARDED_TABLES
            for suffix in ("append_only", "no_truncate")
        ] + ["DROP FUNCTION IF EXISTS tongban_refuse_log_change()"]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
            for table in GUARDED_TABLES
            for operation in ("update", "delete")
        ]
    return []


@contextmanager
def guard_lifted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let the block change the event log tables (database flush in tests, never the app)."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # Triggers do not fire in replica mode; setting it requires superuser rights.
            cursor.execute("SET session_replication_role = replica")
        else:
            for statement in uninstall_statements(vendor):
                cursor.execute(statement, None)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for statement in install_statements(vendor):
                    cursor.execute(statement, None)
