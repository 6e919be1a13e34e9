"""Small helpers the end-to-end tests share."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from core import CloudRecorderObserver, ErrorCode


def bearer_client(server: Any) -> httpx.AsyncClient:
    """An HTTP client of ``server`` (the ``channel_server`` fixture) that sends the server's
    admin token as a Bearer token."""
    return httpx.AsyncClient(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.settings.token}"},
        timeout=30,
    )


@contextlib.contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn on 127.0.0.1:<random port> in a thread of its
    own (for synchronous tests: fuzzers, child processes); its base URL, stopped on exit.

    The listening socket says it is TCP (``IPPROTO_TCP``, not 0): asyncio sets
    ``TCP_NODELAY`` only on such sockets, and without it every answer waits ~40 ms for
    the client's delayed ACK (headers and body go out as two writes)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server in a thread did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


class CallbackLog(CloudRecorderObserver):
    """An observer that keeps every callback, in order, with its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            return lambda *args: self.calls.append((name, args))
        return super().__getattribute__(name)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def without_id(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Every callback with its arguments after the recording id."""
        return [(name, args[1:]) for name, args in self.calls]


def promised_callbacks(notices: list[dict[str, Any]]) -> list[tuple[str, tuple[Any, ...]]]:
    """The observer callbacks ``docs/rest-api.md`` ("Notices and callbacks") promises for a
    recording's ``notices`` as the server logged them, in order and without the recording
    id: what a client following the whole event stream gets (after
    ``on_recording_connecting`` when it started the recording). Written from the docs'
    table, not from the SDK's code: started and stopped once, progress in percent."""
    calls: list[tuple[str, tuple[Any, ...]]] = []
    for notice in notices:
        kind, details = notice["eventType"], notice["payload"]["details"]
        if kind == 40 and ("on_recording_started", ()) not in calls:
            calls.append(("on_recording_started", ()))
        elif kind == 33:
            percent = min(100, details["progress"] // 100)
            calls.append(("on_recording_uploading_progress", (percent, details["playlist"])))
        elif kind == 1:
            code = ErrorCode(details["errorCode"])
            if details["errorLevel"] == 5:  # Agora's "fatal"
                calls.append(("on_recording_fatal_error", (code,)))
            elif details["module"] == 1:
                calls.append(("on_uploader_failure", (code, details["errorMsg"])))
            else:
                calls.append(("on_recorder_failure", (code, details["errorMsg"])))
        elif kind == 41 and ("on_recording_stopped", ()) not in calls:
            calls.append(("on_recording_stopped", ()))
        elif kind == 31:
            calls.append(("on_recording_uploaded", (details["fileList"][0]["fileName"],)))
        elif kind == 32:
            calls.append(("on_recording_backed_up", (details["fileList"][0]["fileName"],)))
        elif kind == 45:
            calls.append(("on_recording_snapshot", (details["fileName"],)))
        elif kind == 2002:
            calls.append(("on_stream_state", (details["url"], details["state"], details["error"])))
    return calls


async def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Yield to the loop until ``condition()`` is true; fail after ``timeout`` seconds.

    The way to wait in a test: on a condition with a deadline, never a fixed sleep.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


_UNAUTHORIZED_REASON = (
    "send 'Authorization: Basic <base64 of customer ID:customer secret>' "
    "(or the server's bearer token)"
)
UNAUTHORIZED = {"message": "Unauthorized", "reason": _UNAUTHORIZED_REASON}
"""The recording API's 401 without an Authorization header (Agora's gateway message)."""
BAD_CREDENTIALS = {"message": "Invalid authentication credentials", "reason": _UNAUTHORIZED_REASON}
"""The recording API's 401 for credentials it does not accept (Agora's message)."""

STRICT_ENV = "CLOUDREC_TEST_STRICT"
"""Set by ``scripts/test.sh`` (the README's test command): a missing part fails the run."""


def require(available: bool, reason: str) -> None:
    """Go on only if a part a test needs (D-Bus, a Secret Service, Chromium...) is there.

    Under the README's test command (``CLOUDREC_TEST_STRICT=1``) a missing part fails
    the test with ``reason``; in a developer's own ``pytest`` run it skips, with the
    reason in the summary.
    """
    if available:
        return
    if os.environ.get(STRICT_ENV) == "1":
        pytest.fail(f"{reason} ({STRICT_ENV}=1: the test command provides it)", pytrace=False)
    pytest.skip(reason)


def secret_service_available() -> bool:
    """A D-Bus session whose keyring backend is the Secret Service (gnome-keyring)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    import keyring

    return "SecretService" in type(keyring.get_keyring()).__module__


def require_secret_service() -> None:
    """:func:`require` a running, unlocked Secret Service."""
    require(
        secret_service_available(),
        "needs a D-Bus session with a Secret Service (scripts/test.sh starts gnome-keyring)",
    )


AAC_FRAME_SAMPLES = 1024
"""Samples in one AAC-LC frame (the recorder's audio encoder)."""

EXTINF_ROUNDING = 0.0005
"""A playlist writes each ``#EXTINF`` with three decimals: up to half a millisecond off."""

_DECODE = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-err_detect", "explode"]
# framemd5: one line per decoded frame per stream; passthrough: no frame dropped or duplicated
_TO_FRAMES = ["-map", "0", "-fps_mode", "passthrough", "-f", "framemd5", "-"]


@dataclass(frozen=True)
class DecodedMedia:
    """What decoding a slice or a playlist found.

    ``listed_seconds`` is the ``#EXTINF`` of a slice as its playlist lists it, or the sum
    of them for a playlist (``None`` for a slice decoded on its own). ``slices`` holds a
    playlist's slices, each decoded on its own, in playlist order.
    """

    path: Path
    video_frames: int
    audio_frames: int
    audio_samples: int
    sample_rate: int | None
    listed_seconds: float | None = None
    slices: tuple[DecodedMedia, ...] = ()

    def audio_seconds(self) -> float:
        """Decoded audio, in seconds (0 without audio)."""
        return self.audio_samples / self.sample_rate if self.sample_rate else 0.0


def decode_media(path: Path) -> DecodedMedia:
    """Decode every frame of every stream of ``path`` (an MPEG-TS slice or a playlist).

    A slice is decoded by ``ffmpeg -xerror -err_detect explode``: any message on stderr
    (demuxer or decoder error, a corrupt packet) or a non-zero exit fails the test with
    that message. A playlist is checked slice by slice that way, then decoded once more
    through FFmpeg's HLS demuxer, as strictly, whose counts must equal the slices' sums:
    the HLS demuxer skips a slice it cannot open or read with only a warning, so the
    per-slice pass is what catches a bad slice, and the sum check catches a slice it
    skipped. The strict playlist pass is what checks that the slices join as one stream
    (continuity counters and timestamps going on across every slice boundary). Where the
    playlist marks a discontinuity (``#EXT-X-DISCONTINUITY``: a recording resumed after a
    restart, its new slices from a new muxer and a new timeline) a reader must reset, so
    each continuous run of slices is read as one stream on its own.
    """
    if path.suffix != ".m3u8":
        return _decode(path)
    entries = _playlist_entries(path.read_text())
    assert entries, f"{path} lists no slice"
    slices = tuple(
        replace(_decode(path.parent / uri), listed_seconds=seconds) for uri, seconds in entries
    )
    whole = _decode_runs(path)
    totals = (
        sum(s.video_frames for s in slices),
        sum(s.audio_frames for s in slices),
        sum(s.audio_samples for s in slices),
    )
    assert (whole.video_frames, whole.audio_frames, whole.audio_samples) == totals, (
        f"{path}: the HLS demuxer decoded (video frames, audio frames, audio samples) "
        f"{(whole.video_frames, whole.audio_frames, whole.audio_samples)}, its slices {totals}"
    )
    return replace(whole, listed_seconds=sum(seconds for _, seconds in entries), slices=slices)


def check_recording(
    path: Path, *, fps: int | None, audio: bool = True, ended: bool = True
) -> DecodedMedia:
    """Decode a recording's playlist (:func:`decode_media`) and check it against its list.

    What ``#EXTINF`` is (``core/media/segmenter.py``): a slice's duration from its start
    to the next slice's first keyframe, or, for the last slice of a recording, to the end
    of its last audio or video packet, written with three decimals. Slices are whole GOPs
    of ``round(slice_seconds * fps)`` frames, and the audio encoder's flush pads the last
    audio frame, so the audio runs on after the last video frame by less than one AAC
    frame. Hence, for every slice, exactly:

    * video frames = ``floor((EXTINF + 0.0005) * fps)`` (EXTINF x fps, rounded down past
      the last slice's audio tail); their sum is the recording's;
    * decoded audio = EXTINF within one AAC frame (a frame straddling a cut goes into the
      earlier slice), plus, in the first slice, the encoder's priming frame (1024 samples
      stamped before time 0: MPEG-TS has no way to tell a decoder to skip it).

    ``fps=None``: no video track may be there; ``audio=False``: no audio track.
    ``ended``: the playlist must end with ``#EXT-X-ENDLIST``.
    """
    text = path.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST") == ended, text
    media = decode_media(path)
    for i, part in enumerate(media.slices):
        listed = part.listed_seconds
        assert listed is not None
        where = f"{part.path.name} (EXTINF {listed:.3f})"
        if fps is None:
            assert part.video_frames == 0, f"{where}: {part.video_frames} video frames"
        else:
            # Exact only while the audio tail and the rounding stay under one frame period.
            assert fps * (AAC_FRAME_SAMPLES / 48_000 + 2 * EXTINF_ROUNDING) < 1, fps
            expected = math.floor((listed + EXTINF_ROUNDING) * fps + 1e-9)
            assert part.video_frames == expected, (
                f"{where}: {part.video_frames} video frames, EXTINF x {fps} fps says {expected}"
            )
        if not audio:
            assert part.audio_frames == 0, f"{where}: {part.audio_frames} audio frames"
            continue
        assert part.sample_rate, f"{where}: no audio"
        frame = AAC_FRAME_SAMPLES / part.sample_rate
        priming = frame if i == 0 else 0.0
        heard = part.audio_seconds() - priming
        assert abs(heard - listed) <= frame + EXTINF_ROUNDING, (
            f"{where}: {heard:.4f} s of audio (without priming), more than one AAC frame off"
        )
    return media


def _decode(path: Path, *, strict: bool = True) -> DecodedMedia:
    """Decode ``path`` to frame checksums and count them per stream (``strict``: stop at
    the first error, ``-xerror``)."""
    assert path.is_file(), f"{path} is missing"
    command = [*_DECODE, *(["-xerror"] if strict else []), "-i", str(path), *_TO_FRAMES]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), (
        f"decoding {path} failed (exit {result.returncode}): {result.stderr.strip()}"
    )
    kinds: dict[str, str] = {}
    rates: dict[str, int] = {}
    counts = {"video": 0, "audio": 0}
    samples = 0
    for line in result.stdout.splitlines():
        if line.startswith("#media_type "):
            index, kind = line[len("#media_type ") :].split(": ")
            kinds[index] = kind
        elif line.startswith("#tb "):
            index, tb = line[len("#tb ") :].split(": ")
            rates[index] = int(tb.split("/")[1])
        elif line and not line.startswith("#"):
            index, _dts, _pts, duration, _size, _hash = (f.strip() for f in line.split(","))
            kind = kinds[index]
            counts[kind] += 1
            if kind == "audio":
                samples += int(duration)  # the audio time base is 1/sample rate
    audio_rates = {rates[i] for i, kind in kinds.items() if kind == "audio"}
    assert len(audio_rates) <= 1, f"{path}: audio streams at {audio_rates} Hz"
    assert counts["video"] + counts["audio"] > 0, f"{path}: no frame decoded"
    return DecodedMedia(
        path=path,
        video_frames=counts["video"],
        audio_frames=counts["audio"],
        audio_samples=samples,
        sample_rate=audio_rates.pop() if audio_rates else None,
    )


def _decode_runs(path: Path) -> DecodedMedia:
    """Decode playlist ``path`` strictly, each run of slices between discontinuities as
    one stream (through a playlist of that run alone), and add up the counts."""
    text = path.read_text()
    if "#EXT-X-DISCONTINUITY" not in text:
        return _decode(path)
    runs: list[list[str]] = [[]]
    for line in (raw.strip() for raw in text.splitlines()):
        if line == "#EXT-X-DISCONTINUITY" and runs[-1]:
            runs.append([])
        elif line.startswith("#EXTINF:") or (line and not line.startswith("#")):
            runs[-1].append(line)  # an entry's URI is relative: resolved below
    parts = []
    for run in runs:
        # beside the playlist, so that its relative URIs resolve as the playlist's do
        fd, name = tempfile.mkstemp(prefix=".run-", suffix=".m3u8", dir=path.parent)
        part = Path(name)
        try:
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(["#EXTM3U", "#EXT-X-TARGETDURATION:3600", *run]))
                f.write("\n#EXT-X-ENDLIST\n")
            parts.append(replace(_decode(part), path=path))
        finally:
            part.unlink()
    return replace(
        parts[0],
        video_frames=sum(p.video_frames for p in parts),
        audio_frames=sum(p.audio_frames for p in parts),
        audio_samples=sum(p.audio_samples for p in parts),
    )


def _playlist_entries(text: str) -> list[tuple[str, float]]:
    """``(file name, EXTINF seconds)`` of each slice a playlist lists (read here, not by
    core): each entry is a relative URI, percent-decoded to the name (UTF-8, strict)."""
    entries: list[tuple[str, float]] = []
    seconds: float | None = None
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#EXTINF:"):
            seconds = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif line and not line.startswith("#"):
            assert seconds is not None, f"{line} has no #EXTINF"
            entries.append((unquote(line, errors="strict"), seconds))
            seconds = None
    return entries


# Debian's Chromium as the tests drive it (RECIPES.md): headless, fake camera and
# microphone, loopback ICE candidates, and no background traffic off the machine.
def require_browser() -> Any:
    """Playwright's async API, once Chromium and Playwright are both there."""
    require(CHROMIUM is not None, "chromium is not installed (apt-get install chromium)")
    try:
        import playwright.async_api as api
    except ImportError:
        require(False, "playwright is not installed (pip install -e '.[test]')")
    return api


CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def agora_mock(sent: list[httpx.Request]) -> httpx.MockTransport:
    """A stand-in for Agora's hosted service, for what the SDK sends: answers acquire,
    start, query (status 5; no event stream: 404), update and updateLayout as Agora's
    documentation shows, noting each request in ``sent``."""
    identity = {"cname": "demo", "uid": "42", "resourceId": "rid", "sid": "sid"}

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        path = request.url.path
        if path.endswith("/acquire"):
            return httpx.Response(200, json={"resourceId": "rid"})
        if path.endswith("/start"):
            return httpx.Response(200, json={"resourceId": "rid", "sid": "sid"})
        if path.endswith("/query"):
            return httpx.Response(200, json={"serverResponse": {"status": 5}})
        if path.endswith("/update"):
            return httpx.Response(200, json=identity)
        if path.endswith("/updateLayout"):
            return httpx.Response(200, json={"resourceId": "rid", "sid": "sid"})
        return httpx.Response(404, json={"code": 404, "reason": "no such path"})

    return httpx.MockTransport(answer)
