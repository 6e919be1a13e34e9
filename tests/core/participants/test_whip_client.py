"""The WHIP client against a small aiortc answerer on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import av
import httpx
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from core.channel.ice import rtc_configuration
from core.errors import ErrorCode, InvalidParameterError
from core.participants.synthetic import identify_uid, synthetic_media
from core.participants.whip_client import WhipError, publish

Handler = Callable[[str, str, dict[str, str], bytes], Awaitable[tuple[int, dict[str, str], bytes]]]


@dataclass
class HttpServer:
    """A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) on 127.0.0.1."""

    handler: Handler
    server: asyncio.Server | None = None
    connections: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        """Stop listening and drop every open connection: the server is gone."""
        if self.server is not None:
            self.server.close()
            for writer in self.connections:
                writer.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.add(writer)
        try:
            while request_line := await reader.readline():
                method, target, _ = request_line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, value = line.decode().split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, out_headers, out = await self.handler(method, target, headers, body)
                head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(out)}"]
                head += [f"{k}: {v}" for k, v in out_headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + out)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.connections.discard(writer)
            writer.close()


@dataclass
class Answerer:
    """A WHIP endpoint: answers offers with aiortc and keeps what it receives.

    Like the channel's publisher it uses aiortc's default (balanced) bundle policy.
    """

    token: str | None = None
    sessions: dict[str, RTCPeerConnection] = field(default_factory=dict)
    tracks: dict[str, list[MediaStreamTrack]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def __call__(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((method, target, headers))
        if method == "POST" and target.startswith("/whip/"):
            if self.token and headers.get("authorization") != f"Bearer {self.token}":
                return 401, {"Content-Type": "text/plain"}, b"invalid token for uid 7"
            if headers.get("content-type") != "application/sdp":
                return 415, {}, b"offer must be application/sdp"
            session = str(next(self.ids))
            pc = RTCPeerConnection(rtc_configuration())
            received = self.tracks.setdefault(session, [])
            pc.on("track", received.append)
            await pc.setRemoteDescription(RTCSessionDescription(body.decode(), "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            self.sessions[session] = pc
            location = {"Location": f"/whip/session/{session}", "Content-Type": "application/sdp"}
            return 201, location, pc.localDescription.sdp.encode()
        if method == "DELETE" and target.startswith("/whip/session/"):
            pc = self.sessions.pop(target.rsplit("/", 1)[1])
            await pc.close()
            return 200, {}, b""
        return 404, {}, b"no such resource"

    async def close(self) -> None:
        for pc in self.sessions.values():
            await pc.close()


@pytest.fixture
async def answerer() -> AsyncIterator[tuple[Answerer, HttpServer]]:
    endpoint = Answerer(token="s3cret")
    server = HttpServer(endpoint)
    await server.start()
    yield endpoint, server
    await server.stop()
    await endpoint.close()


def video_codec_of(sdp: str) -> str:
    """The first (chosen) codec of the first video m-line of an answer."""
    lines = sdp.splitlines()
    mline = next(i for i, line in enumerate(lines) if line.startswith("m=video"))
    payload = lines[mline].split()[3]
    rtpmap = next(line for line in lines[mline:] if line.startswith(f"a=rtpmap:{payload} "))
    return rtpmap.split()[1].split("/")[0]


async def first_frame(track: MediaStreamTrack) -> av.VideoFrame:
    async with asyncio.timeout(10):
        while True:
            frame = await track.recv()
            if isinstance(frame, av.VideoFrame):
                return frame


@pytest.mark.parametrize("codec", ["VP8", "H264"])
async def test_publish_sends_high_and_low_video(
    answerer: tuple[Answerer, HttpServer], codec: str
) -> None:
    endpoint, server = answerer
    media = synthetic_media(7, size=(320, 240), fps=15)
    session = await publish(
        f"{server.url}/whip/app/demo/7?role=host",
        token="s3cret",
        audio=media.audio,
        video=media.video,
        low_video=media.low_video,
        video_codec=codec,
    )
    try:
        assert session.location == f"{server.url}/whip/session/1"
        method, target, headers = endpoint.requests[0]
        assert (method, target) == ("POST", "/whip/app/demo/7?role=host")
        assert headers["authorization"] == "Bearer s3cret"
        assert "a=candidate" in session.pc.localDescription.sdp  # the full offer, gathered
        assert video_codec_of(session.answer) == codec
        async with asyncio.timeout(10):
            await session.wait_connected()
        assert session.connection_state == "connected"

        tracks = endpoint.tracks["1"]
        assert [t.kind for t in tracks] == ["video", "audio", "video"]
        high, low = await first_frame(tracks[0]), await first_frame(tracks[2])
        assert (high.width, high.height) == (320, 240)
        assert (low.width, low.height) == (160, 120)
        for frame in (high, low):
            rgb = np.median(frame.to_ndarray(format="rgb24").reshape(-1, 3), axis=0)
            assert identify_uid(rgb.tolist(), range(1, 21)) == 7 or rgb.min() > 200  # or flash
        audio = await asyncio.wait_for(tracks[1].recv(), 10)
        assert isinstance(audio, av.AudioFrame) and audio.sample_rate == 48_000
    finally:
        await session.close()
    assert session.closed and session.connection_state == "closed"
    assert endpoint.requests[-1][:2] == ("DELETE", "/whip/session/1")
    assert endpoint.requests[-1][2]["authorization"] == "Bearer s3cret"
    assert not endpoint.sessions
    await session.close()  # twice is harmless
    media.stop()


async def test_refusal_carries_status_and_body(answerer: tuple[Answerer, HttpServer]) -> None:
    _, server = answerer
    media = synthetic_media(7, size=(64, 48), fps=5, low_stream=False)
    with pytest.raises(WhipError) as caught:
        await publish(
            f"{server.url}/whip/app/demo/7", token="wrong", audio=media.audio, video=media.video
        )
    assert caught.value.status == 401
    assert caught.value.body == "invalid token for uid 7"
    assert caught.value.code is ErrorCode.CONNECT_ERROR
    assert "HTTP 401: invalid token for uid 7" in str(caught.value)

    with pytest.raises(WhipError) as missing:
        await publish(f"{server.url}/nowhere", token="s3cret", audio=media.audio, video=None)
    assert (missing.value.status, missing.value.body) == (404, "no such resource")
    media.stop()


async def test_unreachable_server_and_bad_arguments() -> None:
    server = HttpServer(Answerer())
    await server.start()
    url = server.url
    await server.stop()  # nothing listens there now
    media = synthetic_media(3, size=(64, 48), fps=5)
    with pytest.raises(WhipError) as caught:
        await publish(f"{url}/whip/a/b/3", audio=media.audio, video=media.video)
    assert caught.value.status == 0 and "cannot reach the server" in str(caught.value)
    with pytest.raises(InvalidParameterError):
        await publish(url, audio=media.audio, video=media.video, video_codec="AV1")
    with pytest.raises(ValueError):
        await publish(url, audio=media.audio, video=None, low_video=media.low_video)
    with pytest.raises(ValueError):
        await publish(url, audio=None, video=None)
    media.stop()


async def test_close_when_the_server_is_gone(answerer: tuple[Answerer, HttpServer]) -> None:
    endpoint, server = answerer
    media = synthetic_media(9, size=(64, 48), fps=5, low_stream=False)
    async with httpx.AsyncClient() as client:
        session = await publish(
            f"{server.url}/whip/app/demo/9",
            token="s3cret",
            audio=media.audio,
            video=media.video,
            client=client,
        )
        await server.stop()
        await endpoint.close()
        await session.close()  # DELETE fails to connect: ignored
        assert session.connection_state == "closed"
        assert not client.is_closed  # an injected client stays the caller's
    media.stop()
