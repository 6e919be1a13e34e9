"""The slice ledger: every slice and its upload state, committed before each call returns.

A real SQLite file under tmp_path; a second ``SliceLedger`` on the same file stands for
the restarted server (or another process) reading what the first one wrote.
"""

from __future__ import annotations

from pathlib import Path

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
