"""The SDK's event reader against a real server: callbacks once each, fatal errors, an
observer's bugs, and reconnecting with backoff after the network drops.

The server is the ``channel_server`` fixture (uvicorn on 127.0.0.1, the real recorder and
uploader writing to a local folder). Recordings are of an empty channel: the notices and
callbacks are the same with or without participants. What is injected stands for a real
fault and is named where it is used: a TCP proxy that refuses connections (the network
is down), an event stream that never answers (a black-holed connection).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

import core.sdk.recorder as sdk_recorder
from core import (
    CloudRecordingError,
    CloudStorageConfig,
    ErrorCode,
    RecordingConfig,
    StorageVendor,
    TranscodingConfig,
    create_cloud_recorder,
)
from core.enums import SANDBOX_APP_ID
from core.sdk.client import Credentials, RestClient
from core.sdk.events import RECONNECT_DELAYS
from core.server.service import RecordingService
from tests.helpers import CallbackLog, check_recording, promised_callbacks, wait_until
from tests.s3server import TcpProxy

APP = SANDBOX_APP_ID
ONCE = (
    "on_recording_connecting",
    "on_recording_started",
    "on_recording_stopped",
    "on_recording_uploaded",
)


SCHEDULING_MS = 250
"""How late a loaded 2-core machine may run the server's event loop (the recorder's
idle watcher, the notices written after it), as in tests/core/media/test_recorder.py."""


def config(**fields: Any) -> RecordingConfig:
    small = TranscodingConfig(width=160, height=120, fps=15, bitrate=100)
    return RecordingConfig(**{"transcoding_config": small, "progress_interval": 1, **fields})


def local(folder: Path) -> CloudStorageConfig:
    return CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder))


def logged(server: Any, sid: str | None) -> list[dict[str, Any]]:
    """Every notice the server logged for ``sid``."""
    assert sid is not None
    service: RecordingService = server.app.state.recordings
    return service.store.notices(sid)


class TimedLog(CallbackLog):
    """A callback log that also keeps the loop time of each callback."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):

            def call(*args: Any) -> None:
                self.calls.append((name, args))
                self.times.append(asyncio.get_running_loop().time())

            return call
        return object.__getattribute__(self, name)

    def times_of(self, name: str, *args: Any) -> list[float]:
        return [
            t
            for (n, a), t in zip(self.calls, self.times, strict=True)
            if (n, a[1:]) == (name, args)
        ]


async def test_an_empty_channel_ends_the_recording_by_itself_with_each_callback_once(
    channel_server: Any, tmp_path: Path
) -> None:
    log = CallbackLog()
    recorder = create_cloud_recorder(
        log, server=channel_server.url, token=channel_server.settings.token
    )
    await recorder.start(APP, "idle", None, 60, config(max_idle_time=5), local(tmp_path))
    await recorder.wait_finished(20)  # nobody joins: it ends by itself
    await recorder.release()

    notices = logged(channel_server, recorder.sid)
    assert log.without_id() == [("on_recording_connecting", ()), *promised_callbacks(notices)]
    names = log.names()
    assert [names.count(name) for name in ONCE] == [1, 1, 1, 1]
    failures = [args for name, args in log.without_id() if name.endswith("_failure")]
    assert failures == [
        (ErrorCode.NO_USERS, "no user in the channel for 5 s: the recording stops by itself")
    ]
    assert "on_recording_fatal_error" not in names
    failure = names.index("on_recorder_failure")
    assert failure < names.index("on_recording_stopped") < names.index("on_recording_uploaded")
    playlist = f"{recorder.sid}_idle.m3u8"
    assert ("on_recording_uploaded", (playlist,)) in log.without_id()

    # max_idle_time after the recorder began watching the empty channel (which it did
    # after the uploader_started notice and before the recorder_started one), late only
    # by the loop's scheduling (docs/recorder.md)
    def when(event_type: int) -> int:
        (ms,) = [n["notifyMs"] for n in notices if n["eventType"] == event_type]
        return int(ms)

    print("idle exit", when(1) - when(30), when(1) - when(40), "ms after notices 30 and 40")
    assert when(30) + 5000 <= when(1) <= when(40) + 5000 + SCHEDULING_MS
    (leave,) = [n["payload"]["details"] for n in notices if n["eventType"] == 41]
    assert (leave["leaveCode"], leave["reason"]) == (4, "idle")  # Agora: nobody for maxIdleTime
    check_recording(tmp_path / playlist, fps=15)


class Faulty(CallbackLog):
    """An observer with a bug in every method: it records the call, then raises (the
    uploading-progress method is a coroutine that raises when awaited)."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("on_"):
            return object.__getattribute__(self, name)

        def call(*args: Any) -> None:
            self.calls.append((name, args))
            raise RuntimeError(f"a bug in {name}")

        async def call_async(*args: Any) -> None:
            await asyncio.sleep(0)
            call(*args)

        return call_async if name == "on_recording_uploading_progress" else call


async def test_an_observer_that_raises_never_stops_the_recording(
    channel_server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    observer = Faulty()
    url, token = channel_server.url, channel_server.settings.token
    recorder = create_cloud_recorder(observer, server=url, token=token)
    with caplog.at_level(logging.ERROR, logger="core.sdk.recorder"):
        await recorder.start(APP, "faulty", None, 61, config(), local(tmp_path))
        assert recorder.sid is not None and recorder.resource_id is not None
        await wait_until(lambda: observer.names().count("on_recording_uploading_progress") >= 3)
        client = RestClient(url, Credentials(bearer=token))
        status = await client.query(APP, recorder.resource_id, recorder.sid)
        await client.aclose()
        assert status["serverResponse"]["status"] == 5  # still recording
        await recorder.stop()
        await recorder.wait_finished(20)
        await recorder.release()
    notices = logged(channel_server, recorder.sid)
    assert observer.without_id() == [("on_recording_connecting", ()), *promised_callbacks(notices)]
    assert [observer.names().count(name) for name in ONCE] == [1, 1, 1, 1]
    raised = [r for r in caplog.records if r.name == "core.sdk.recorder"]
    assert [r.getMessage() for r in raised] == [
        f"the observer's {name} raised; the recording goes on" for name in observer.names()
    ]
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in raised)
    check_recording(tmp_path / f"{recorder.sid}_faulty.m3u8", fps=15)


async def test_a_start_that_fails_its_storage_check_is_a_fatal_error_for_who_attaches(
    channel_server: Any, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the folder should be")
    url, token = channel_server.url, channel_server.settings.token
    log = CallbackLog()
    recorder = create_cloud_recorder(log, server=url, token=token)
    with pytest.raises(CloudRecordingError) as info:
        await recorder.start(APP, "nostore", None, 62, config(), local(blocked))
    assert info.value.code is ErrorCode.UPLOADER_INIT
    assert str(blocked) in info.value.message
    assert log.names() == ["on_recording_connecting"]
    await recorder.release()

    client = RestClient(url, Credentials(bearer=token))
    (entry,) = await client.recordings()
    await client.aclose()
    assert (entry["status"], entry["finished"]) == (20, True)
    attached = CallbackLog()
    follower = create_cloud_recorder(attached, server=url, token=token)
    await follower.attach(APP, entry["resourceId"], entry["sid"], "nostore", 62)
    await follower.wait_finished(10)
    await follower.release()
    assert attached.without_id() == [("on_recording_fatal_error", (ErrorCode.UPLOADER_INIT,))]


class BlackHoledEvents(httpx.AsyncBaseTransport):
    """The real HTTP transport, except that the event stream never answers: the
    connection to it is black-holed (requests wait until cancelled)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            await asyncio.Event().wait()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_no_started_notice_is_recorder_init_and_its_remedy_works(
    channel_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server started the recording, but the SDK never hears that it did: start()
    raises RECORDER_INIT; its remedy, release(cancel=True) then start again, works."""
    monkeypatch.setattr(sdk_recorder, "START_TIMEOUT", 1.0)  # 20 s in use; the same path
    url, token = channel_server.url, channel_server.settings.token
    log = CallbackLog()
    recorder = create_cloud_recorder(log, server=url, token=token, transport=BlackHoledEvents())
    with pytest.raises(CloudRecordingError) as info:
        await recorder.start(APP, "deaf", None, 63, config(), local(tmp_path))
    assert info.value.code is ErrorCode.RECORDER_INIT
    assert info.value.code.remedy_text == "Call release(cancel=True) and start the recording again."
    assert log.names() == ["on_recording_connecting"]
    rid, sid = recorder.resource_id, recorder.sid
    assert rid is not None and sid is not None
    service: RecordingService = channel_server.app.state.recordings
    assert service.session(APP, rid, sid).status == 5  # it does record, on the server

    await recorder.release(cancel=True)
    session = service.session(APP, rid, sid)
    assert session.settled and session.status == 7  # cancelled there too
    again = create_cloud_recorder(CallbackLog(), server=url, token=token)
    await again.start(APP, "deaf", None, 63, config(), local(tmp_path))  # no 409
    await again.release(cancel=True)


class Attempts(httpx.AsyncBaseTransport):
    """The real HTTP transport, noting the loop time of every event-stream request and
    of every one whose connection was refused."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.times: list[float] = []
        self.refused: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/events"):
            return await self.inner.handle_async_request(request)
        self.times.append(asyncio.get_running_loop().time())
        try:
            return await self.inner.handle_async_request(request)
        except httpx.ConnectError:
            self.refused.append(asyncio.get_running_loop().time())
            raise

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_network_cut_is_one_disconnected_then_backoff_and_every_missed_notice_once(
    channel_server: Any, tmp_path: Path
) -> None:
    """The connection to the server goes through a TCP proxy that is cut for 10 s
    (connections refused: the network is down), then once more, for 2 attempts."""
    port = int(channel_server.url.rsplit(":", 1)[1])
    attempts = Attempts()
    log = TimedLog()
    reason = "the connection to the recording server was lost; reconnecting"
    disconnected = ("on_recorder_failure", ErrorCode.DISCONNECTED, reason)
    with TcpProxy(port) as proxy:
        recorder = create_cloud_recorder(
            log, server=proxy.url, token=channel_server.settings.token, transport=attempts
        )
        await recorder.start(APP, "cut", None, 64, config(), local(tmp_path))
        await wait_until(lambda: "on_recording_uploading_progress" in log.names())

        cut = len(attempts.times)
        proxy.pause("refuse")
        await wait_until(lambda: len(log.times_of(*disconnected)) == 1)
        down = log.times_of(*disconnected)[0]
        await asyncio.sleep(10 - (asyncio.get_running_loop().time() - down))  # the outage
        progress_before = log.names().count("on_recording_uploading_progress")
        proxy.resume()
        # refused after 0.5, 1, 2 and 4 s, then 4 s more: that attempt gets through
        await wait_until(lambda: len(attempts.times) == cut + 5, timeout=5)
        await wait_until(
            lambda: log.names().count("on_recording_uploading_progress") > progress_before + 8
        )  # the ~10 progress notices logged during the outage, replayed
        first = attempts.times[cut:]
        assert len(attempts.refused) == 4

        second = len(attempts.times)
        proxy.pause("refuse")
        await wait_until(lambda: len(log.times_of(*disconnected)) == 2)
        again = log.times_of(*disconnected)[1]
        await wait_until(lambda: len(attempts.refused) == 6, timeout=5)  # refused twice more
        proxy.resume()
        await wait_until(lambda: len(attempts.times) == second + 3, timeout=5)
        then = attempts.times[second:]
        await recorder.stop()
        await recorder.wait_finished(20)
        await recorder.release()

    slack = 0.15  # a turn of a loop that also runs the server and its recorder
    for start, times, expected in (
        (down, first, [0.5, 1.0, 2.0, 4.0, 4.0]),  # docs/rest-api.md: 0.5, 1, 2, then 4 s
        (again, then, [0.5, 1.0, 2.0]),
    ):
        delays = [b - a for a, b in zip([start, *times], times, strict=False)]
        assert len(delays) == len(expected)
        assert all(e <= d <= e + slack for d, e in zip(delays, expected, strict=True)), delays
    assert RECONNECT_DELAYS == (0.5, 1.0, 2.0, 4.0)
    assert len(log.times_of(*disconnected)) == 2  # once per outage
    notices = logged(channel_server, recorder.sid)
    promised = [("on_recording_connecting", ()), *promised_callbacks(notices)]
    received = [c for c in log.without_id() if (c[0], *c[1]) != disconnected]
    assert received == promised  # nothing missed, nothing twice, in order
    assert [log.names().count(name) for name in ONCE] == [1, 1, 1, 1]
