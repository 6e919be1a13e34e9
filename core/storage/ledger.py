"""The slice ledger: every slice of every recording and its upload state, in SQLite.

A slice is written here (with its copy in the backup folder) before the recorder is
told it is stored, so a crash never loses a finished slice: on restart the uploader
reads the ledger and carries on. The ledger shares the server's database file (WAL).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.database import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS slices (
    sid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    backup_path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    duration REAL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sid, seq)
);
CREATE TABLE IF NOT EXISTS uploads (
    sid TEXT PRIMARY KEY,
    playlist_key TEXT NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0,
    playlist_uploaded INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0
);
"""


_UPLOAD_COLUMNS = "SELECT sid, playlist_key, ended, playlist_uploaded, done FROM uploads"


@dataclass(frozen=True)
class SliceRow:
    """One slice as the ledger knows it."""

    sid: str
    seq: int
    name: str
    key: str
    backup_path: Path
    bytes: int
    duration: float | None
    uploaded: bool


@dataclass(frozen=True)
class UploadRow:
    """The upload state of one recording."""

    sid: str
    playlist_key: str
    ended: bool
    playlist_uploaded: bool
    done: bool


class SliceLedger(Database):
    """Durable slice and upload state; every write is committed (fsync) before returning."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def open_recording(self, sid: str, playlist_key: str) -> None:
        """Start the upload state of ``sid`` (nothing happens if it exists: a resume)."""
        self.execute(
            "INSERT OR IGNORE INTO uploads (sid, playlist_key) VALUES (?, ?)", (sid, playlist_key)
        )

    def add_slice(
        self,
        sid: str,
        name: str,
        key: str,
        backup_path: Path,
        size: int,
        *,
        duration: float | None = None,
    ) -> int:
        """Record a slice kept at ``backup_path``; its sequence number (1, 2, ...)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM slices WHERE sid = ?", (sid,)
            ).fetchone()
            seq = int(row[0]) + 1
            db.execute(
                "INSERT INTO slices (sid, seq, name, key, backup_path, bytes, duration) "
                "VALUES (?,?,?,?,?,?,?)",
                (sid, seq, name, key, str(backup_path), size, duration),
            )
        return seq

    def set_duration(self, sid: str, name: str, duration: float) -> None:
        """Record the duration of slice ``name`` (measured after the fact)."""
        self.execute(
            "UPDATE slices SET duration = ? WHERE sid = ? AND name = ?", (duration, sid, name)
        )

    def mark_uploaded(self, sid: str, seq: int) -> None:
        """Slice ``seq`` is in the destination."""
        self.execute("UPDATE slices SET uploaded = 1 WHERE sid = ? AND seq = ?", (sid, seq))

    def mark_ended(self, sid: str) -> None:
        """The recording ended: no slice follows, the playlist may end."""
        self.execute("UPDATE uploads SET ended = 1 WHERE sid = ?", (sid,))

    def mark_playlist(self, sid: str, *, uploaded: bool, done: bool) -> None:
        """The destination's playlist was written; ``done`` once it is complete."""
        self.execute(
            "UPDATE uploads SET playlist_uploaded = ?, done = ? WHERE sid = ?",
            (int(uploaded), int(done), sid),
        )

    def slices(self, sid: str) -> list[SliceRow]:
        """Every slice of ``sid``, in order."""
        rows = self.fetchall(
            "SELECT sid, seq, name, key, backup_path, bytes, duration, uploaded "
            "FROM slices WHERE sid = ? ORDER BY seq",
            (sid,),
        )
        return [SliceRow(r[0], r[1], r[2], r[3], Path(r[4]), r[5], r[6], bool(r[7])) for r in rows]

    def upload(self, sid: str) -> UploadRow | None:
        """The upload state of ``sid`` (None if unknown)."""
        r = self.fetchone(f"{_UPLOAD_COLUMNS} WHERE sid = ?", (sid,))
        return UploadRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4])) if r else None

    def unfinished(self) -> list[UploadRow]:
        """Recordings whose uploads are not all done (to resume after a restart)."""
        rows = self.fetchall(f"{_UPLOAD_COLUMNS} WHERE done = 0")
        return [UploadRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4])) for r in rows]
