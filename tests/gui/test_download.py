"""Download of a recording from its bucket: the action's state, the progress dialog and
what lands in the folder (a real S3 server that checks signatures)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton, QWidget

from core import CloudStorageConfig, StorageVendor
from gui.actions import WindowActions
from gui.dialogs.download import download_with_progress
from gui.models.recordings import RecordingRow, RowState, can_download
from tests.core.storage.test_download import PLAYLIST, PREFIX, SLICES, _recording_in
from tests.s3server import S3Server


def _row(s3: S3Server, bucket: str, **changes: Any) -> RecordingRow:
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket=bucket,
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        endpoint=s3.endpoint,
        file_name_prefix=PREFIX,
    )
    fields: dict[str, Any] = {
        "state": RowState.UPLOADED,
        "progress": 100,
        "playlist": PLAYLIST,
        "storage": storage,
        "sid": "sid9",
        **changes,
    }
    return RecordingRow("rid", "lobby", **fields)


def test_download_is_offered_for_a_stored_recording_in_a_bucket_the_window_started(
    qtbot: Any, s3_server: S3Server
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = WindowActions(parent)
    row = _row(s3_server, "records")
    assert can_download(row)
    actions.enable_for(row, attached=False)
    assert actions.download.isEnabled()
    for other in (
        _row(s3_server, "records", progress=60, state=RowState.RECORDING),  # not all stored yet
        _row(s3_server, "records", storage=None),  # reattached: the window has no keys for it
        _row(s3_server, "records", storage=CloudStorageConfig(vendor=StorageVendor.LOCAL)),
        _row(s3_server, "records", playlist=""),
        None,
    ):
        assert not can_download(other)
        actions.enable_for(other, attached=False)
        assert not actions.download.isEnabled()


async def test_the_files_arrive_under_a_progress_dialog(
    qtbot: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    stored = await _recording_in(s3_server, s3_bucket, tmp_path)
    parent = QWidget()
    qtbot.addWidget(parent)
    seen: list[tuple[int, int]] = []

    async def watch() -> None:  # the dialog's figures while the download runs
        while True:
            dialog = parent.findChild(QProgressDialog, "download_progress")
            if dialog is not None and dialog.maximum():
                seen.append((dialog.value(), dialog.maximum()))
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    try:
        got = await download_with_progress(parent, _row(s3_server, s3_bucket), tmp_path / "down")
    finally:
        watcher.cancel()
    assert got is not None and got.playlist == tmp_path / "down" / PLAYLIST
    for name in [PLAYLIST, *SLICES]:
        assert (tmp_path / "down" / name).read_bytes() == stored[name], name
    assert seen and all(total == len(SLICES) + 1 for _, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)  # it only moves on
    assert parent.findChild(QProgressDialog, "download_progress") is None or not (
        parent.findChild(QProgressDialog, "download_progress").isVisible()
    )


async def test_cancel_stops_the_download_and_leaves_no_playlist(
    qtbot: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    await _recording_in(s3_server, s3_bucket, tmp_path)
    parent = QWidget()
    qtbot.addWidget(parent)

    async def cancel_when_shown() -> None:
        # once the first slice is in: Cancel stops a download under way
        while (
            dialog := parent.findChild(QProgressDialog, "download_progress")
        ) is None or dialog.value() < 1:
            await asyncio.sleep(0)
        button = dialog.findChild(QPushButton)  # as the operator does: its Cancel button
        assert button is not None and button.isVisible()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    canceller = asyncio.ensure_future(cancel_when_shown())
    got = await download_with_progress(parent, _row(s3_server, s3_bucket), tmp_path / "down")
    await canceller
    assert got is None
    # the slices fetched before Cancel stay; no playlist, no partial or listing file
    left = sorted(p.name for p in (tmp_path / "down").iterdir())
    assert 1 <= len(left) < len(SLICES) and left == SLICES[: len(left)]
    assert not (tmp_path / "down" / PLAYLIST).exists()


async def test_an_individual_recordings_tracks_all_arrive(
    qtbot: Any, s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    """An individual recording's row names its tracks' playlists (comma-separated, as the
    server does): Download fetches each playlist and its slices, byte for byte; the row
    plays the first video track and copies every location."""
    from core.storage.hls import Playlist, PlaylistEntry
    from tests.core.storage.stores import s3_destination

    tracks = {kind: f"sid9_lobby__uid_s_7__uid_e_{kind}.m3u8" for kind in ("audio", "video")}
    stored: dict[str, bytes] = {}
    destination = s3_destination(s3_server, s3_server.endpoint, s3_bucket,
                                 key_prefix="/".join(PREFIX))  # fmt: skip
    try:
        for kind, suffix in (("audio", ".ts"), ("video", ".webm")):
            names = [f"{tracks[kind][:-5]}_2026120112000{i}000{suffix}" for i in range(2)]
            for index, name in enumerate(names):
                path = tmp_path / "up" / name
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(bytes([index + 1]) * (10_000 + index))
                await destination.put_file("/".join((*PREFIX, name)), path, "video/mp2t")
                stored[name] = path.read_bytes()
            playlist = Playlist(target_duration=4.0, ended=True)
            playlist.entries = [PlaylistEntry(name, 4.0) for name in names]
            text = playlist.render().encode()
            await destination.put_bytes("/".join((*PREFIX, tracks[kind])), text,
                                        "application/x-mpegURL")  # fmt: skip
            stored[tracks[kind]] = text
    finally:
        await destination.aclose()
    row = _row(s3_server, s3_bucket, playlist=f"{tracks['audio']},{tracks['video']}")
    assert row.playlists == [tracks["video"], tracks["audio"]]
    assert row.location.endswith(tracks["video"])
    assert [loc.rsplit("/", 1)[1] for loc in row.locations] == row.playlists
    parent = QWidget()
    qtbot.addWidget(parent)
    got = await download_with_progress(parent, row, tmp_path / "down")
    assert got is not None and got.playlist.name == tracks["video"]
    landed = {p.name: p.read_bytes() for p in (tmp_path / "down").iterdir()}
    assert landed == stored


def test_keeping_in_the_background_is_offered_for_a_recording_that_records_only(
    qtbot: Any, s3_server: S3Server
) -> None:
    """Release (keep recording in background) and Release and cancel mean a recording
    that records: not offered on an uploaded, stopped or failed row (issue 28, item 12)."""
    parent = QWidget()
    qtbot.addWidget(parent)
    actions = WindowActions(parent)
    recording = _row(s3_server, "records", state=RowState.RECORDING, progress=None)
    actions.enable_for(recording, attached=True)
    assert actions.release.isEnabled() and actions.cancel.isEnabled()
    for state in (RowState.UPLOADED, RowState.STOPPED, RowState.FAILED):
        actions.enable_for(_row(s3_server, "records", state=state), attached=True)
        assert not actions.release.isEnabled() and not actions.cancel.isEnabled(), state
