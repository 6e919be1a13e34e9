"""A recording session driven through its public API by a fake recorder.

Everything but the media pipeline is real: the state store and the slice ledger in
SQLite under tmp_path, the durable uploader, a local folder as the destination. The
fake recorder (tests.core.storage.sessions.SliceFeeder) stands in for channel + encoder:
it hands slices to the session's uploader through the slice-sink interface, as the real
recorder does, and reports the same events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from core.channel.registry import ChannelRegistry
from core.errors import ErrorCode
from core.media.recorder import IdleExit, RecorderFailure, StopReason
from core.notices import MODULE_RECORDER, MODULE_UPLOADER, Status, service_state
from core.server.service import RecordingService
from core.storage.destination import StorageError
from core.storage.hls import parse_playlist
from core.storage.local import LocalFolderDestination
from tests.core.storage.sessions import PLAYLIST, PLAYLIST_KEY, SID, Harness, details, names


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    h = local_harness(tmp_path)
    yield h
    await h.close()


def local_harness(tmp_path: Path, destination: LocalFolderDestination | None = None) -> Harness:
    """A session of a fresh recording writing to ``tmp_path/out/rec`` (or ``destination``)."""
    return Harness(
        tmp_path,
        destination or LocalFolderDestination(tmp_path / "out"),
        retry_delays=(0.02,),
        notices_timeout=10,
    )


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def test_start_slices_stop_then_everything_uploaded(harness: Harness) -> None:
    session = harness.session
    await session.start()
    await wait_for(lambda: session.status is Status.RECORDING)
    for _ in range(3):
        await harness.fake.record_slice()
    body = session.query_body()
    assert body["status"] == int(Status.RECORDING) and body["fileList"] == PLAYLIST
    assert [e["serviceName"] for e in body["extensionServiceState"]] == ["cloudrec_recorder"]
    assert service_state(body)["slices"] == 3
    assert service_state(body)["users"] == [7]
    assert service_state(body)["levels"] == {"7": -12.0}
    # the uploader's figures: every slice it holds, written and stored
    assert service_state(body)["keptSlices"] == 3
    assert 0 <= service_state(body)["storedSlices"] <= 3

    await session.stop()
    assert session.settled
    await session.wait_finished()
    notices = await harness.notices()
    assert names(notices) == [
        "cloud_recording_status_update",  # 1 initializing
        "uploader_started",
        "cloud_recording_status_update",  # 5 recording
        "recorder_started",
        "recorder_slice_start",  # Agora's: once, with the first slice
        "cloud_recording_file_infos",  # Agora's: once, the playlist's name
        "cloudrec_slice_stored",  # cloudrec's: each slice
        "cloudrec_slice_stored",
        "cloudrec_slice_stored",
        "recorder_leave",
        "uploading_progress",
        "uploaded",
        "cloud_recording_status_update",  # 7 stopped
        "session_exit",
    ]
    # Agora's serviceType: the uploader's events 2, the recorder's 1, the service's 0
    assert [n["payload"]["serviceType"] for n in notices] == [
        0,
        2,
        0,
        1,
        1,
        0,
        1,
        1,
        1,
        1,
        2,
        2,
        0,
        0,
    ]
    assert [n["payload"]["sequence"] for n in notices] == list(range(14))
    statuses = details(notices, "cloud_recording_status_update")
    assert [d["status"] for d in statuses] == [1, 5, 7]
    assert {(d["recordingMode"], d["fileList"]) for d in statuses} == {(1, PLAYLIST)}
    assert harness.fake.start_time is not None
    first = harness.fake.slices[0]
    start_ms = round(harness.fake.start_time * 1000) + round(first.start * 1000)
    assert details(notices, "recorder_slice_start") == [
        {"msgName": "recorder_slice_start", "startUtcMs": start_ms, "discontinueUtcMs": start_ms,
         "mixedAllUser": True, "streamUid": "0", "trackType": "audio_and_video"}
    ]  # fmt: skip
    assert details(notices, "cloud_recording_file_infos") == [
        {"msgName": "cloud_recording_file_infos", "fileList": PLAYLIST_KEY}
    ]
    slice_notices = details(notices, "cloudrec_slice_stored")
    assert [d["fileName"] for d in slice_notices] == [s.name for s in harness.fake.slices]
    assert {d["playlist"] for d in slice_notices} == {PLAYLIST_KEY}
    (leave,) = details(notices, "recorder_leave")
    # Agora's leaveCode bit 16: the recorder left on request
    assert (leave["leaveCode"], leave["reason"], leave["slices"]) == (16, "requested", 3)
    assert details(notices, "uploading_progress")[-1]["progress"] == 10_000
    started_ms = round(harness.fake.start_time * 1000)
    assert details(notices, "uploaded") == [
        {"msgName": "uploaded", "status": 0, "fileList": [
            {"fileName": PLAYLIST, "trackType": "audio_and_video", "uid": "0",
             "mixedAllUser": True, "isPlayable": True, "sliceStartTime": started_ms}]}
    ]  # fmt: skip
    assert details(notices, "session_exit") == [{"msgName": "session_exit", "exitStatus": 0}]

    assert session.finished and session.status is Status.STOPPED
    assert session.uploading_status == "uploaded" and harness.uploaded == [SID]
    row = harness.row()
    assert (row.status, row.exit_reason, row.uploading_status) == (7, "requested", "uploaded")
    assert row.stopped_at is not None
    playlist = (harness.tmp_path / "out" / "rec" / PLAYLIST).read_text()
    assert playlist.endswith("#EXT-X-ENDLIST\n")
    assert [line for line in playlist.splitlines() if line.endswith(".ts")] == [
        s.name for s in harness.fake.slices
    ]
    await session.stop()  # stopping a settled recording is a no-op


async def test_an_empty_channel_ends_the_recording_by_itself(harness: Harness) -> None:
    session = harness.session
    await session.start()
    harness.fake.emit(IdleExit(30.2))
    await harness.fake.end(StopReason.IDLE)
    await session.wait_finished()
    notices = await harness.notices()
    errors = details(notices, "cloud_recording_error")
    assert errors == [
        {
            "msgName": "cloud_recording_error",
            "module": MODULE_RECORDER,
            "errorLevel": 3,
            "errorCode": int(ErrorCode.NO_USERS),
            "stat": 0,
            "errorMsg": "no user in the channel for 30 s: the recording stops by itself",
        },
        {
            "msgName": "cloud_recording_error",
            "module": MODULE_RECORDER,
            "errorLevel": 3,
            "errorCode": int(ErrorCode.NO_RECORDED_DATA),
            "stat": 0,
            "errorMsg": "the recording produced no data",
        },
    ]
    (leave,) = details(notices, "recorder_leave")
    # Agora's leaveCode bit 4: nobody in the channel for maxIdleTime
    assert (leave["leaveCode"], leave["reason"], leave["slices"]) == (4, "idle", 0)
    assert session.status is Status.STOPPED and harness.row().exit_reason == "idle"
    assert details(notices, "session_exit")[-1]["exitStatus"] == 0


async def test_a_recorder_failure_is_an_error_notice_and_an_abnormal_exit(
    harness: Harness,
) -> None:
    session = harness.session
    await session.start()
    await harness.fake.record_slice()
    harness.fake.emit(RecorderFailure(ErrorCode.UPLOADER_FAILED, "cannot write x.ts: disk full"))
    harness.fake.emit(RecorderFailure(ErrorCode.RECORDER_FAILED, "the media pipeline failed"))
    await harness.fake.end(StopReason.FAILED)
    await session.wait_finished()
    notices = await harness.notices()
    errors = details(notices, "cloud_recording_error")
    assert [(e["module"], e["errorCode"], e["errorMsg"], e["errorLevel"]) for e in errors] == [
        (MODULE_UPLOADER, int(ErrorCode.UPLOADER_FAILED), "cannot write x.ts: disk full", 3),
        (MODULE_RECORDER, int(ErrorCode.RECORDER_FAILED), "the media pipeline failed", 3),
    ]
    (leave,) = details(notices, "recorder_leave")
    # Agora's leaveCode bit 2: the service ended the recorder
    assert (leave["leaveCode"], leave["reason"], leave["slices"]) == (2, "failed", 1)
    assert session.status is Status.EXITED_ABNORMALLY
    assert details(notices, "cloud_recording_status_update")[-1]["status"] == 20
    assert details(notices, "session_exit") == [{"msgName": "session_exit", "exitStatus": 1}]
    assert harness.row().status == 20 and harness.row().exit_reason == "failed"


async def test_a_destination_that_fails_its_check_fails_the_start(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    harness = local_harness(tmp_path, LocalFolderDestination(blocked))
    try:
        _, notices = await harness.start_fails()
        (error,) = details(notices, "cloud_recording_error")
        assert (error["module"], error["errorCode"], error["errorLevel"], error["stat"]) == (
            MODULE_UPLOADER,
            int(ErrorCode.UPLOADER_INIT),
            5,  # fatal
            1,
        )
        assert str(blocked) in error["errorMsg"]
        assert harness.session.finished and harness.session.status is Status.EXITED_ABNORMALLY
        assert harness.row().exit_reason == error["errorMsg"]
    finally:
        await harness.close()


class Unreachable(LocalFolderDestination):
    """A local folder whose store is down until ``up`` is set."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.up = False

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        if not self.up:
            raise StorageError(f"cannot upload {key!r}: the store is unreachable")
        await super().put_file(key, path, content_type)


async def test_slices_left_in_the_backup_are_reported_then_uploaded(tmp_path: Path) -> None:
    target = Unreachable(tmp_path / "out")
    harness = local_harness(tmp_path, target)
    session = harness.session
    try:
        await session.start()
        await harness.fake.record_slice()
        await harness.fake.record_slice()
        await session.stop()
        assert session.settled and not session.finished
        assert session.uploading_status == "backuped"
        target.up = True
        await session.wait_finished()
        notices = await harness.notices()
        (failure,) = details(notices, "cloud_recording_error")
        assert (failure["module"], failure["errorCode"]) == (
            MODULE_UPLOADER,
            int(ErrorCode.UPLOADER_FAILED),
        )
        assert failure["errorMsg"].endswith(
            "unreachable; slices are kept in the local backup and retried"
        )
        (backed_up,) = details(notices, "backuped")
        files = [{"fileName": PLAYLIST, "trackType": "audio_and_video", "uid": "0",
                  "mixedAllUser": True, "isPlayable": True,
                  "sliceStartTime": round(harness.fake.start_time * 1000)}]  # fmt: skip
        assert backed_up == {"msgName": "backuped", "status": 0, "fileList": files, "pending": 2}
        assert details(notices, "cloud_recording_warning") == [
            {"msgName": "cloud_recording_warning", "module": 1, "warnCode": 1001,
             "warnMsg": "uploads work again"}
        ]  # fmt: skip
        assert details(notices, "session_exit") == [{"msgName": "session_exit", "exitStatus": 0}]
        # cloudrec goes on uploading what is in the backup and says when it is done
        assert details(notices, "uploaded") == [
            {"msgName": "uploaded", "status": 0, "fileList": files}
        ]
        assert names(notices)[-1] == "uploaded"
        assert harness.row().uploading_status == "uploaded" and harness.uploaded == [SID]
        assert (tmp_path / "out" / "rec" / PLAYLIST).read_text().endswith("#EXT-X-ENDLIST\n")
    finally:
        await harness.close()


async def test_a_recording_that_ended_backed_up_finishes_after_a_restart(
    tmp_path: Path,
) -> None:
    """Issue 16, finding 4: after a restart, a recording that had ended "backuped" never
    finished (no final notice, its keys kept). The restarted service (its real
    ``resume``) uploads what is left and finishes it exactly as without the restart:
    one ``session_exit`` (from before), then ``uploaded``, and its log ends."""
    target = Unreachable(tmp_path / "recordings")  # the service's default folder
    harness = local_harness(tmp_path, target)
    await harness.session.start()
    await harness.fake.record_slice()
    await harness.fake.record_slice()
    await harness.session.stop()
    assert harness.session.uploading_status == "backuped" and not harness.session.finished
    before = harness.logged()
    await harness.session.close()  # the server goes down

    service = RecordingService(ChannelRegistry(), harness.store, tmp_path)
    try:
        await service.resume()  # the store is up again: a plain local folder
        (session,) = service.sessions()
        async with asyncio.timeout(10):
            await session.wait_finished()
        notices = harness.logged()
        assert notices[: len(before)] == before
        assert names(notices[len(before) :]) == ["uploaded"]
        # the same file list as the backuped notice before the restart
        (backed_up,) = details(notices, "backuped")
        assert details(notices, "uploaded") == [
            {"msgName": "uploaded", "status": 0, "fileList": backed_up["fileList"]}
        ]
        assert names(notices).count("session_exit") == 1
        row = harness.row()
        assert (row.status, row.uploading_status) == (int(Status.STOPPED), "uploaded")
        playlist = (tmp_path / "recordings" / PLAYLIST_KEY).read_text()
        assert [e.name for e in parse_playlist(playlist).entries] == [
            s.name for s in harness.fake.slices
        ]
        assert playlist.endswith("#EXT-X-ENDLIST\n")
    finally:
        await service.close()
        harness.store.close()


async def test_each_snapshot_is_notice_45_once_it_is_uploaded(harness: Harness) -> None:
    """Agora's recorder_snapshot_file: one per snapshot "captured successfully and
    uploaded", naming it as ``<fileNamePrefix>/<file name>`` (here ``rec/...``); the
    session keeps the newest for the window; snapshots are not in fileList."""
    session = harness.session
    await session.start()
    await wait_for(lambda: session.status is Status.RECORDING)
    await harness.fake.record_slice()
    first = await harness.fake.record_snapshot(5.0)
    await harness.fake.record_slice()
    second = await harness.fake.record_snapshot(10.0)
    await wait_for(
        lambda: session.latest_snapshot is not None and session.latest_snapshot.time == 10
    )
    assert session.latest_snapshot is not None and session.latest_snapshot.name == second
    assert session.latest_snapshot.data.startswith(b"\xff\xd8\xff")
    await session.stop()
    await session.wait_finished()
    notices = await harness.notices()
    shots = [n for n in notices if n["eventType"] == 45]
    assert [n["payload"]["details"] for n in shots] == [
        {"msgName": "recorder_snapshot_file", "fileName": f"rec/{first}"},
        {"msgName": "recorder_snapshot_file", "fileName": f"rec/{second}"},
    ]
    assert {n["payload"]["serviceType"] for n in shots} == {1}  # the recorder module's
    for name in (first, second):  # in the storage beside the playlist, and out of the backup
        assert (harness.tmp_path / "out" / "rec" / name).read_bytes().startswith(b"\xff\xd8\xff")
    assert not any((harness.tmp_path / "backup").glob("*.jpg"))
    # each notice came once its file was up: before the final uploaded notice
    order = names(notices)
    assert order.index("uploaded") > max(i for i, n in enumerate(notices) if n["eventType"] == 45)
    assert session.file_list() == {"fileListMode": "string", "fileList": PLAYLIST}
    listed = parse_playlist((harness.tmp_path / "out" / PLAYLIST_KEY).read_text()).entries
    assert [e.name for e in listed] == [s.name for s in harness.fake.slices]  # no JPEG
