"""The durable uploader and the playlist writer: the slice sinks of the recorder.

Real objects throughout: the slice ledger in SQLite under tmp_path, a real local folder
as the destination (made to refuse uploads where a test needs an outage), and the
media side's own ``ClosedSlice`` handed in as the recorder hands it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.media.slices import ClosedSlice
from core.storage.destination import StorageError
from core.storage.hls import parse_playlist
from core.storage.ledger import SliceLedger
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter
from core.storage.uploader import (
    RETRY_DELAYS,
    AllUploaded,
    BackedUp,
    DurableUploader,
    FileUploaded,
    SliceLost,
    UploadEvent,
    UploadFailed,
    UploadRecovered,
)
from tests.core.storage.stores import durable_uploader, s3_destination
from tests.core.storage.virtual_time import run_virtual
from tests.helpers import wait_until
from tests.s3server import S3Server, TcpProxy

SID = "sid1"
PLAYLIST_KEY = "rec/sid1_chan.m3u8"
DURATIONS = (2.0, 2.0, 1.5)
FAST = (0.02, 0.05)
"""Retry delays of the tests on the real clock."""


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
    target: LocalFolderDestination,
    ledger: SliceLedger,
    tmp_path: Path,
    events: list[UploadEvent] | None = None,
    **kwargs: Any,
) -> DurableUploader:
    """The uploader of recording ``SID`` with its backup in ``tmp_path/backup``, telling
    ``events`` what it reports."""
    if events is not None:
        kwargs["listener"] = events.append
    return durable_uploader(target, ledger, SID, PLAYLIST_KEY, tmp_path / "backup", **kwargs)


async def test_a_store_that_fails_n_times_gets_every_slice_after_retries(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    failures = 4
    target = FlakyFolder(tmp_path / "bucket", failures)
    events: list[UploadEvent] = []
    uploader = uploader_for(target, ledger, tmp_path, events, retry_delays=FAST)
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
        listed = [e.name for e in parse_playlist(text).entries]
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
    first = uploader_for(down, ledger, tmp_path, first_events, retry_delays=FAST)
    slices = closed_slices(tmp_path / "work")
    for s in slices[:2]:
        await first.add_slice(s)
    await first.end()
    await first.aclose()  # the server goes down
    assert first_events == [] and [u.sid for u in ledger.unfinished()] == [SID]

    events: list[UploadEvent] = []
    again = uploader_for(
        LocalFolderDestination(tmp_path / "bucket"), ledger, tmp_path, events, retry_delays=FAST
    )
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


# --- the retry schedule, on a virtual clock ------------------------------------------


class ScriptedStore(LocalFolderDestination):
    """A local folder behind a store that is down while ``down(now)`` is true.

    Models a store that refuses at once (connection refused, HTTP 500): every upload
    attempt is noted with the loop's time (virtual in these tests) and, while the store
    is down, fails before any data moves. Playlists are always stored.
    """

    def __init__(self, root: Path, down: Callable[[float], bool]) -> None:
        super().__init__(root)
        self.down = down
        self.attempts: list[tuple[float, str, bool]] = []
        """(time, slice name, stored) of every slice upload attempt."""

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        now = asyncio.get_running_loop().time()
        name = key.rsplit("/", 1)[1]
        if self.down(now):
            self.attempts.append((now, name, False))
            raise StorageError(f"cannot upload {key!r}: the store is unreachable")
        await super().put_file(key, path, content_type)
        self.attempts.append((now, name, True))


def schedule(failures: int) -> list[float]:
    """Times of ``failures`` failed attempts and the next one, by the documented backoff."""
    times = [0.0]
    for n in range(failures):
        times.append(times[-1] + RETRY_DELAYS[min(n, len(RETRY_DELAYS) - 1)])
    return times


def test_the_documented_backoff() -> None:
    # docs/storage.md: retried after 1, 2, 4, 8 and 15 s, then every 30 s.
    assert RETRY_DELAYS == (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def test_a_failed_upload_is_retried_after_1_2_4_8_15_then_every_30_s(tmp_path: Path) -> None:
    up_at = 3600.0  # an hour-long outage: retried for as long as it takes

    async def main() -> tuple[ScriptedStore, list[UploadEvent], list[float]]:
        store = ScriptedStore(tmp_path / "bucket", down=lambda now: now < up_at)
        events: list[UploadEvent] = []
        uploader = uploader_for(store, SliceLedger(tmp_path / "state.sqlite3"), tmp_path, events)
        slices = closed_slices(tmp_path / "work")
        await uploader.add_slice(slices[0])
        await uploader.end()
        assert await uploader.wait_done()
        done_at = asyncio.get_running_loop().time()
        await uploader.aclose()
        uploader.ledger.close()
        return store, events, [done_at]

    store, events, (done_at,) = run_virtual(main())
    times = [t for t, _, _ in store.attempts]
    failures = sum(1 for _, _, ok in store.attempts if not ok)
    # 0, 1, 3, 7, 15, 30, 60, 90, ... 3570 fail; 3600 is the first attempt after the outage.
    assert times == pytest.approx(schedule(failures), abs=1e-9)
    assert failures == 5 + (up_at - 30.0) / 30.0 and times[-1] == pytest.approx(up_at)
    assert [ok for _, _, ok in store.attempts] == [False] * failures + [True]
    assert done_at == pytest.approx(up_at)  # the playlist follows at once
    # The outage is reported once, the backup once (the recording had ended), then the end.
    assert events[1:] == [BackedUp(pending=1), UploadRecovered(), AllUploaded()]
    assert isinstance(events[0], UploadFailed)
    assert (
        events[0].message == f"cannot upload 'rec/{store.attempts[0][1]}': the store is unreachable"
    )


def test_after_a_recovery_the_next_outage_starts_again_at_1_s(tmp_path: Path) -> None:
    outages = [(0.0, 20.0), (100.0, 104.0)]

    async def main() -> tuple[ScriptedStore, list[UploadEvent]]:
        store = ScriptedStore(
            tmp_path / "bucket", down=lambda now: any(a <= now < b for a, b in outages)
        )
        events: list[UploadEvent] = []
        uploader = uploader_for(store, SliceLedger(tmp_path / "state.sqlite3"), tmp_path, events)
        slices = closed_slices(tmp_path / "work")
        await uploader.add_slice(slices[0])  # t=0: fails at 0, 1, 3, 7, 15; stored at 30
        await asyncio.sleep(100.0)
        await uploader.add_slice(slices[1])  # t=100: fails at 100, 101, 103; stored at 107
        await uploader.end()
        assert await uploader.wait_done()
        await uploader.aclose()
        uploader.ledger.close()
        return store, events

    store, events = run_virtual(main())
    names = [s.name for s in closed_slices(tmp_path / "work")]
    assert [(round(t, 9), n, ok) for t, n, ok in store.attempts] == [
        (0.0, names[0], False),
        (1.0, names[0], False),
        (3.0, names[0], False),
        (7.0, names[0], False),
        (15.0, names[0], False),
        (30.0, names[0], True),
        (100.0, names[1], False),
        (101.0, names[1], False),
        (103.0, names[1], False),
        (107.0, names[1], True),
    ]
    # Each outage reported once; the second began after the end: its slice is backed up.
    unreachable = "cannot upload 'rec/{}': the store is unreachable"
    assert events == [
        UploadFailed(unreachable.format(names[0])),
        UploadRecovered(),
        UploadFailed(unreachable.format(names[1])),
        BackedUp(pending=1),
        UploadRecovered(),
        AllUploaded(),
    ]


def test_a_slice_closing_during_an_outage_is_tried_at_once(tmp_path: Path) -> None:
    # The backoff wait ends early when a new slice is kept: while recording, an outage
    # is retried at least once per slice; the backoff still grows with each failure.
    async def main() -> ScriptedStore:
        store = ScriptedStore(tmp_path / "bucket", down=lambda now: now < 40.0)
        uploader = uploader_for(store, SliceLedger(tmp_path / "state.sqlite3"), tmp_path)
        slices = closed_slices(tmp_path / "work")
        await uploader.add_slice(slices[0])  # fails at 0, 1, 3
        await asyncio.sleep(5.0)
        await uploader.add_slice(slices[1])  # t=5: tried at once; then 5 + 8 = 13
        await asyncio.sleep(5.0)
        await uploader.add_slice(slices[2])  # t=10: at once; then 10 + 15 = 25, 25 + 30 = 55
        await uploader.end()
        assert await uploader.wait_done()
        await uploader.aclose()
        uploader.ledger.close()
        return store

    store = run_virtual(main())
    first, second, third = (s.name for s in closed_slices(tmp_path / "work"))
    assert [(round(t, 9), n, ok) for t, n, ok in store.attempts] == [
        (0.0, first, False),
        (1.0, first, False),
        (3.0, first, False),
        (5.0, first, False),
        (10.0, first, False),
        (25.0, first, False),
        (55.0, first, True),
        (55.0, second, True),
        (55.0, third, True),
    ]


# --- against a real S3 server ------------------------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's network transport, noting (method, key, status) of every request answered."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.answered: list[tuple[str, str, int]] = []
        self.bodies: dict[int, bytes] = {}
        """The body of each playlist PUT, by its index in ``answered``."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = b""
        if request.method == "PUT" and request.url.path.endswith(".m3u8"):
            body = await request.aread()
        response = await self.inner.handle_async_request(request)
        key = request.url.path.split("/", 2)[2]
        if body:
            self.bodies[len(self.answered)] = body
        self.answered.append((request.method, key, response.status_code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def puts(self) -> list[str]:
        """Keys of the PUTs the store accepted, in order."""
        return [key for method, key, status in self.answered if method == "PUT" and status == 200]


def s3_uploader(
    s3: S3Server,
    bucket: str,
    endpoint: str,
    ledger: SliceLedger,
    backup: Path,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: Any,
) -> DurableUploader:
    target = s3_destination(s3, endpoint, bucket, transport=transport)
    return durable_uploader(target, ledger, SID, PLAYLIST_KEY, backup, **kwargs)


async def test_after_an_outage_each_slice_is_listed_right_after_it_is_stored(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, ledger: SliceLedger
) -> None:
    port = httpx.URL(s3_server.endpoint).port
    assert port is not None
    transport = CountingTransport()
    with TcpProxy(port) as proxy:
        proxy.pause("refuse")
        uploader = s3_uploader(
            s3_server,
            s3_bucket,
            proxy.url,
            ledger,
            tmp_path / "backup",
            transport,
            retry_delays=(0.05,),
        )
        slices = closed_slices(tmp_path / "work")
        for s in slices:
            await uploader.add_slice(s)
        await uploader.end()
        await wait_until(lambda: uploader.pending == 3 and transport.answered == [], 5)
        proxy.resume()
        assert await uploader.wait_done(10)
        await uploader.aclose()
    names = [s.name for s in slices]
    # The backlog goes up in order, the playlist rewritten after each slice, listing
    # exactly the slices stored so far.
    assert transport.puts() == [
        f"rec/{names[0]}",
        PLAYLIST_KEY,
        f"rec/{names[1]}",
        PLAYLIST_KEY,
        f"rec/{names[2]}",
        PLAYLIST_KEY,
    ]
    playlists = [transport.bodies[i].decode() for i in sorted(transport.bodies)]
    assert playlists == [
        expected_playlist(names[:1], DURATIONS, ended=False),
        expected_playlist(names[:2], DURATIONS, ended=False),
        expected_playlist(names, DURATIONS, ended=True),
    ]
    assert s3_server.list_keys(s3_bucket) == sorted([PLAYLIST_KEY, *(f"rec/{n}" for n in names)])
    for s in slices:
        assert s3_server.get_object(s3_bucket, f"rec/{s.name}") == s.path.read_bytes()
    assert sorted((tmp_path / "backup").iterdir()) == []


async def test_a_killed_uploader_resumes_from_its_ledger_and_uploads_each_slice_once(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    # A real crash: the uploader runs in a child process that is SIGKILLed while it
    # uploads slice 1 (the store's network hangs, so the PUT is in flight); slice 2 is
    # only in the backup and the ledger. A new uploader on the same ledger file (the
    # restarted server) uploads what is missing, exactly once, and ends the playlist.
    port = httpx.URL(s3_server.endpoint).port
    assert port is not None
    slices = closed_slices(tmp_path / "work")
    names = [s.name for s in slices]
    db, backup = tmp_path / "state.sqlite3", tmp_path / "backup"
    with TcpProxy(port) as proxy:
        env = {
            **os.environ,
            "CHILD_ENDPOINT": proxy.url,
            "CHILD_BUCKET": s3_bucket,
            "CHILD_ACCESS_KEY": s3_server.access_key,
            "CHILD_SECRET_KEY": s3_server.secret_key,
            "CHILD_LEDGER": str(db),
            "CHILD_SID": SID,
            "CHILD_PLAYLIST_KEY": PLAYLIST_KEY,
            "CHILD_BACKUP": str(backup),
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.core.storage.uploader_child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[3],
            env=env,
        )
        assert child.stdin is not None and child.stdout is not None
        watcher = SliceLedger(db)  # another connection to the child's ledger

        async def add(index: int) -> None:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(f"add {slices[index].path} {slices[index].duration}\n".encode())
            await child.stdin.drain()
            async with asyncio.timeout(20):
                line = await child.stdout.readline()
            assert line.decode().strip() == f"added rec/{names[index]}"

        try:
            await add(0)
            await wait_until(lambda: (u := watcher.upload(SID)) is not None and u.playlist_uploaded)
            proxy.pause("hang")
            await add(1)
            await wait_until(lambda: proxy.held() > 0)  # slice 1's PUT is on its way
            await add(2)
            before = [(r.name, r.uploaded) for r in watcher.slices(SID)]
            child.kill()
            assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGKILL
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
            watcher.close()
        assert before == [(names[0], True), (names[1], False), (names[2], False)]
        assert s3_server.list_keys(s3_bucket) == sorted([f"rec/{names[0]}", PLAYLIST_KEY])
        assert sorted(p.name for p in backup.iterdir()) == names[1:]

        proxy.resume()
        ledger = SliceLedger(db)
        transport = CountingTransport()
        events: list[UploadEvent] = []
        again = s3_uploader(
            s3_server, s3_bucket, proxy.url, ledger, backup, transport, listener=events.append
        )
        try:
            await again.end()  # what the restarted server does: the recording has ended
            assert await again.wait_done(20)
            await again.aclose()
        finally:
            ledger.close()
    assert transport.puts() == [f"rec/{names[1]}", PLAYLIST_KEY, f"rec/{names[2]}", PLAYLIST_KEY]
    assert events == [AllUploaded()]
    text = s3_server.get_object(s3_bucket, PLAYLIST_KEY).decode()
    assert text == expected_playlist(names, DURATIONS, ended=True)
    assert s3_server.list_keys(s3_bucket) == sorted([PLAYLIST_KEY, *(f"rec/{n}" for n in names)])
    for s in slices:
        assert s3_server.get_object(s3_bucket, f"rec/{s.name}") == s.path.read_bytes()
    assert list(backup.iterdir()) == []


# --- faults of the server's own disk (issue 16, finding 6 and item 3) ----------------


async def test_a_backup_file_removed_before_its_upload_is_reported_and_skipped(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """One missing backup file used to block every later slice for ever, silently: now
    it is reported once, the others are uploaded, and the playlist goes on after it
    with a discontinuity and ends."""
    target = FlakyFolder(tmp_path / "bucket", failures=0)  # gate closed: nothing up yet
    events: list[UploadEvent] = []
    uploader = uploader_for(target, ledger, tmp_path, events, retry_delays=FAST)
    slices = closed_slices(tmp_path / "work")
    for s in slices:
        await uploader.add_slice(s)
    await uploader.end()
    missing = tmp_path / "backup" / slices[1].name
    missing.unlink()  # e.g. an operator cleaning the backup folder by hand
    target.gate.set()
    assert await uploader.wait_done(10)
    await uploader.aclose()

    assert events == [SliceLost(slices[1].name, missing), AllUploaded()]
    assert target.stored == [slices[0].name, slices[2].name]
    assert [(r.name, r.uploaded, r.lost) for r in ledger.slices(SID)] == [
        (slices[0].name, True, False),
        (slices[1].name, False, True),
        (slices[2].name, True, False),
    ]
    assert uploader.pending == 0 and ledger.unfinished() == []
    assert (tmp_path / "bucket" / PLAYLIST_KEY).read_text() == "\n".join([
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        f"#EXTINF:{DURATIONS[0]:.3f},",
        slices[0].name,
        "#EXT-X-DISCONTINUITY",
        f"#EXTINF:{DURATIONS[2]:.3f},",
        slices[2].name,
        "#EXT-X-ENDLIST",
    ]) + "\n"  # fmt: skip
    entries = parse_playlist((tmp_path / "bucket" / PLAYLIST_KEY).read_text()).entries
    assert [e.discontinuity for e in entries] == [False, True]


class VanishingFolder(LocalFolderDestination):
    """A local folder whose first upload finds the backup folder gone while it reads
    the slice (a disk unmounted mid-copy), and puts it back after ``away`` seconds.
    Uploads wait at ``gate`` until the test opens it."""

    def __init__(self, root: Path, away: float) -> None:
        super().__init__(root)
        self.away = away
        self.gate = asyncio.Event()
        self.restored: asyncio.Task[None] | None = None

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await self.gate.wait()
        if self.restored is None:
            folder = path.parent
            folder.rename(folder.with_name("moved"))
            self.restored = asyncio.create_task(self._restore(folder))
        await super().put_file(key, path, content_type)

    async def _restore(self, folder: Path) -> None:
        await asyncio.sleep(self.away)
        folder.with_name("moved").rename(folder)


async def test_a_backup_folder_gone_while_a_slice_is_read_is_reported_as_such_and_retried(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """The folder going between the check for the slice and its copy was reported as
    a write failure of the store ("cannot write <bucket path>"): the store was fine.
    Now it is the same "backup folder is not there" as when the folder was gone
    before the check, retried until the folder is back; nothing is lost."""
    target = VanishingFolder(tmp_path / "bucket", away=0.2)
    events: list[UploadEvent] = []
    uploader = uploader_for(target, ledger, tmp_path, events, retry_delays=FAST)
    for s in closed_slices(tmp_path / "work"):
        await uploader.add_slice(s)
    await uploader.end()
    target.gate.set()
    assert await uploader.wait_done(10)
    await uploader.aclose()

    backup = tmp_path / "backup"
    assert events == [
        UploadFailed(f"the backup folder {backup} is not there (retrying)"),
        BackedUp(3),  # the recording ended: all three wait in the backup
        UploadRecovered(),
        AllUploaded(),
    ]
    assert [(r.uploaded, r.lost) for r in ledger.slices(SID)] == [(True, False)] * 3


async def test_a_read_only_ledger_while_uploading_is_retried_like_an_outage(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """The database turning read-only (a file system remounted read-only after I/O
    errors; ``query_only`` gives SQLite's same SQLITE_READONLY answer) used to end the
    upload worker with an exception: now it is reported, retried, and every slice is
    stored once the database can be written again; ``end`` never raises for it."""
    target = FlakyFolder(tmp_path / "bucket", failures=0)
    events: list[UploadEvent] = []
    uploader = uploader_for(target, ledger, tmp_path, events, retry_delays=FAST)
    slices = closed_slices(tmp_path / "work")
    for s in slices:
        await uploader.add_slice(s)
    ledger.execute("PRAGMA query_only = ON")
    await uploader.end()  # the ledger cannot note it: the uploader knows it all the same
    target.gate.set()
    failed = await wait_for_event(events, UploadFailed)
    assert failed.message == (
        "the server's database state.sqlite3 cannot be used: attempt to write a readonly database"
    )
    assert not await uploader.wait_done(0.3)  # retried, not finished, not given up
    ledger.execute("PRAGMA query_only = OFF")
    assert await uploader.wait_done(10)
    await uploader.aclose()

    assert events[1:] == [BackedUp(pending=3), UploadRecovered(), AllUploaded()]
    for s in slices:
        assert (tmp_path / "bucket" / "rec" / s.name).read_bytes() == s.path.read_bytes()
    names = [s.name for s in slices]
    playlist = (tmp_path / "bucket" / PLAYLIST_KEY).read_text()
    assert playlist == expected_playlist(names, DURATIONS, ended=True)
    state = ledger.upload(SID)
    assert state is not None and state.ended and state.done


async def test_a_full_ledger_refuses_a_slice_with_a_storage_error(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """``add_slice`` says the slice is not safe (the recorder retries, then fails the
    recording loudly) instead of raising SQLite's error at it."""
    uploader = uploader_for(FlakyFolder(tmp_path / "bucket", 0), ledger, tmp_path)
    slices = closed_slices(tmp_path / "work")
    await uploader.add_slice(slices[0])
    pages = ledger.fetchall("PRAGMA page_count")[0][0]
    ledger.execute(f"PRAGMA max_page_count = {pages}")
    ledger.execute("PRAGMA cache_size = 0")
    with pytest.raises(StorageError) as info:
        for n in range(200):  # rows of 4 kB keys: the file must grow
            big = ClosedSlice(
                9, f"big{n}.ts", slices[1].path, 0.0, 2.0, slices[1].size
            )  # the same bytes under new names
            await uploader.add_slice(big)
    assert info.value.message.endswith(
        "in the slice ledger: the server's database state.sqlite3 cannot be used: "
        "database or disk is full"
    ), info.value.message
    await uploader.aclose()


async def wait_for_event(events: list[UploadEvent], kind: type[Any]) -> Any:
    await wait_until(lambda: any(isinstance(e, kind) for e in events), 10)
    return next(e for e in events if isinstance(e, kind))


async def test_a_backup_left_by_a_kill_after_its_upload_is_removed_on_restart(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """A server killed between an upload and the removal of its backup copy (a loaded
    run of the killed-server test caught that moment) left the copy for ever: the
    restarted uploader removes it, and uploads nothing twice."""
    first = uploader_for(FlakyFolder(tmp_path / "bucket", 0), ledger, tmp_path)
    slices = closed_slices(tmp_path / "work")
    for s in slices[:2]:
        await first.add_slice(s)
    await first.end()
    await first.aclose()  # killed: nothing uploaded yet
    ledger.mark_uploaded(SID, 1)  # the first was stored, then the server was killed
    (tmp_path / "bucket" / "rec").mkdir(parents=True)
    (tmp_path / "bucket" / "rec" / slices[0].name).write_bytes(slices[0].path.read_bytes())
    target = FlakyFolder(tmp_path / "bucket", 0)
    target.gate.set()
    again = uploader_for(target, ledger, tmp_path, retry_delays=FAST)
    again.start()
    assert await again.wait_done(10)
    await again.aclose()
    assert target.stored == [slices[1].name]  # the first is not uploaded again
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == []


async def test_whole_files_are_kept_and_uploaded_beside_the_playlist_across_a_restart(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """An MP4 and a snapshot handed to ``add_file`` are kept in the backup and the ledger
    before it returns, uploaded with their content types after a restart (each reported
    once it is there, then everything), never listed in the playlist, and counted in the
    progress and the pending count until stored."""
    down = FlakyFolder(tmp_path / "bucket", failures=0)  # its gate never opens: no upload
    first = uploader_for(down, ledger, tmp_path, retry_delays=FAST)
    slices = closed_slices(tmp_path / "work")
    mp4 = tmp_path / "work" / f"{SID}_chan_0.mp4"
    jpg = tmp_path / "work" / f"{SID}_chan_0.jpg"
    mp4.write_bytes(b"m" * 5000)
    jpg.write_bytes(b"j" * 300)
    await first.add_slice(slices[0])
    assert await first.add_file(ClosedSlice(0, mp4.name, mp4, 0.0, 2.0, 5000)) == (
        f"rec/{mp4.name}"
    )
    await first.add_file(ClosedSlice(0, jpg.name, jpg, 0.0, 0.0, 300))
    await first.end()
    assert (tmp_path / "backup" / mp4.name).read_bytes() == b"m" * 5000
    assert [r.kind for r in ledger.files(SID)] == ["mp4", "jpg"]
    assert [r.name for r in ledger.slices(SID)] == [slices[0].name]
    assert first.pending == 3 and first.progress() == (0, 1000 + 5000 + 300)
    await first.aclose()  # the server goes down

    stored: dict[str, str] = {}

    class Folder(LocalFolderDestination):
        async def put_file(self, key: str, path: Path, content_type: str) -> None:
            await super().put_file(key, path, content_type)
            stored[key] = content_type

    events: list[UploadEvent] = []
    again = uploader_for(Folder(tmp_path / "bucket"), ledger, tmp_path, events, retry_delays=FAST)
    again.start()
    assert await again.wait_done(10)
    await again.aclose()
    assert events == [
        FileUploaded(mp4.name, f"rec/{mp4.name}", "mp4"),
        FileUploaded(jpg.name, f"rec/{jpg.name}", "jpg"),
        AllUploaded(),
    ]
    assert stored == {
        f"rec/{slices[0].name}": "video/mp2t",
        f"rec/{mp4.name}": "video/mp4",
        f"rec/{jpg.name}": "image/jpeg",
    }
    assert (tmp_path / "bucket" / "rec" / mp4.name).read_bytes() == b"m" * 5000
    playlist = (tmp_path / "bucket" / PLAYLIST_KEY).read_text()
    assert playlist == expected_playlist([slices[0].name], DURATIONS, ended=True)
    assert again.pending == 0 and not (tmp_path / "backup" / mp4.name).exists()


def track_slices(work: Path) -> list[ClosedSlice]:
    """An individual recording's slices: uid 5's audio and video, then its audio again
    after it left and came back (a discontinuity in that playlist)."""
    work.mkdir(parents=True, exist_ok=True)
    audio, video = (
        f"{SID}_chan__uid_s_5__uid_e_audio.m3u8",
        f"{SID}_chan__uid_s_5__uid_e_video.m3u8",
    )
    plan = [(audio, 2.0, False), (video, 2.0, False), (audio, 1.0, False), (audio, 2.0, True)]
    slices = []
    for index, (playlist, duration, gap) in enumerate(plan):
        path = work / f"{playlist[:-5]}_{index:017d}.ts"
        path.write_bytes(bytes([index]) * 900)
        slices.append(ClosedSlice(index, path.name, path, 2.0 * index, duration, 900,
                                  playlist=playlist, discontinuity=gap))  # fmt: skip
    return slices


def track_playlist(names: list[str], durations: list[float], gaps: list[bool]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:EVENT"]  # fmt: skip
    for name, duration, gap in zip(names, durations, gaps, strict=True):
        lines += (["#EXT-X-DISCONTINUITY"] if gap else []) + [f"#EXTINF:{duration:.3f},", name]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


async def test_tracks_of_an_individual_recording_get_playlists_of_their_own(
    tmp_path: Path, ledger: SliceLedger
) -> None:
    """Each track's slices go to its own playlist beside the recording's (a discontinuity
    where its user came back), across a restart of the durable uploader; no playlist of
    the recording's own is written, as none of its slices is listed there. The playlist
    writer does the same."""
    slices = track_slices(tmp_path / "work")
    down = FlakyFolder(tmp_path / "bucket", failures=0)  # never uploads: the server stops
    first = uploader_for(down, ledger, tmp_path, retry_delays=FAST)
    for s in slices:
        await first.add_slice(s)
    await first.end()
    await first.aclose()
    again = uploader_for(LocalFolderDestination(tmp_path / "bucket"), ledger, tmp_path,
                         retry_delays=FAST)  # fmt: skip
    again.start()
    assert await again.wait_done(10)
    await again.aclose()

    writer_root = tmp_path / "writer"
    writer = PlaylistWriter(LocalFolderDestination(writer_root), PLAYLIST_KEY, target_duration=2)
    for s in track_slices(tmp_path / "work2"):
        await writer.add_slice(s)
    await writer.end()

    for root in (tmp_path / "bucket", writer_root):
        folder = root / "rec"
        audio, video = (f"{SID}_chan__uid_s_5__uid_e_{k}.m3u8" for k in ("audio", "video"))
        assert sorted(p.name for p in folder.glob("*.m3u8")) == [audio, video]
        names = [s.name for s in slices]
        assert (folder / audio).read_text() == track_playlist(
            [names[0], names[2], names[3]], [2.0, 1.0, 2.0], [False, False, True]
        )
        assert (folder / video).read_text() == track_playlist([names[1]], [2.0], [False])
        assert sorted(p.name for p in folder.glob("*.ts")) == sorted(names)
