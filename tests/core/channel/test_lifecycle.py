"""Joining and leaving: nothing leaks, vanished publishers leave, events are right."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
import time
from pathlib import Path

import httpx
from aiortc import RTCPeerConnection

from core.channel.roster import LeaveReason, Role, UserJoined, UserLeft
from core.enums import SANDBOX_APP_ID
from core.participants.synthetic import synthetic_media
from core.participants.whip_client import publish

SIZE = (160, 120)
REPO = Path(__file__).resolve().parents[3]


def snapshot() -> dict[str, int]:
    """Counts of what a join/leave could leak."""
    gc.collect()
    return {
        "tasks": len(asyncio.all_tasks()),
        "peer_connections": sum(isinstance(o, RTCPeerConnection) for o in gc.get_objects()),
        "fds": len(os.listdir("/proc/self/fd")),
        # aiortc's decoder threads; the default executor's pool may grow up to its size.
        "threads": sum(
            not t.name.startswith(("asyncio_", "ThreadPoolExecutor")) for t in threading.enumerate()
        ),
    }


async def settled(baseline: dict[str, int], tries: int = 50) -> dict[str, int]:
    """The snapshot once it is back at ``baseline`` (or the last one, 0.1 s per try)."""
    for _ in range(tries):
        if (now := snapshot()) == baseline:
            break
        await asyncio.sleep(0.1)
    return now


async def test_join_leave_loop_leaves_nothing_behind(channel_server) -> None:
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "churn")
    sub = channel.subscribe(9000, audio=False)
    events = sub.events()

    async def cycle(uid: int, client: httpx.AsyncClient) -> None:
        m = synthetic_media(uid, size=SIZE, fps=10, low_stream=False)
        session = await publish(
            channel_server.whip_url("churn", uid), audio=m.audio, video=m.video, client=client
        )
        try:
            joined = await anext(events)
            assert isinstance(joined, UserJoined) and joined.uid == uid
            stream = sub.video(uid)
            assert stream is not None
            async with asyncio.timeout(5):
                await anext(stream)  # media flowed
        finally:
            await session.close()
            m.stop()
        left = await anext(events)
        assert isinstance(left, UserLeft) and left.uid == uid and left.reason is LeaveReason.QUIT

    async with httpx.AsyncClient(timeout=10) as client:
        await cycle(100, client)
        baseline = await settled({}, tries=5)
        for uid in range(101, 121):
            await cycle(uid, client)
        after = await settled(baseline)
    assert after == baseline
    assert [p.uid for p in channel.participants()] == [9000]
    await sub.close()
    assert channel_server.registry.get(SANDBOX_APP_ID, "churn") is None


async def test_closed_without_delete_leaves(channel_server) -> None:
    """A publisher whose peer connection closes without DELETE leaves at once."""
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "vanish")
    sub = channel.subscribe(9000)
    events = sub.events()
    m = synthetic_media(5, size=SIZE, low_stream=False)
    session = await publish(channel_server.whip_url("vanish", 5), audio=m.audio, video=m.video)
    try:
        assert isinstance(await anext(events), UserJoined)
        await session.wait_connected()
        started = time.monotonic()
        await session.pc.close()  # no DELETE
        async with asyncio.timeout(10):
            left = await anext(events)
        assert isinstance(left, UserLeft) and left.uid == 5
        assert left.reason in (LeaveReason.ENDED, LeaveReason.DROPPED)
        assert time.monotonic() - started < 10
    finally:
        await session.close()  # closes its HTTP client (the DELETE finds nothing)
        m.stop()
        await sub.close()


PUBLISHER = """
import asyncio, sys
from core.participants.synthetic import synthetic_media
from core.participants.whip_client import publish

async def main():
    m = synthetic_media(6, size=(160, 120), low_stream=False)
    session = await publish(sys.argv[1], audio=m.audio, video=m.video)
    await session.wait_connected()
    print("published", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_killed_publisher_leaves_within_10_seconds(channel_server) -> None:
    """A publisher process that dies (no DELETE, no BYE, no DTLS close) times out."""
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "killed")
    sub = channel.subscribe(9000)
    events = sub.events()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PUBLISHER,
        channel_server.whip_url("killed", 6),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            assert (await process.stdout.readline()).strip() == b"published"
        joined = await anext(events)
        assert isinstance(joined, UserJoined) and joined.role is Role.HOST
        video = sub.video(6)
        assert video is not None
        async with asyncio.timeout(5):
            await anext(video)
        process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        async with asyncio.timeout(10):
            left = await anext(events)
        assert isinstance(left, UserLeft) and left.uid == 6
        assert left.reason in (LeaveReason.TIMEOUT, LeaveReason.DROPPED)
        assert time.monotonic() - killed < 10
        assert video.ended
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        await sub.close()


async def test_events_start_with_everyone_present(channel_server) -> None:
    media = [synthetic_media(uid, size=SIZE, low_stream=False) for uid in (1, 2)]
    sessions = [
        await publish(channel_server.whip_url("early", m.uid), audio=m.audio, video=None)
        for m in media
    ]
    try:
        channel = channel_server.registry.channel(SANDBOX_APP_ID, "early")
        sub = channel.subscribe(9000)
        first = [await anext(sub.events()) for _ in range(2)]
        assert [(e.uid, type(e)) for e in first] == [(1, UserJoined), (2, UserJoined)]
        assert all(e.time <= time.monotonic() and e.wall_time <= time.time() for e in first)
        assert sub.video(1) is None  # audio only
        assert sub.audio(1) is not None
        roles = {p.uid: p.role for p in channel.participants()}
        assert roles == {1: Role.HOST, 2: Role.HOST, 9000: Role.RECORDER}
        await sub.close()
        assert sub.audio(1) is None
    finally:
        for session in sessions:
            await session.close()
        for m in media:
            m.stop()
