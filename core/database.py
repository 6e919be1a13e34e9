"""One SQLite database file shared by the server's stores (WAL, durable commits).

:class:`Database` is the base of the recording state and the slice ledger: one
connection each, usable from the event loop and worker threads (a lock serialises
them), every commit fsync'ed (``synchronous=FULL``) so nothing acknowledged is lost
when the process is killed.

A statement that SQLite cannot carry out (a full disk, an I/O error, a read-only or
vanished file) raises :class:`DatabaseError`, an :class:`OSError` whose message names the
file and SQLite's reason, after the transaction was rolled back: the stores' callers
handle it like any other fault of the server's own disk.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class DatabaseError(OSError):
    """SQLite could not read or write the database file (``reason`` is SQLite's text)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = reason
        super().__init__(f"the server's database {path.name} cannot be used: {reason}")


@contextmanager
def _faults(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        # OperationalError (full, I/O, locked, read-only) and corruption alike; a
        # programming error (sqlite3.ProgrammingError) is not a disk fault and propagates.
        raise DatabaseError(path, str(exc)) from exc


class Database:
    """A connection to ``path`` with ``schema`` applied."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with _faults(path):
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(schema)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Statements that commit together, or not at all."""
        with self._lock, _faults(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk).
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        """One statement, committed when it returns."""
        with self._lock, _faults(self.path):
            self._db.execute(sql, args)

    def fetchall(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, _faults(self.path):
            return list(self._db.execute(sql, args).fetchall())

    def fetchone(self, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        with self._lock, _faults(self.path):
            row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
            return row
