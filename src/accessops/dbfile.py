"""SQLite connections whose errors name their file.

A damaged, read-only or full database raises ``sqlite3`` errors that say
what went wrong but not which file: the tenant, the state store? A
:class:`NamedConnection` tags every error its statements and cursors raise
with ``db_file``, so the CLI's one error handler (``errors.file_error_of``)
can print ``error: .accessops/state.db: the disk is full ...``. The errors
keep their own class: code that expects an ``IntegrityError`` still gets one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _tagged(exc: sqlite3.Error, path: str) -> sqlite3.Error:
    if getattr(exc, "db_file", None) is None:
        exc.db_file = path  # type: ignore[attr-defined]
    return exc


class NamedCursor(sqlite3.Cursor):
    """A cursor whose errors (also while fetching rows) carry ``db_file``."""

    db_file = ""

    def execute(self, sql: str, parameters: Any = (), /) -> "NamedCursor":
        try:
            super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> "NamedCursor":
        try:
            super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)
        return self

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size if size is not None else self.arraysize)
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)


class NamedConnection(sqlite3.Connection):
    """A connection whose statement errors carry ``db_file`` (pass as ``factory=`` to ``sqlite3.connect``)."""

    db_file = ""

    def cursor(self, factory: Any = None) -> NamedCursor:  # type: ignore[override]
        cur = super().cursor(factory or NamedCursor)
        cur.db_file = self.db_file
        return cur

    def execute(self, sql: str, parameters: Any = (), /) -> NamedCursor:
        if sql == "ROLLBACK" and not self.in_transaction:
            # SQLite already rolled back (a full disk does that): a second
            # ROLLBACK would fail and hide the error that caused it
            return self.cursor()
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> NamedCursor:
        return self.cursor().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(sql_script)
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as exc:
            raise _tagged(exc, self.db_file)


def display_path(path: Path | str) -> str:
    """``path`` relative to the working directory when it is inside it, as the user would type it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def connect(path: Path | str, **kwargs: Any) -> NamedConnection:
    """``sqlite3.connect`` for a database file; its errors name ``path`` (see :func:`display_path`)."""
    shown = display_path(path)
    try:
        conn = sqlite3.connect(str(path), factory=NamedConnection, **kwargs)
    except sqlite3.Error as exc:
        raise _tagged(exc, shown)
    assert isinstance(conn, NamedConnection)
    conn.db_file = shown
    return conn


def use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch ``conn``'s file to WAL, waiting up to ``timeout`` seconds for other openers.

    SQLite does not run the busy handler for the journal-mode switch: when
    two processes open a new file at once, one of them gets "database is
    locked" straight away. Retry it for as long as any other statement
    would wait. The switch is a no-op once the file is in WAL.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
