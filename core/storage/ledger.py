"""The slice ledger: every slice of every recording and its upload state, in SQLite.

A slice is written here (with its copy in the backup folder) before the recorder is
told it is stored, so a crash never loses a finished slice: on restart the uploader
reads the ledger and carries on. Whole files of a recording beside its playlist (an
MP4, a snapshot) are rows too, of another *kind*: kept and uploaded the same way, never
listed in the playlist. The ledger shares the server's database file (WAL).

Backup paths are stored relative to the database's folder (the server's data folder),
so a data folder that was moved or restored elsewhere still finds its slices; a row
written by an older version holds an absolute path, which is tried as it is and then as
the same ``backup/<sid>/<name>`` under the database's folder. A slice whose backup file
is gone before it was uploaded is marked *lost* (it can never be uploaded; the playlist
goes on after it with a discontinuity). A slice of an individual recording names the
playlist of its user's track (``playlist``), and whether it follows a gap there (the user
left and came back: ``discontinuity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    lost INTEGER NOT NULL DEFAULT 0,
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


SLICE = "slice"
"""The kind of a row that is a slice of the playlist."""

_ROW_COLUMNS = (
    "SELECT sid, seq, name, key, backup_path, bytes, duration, uploaded, lost, kind, "
    "playlist, discontinuity"
)
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
    lost: bool = False
    """Its backup file vanished before it was uploaded: it will never be stored."""
    kind: str = SLICE
    """:data:`SLICE` (listed in the playlist), or the kind of a whole file beside it
    (its extension, e.g. ``mp4`` or ``jpg``)."""
    playlist: str | None = None
    """The file name of the playlist that lists it, when not the recording's own (a
    user's track in individual recording)."""
    discontinuity: bool = False
    """Listed after ``#EXT-X-DISCONTINUITY`` (the first slice after its user came back)."""

    @property
    def settled(self) -> bool:
        """Nothing more will be done with it: uploaded, or lost."""
        return self.uploaded or self.lost


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
        columns = {r[1] for r in self.fetchall("PRAGMA table_info(slices)")}
        if "lost" not in columns:  # a ledger of an older version
            self.execute("ALTER TABLE slices ADD COLUMN lost INTEGER NOT NULL DEFAULT 0")
        if "kind" not in columns:
            self.execute(f"ALTER TABLE slices ADD COLUMN kind TEXT NOT NULL DEFAULT '{SLICE}'")
        if "playlist" not in columns:
            self.execute("ALTER TABLE slices ADD COLUMN playlist TEXT")
            self.execute("ALTER TABLE slices ADD COLUMN discontinuity INTEGER NOT NULL DEFAULT 0")

    def _stored_path(self, backup_path: Path) -> str:
        root = self.path.parent.resolve()
        try:
            return Path(backup_path).resolve().relative_to(root).as_posix()
        except ValueError:  # outside the data folder: kept as it is
            return str(backup_path)

    def _backup_path(self, stored: str, sid: str, name: str) -> Path:
        path = Path(stored)
        if not path.is_absolute():
            return self.path.parent / path
        if not path.exists():  # an older row, in a data folder that was moved
            moved = self.path.parent / "backup" / sid / name
            if moved.exists():
                return moved
        return path

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
        kind: str = SLICE,
        playlist: str | None = None,
        discontinuity: bool = False,
    ) -> int:
        """Record a slice (or a whole file of ``kind``) kept at ``backup_path``, listed
        in ``playlist`` (``None``: the recording's own); its sequence number (1, 2, ...
        over both)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM slices WHERE sid = ?", (sid,)
            ).fetchone()
            seq = int(row[0]) + 1
            db.execute(
                "INSERT INTO slices (sid, seq, name, key, backup_path, bytes, duration, kind, "
                "playlist, discontinuity) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    sid,
                    seq,
                    name,
                    key,
                    self._stored_path(backup_path),
                    size,
                    duration,
                    kind,
                    playlist,
                    int(discontinuity),
                ),
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

    def mark_lost(self, sid: str, seq: int) -> None:
        """Slice ``seq``'s backup file is gone: it will never be uploaded."""
        self.execute("UPDATE slices SET lost = 1 WHERE sid = ? AND seq = ?", (sid, seq))

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
        """Every slice of ``sid``'s playlists, in order."""
        rows = self.fetchall(
            f"{_ROW_COLUMNS} FROM slices WHERE sid = ? AND kind = ? ORDER BY seq", (sid, SLICE)
        )
        return [self._slice_row(r) for r in rows]

    def files(self, sid: str) -> list[SliceRow]:
        """Every whole file of ``sid`` (not in the playlist), in the order kept."""
        rows = self.fetchall(
            f"{_ROW_COLUMNS} FROM slices WHERE sid = ? AND kind != ? ORDER BY seq", (sid, SLICE)
        )
        return [self._slice_row(r) for r in rows]

    def _slice_row(self, r: tuple[Any, ...]) -> SliceRow:
        sid, seq, name, key, stored, size, duration, uploaded, lost, kind, playlist, gap = r
        path = self._backup_path(stored, sid, name)
        return SliceRow(sid, seq, name, key, path, size, duration, bool(uploaded), bool(lost),
                        kind, playlist, bool(gap))  # fmt: skip

    def upload(self, sid: str) -> UploadRow | None:
        """The upload state of ``sid`` (None if unknown)."""
        r = self.fetchone(f"{_UPLOAD_COLUMNS} WHERE sid = ?", (sid,))
        return UploadRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4])) if r else None

    def unfinished(self) -> list[UploadRow]:
        """Recordings whose uploads are not all done (to resume after a restart)."""
        rows = self.fetchall(f"{_UPLOAD_COLUMNS} WHERE done = 0")
        return [UploadRow(r[0], r[1], bool(r[2]), bool(r[3]), bool(r[4])) for r in rows]
