"""GUI responsiveness: how late the window's qasync loop runs callbacks while it records.

Run: ``python bench/gui_latency.py [--recordings 4] [--seconds 30]`` (offscreen Qt).

1. Opens the real window (``gui.main_window.MainWindow`` on a ``qasync.QEventLoop``,
   as ``gui.app.main`` does; settings and keyring in memory/a temporary folder) and
   lets it start its embedded server (a child process, as for a user).
2. **Idle (peer)**: schedules a callback every 10 ms with ``loop.call_later`` and
   records how late each one fires, for a third of ``--seconds``.
3. **Recording**: ``--recordings`` channels, each with synthetic users in child
   processes (``cloudrec bots``), each recorded through the window's own
   ``start_recording`` (the SDK; LOCAL storage in a temporary folder; progress
   every second, so the table updates as often as the window allows), and the same
   probe runs for ``--seconds``.

Prints p50 / p99 / max lateness of each phase, the ratio recording / idle, the
16 ms p99 target, and the window's and the server's CPU over the recording phase.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from _common import SANDBOX_APP_ID, cpu_seconds, load, percentile, spawn_bots, wait_for_users
from keyring.backends import fail
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
from core.enums import MixedVideoLayout, StorageVendor
from gui.embedded_server import EmbeddedServer
from gui.forms.new_recording import StartRequest
from gui.keyring_store import KeyringStore
from gui.main_window import MainWindow
from gui.models.recordings import RowState
from gui.settings import AppSettings

PERIOD = 0.010
TARGET_P99 = 0.016


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def lateness(seconds: float) -> list[float]:
    """Seconds each 10 ms ``call_later`` callback fired after its due time."""
    loop = asyncio.get_running_loop()
    late: list[float] = []
    done = loop.create_future()
    end = loop.time() + seconds

    def fire(due: float) -> None:
        now = loop.time()
        late.append(max(0.0, now - due))
        if now >= end:
            done.set_result(None)
        else:
            loop.call_later(PERIOD, fire, now + PERIOD)

    loop.call_later(PERIOD, fire, loop.time() + PERIOD)
    await done
    return late


def summary(name: str, late: list[float]) -> str:
    ms = [x * 1000 for x in late]
    return (
        f"{name}: {len(ms)} callbacks, late p50 {percentile(ms, 50):.1f} ms, "
        f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms"
    )


async def run(window: MainWindow, args: argparse.Namespace, folder: Path) -> None:
    await window.start_embedded_server()
    assert window.server_url is not None and window.server.pid is not None
    url, server_pid = window.server_url, window.server.pid
    channels = [f"gui{i}" for i in range(1, args.recordings + 1)]
    bots = [spawn_bots(url, ch, args.users, uid_base=1001, size=args.size) for ch in channels]
    try:
        for ch in channels:
            await wait_for_users(url, ch, args.users, bots)
        idle = await lateness(args.seconds / 3)
        recording = RecordingConfig(
            progress_interval=1,
            transcoding_config=TranscodingConfig(
                width=640, height=360, fps=15, bitrate=500, layout=MixedVideoLayout.BEST_FIT
            ),
        )
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder / "rec"))
        rids = []
        for i, ch in enumerate(channels):
            request = StartRequest(SANDBOX_APP_ID, ch, None, 4_000_000_001 + i, recording, storage)
            rids.append(await window.start_recording(request))
        rows = [window.model.row(rid) for rid in rids if rid is not None]
        if len(rows) != len(channels) or any(
            r is None or r.state is not RowState.RECORDING for r in rows
        ):
            raise SystemExit("not every recording started")
        await asyncio.sleep(2.0)  # the first slices and progress notices
        g0, s0, w0 = own_cpu(), cpu_seconds(server_pid), time.monotonic()
        busy = await lateness(args.seconds)
        wall = time.monotonic() - w0
        gui_cpu, server_cpu = own_cpu() - g0, cpu_seconds(server_pid) - s0
        for recorder in list(window._recorders.values()):
            await recorder.release(cancel=True)
    finally:
        for b in bots:
            b.terminate()
        for b in bots:
            b.wait(10)
        window._health.stop()
        window._ticker.stop()
        await window.server.stop()

    p99_idle = percentile(idle, 99)
    p99_busy = percentile(busy, 99)
    print(
        f"window (offscreen) + embedded server, {args.recordings} recordings of "
        f"{args.users} bots {args.size} each (640x360@15 BEST_FIT, LOCAL), {load()}"
    )
    print(summary("idle window      ", idle))
    print(summary("while recording  ", busy))
    print(
        f"p99 recording / idle: {p99_busy / max(p99_idle, 1e-4):.2f}; "
        f"p99 {p99_busy * 1000:.1f} ms vs target {TARGET_P99 * 1000:.0f} ms: "
        f"{'met' if p99_busy <= TARGET_P99 else 'NOT met'}"
    )
    print(f"callbacks later than 16 ms: {sum(x > TARGET_P99 for x in busy)} of {len(busy)}")
    print(
        f"CPU while recording: window {gui_cpu / wall:.3f} cores, "
        f"server {server_cpu / wall:.3f} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=4, help="recordings (4)")
    parser.add_argument("--users", type=int, default=2, help="bots per recorded channel (2)")
    parser.add_argument("--size", default="160x120", help="bot tile size (160x120)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured span (30)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cloudrec-bench-"))
    # The window's own files (settings, server data, logs) stay in the temporary folder.
    os.environ["XDG_DATA_HOME"] = str(folder / "data")
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ["XDG_STATE_HOME"] = str(folder / "state")
    try:
        app = QApplication.instance() or QApplication([])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        settings = AppSettings(QSettings(str(folder / "cloudrec.ini"), QSettings.Format.IniFormat))
        window = MainWindow(
            settings,
            KeyringStore(fail.Keyring()),
            embedded_server=EmbeddedServer(folder / "log", storage_roots=(folder / "rec",)),
        )
        window.show()
        with loop:
            loop.run_until_complete(run(window, args, folder))
        window._close_done = True
        window.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
