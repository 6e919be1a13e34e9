"""The backup path: when a recording is reported backed up (notice 32), and with what.

DESIGN section 6 and docs/storage.md: a slice that could not be uploaded stays in the
local backup and is reported (OnUploaderFailure, then OnRecordingBackedUp), then keeps
being retried. core/server/session.py: a recording settles once every slice is
uploaded, or, with slices still only in the backup, at once when an upload fails after
the end, or after ``SETTLE_GRACE`` (5 s) when uploads are still under way; ``uploaded``
follows when they are up. docs/rest-api.md: 32 backuped -> ``on_recording_backed_up``.

These run a real session, uploader and ledger on a virtual clock
(``virtual_time.py``), so every notice's time is checked to the exact second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ErrorCode
from core.notices import MODULE_UPLOADER, Status
from core.server.session import SETTLE_GRACE
from core.storage.destination import StorageError
from core.storage.local import LocalFolderDestination
from tests.core.storage.sessions import PLAYLIST, PLAYLIST_KEY, Harness
from tests.core.storage.virtual_time import run_virtual

Timeline = list[tuple[float, str, dict[str, Any]]]


class Store(LocalFolderDestination):
    """A local folder behind a store that is down while ``down(now)``, and whose answer
    to an upload takes ``latency`` seconds (on the loop's clock)."""

    def __init__(
        self, root: Path, down: Callable[[float], bool] = lambda now: False, latency: float = 0.0
    ) -> None:
        super().__init__(root)
        self.down = down
        self.latency = latency

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.down(asyncio.get_running_loop().time()):
            raise StorageError(f"cannot upload {key!r}: the store is unreachable")
        await super().put_file(key, path, content_type)


async def record(harness: Harness, slices: int, stop_at: float) -> Timeline:
    """Start, record ``slices`` 2 s slices from t=0, stop at ``stop_at``; every notice
    with the (virtual) time it was logged, until the session ends."""
    loop = asyncio.get_running_loop()
    timeline: Timeline = []

    async def follow() -> None:
        async for notice in harness.session.notices(-1):
            details = dict(notice["payload"]["details"])
            timeline.append((round(loop.time(), 9), details.pop("msgName"), details))

    reader = asyncio.create_task(follow())
    await harness.session.start()
    for _ in range(slices):
        await harness.fake.record_slice()
        await asyncio.sleep(2.0)
    await asyncio.sleep(stop_at - loop.time())
    await harness.session.stop()
    async with asyncio.timeout(3600):
        await reader
    return timeline


def files(harness: Harness) -> list[dict[str, Any]]:
    """Agora's ``fileList`` of uploaded/backuped: the mixed playlist, from its start."""
    assert harness.fake.start_time is not None
    return [{"fileName": PLAYLIST, "trackType": "audio_and_video", "uid": "0",
             "mixedAllUser": True, "isPlayable": True,
             "sliceStartTime": round(harness.fake.start_time * 1000)}]  # fmt: skip


STOPPED = {"status": int(Status.STOPPED), "recordingMode": 1, "fileList": PLAYLIST}
"""The status update of a stopped recording."""


def after_stop(timeline: Timeline) -> list[tuple[float, str, dict[str, Any]]]:
    """The notices from the recorder's leave on, without the periodic progress reports."""
    start = next(i for i, (_, name, _) in enumerate(timeline) if name == "recorder_leave")
    return [
        (t, name, d)
        for t, name, d in timeline[start:]
        if name not in ("uploading_progress", "cloud_recording_file_infos")
    ]


def test_an_upload_failing_after_the_end_is_backed_up_at_once_then_uploaded(
    tmp_path: Path,
) -> None:
    # The store goes down at t=3 and comes back at t=40; the recording stops at t=7.
    store = Store(tmp_path / "out", down=lambda now: 3.0 <= now < 40.0)

    async def main() -> tuple[Timeline, Harness]:
        harness = Harness(tmp_path, store)
        try:
            return await record(harness, slices=3, stop_at=7.0), harness
        finally:
            await harness.close()

    timeline, harness = run_virtual(main())
    failure = (
        f"cannot upload 'rec/{harness.fake.slices[2].name}': the store is unreachable; "
        "slices are kept in the local backup and retried"
    )
    # Slice 3 closes at t=4 and fails; retried after 1 s (5) and 2 s (7, the stop), then
    # 4, 8, 15 and 30 s later (11, 19, 34, 64): up at 64, slice and playlist.
    assert after_stop(timeline) == [
        (
            7.0,
            "recorder_leave",
            {"leaveCode": 16, "reason": "requested", "slices": 3, "duration": 6.0},
        ),
        (7.0, "backuped", {"status": 0, "fileList": files(harness), "pending": 1}),
        (7.0, "cloud_recording_status_update", STOPPED),
        (7.0, "session_exit", {"exitStatus": 0}),
        (
            64.0,
            "cloud_recording_warning",
            {"module": MODULE_UPLOADER, "warnCode": 1001, "warnMsg": "uploads work again"},
        ),
        (64.0, "uploaded", {"status": 0, "fileList": files(harness)}),
    ]
    errors = [(t, d) for t, name, d in timeline if name == "cloud_recording_error"]
    assert errors == [
        (
            4.0,
            {
                "module": MODULE_UPLOADER,
                "errorLevel": 3,
                "errorCode": int(ErrorCode.UPLOADER_FAILED),
                "stat": 0,
                "errorMsg": failure,
            },
        )
    ]
    # The playlist was named once, with the first slice; the row after the upload.
    infos = [d for _, name, d in timeline if name == "cloud_recording_file_infos"]
    assert infos == [{"fileList": PLAYLIST_KEY}]
    assert harness.uploaded == ["0123abcd"]
    text = (tmp_path / "out" / PLAYLIST_KEY).read_text()
    assert text.endswith("#EXT-X-ENDLIST\n")
    assert [line for line in text.splitlines() if line.endswith(".ts")] == [
        s.name for s in harness.fake.slices
    ]


def test_uploads_still_running_5_s_after_the_end_are_reported_backed_up(
    tmp_path: Path,
) -> None:
    # A store that answers each upload after 4 s: slices closing at t=0, 2 and 4 are up
    # at t=4, 8 and 12; the recording stops at t=6, so the grace ends at t=11 with the
    # third still on its way.
    store = Store(tmp_path / "out", latency=4.0)

    async def main() -> tuple[Timeline, Harness]:
        harness = Harness(tmp_path, store)
        try:
            return await record(harness, slices=3, stop_at=6.0), harness
        finally:
            await harness.close()

    timeline, harness = run_virtual(main())
    assert SETTLE_GRACE == 5.0
    assert after_stop(timeline) == [
        (
            6.0,
            "recorder_leave",
            {"leaveCode": 16, "reason": "requested", "slices": 3, "duration": 6.0},
        ),
        (11.0, "backuped", {"status": 0, "fileList": files(harness), "pending": 1}),
        (11.0, "cloud_recording_status_update", STOPPED),
        (11.0, "session_exit", {"exitStatus": 0}),
        (12.0, "uploaded", {"status": 0, "fileList": files(harness)}),
    ]
    assert "cloud_recording_error" not in [name for _, name, _ in timeline]  # nothing failed
    assert harness.uploaded == ["0123abcd"]


def test_uploads_done_within_5_s_of_the_end_are_never_reported_backed_up(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "out", latency=4.0)  # slices up at t=4 and t=8

    async def main() -> tuple[Timeline, Harness]:
        harness = Harness(tmp_path, store)
        try:
            return await record(harness, slices=2, stop_at=6.0), harness
        finally:
            await harness.close()

    timeline, harness = run_virtual(main())
    assert after_stop(timeline) == [
        (
            6.0,
            "recorder_leave",
            {"leaveCode": 16, "reason": "requested", "slices": 2, "duration": 4.0},
        ),
        (8.0, "uploaded", {"status": 0, "fileList": files(harness)}),
        (8.0, "cloud_recording_status_update", STOPPED),
        (8.0, "session_exit", {"exitStatus": 0}),
    ]
