"""Live streaming out (core/media/streaming.py): the recording's encoded packets pushed
to real RTMP and SRT listeners on 127.0.0.1 (FFmpeg's own, writing what they receive
to a file), which is decoded frame by frame: its pictures and tone, continuous
timestamps, and every flash with its beep."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from core.enums import AudioProfile
from core.media.encoder import AudioEncoder, EncodedPacket, VideoEncoder
from core.media.streaming import (
    DestinationState,
    DestinationStatus,
    StreamDestination,
    StreamFanout,
    StreamSpec,
)
from core.stream_urls import check_url, mask_url
from tests.helpers import require, wait_until

FPS = 15
SIZE = (320, 240)
SPEC = StreamSpec(video=(*SIZE, FPS), audio=(48_000, 1))
TONE = 440


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def packets(seconds: float) -> Iterator[EncodedPacket]:
    """A recording's packets, in decode-time order: a grey picture flashing white on
    every whole second, a 440 Hz tone with a 1 kHz beep from every whole second (100 ms);
    a keyframe every second."""
    video = VideoEncoder(*SIZE, FPS, 300, FPS)
    audio = AudioEncoder(AudioProfile.MUSIC_STANDARD)
    out: list[EncodedPacket] = []
    per_frame = 48_000 // FPS
    for i in range(round(seconds * FPS)):
        level = 255 if i % FPS == 0 else 90
        image = np.full((SIZE[1], SIZE[0], 3), level, np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        out += video.encode(frame, i)
        t = (i * per_frame + np.arange(per_frame)) / 48_000
        sound = 0.25 * np.sin(2 * np.pi * TONE * t)
        sound += np.where(t % 1.0 < 0.1, 0.5 * np.sin(2 * np.pi * 1000 * t), 0.0)
        out += audio.encode(sound.astype(np.float32).reshape(1, -1))
    out += video.flush() + audio.flush()
    return iter(sorted(out, key=lambda p: p.dts * p.time_base))


class Listener:
    """A server receiving ``url`` into ``path`` as it comes: ``ffmpeg`` listening for
    RTMP; for SRT ``srt-live-transmit`` (srt-tools, Haivision's own), since FFmpeg 5.1's
    SRT listener fails on accept, writing the MPEG-TS it gets and ending when the caller
    goes."""

    def __init__(self, url: str, path: Path, fmt: str) -> None:
        self.path = path
        if url.startswith("srt"):
            require(shutil.which("srt-live-transmit") is not None,
                    "srt-live-transmit is not installed (Debian's srt-tools)")  # fmt: skip
            with path.open("wb") as out:
                self.process = subprocess.Popen(
                    ["srt-live-transmit", "-q", "-a:no", url, "file://con"],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                )  # fmt: skip
            return
        self.process = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-y", "-listen", "1", "-i", url,
             "-c", "copy", "-f", fmt, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def wait(self, timeout: float = 20.0) -> None:
        _, errors = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0 or not errors.strip() or b"Input/output" in errors, (
            errors
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        if self.process.stderr is not None and not self.process.stderr.closed:
            self.process.communicate(timeout=10)


NGINX_RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


class NginxRtmp:
    """nginx with its RTMP module (Debian's ``libnginx-mod-rtmp``), the RTMP server many
    CDNs and self-hosted live setups run, on 127.0.0.1: application ``live`` takes any
    stream key and records each publish into ``rec/<key>-<unix time>.flv``. One
    process, no master, no daemon, its files in ``folder``; :meth:`stop` and
    :meth:`start` take it away and bring it back on the same port."""

    def __init__(self, folder: Path) -> None:
        nginx = shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin:/bin")
        require(nginx is not None and NGINX_RTMP_MODULE.is_file(),
                "nginx's RTMP module is not installed (Debian's libnginx-mod-rtmp)")  # fmt: skip
        assert nginx is not None
        self.nginx = nginx
        self.folder = folder
        self.port = free_port()
        (folder / "rec").mkdir(parents=True, exist_ok=True)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(
            f"load_module {NGINX_RTMP_MODULE};\n"
            "daemon off;\nmaster_process off;\nworker_processes 1;\n"
            f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            "events { worker_connections 64; }\n"
            "rtmp { server {\n"
            f"  listen 127.0.0.1:{self.port};\n"
            "  application live {\n    live on;\n    record all;\n"
            f"    record_path {folder}/rec;\n    record_unique on;\n  }}\n"
            "} }\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.nginx, "-p", str(self.folder), "-c", str(self.conf),
             "-e", str(self.folder / "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, (self.folder / "error.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)

    def stop(self) -> None:
        """Gone at once, as a crashed or restarted server is (its records closed)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def recorded(self, key: str) -> list[Path]:
        """The files of each publish of ``key``, oldest first."""
        return sorted((self.folder / "rec").glob(f"{key}-*.flv"))


async def push(destination: StreamDestination, seconds: float, realtime: bool) -> None:
    """Offer ``seconds`` of packets, at their own pace when ``realtime``."""
    start = time.monotonic()
    for packet in packets(seconds):
        if realtime:
            await asyncio.sleep(max(0.0, start + float(packet.time) - time.monotonic()))
        destination.offer(packet)


def check_received(path: Path, seconds: float, tone: int = TONE) -> None:
    """Every frame decodes; video a frame period apart from the first keyframe, white on
    each second; audio continuous with the ``tone``; each flash with its beep within
    40 ms (the A/V offset)."""
    with av.open(str(path)) as container:
        video = [(float(f.time), f) for f in container.decode(video=0)]  # type: ignore[arg-type]
    with av.open(str(path)) as container:
        sound = [(float(f.time), f.to_ndarray()[0]) for f in container.decode(audio=0)]
    assert len(video) >= (seconds - 1) * FPS, len(video)
    times = [t for t, _ in video]
    assert all(abs(b - a - 1 / FPS) < 0.002 for a, b in itertools.pairwise(times)), times
    flashes = [t for t, f in video if f.to_ndarray(format="gray").mean() > 200]
    assert len(flashes) >= seconds - 1, flashes
    for (a, s), (b, _) in itertools.pairwise(sound):  # no gap between audio frames
        assert abs(b - (a + len(s) / 48_000)) < 0.002, (a, b)
    samples = np.concatenate([s for _, s in sound]).astype(np.float64)
    start = sound[0][0]
    spectrum = np.abs(np.fft.rfft(samples[24_000:72_000] * np.hanning(48_000)))
    assert abs(int(np.argmax(spectrum[:900])) - tone) <= 2
    # beep onsets: the 1 kHz energy rising, in 5 ms windows
    window = 240
    hop = [samples[k : k + window] for k in range(0, len(samples) - window, window)]
    kernel = np.exp(-2j * np.pi * 1000 * np.arange(window) / 48_000)
    energy = np.array([abs(np.dot(h, kernel)) for h in hop])
    loud = energy > 0.5 * energy.max()
    onsets = [
        start + k * window / 48_000 for k in range(1, len(loud)) if loud[k] and not loud[k - 1]
    ]
    for flash in flashes:
        nearest = min(onsets, key=lambda o: abs(o - flash))
        assert abs(nearest - flash) <= 0.040, (flash, nearest, onsets)


def test_urls_are_checked_and_keys_never_shown() -> None:
    assert mask_url("rtmp://live.example.com/app/sk-12345") == "rtmp://live.example.com/app/****"
    assert mask_url("srt://10.0.0.5:9000?streamid=#!::r=live,m=publish&passphrase=x") == (
        "srt://10.0.0.5:9000?****"
    )
    assert mask_url("rtmps://user:pw@host:443/live2/key") == "rtmps://host:443/live2/****"
    for bad in ("http://host/app/key", "rtmp:///app/key", "srt://host?streamid=k", "file:///x"):
        with pytest.raises(ValueError) as info:
            check_url(bad)
        assert "rtmp://host/app/key" in str(info.value)
    with pytest.raises(ValueError) as info:
        check_url("ftp://host/app/secret-key")
    assert "secret-key" not in str(info.value)


@pytest.mark.parametrize("scheme", ["rtmp", "srt"])
async def test_a_destination_receives_the_recording(tmp_path: Path, scheme: str) -> None:
    """4 s of a recording to an RTMP (FLV) and an SRT (MPEG-TS) listener: live once, what
    arrived decodes to every frame from the first keyframe, flashes with their beeps."""
    if scheme == "rtmp":
        port = free_port()
        url, fmt = f"rtmp://127.0.0.1:{port}/live/secret-key", "flv"
    else:
        port = free_port(socket.SOCK_DGRAM)
        url, fmt = f"srt://127.0.0.1:{port}?streamid=secret-key", "mpegts"
    listen_url = url if scheme == "rtmp" else f"srt://:{port}?mode=listener"
    listener = Listener(listen_url, tmp_path / f"got.{fmt}", fmt)
    states: list[DestinationStatus] = []
    try:
        await asyncio.sleep(0.5)  # the listener binds its port
        destination = StreamDestination(url, SPEC, states.append)
        await push(destination, 4.0, realtime=False)
        await wait_until(lambda: destination.status.state is DestinationState.LIVE, 10.0)
        destination.close()
        listener.wait()
    finally:
        listener.stop()
    assert [s.state for s in states] == [
        DestinationState.CONNECTING, DestinationState.LIVE, DestinationState.STOPPED
    ]  # fmt: skip
    assert all("secret-key" not in s.url + s.error for s in states)
    assert destination.status.dropped == 0
    check_received(tmp_path / f"got.{fmt}", 4.0)


async def test_a_destination_that_comes_back_is_live_again(tmp_path: Path) -> None:
    """Nobody listens for the first 3 s (retrying, the error said, the key not in it);
    then a listener comes: live again within the retry delay, and what it got from then
    on decodes; other destinations are not held up meanwhile."""
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/secret-key"
    states: list[DestinationStatus] = []
    fanout = StreamFanout()
    destination = StreamDestination(url, SPEC, states.append)
    fanout.add(destination)
    feeding = asyncio.create_task(_feed(fanout, 9.0))
    try:
        await wait_until(lambda: destination.status.state is DestinationState.RETRYING, 10.0)
        assert destination.status.error and "secret-key" not in destination.status.error
        await asyncio.sleep(3.0)
        listener = Listener(url, tmp_path / "got.flv", "flv")
        came = time.monotonic()
        await wait_until(lambda: destination.status.state is DestinationState.LIVE, 10.0)
        assert time.monotonic() - came < 5.0 + 1.0  # the longest retry delay, and a keyframe
        await feeding
        fanout.close()
        listener.wait()
    finally:
        feeding.cancel()
        fanout.close()
    assert destination.status.connects == 1
    check_received(tmp_path / "got.flv", 2.0)


async def _feed(fanout: StreamFanout, seconds: float) -> None:
    start = time.monotonic()
    for packet in packets(seconds):
        await asyncio.sleep(max(0.0, start + float(packet.time) - time.monotonic()))
        fanout.mux(packet)
