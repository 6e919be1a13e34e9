"""CPU cost of the channel: server CPU seconds per user per second of media.

Runs ``cloudrec server`` (``python -m core.commands.server``) in one process and N
synthetic WHIP publishers (``core.participants.synthetic`` + ``core.participants.whip_client``)
in another, waits until every user's media flows, then reads both processes' CPU
time from ``/proc/<pid>/stat`` over a measurement window. The server receives,
decrypts, depacketizes and decodes every user's audio and video (aiortc decodes
whether or not anyone subscribes). The publisher process, which encodes the same
media, is printed alongside as the peer to compare with.

    python bench/channel.py [--users 4] [--size 640x360] [--fps 15] [--seconds 20]

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SANDBOX_APP_ID = "c10d4ec0c10d4ec0c10d4ec0c10d4ec0"
CHANNEL = "bench"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def roster(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/channels/{SANDBOX_APP_ID}/{CHANNEL}", timeout=5) as r:
        users: list[dict[str, object]] = json.load(r)["users"]
        return users


def start_server(ready: Path) -> tuple[subprocess.Popen[bytes], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "core.commands.server", "--port", "0", "--ready-file", str(ready)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    url: str = json.loads(ready.read_text())["url"]
    return server, url


def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_server(Path(tmp) / "ready.json")
        publisher = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--publish",
                url,
                "--users",
                str(args.users),
                "--size",
                args.size,
                "--fps",
                str(args.fps),
            ],
            cwd=REPO,
        )
        try:
            deadline = time.monotonic() + 30
            while len(roster(url)) < args.users:
                if publisher.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the publishers did not join")
                time.sleep(0.2)
            time.sleep(args.warmup)
            s0, p0, t0 = cpu_seconds(server.pid), cpu_seconds(publisher.pid), time.monotonic()
            time.sleep(args.seconds)
            s1, p1, t1 = cpu_seconds(server.pid), cpu_seconds(publisher.pid), time.monotonic()
            assert len(roster(url)) == args.users, "a publisher left during the measurement"
        finally:
            publisher.send_signal(signal.SIGTERM)
            publisher.wait(10)
            server.send_signal(signal.SIGTERM)
            server.wait(10)
    wall = t1 - t0
    server_cpu, publisher_cpu = s1 - s0, p1 - p0
    per_user = server_cpu / (args.users * wall)
    print(f"{args.users} users at {args.size}@{args.fps} (VP8 + Opus), {wall:.1f} s measured")
    print(f"server:     {server_cpu:6.2f} CPU s = {server_cpu / wall:.3f} cores")
    print(f"publishers: {publisher_cpu:6.2f} CPU s = {publisher_cpu / wall:.3f} cores (peer)")
    print(f"server CPU per user per second of media: {per_user:.4f} s")
    print(f"server / publishers: {server_cpu / publisher_cpu:.2f}")


async def publish_forever(url: str, users: int, size: tuple[int, int], fps: int) -> None:
    from core.participants.synthetic import synthetic_media
    from core.participants.whip_client import publish

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    media = [
        synthetic_media(uid, size=size, fps=fps, low_stream=False) for uid in range(1, 1 + users)
    ]
    sessions = []
    try:
        for m in media:
            whip = f"{url}/whip/{SANDBOX_APP_ID}/{CHANNEL}/{m.uid}"
            sessions.append(await publish(whip, audio=m.audio, video=m.video))
        await stop.wait()
    finally:
        for session in sessions:
            await session.close()
        for m in media:
            m.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--publish", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        width, height = (int(v) for v in args.size.split("x"))
        sys.path.insert(0, str(REPO))
        asyncio.run(publish_forever(args.publish, args.users, (width, height), args.fps))
    else:
        measure(args)


if __name__ == "__main__":
    main()
