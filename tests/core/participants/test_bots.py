"""Bots publishing into a real cloudrec server on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from core.channel.accesstoken import build_rtc_token
from core.channel.roster import LeaveReason, UserJoined, UserLeft
from core.channel.streams import FrameStream
from core.channel.subscription import Subscription
from core.commands.bots import _size, add_arguments
from core.enums import SANDBOX_APP_ID, VideoStreamType
from core.errors import InvalidParameterError
from core.participants.bots import BotOptions, run_bots
from core.participants.synthetic import identify_uid, is_flash
from core.participants.whip_client import WhipError

if TYPE_CHECKING:
    from tests.conftest import ChannelServer

REPO = Path(__file__).resolve().parents[3]


def median_rgb(frame: object) -> list[float]:
    import av

    assert isinstance(frame, av.VideoFrame)
    rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)
    return [float(v) for v in np.median(rgb, axis=0)]


async def tile_of(stream: FrameStream, uids: list[int]) -> tuple[int, tuple[int, int]]:
    """The uid a stream's (non-flash) frames show, and their size."""
    async with asyncio.timeout(10):
        async for received in stream:
            rgb = median_rgb(received.frame)
            if not is_flash(rgb):
                uid = identify_uid(rgb, uids)
                assert uid is not None, rgb
                frame = received.frame
                return uid, (frame.width, frame.height)  # type: ignore[union-attr]
    raise AssertionError("the stream ended")


async def next_event(sub: Subscription) -> UserJoined | UserLeft:
    async with asyncio.timeout(10):
        return await anext(aiter(sub.events()))


async def test_three_bots_join_leave_and_rejoin(channel_server: ChannelServer) -> None:
    uids = [1001, 1002, 1003, 1004]
    async with run_bots(channel_server.url, channel="bots", uids=uids[:3], fps=15) as bots:
        assert bots.uids == uids[:3]
        room = channel_server.registry.channel(SANDBOX_APP_ID, "bots")
        roster = {p.uid: p for p in room.participants()}
        assert sorted(roster) == uids[:3]
        assert all(p.has_audio and p.has_video and p.has_low_video for p in roster.values())

        sub = room.subscribe(4242)
        joined = {(await next_event(sub)).uid for _ in range(3)}
        assert joined == set(uids[:3])
        for uid in uids[:3]:
            stream = sub.video(uid)
            assert stream is not None
            assert await tile_of(stream, uids) == (uid, (320, 240))
            audio = sub.audio(uid)
            assert audio is not None
            async with asyncio.timeout(10):
                assert (await anext(audio)).frame.sample_rate == 48_000
        sub.set_video_stream(1003, VideoStreamType.LOW)
        low = sub.video(1003)
        assert low is not None
        while (await tile_of(low, uids))[1] != (160, 120):  # frames queued before the switch
            pass

        await bots.leave(1002)
        left = await next_event(sub)
        assert isinstance(left, UserLeft) and left.uid == 1002
        assert left.reason is LeaveReason.QUIT  # a DELETE, not a timeout
        await bots.join(1004)
        rejoined = await next_event(sub)
        assert isinstance(rejoined, UserJoined) and rejoined.uid == 1004
        assert bots.uids == [1001, 1003, 1004]
        stream = sub.video(1004)
        assert stream is not None and (await tile_of(stream, uids))[0] == 1004
        with pytest.raises(InvalidParameterError):
            await bots.join(1001)  # already in
        await sub.close()
    assert room.participants() == []


async def test_tokens_and_refusals(channel_server: ChannelServer) -> None:
    app_id, certificate = next(iter(channel_server.settings.apps.items()))

    def token_for(uid: int) -> str:
        return build_rtc_token(app_id, certificate, "secure", uid, "publisher", 600)

    url = channel_server.url
    async with run_bots(url, app_id=app_id, channel="secure", uids=[7], token_for=token_for):
        assert [
            p.uid for p in channel_server.registry.channel(app_id, "secure").participants()
        ] == [7]

    with pytest.raises(WhipError) as no_token:
        async with run_bots(url, app_id=app_id, channel="secure", uids=[8, 9]):
            pass
    assert no_token.value.status == 401 and no_token.value.body.strip()
    assert channel_server.registry.channel(app_id, "secure").participants() == []

    with pytest.raises(WhipError) as audience:
        async with run_bots(url, channel="show", uids=[5], role="audience", channel_type="live"):
            pass
    assert audience.value.status == 403
    assert "audience" in audience.value.body


def test_options_are_checked() -> None:
    with pytest.raises(InvalidParameterError):
        BotOptions(size=(8, 8))
    with pytest.raises(InvalidParameterError):
        BotOptions(codec="AV1")
    with pytest.raises(InvalidParameterError):
        BotOptions(role="speaker")
    assert _size("640x360") == (640, 360)
    with pytest.raises(argparse.ArgumentTypeError):
        _size("640")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.users, args.uid_base, args.size, args.fps) == (3, 1001, (320, 240), 15)
    assert (args.app_id, args.channel, args.codec, args.duration) == (
        SANDBOX_APP_ID,
        "demo",
        "VP8",
        None,
    )
    assert parser.parse_args(["--codec", "h264"]).codec == "H264"


async def test_command_joins_and_leaves_on_sigterm(channel_server: ChannelServer) -> None:
    command = [
        sys.executable,
        "-m",
        "core.cli",
        "bots",
        "--server",
        channel_server.url,
        "--channel",
        "cli",
        "--users",
        "2",
        "--size",
        "160x120",
        "--fps",
        "10",
    ]
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    process = await asyncio.create_subprocess_exec(
        *command, cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    room = channel_server.registry.channel(SANDBOX_APP_ID, "cli")
    sub = room.subscribe(4242)
    try:
        lines = []
        async with asyncio.timeout(20):
            for _ in range(2):
                lines.append((await process.stdout.readline()).decode())
        assert [line.split()[:3] for line in lines] == [
            ["bot", "1001", "joined"],
            ["bot", "1002", "joined"],
        ]
        assert "160x120@10 VP8 + low stream" in lines[0]
        assert {1001, 1002} <= {p.uid for p in room.participants()}
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert "2 bots left 'cli'" in out.decode()
        reasons = []
        while len(reasons) < 2:
            event = await next_event(sub)
            if isinstance(event, UserLeft):
                reasons.append(event.reason)
        assert reasons == [LeaveReason.QUIT, LeaveReason.QUIT]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await sub.close()


async def test_command_reports_a_refusal(channel_server: ChannelServer) -> None:
    app_id = next(iter(channel_server.settings.apps))
    command = [sys.executable, "-m", "core.cli", "bots", "--server", channel_server.url]
    command += ["--app-id", app_id, "--users", "1", "--duration", "1"]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode == 1
    assert "HTTP 401" in err.decode() and out == b""
