"""The slice ledger: every slice and its upload state, committed before each call returns.

A real SQLite file under tmp_path; a second ``SliceLedger`` on the same file stands for
the restarted server (or another process) reading what the first one wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.database import DatabaseError
from core.storage.ledger import SliceLedger, SliceRow, UploadRow


def test_slices_are_numbered_per_recording_and_read_back_in_order(tmp_path: Path) -> None:
    ledger = SliceLedger(tmp_path / "state.sqlite3")
    try:
        ledger.open_recording("a", "rec/a_c.m3u8")
        ledger.open_recording("b", "rec/b_c.m3u8")
        assert (
            ledger.add_slice("a", "a0.ts", "rec/a0.ts", tmp_path / "a0.ts", 10, duration=2.0) == 1
        )
        assert ledger.add_slice("b", "b0.ts", "rec/b0.ts", tmp_path / "b0.ts", 20) == 1
        assert (
            ledger.add_slice("a", "a1.ts", "rec/a1.ts", tmp_path / "a1.ts", 11, duration=1.5) == 2
        )
        ledger.mark_uploaded("a", 1)
        ledger.set_duration("b", "b0.ts", 2.25)
        assert ledger.slices("a") == [
            SliceRow("a", 1, "a0.ts", "rec/a0.ts", tmp_path / "a0.ts", 10, 2.0, True),
            SliceRow("a", 2, "a1.ts", "rec/a1.ts", tmp_path / "a1.ts", 11, 1.5, False),
        ]
        assert ledger.slices("b") == [
            SliceRow("b", 1, "b0.ts", "rec/b0.ts", tmp_path / "b0.ts", 20, 2.25, False)
        ]
        assert ledger.slices("unknown") == [] and ledger.upload("unknown") is None
    finally:
        ledger.close()


def test_a_restart_reads_every_write_and_resuming_keeps_the_state(tmp_path: Path) -> None:
    first = SliceLedger(tmp_path / "state.sqlite3")
    first.open_recording("a", "rec/a_c.m3u8")
    first.open_recording("b", "rec/b_c.m3u8")
    first.add_slice("a", "a0.ts", "rec/a0.ts", tmp_path / "a0.ts", 10, duration=2.0)
    first.mark_uploaded("a", 1)
    first.mark_ended("a")
    first.mark_playlist("b", uploaded=True, done=True)
    # Read by another connection before the first is closed: every write is committed.
    second = SliceLedger(tmp_path / "state.sqlite3")
    try:
        assert second.slices("a")[0].uploaded
        assert second.unfinished() == [UploadRow("a", "rec/a_c.m3u8", True, False, False)]
        second.open_recording("a", "rec/other.m3u8")  # a resume: nothing is reset
        assert second.upload("a") == UploadRow("a", "rec/a_c.m3u8", True, False, False)
        assert second.upload("b") == UploadRow("b", "rec/b_c.m3u8", False, True, True)
        second.mark_playlist("a", uploaded=True, done=True)
        assert second.unfinished() == []
    finally:
        second.close()
        first.close()


# --- faults of the server's own disk (issue 16, finding 7 and item 3) ----------------


def test_a_moved_data_folder_still_finds_its_backup_files(tmp_path: Path) -> None:
    """Backup paths are kept relative to the data folder; a row of an older version,
    holding an absolute path into the old place, is found under the new one."""
    old, new = tmp_path / "old", tmp_path / "new"
    backup = old / "backup" / "a"
    backup.mkdir(parents=True)
    ledger = SliceLedger(old / "state.sqlite3")
    try:
        ledger.open_recording("a", "rec/a_c.m3u8")
        ledger.add_slice("a", "a0.ts", "rec/a0.ts", backup / "a0.ts", 10, duration=2.0)
        # as an older version wrote it: the absolute path of the old place
        ledger.execute(
            "INSERT INTO slices (sid, seq, name, key, backup_path, bytes, duration) "
            "VALUES ('a', 2, 'a1.ts', 'rec/a1.ts', ?, 11, 2.0)",
            (str(backup / "a1.ts"),),
        )
        stored = [r[0] for r in ledger.fetchall("SELECT backup_path FROM slices ORDER BY seq")]
        assert stored == ["backup/a/a0.ts", str(backup / "a1.ts")]
    finally:
        ledger.close()
    for name in ("a0.ts", "a1.ts"):
        (backup / name).write_bytes(b"x")
    old.rename(new)

    moved = SliceLedger(new / "state.sqlite3")
    try:
        paths = [r.backup_path for r in moved.slices("a")]
        assert paths == [new / "backup" / "a" / "a0.ts", new / "backup" / "a" / "a1.ts"]
        assert all(p.is_file() for p in paths)
    finally:
        moved.close()


def test_a_full_database_raises_a_named_error_and_keeps_what_was_committed(
    tmp_path: Path,
) -> None:
    """SQLite's 'database or disk is full' (the page limit stands for a full disk: the
    same SQLITE_FULL) is a DatabaseError naming the file; the transaction is rolled
    back, and the ledger works again once there is room."""
    ledger = SliceLedger(tmp_path / "state.sqlite3")
    try:
        ledger.open_recording("a", "rec/a_c.m3u8")
        ledger.add_slice("a", "a0.ts", "rec/a0.ts", tmp_path / "a0.ts", 10, duration=2.0)
        pages = ledger.fetchall("PRAGMA page_count")[0][0]
        ledger.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(DatabaseError) as info:
            for n in range(1, 200):  # each row a page of its own: the file must grow
                ledger.add_slice("a", f"a{n}.ts", "k" * 4000, tmp_path / f"a{n}.ts", 10)
        assert isinstance(info.value, OSError)
        assert str(info.value) == (
            "the server's database state.sqlite3 cannot be used: database or disk is full"
        )
        kept = [r.name for r in ledger.slices("a")]
        assert kept == [f"a{i}.ts" for i in range(len(kept))] and len(kept) >= 1
        ledger.execute("PRAGMA max_page_count = 1073741823")
        seq = ledger.add_slice("a", "next.ts", "rec/next.ts", tmp_path / "next.ts", 10)
        assert seq == len(kept) + 1
    finally:
        ledger.close()


def test_a_ledger_of_an_older_version_gets_the_kind_column_and_keeps_its_slices(
    tmp_path: Path,
) -> None:
    """A ledger written before whole files (MP4s, snapshots) had rows of their own: its
    table gains ``kind`` on opening, every old row is a slice, and a file added now is
    numbered after them and not listed among the slices."""
    import sqlite3

    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE slices (sid TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,"
        " key TEXT NOT NULL, backup_path TEXT NOT NULL, bytes INTEGER NOT NULL,"
        " duration REAL, uploaded INTEGER NOT NULL DEFAULT 0,"
        " lost INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (sid, seq));"
        "INSERT INTO slices VALUES ('a', 1, 'a0.ts', 'rec/a0.ts', 'backup/a/a0.ts', 10, 2.0, 1, 0);"
    )
    db.commit()
    db.close()
    ledger = SliceLedger(path)
    try:
        backup = tmp_path / "backup" / "a"
        assert ledger.slices("a") == [
            SliceRow("a", 1, "a0.ts", "rec/a0.ts", backup / "a0.ts", 10, 2.0, True)
        ]
        assert ledger.add_slice("a", "a.mp4", "rec/a.mp4", backup / "a.mp4", 99, kind="mp4") == 2
        assert [r.name for r in ledger.slices("a")] == ["a0.ts"]
        assert ledger.files("a") == [
            SliceRow("a", 2, "a.mp4", "rec/a.mp4", backup / "a.mp4", 99, None, False, kind="mp4")
        ]
    finally:
        ledger.close()
