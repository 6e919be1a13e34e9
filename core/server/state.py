"""Durable state of the recording server in SQLite (WAL).

Every recording and every notice is written here before anything is acknowledged
to a client, so a restarted server knows which recordings were running and can
replay any recording's events. Secrets are never stored: configs are saved with
their secret fields removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.database import Database

SCHEMA_VERSION = 3
"""1: the first schema; 2: ``recordings.owner`` (the Basic customer that started a
recording; NULL for the server's operator, its bearer token); 3: ``recordings.location``
(where the recording's files are: a local folder's absolute path or the bucket URL of
its prefix). An older database is migrated when opened: its recordings get a NULL owner
(the operator's) and a NULL location (not known)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    sid TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    cname TEXT NOT NULL,
    uid INTEGER NOT NULL,
    status INTEGER NOT NULL,
    recording_config TEXT NOT NULL,
    storage_config TEXT NOT NULL,
    playlist TEXT NOT NULL,
    folder TEXT NOT NULL,
    created_at REAL NOT NULL,
    stopped_at REAL,
    exit_reason TEXT,
    uploading_status TEXT NOT NULL DEFAULT 'unknown',
    owner TEXT,
    location TEXT
);
CREATE TABLE IF NOT EXISTS notices (
    sid TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (sid, sequence)
);
"""

_COLUMNS = (
    "sid, resource_id, app_id, cname, uid, status, recording_config, storage_config, "
    "playlist, folder, created_at, stopped_at, exit_reason, uploading_status, owner, location"
)
"""Columns in :class:`RecordingRow`'s order (a migrated table has them in this order
too, but naming them keeps reads independent of how the table grew)."""


@dataclass(frozen=True)
class RecordingRow:
    """One recording as stored."""

    sid: str
    resource_id: str
    app_id: str
    cname: str
    uid: int
    status: int
    recording_config: dict[str, Any]
    storage_config: dict[str, Any]
    playlist: str
    folder: str
    created_at: float
    stopped_at: float | None
    exit_reason: str | None
    uploading_status: str
    owner: str | None = None
    """The customer ID of the Basic customer that started the recording; None for the
    server's operator (bearer token). Only the owner and the operator see it."""
    location: str | None = None
    """Where the recording's files are (:func:`core.storage.factory.folder_location`):
    ``<location>/<file name>``; None when not known (a database of an older version)."""


class StateStore(Database):
    """The server's recordings and notices."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)
        columns = {r[1] for r in self.fetchall("PRAGMA table_info(recordings)")}
        if "owner" not in columns:  # a version-1 database: its recordings are the operator's
            self.execute("ALTER TABLE recordings ADD COLUMN owner TEXT")
        if "location" not in columns:  # older than version 3: where they are is not known
            self.execute("ALTER TABLE recordings ADD COLUMN location TEXT")
        self.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self.notice_stored: Callable[[str], None] | None = None
        """Called with the sid after each notice is committed (the webhook deliverer's
        :meth:`~core.server.webhooks.WebhookDeliverer.notify`); it must return at once."""

    def add_recording(self, row: RecordingRow) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO recordings (sid, resource_id, app_id, cname, uid, status, "
                "recording_config, storage_config, playlist, folder, created_at, stopped_at, "
                "exit_reason, uploading_status, owner, location) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.sid, row.resource_id, row.app_id, row.cname, row.uid, row.status,
                    json.dumps(row.recording_config), json.dumps(row.storage_config),
                    row.playlist, row.folder, row.created_at, row.stopped_at,
                    row.exit_reason, row.uploading_status, row.owner, row.location,
                ),
            )  # fmt: skip

    def update_recording(self, sid: str, **fields: Any) -> None:
        allowed = {"status", "stopped_at", "exit_reason", "uploading_status"}
        if not fields or not set(fields) <= allowed:
            raise ValueError(f"cannot update {sorted(set(fields) - allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as db:
            db.execute(
                f"UPDATE recordings SET {assignments} WHERE sid = ?", (*fields.values(), sid)
            )

    def recordings(self, *, active_only: bool = False) -> list[RecordingRow]:
        query = f"SELECT {_COLUMNS} FROM recordings"
        if active_only:
            query += " WHERE stopped_at IS NULL"
        rows = self.fetchall(query + " ORDER BY created_at")
        return [self._row(r) for r in rows]

    def recording(self, sid: str) -> RecordingRow | None:
        row = self.fetchone(f"SELECT {_COLUMNS} FROM recordings WHERE sid = ?", (sid,))
        return self._row(row) if row else None

    @staticmethod
    def _row(r: tuple[Any, ...]) -> RecordingRow:
        return RecordingRow(
            sid=r[0], resource_id=r[1], app_id=r[2], cname=r[3], uid=r[4], status=r[5],
            recording_config=json.loads(r[6]), storage_config=json.loads(r[7]),
            playlist=r[8], folder=r[9], created_at=r[10], stopped_at=r[11],
            exit_reason=r[12], uploading_status=r[13], owner=r[14], location=r[15],
        )  # fmt: skip

    def add_notice(self, sid: str, sequence: int, notice: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO notices (sid, sequence, body) VALUES (?, ?, ?)",
                (sid, sequence, json.dumps(notice)),
            )
        if self.notice_stored is not None:
            self.notice_stored(sid)

    def notices(self, sid: str, after: int = -1) -> list[dict[str, Any]]:
        """The notices of ``sid`` with a sequence number above ``after``, in order."""
        rows = self.fetchall(
            "SELECT body FROM notices WHERE sid = ? AND sequence > ? ORDER BY sequence",
            (sid, after),
        )
        return [json.loads(r[0]) for r in rows]

    def last_sequence(self, sid: str) -> int:
        """The sequence number of the newest notice of ``sid`` (-1 when it has none:
        sequence numbers count from 0, as Agora's)."""
        row = self.fetchone("SELECT MAX(sequence) FROM notices WHERE sid = ?", (sid,))
        return int(row[0]) if row and row[0] is not None else -1
