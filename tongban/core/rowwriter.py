"""The other end of `tongban.core.rows.Buffer` when it writes from a process of its own.

The process opens its own connection to the same SQLite file and waits for messages on a pipe:

- a list of `(sql, rows)`: each statement is run with `executemany`, in a transaction that is
  committed as soon as no further message waits, so that the other process, which asks before
  each statement of its own, seldom has to wait for a commit;
- `None`: commit what is not yet committed, and answer with `None` or the error met since the
  last answer (after an error, what came since the last commit is rolled back and the rest of
  the messages until this one are skipped);
- `"stop"`: roll back what is not committed and end.

Only the standard library is imported here: the process starts without Django.
"""

from __future__ import annotations

import sqlite3
from multiprocessing.connection import Connection
from typing import Any


def serve(pipe: Connection, path: str, pragmas: list[str], timeout: float) -> None:
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")  # as Django's own connections
    for pragma in pragmas:
        db.execute(pragma)
    error: BaseException | None = None
    open_ = False
    try:
        while True:
            try:
                message: Any = pipe.recv()
            except EOFError:  # the parent is gone
                break
            if message == "stop":
                break
            if message is None:
                if open_:
                    try:
                        db.execute("ROLLBACK" if error is not None else "COMMIT")
                    except sqlite3.Error as failed:
                        error = error or failed
                        if db.in_transaction:
                            db.execute("ROLLBACK")
                    open_ = False
                pipe.send(error)
                error = None
                continue
            if error is not None:
                continue
            try:
                if not open_:
                    db.execute("BEGIN IMMEDIATE")
                    open_ = True
                for sql, rows in message:
                    db.executemany(sql, rows)
                if not pipe.poll():
                    db.execute("COMMIT")
                    open_ = False
            except sqlite3.Error as failed:
                error = failed
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.close()
