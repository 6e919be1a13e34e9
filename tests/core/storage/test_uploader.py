"""The durable uploader and the playlist writer: the slice sinks of the recorder.

Real objects throughout: the slice ledger in SQLite under tmp_path, a real local folder
as the destination (made to refuse uploads where a test needs an outage), and the
media side's own ``ClosedSlice`` handed in as the recorder hands it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.media.slices import ClosedSlice
from core.storage.destination import StorageError
from core.storage.hls import parse_playlist
from core.storage.ledger import SliceLedger
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter
from core.storage.uploader import (
    AllUploaded,
    BackedUp,
    DurableUploader,
    UploadEvent,
    UploadFailed,
    UploadRecovered,
)

SID = "sid1"
PLAYLIST_KEY = "rec/sid1_chan.m3u8"
DURATIONS = (2.0, 2.0, 1.5)


class FlakyFolder(LocalFolderDestination):
    """A local folder behind a store that refuses its first ``failures`` uploads.

    Uploads wait at ``gate`` until the test opens it, so that a test decides what has
    happened (slices added, recording ended) before the first attempt. Every playlist
    written is kept, with the slices stored at that moment.
    """

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures
        self.attempts = 0
        self.gate = asyncio.Event()
        self.stored: list[str] = []
        self.playlists: list[tuple[str, list[str]]] = []

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await self.gate.wait()
        self.attempts += 1
        if self.attempts <= self.failures:
            raise StorageError(f"cannot upload {key!r}: the store is unreachable")
        await super().put_file(key, path, content_type)
        self.stored.append(key.rsplit("/", 1)[1])

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await super().put_bytes(key, data, content_type)
        self.playlists.append((data.decode(), list(self.stored)))


def closed_slices(work: Path) -> list[ClosedSlice]:
    work.mkdir(parents=True, exist_ok=True)
    slices = []
    for index, duration in enumerate(DURATIONS):
        path = work / f"{SID}_chan_{index:017d}.ts"
        path.write_bytes(bytes([index]) * (1000 + index))
        slices.append(ClosedSlice(index, path.name, path, 2.0 * index, duration, 1000 + index))
    return slices


def expected_playlist(names: list[str], durations: tuple[float, ...], *, ended: bool) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
    ]
    for name, duration in zip(names, durations, strict=False):
        lines += [f"#EXTINF:{duration:.3f},", name]
    return "\n".join(lines + (["#EXT-X-ENDLIST"] if ended else [])) + "\n"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SliceLedger]:
    ledger = SliceLedger(tmp_path / "state.sqlite3")
    yield ledger
    ledger.close()


def uploader_for(
    target: LocalFolderDestination, ledger: SliceLedger, tmp_path: Path, events: list[UploadEvent]
) -> DurableUploader:
    return DurableUploader(
        target,
        ledger,
        SID,
        PLAYLIST_KEY,
        tmp_path / "backup",
        target_duration=2.0,
        listener=events.append,
        retry_delays=(0.02, 0.05),
    )


async def test_a_store_that_fails_n_times_gets_every_slice_after_retries(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    failures = 4
    target = FlakyFolder(tmp_path / "bucket", failures)
    events: list[UploadEvent] = []
    uploader = uploader_for(target, ledger, tmp_path, events)
    slices = closed_slices(tmp_path / "work")
    keys = [await uploader.add_slice(s) for s in slices]
    await uploader.end()
    assert keys == [f"rec/{s.name}" for s in slices]
    # Safe before any upload: in the backup and in the ledger, with their durations.
    assert [(r.name, r.duration, r.uploaded) for r in uploader.slices()] == [
        (s.name, s.duration, False) for s in slices
    ]
    assert all((tmp_path / "backup" / s.name).read_bytes() == s.path.read_bytes() for s in slices)
    assert uploader.pending == 3 and uploader.progress() == (0, 3003)

    target.gate.set()
    assert await uploader.wait_done(10)
    await uploader.aclose()

    assert target.attempts == failures + len(slices)  # each failure retried, nothing twice
    assert len(events) == 4
    assert isinstance(events[0], UploadFailed) and "unreachable" in events[0].message
    assert events[1:] == [BackedUp(pending=3), UploadRecovered(), AllUploaded()]
    for s in slices:
        assert (tmp_path / "bucket" / "rec" / s.name).read_bytes() == s.path.read_bytes()
        assert not (tmp_path / "backup" / s.name).exists()  # the backup copy is dropped
    names = [s.name for s in slices]
    playlist = (tmp_path / "bucket" / PLAYLIST_KEY).read_text()
    assert playlist == expected_playlist(names, DURATIONS, ended=True)
    # Every playlist written listed only slices already in the store, in order.
    assert target.playlists
    for text, stored in target.playlists:
        listed = [e.uri for e in parse_playlist(text).entries]
        assert listed == names[: len(listed)] and set(listed) <= set(stored)
    assert [parse_playlist(t).ended for t, _ in target.playlists].count(True) == 1
    state = ledger.upload(SID)
    assert state is not None and state.ended and state.done and state.playlist_uploaded
    assert uploader.pending == 0 and uploader.progress() == (3003, 3003)
    assert ledger.unfinished() == []


async def test_uploads_resume_from_the_ledger_after_a_restart(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    down = FlakyFolder(tmp_path / "bucket", failures=0)  # its gate never opens: no upload
    first_events: list[UploadEvent] = []
    first = uploader_for(down, ledger, tmp_path, first_events)
    slices = closed_slices(tmp_path / "work")
    for s in slices[:2]:
        await first.add_slice(s)
    await first.end()
    await first.aclose()  # the server goes down
    assert first_events == [] and [u.sid for u in ledger.unfinished()] == [SID]

    events: list[UploadEvent] = []
    again = uploader_for(LocalFolderDestination(tmp_path / "bucket"), ledger, tmp_path, events)
    again.start()
    assert await again.wait_done(10)
    await again.aclose()
    assert events == [AllUploaded()]
    playlist = (tmp_path / "bucket" / PLAYLIST_KEY).read_text()
    assert playlist == expected_playlist([s.name for s in slices[:2]], DURATIONS, ended=True)


async def test_the_playlist_writer_lists_only_stored_slices_and_ends(tmp_path: Path) -> None:
    target = FlakyFolder(tmp_path / "out", failures=0)
    target.gate.set()
    writer = PlaylistWriter(target, PLAYLIST_KEY, target_duration=2.0)
    slices = closed_slices(tmp_path / "work")
    assert await writer.add_slice(slices[0]) == f"rec/{slices[0].name}"
    text = (tmp_path / "out" / PLAYLIST_KEY).read_text()
    assert text == expected_playlist([slices[0].name], DURATIONS, ended=False)

    target.failures, target.attempts = 1, 0  # the next upload fails
    with pytest.raises(StorageError, match="unreachable"):
        await writer.add_slice(slices[1])
    await writer.add_slice(slices[2])
    await writer.end()
    text = (tmp_path / "out" / PLAYLIST_KEY).read_text()
    assert text == expected_playlist(
        [slices[0].name, slices[2].name], (DURATIONS[0], DURATIONS[2]), ended=True
    )
    assert not (tmp_path / "out" / "rec" / slices[1].name).exists()
