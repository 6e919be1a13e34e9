"""Helpers shared by the benches that drive a real ``cloudrec server`` child process.

Every bench here follows ``bench/channel.py`` and ``bench/recording.py``: synthetic
users (``cloudrec bots``) publish from child processes, so their encoding is never
counted; CPU and memory are read from ``/proc`` for each process; recordings are
started through the SDK (``create_cloud_recorder``) against a server started with
``start_embedded_server`` on 127.0.0.1; what was recorded is checked by reading the
written slices back (never by trusting the writer's own numbers).

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import httpx
import uvicorn

from core.config import CloudStorageConfig, RecordingConfig
from core.enums import SANDBOX_APP_ID, MixedVideoLayout
from core.layout import compute_layout
from core.notices import service_state
from core.participants.analysis import iter_video, playlist_slices, window_colour
from core.participants.synthetic import is_flash
from core.sdk.client import Credentials, RestClient
from core.sdk.embedded import (
    EmbeddedServer,
    bots_command,
    start_embedded_server,
)
from core.sdk.recorder import CloudRecorder, create_cloud_recorder

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

__all__ = [
    "REPO",
    "SANDBOX_APP_ID",
    "EmbeddedServer",
    "InProcessServer",
    "Output",
    "Recording",
    "channel_with_bots",
    "cpu_seconds",
    "flash_times",
    "load",
    "own_cpu_seconds",
    "percentile",
    "rss_bytes",
    "spawn_bots",
    "start_embedded_server",
    "until",
    "wait_for_users",
]


class InProcessServer(uvicorn.Server):
    """uvicorn serving in the bench's own process and event loop (it leaves the
    process's signals alone)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def channel_with_bots(
    folder: Path, channel: str, uids: Sequence[int], size: tuple[int, int], fps: int
) -> AsyncIterator[Any]:
    """A cloudrec server (channel) in this process, and ``uids`` publishing to
    ``channel`` from ``cloudrec bots`` in a child process (their encoding not counted
    here): yields the server's channel registry once they all publish and settled."""
    from core.server.app import ServerSettings, create_app

    app = create_app(ServerSettings(data_dir=folder / "data"))
    server = InProcessServer(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    bots = await asyncio.create_subprocess_exec(
        *bots_command(
            url, channel, len(uids), uid_base=uids[0], size=size, fps=fps, low_stream=False
        ),
        cwd=str(REPO),
    )
    registry = app.state.channels
    try:
        await until(
            lambda: len(registry.channel(SANDBOX_APP_ID, channel).publishers()) == len(uids)
        )
        await asyncio.sleep(2.0)  # let the publishers settle
        yield registry
    finally:
        bots.terminate()
        await bots.wait()
        server.should_exit = True
        await task


async def until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Wait for ``condition`` (every 50 ms), or raise TimeoutError after ``limit`` s."""
    for _ in range(int(limit / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bench setup did not come up")


def own_cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads; getrusage's
    microsecond resolution, for spans too short for /proc's clock ticks)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` (bytes)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def load() -> str:
    """The 1-minute load average and the number of cores, for the printed header."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values`` (inclusive method)."""
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1])


def spawn_bots(
    url: str,
    channel: str,
    users: int,
    *,
    uid_base: int = 1001,
    size: str = "320x240",
    fps: int = 15,
    low_stream: bool = False,
) -> subprocess.Popen[bytes]:
    """``cloudrec bots`` in a child process (their encoding is not this process's CPU)."""
    width, height = (int(n) for n in size.split("x"))
    args = bots_command(
        url, channel, users, uid_base=uid_base, size=(width, height), fps=fps, low_stream=low_stream
    )
    return subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL)


async def wait_for_users(
    url: str, channel: str, users: int, bots: Sequence[subprocess.Popen[bytes]], limit: float = 60
) -> None:
    """Wait until ``channel`` has ``users`` publishers (the roster endpoint)."""
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while True:
            response = await client.get(f"/channels/{SANDBOX_APP_ID}/{channel}")
            if len(response.json()["users"]) >= users:
                return
            if any(b.poll() is not None for b in bots) or time.monotonic() > deadline:
                raise SystemExit(f"the bots did not join {channel!r}")
            await asyncio.sleep(0.2)


class _Observer:
    """Keeps the SDK's callbacks (name, time) for the printout."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda rid, *args: self.calls.append((name, time.time(), args))


@dataclass
class Recording:
    """One recording started through the SDK on a cloudrec server."""

    server: EmbeddedServer
    channel: str
    recorder: CloudRecorder
    observer: _Observer

    @classmethod
    async def start(
        cls,
        server: EmbeddedServer,
        channel: str,
        recording: RecordingConfig,
        storage: CloudStorageConfig,
        uid: int = 4_000_000_001,
    ) -> Recording:
        observer = _Observer()
        recorder = create_cloud_recorder(observer, server.url, server.token)
        await recorder.start(SANDBOX_APP_ID, channel, None, uid, recording, storage)
        return cls(server, channel, recorder, observer)

    async def state(self) -> RecorderState:
        """The recording's progress and health, from the server's ``query``."""
        client = RestClient(self.server.url, Credentials(bearer=self.server.token))
        try:
            assert self.recorder.resource_id and self.recorder.sid
            body = await client.query(SANDBOX_APP_ID, self.recorder.resource_id, self.recorder.sid)
        finally:
            await client.aclose()
        response = body.get("serverResponse", body)
        extension = service_state(response)
        return RecorderState(
            origin=response["sliceStartTime"] / 1000,
            stored=float(extension["duration"]),
            render_lag=float(extension["renderLag"]),
            max_render_lag=float(extension["maxRenderLag"]),
            dropped=int(extension["droppedFrames"]),
            late=int(extension["lateFrames"]),
        )

    async def stop(self, timeout: float = 120) -> None:
        """Stop, wait until every file is stored, release."""
        await self.recorder.stop()
        await self.recorder.wait_finished(timeout)
        await self.recorder.release()


@dataclass(frozen=True)
class RecorderState:
    """What ``query`` says of a running recording (``extensionServiceState``)."""

    origin: float
    """Unix time of output time 0."""
    stored: float
    """Seconds stored so far."""
    render_lag: float
    """Seconds the renderer is behind its schedule now (0: real time)."""
    max_render_lag: float
    dropped: int
    """Users' frames dropped before the picture or the mix (a renderer behind)."""
    late: int
    """Video frames that reached the renderer after their tick was drawn."""


@dataclass(frozen=True)
class Output:
    """What a recording's playlist and slices hold, read back from the files."""

    listed: float
    """Seconds the playlist lists (sum of EXTINF)."""
    frames: int
    """Video packets (= frames: no B-frames) in the slices."""
    first: float
    last: float
    """Presentation times of the first and last frame (s)."""
    gaps: int
    """Missing frames: ticks with no frame between the first and the last."""
    slices: list[Path]

    @classmethod
    def read(cls, playlist: Path, fps: int) -> Output:
        slices = playlist_slices(playlist)
        times: list[float] = []
        for path, _ in slices:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                for packet in container.demux(stream):
                    if packet.pts is not None and packet.time_base is not None:
                        times.append(float(packet.pts * packet.time_base))
        times.sort()
        gaps = sum(max(0, round((b - a) * fps) - 1) for a, b in itertools.pairwise(times))
        return cls(
            sum(d for _, d in slices),
            len(times),
            times[0] if times else 0.0,
            times[-1] if times else 0.0,
            gaps,
            [p for p, _ in slices],
        )


def find_playlist(folder: Path) -> Path:
    """The one playlist written under ``folder``."""
    found = sorted(folder.rglob("*.m3u8"))
    if len(found) != 1:
        raise SystemExit(f"expected one playlist under {folder}, found {len(found)}")
    return found[0]


def flash_times(
    paths: Sequence[Path], layout: MixedVideoLayout, uids: list[int], width: int, height: int
) -> dict[int, list[float]]:
    """Per user: presentation times of the frames that start a white flash in its tile.

    The bots flash once a second (``core.participants.synthetic``); a flash missing from a
    tile means that user's frames were dropped or late on the way to the picture.
    """
    windows = compute_layout(layout, uids, width, height)
    times: dict[int, list[float]] = {uid: [] for uid in uids}
    previous = dict.fromkeys(uids, False)
    for t, image in iter_video(paths):
        for uid, window in windows.items():
            flash = is_flash(window_colour(image, window))
            if flash and not previous[uid]:
                times[uid].append(t)
            previous[uid] = flash
    return times


def run_in_scratch_folder(
    run: Callable[[argparse.Namespace, Path], Awaitable[None]], args: argparse.Namespace
) -> None:
    """``asyncio.run(run(args, folder))`` with a scratch folder removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="cloudrec-bench-"))
    try:
        asyncio.run(run(args, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def busy_processes(count: int) -> Iterator[None]:
    """``count`` child processes spinning on the CPU, to emulate a loaded machine
    (e.g. a CI run sharing the cores); killed on exit."""
    spin = "while True: pass"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
