"""Many users: does one recording of 17 users at 1280x720 keep real time?

Run: ``python bench/many_users.py [--users 17] [--procs 3] [--seconds 30] [--profile FILE]``.

1. Starts ``cloudrec server`` (``start_embedded_server``) and ``--users`` synthetic
   users (``cloudrec bots``, small tiles with a low stream) spread over ``--procs``
   child processes.
2. Records the channel through the SDK: BEST_FIT 1280x720@15, H.264 1130 kbps,
   ``video_stream_type=AUTO``, LOCAL storage in a temporary folder. While it runs,
   asks the server's ``query`` every 2 s how many seconds are stored, and reads the
   server's CPU from /proc.
3. Reads the recording back: frames in the slices against listed seconds x fps and
   against the span of their timestamps (missing ticks), and each user's tile for
   the once-a-second white flash the bots send (a flash missing from a tile means
   that user's frames were dropped or late on the way to the picture).

Prints the server's CPU (cores, and per user), the lag of stored media behind the
wall clock (real time: it must stay bounded, about one slice + the 0.4 s render
latency), and the dropped frame counts. ``--busy N`` runs N CPU-spinning processes
while recording, to see how the recording holds up on a loaded machine. ``--profile FILE`` samples the server with
py-spy for 15 s from the 5th second of the recording and prints where its busy
samples are (``bench/_profile.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from pathlib import Path

import numpy as np
from _common import (
    Output,
    Recording,
    busy_processes,
    cpu_seconds,
    find_playlist,
    flash_times,
    load,
    run_in_scratch_folder,
    spawn_bots,
    start_embedded_server,
    wait_for_users,
)
from _profile import profile, top_functions

from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
from core.enums import MixedVideoLayout, StorageVendor, VideoStreamType
from core.layout import compute_layout
from core.participants.synthetic import low_stream_size

CHANNEL = "many"
WIDTH, HEIGHT, FPS, BITRATE = 1280, 720, 15, 1130
UID_BASE = 2001


async def run(args: argparse.Namespace, folder: Path) -> None:
    server = await start_embedded_server(folder / "data", storage_roots=(folder / "rec",))
    pid = server.pid
    per_proc = -(-args.users // args.procs)
    bots = []
    busy = contextlib.ExitStack()
    try:
        for i in range(args.procs):
            count = min(per_proc, args.users - i * per_proc)
            if count > 0:
                bots.append(
                    spawn_bots(
                        server.url,
                        CHANNEL,
                        count,
                        uid_base=UID_BASE + i * per_proc,
                        size=args.size,
                        fps=FPS,
                        low_stream=True,
                    )
                )
        await wait_for_users(server.url, CHANNEL, args.users, bots, limit=120)
        await asyncio.sleep(3.0)  # let the publishers settle
        idle0, idle_w0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(5.0)
        channel_only = (cpu_seconds(pid) - idle0) / (time.monotonic() - idle_w0)
        config = RecordingConfig(
            video_stream_type=VideoStreamType.AUTO,
            max_idle_time=30,
            transcoding_config=TranscodingConfig(
                width=WIDTH,
                height=HEIGHT,
                fps=FPS,
                bitrate=BITRATE,
                layout=MixedVideoLayout.BEST_FIT,
            ),
        )
        storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(folder / "rec"))
        busy.enter_context(busy_processes(args.busy))
        c0, w0 = cpu_seconds(pid), time.monotonic()
        b0 = sum(cpu_seconds(b.pid) for b in bots)
        rec = await Recording.start(server, CHANNEL, config, storage)
        lags: list[float] = []
        render_lags: list[float] = []
        spy = None
        sample = 0
        while time.monotonic() - w0 < args.seconds:
            sample += 1  # on a fixed 2 s grid, so samples keep their phase to the slices
            await asyncio.sleep(max(0.0, w0 + 2.0 * sample - time.monotonic()))
            if args.profile and spy is None and time.monotonic() - w0 >= 5.0:
                spy = await profile(pid, 15.0, args.profile)
            state = await rec.state()
            lags.append(time.time() - state.origin - state.stored)
            render_lags.append(state.render_lag)
        stop_call = time.monotonic()
        final = await rec.state()
        await rec.stop()
        stop_wall = time.monotonic() - stop_call
        wall = stop_call - w0
        recording_cpu = (cpu_seconds(pid) - c0) / (time.monotonic() - w0)
        bots_cpu = (sum(cpu_seconds(b.pid) for b in bots) - b0) / (time.monotonic() - w0)
        if spy is not None:
            await spy.wait()
    finally:
        busy.close()
        for b in bots:
            b.terminate()
        for b in bots:
            b.wait(10)
        await server.stop()

    out = Output.read(find_playlist(folder / "rec"), FPS)
    uids = list(range(UID_BASE, UID_BASE + args.users))
    times = flash_times(out.slices, MixedVideoLayout.BEST_FIT, uids, WIDTH, HEIGHT)
    flashes = {uid: len(t) for uid, t in times.items()}
    seconds = out.last - out.first
    expected_flashes = int(seconds)  # whole seconds inside the recorded span
    missing = {u: expected_flashes - n for u, n in flashes.items() if n < expected_flashes}
    bot_w, bot_h = (int(v) for v in args.size.split("x"))
    low = low_stream_size((bot_w, bot_h))
    window = compute_layout(MixedVideoLayout.BEST_FIT, uids, WIDTH, HEIGHT)[uids[0]]
    auto_low = window.width <= low[0] and window.height <= low[1]  # the AUTO rule

    print(
        f"{args.users} users ({args.size}@{FPS} VP8 + low {low[0]}x{low[1]}, "
        f"{len(bots)} bot processes) -> BEST_FIT {WIDTH}x{HEIGHT}@{FPS} "
        f"H.264 {BITRATE} kbps, AUTO stream, {load()}, "
        f"{args.busy} busy-loop processes while recording"
    )
    print(
        f"AUTO: tile {window.width}x{window.height} vs low {low[0]}x{low[1]} -> "
        f"{'LOW' if auto_low else 'HIGH'} expected"
    )
    print(
        f"server CPU: channel only {channel_only:.3f} cores, "
        f"channel + recording {recording_cpu:.3f} cores "
        f"({recording_cpu / args.users:.4f} per user); recorder share "
        f"{recording_cpu - channel_only:.3f}"
    )
    print(
        f"bot processes (peer, not counted): {bots_cpu:.3f} cores; server + bots "
        f"{recording_cpu + bots_cpu:.2f} of {os.cpu_count()} cores"
    )
    print(
        f"real time: recorded {wall:.1f} s wall, playlist lists {out.listed:.2f} s "
        f"(ratio {out.listed / wall:.3f}); stop took {stop_wall:.2f} s"
    )
    print(
        f"lag of stored media behind the wall clock (every 2 s): "
        f"{' '.join(f'{x:.1f}' for x in lags)} s; max {max(lags):.1f} s "
        f"(bounded ~ slice 4 s + 0.4 s latency + encode)"
    )
    print(
        f"renderer behind its schedule (query renderLag, every 2 s): "
        f"{' '.join(f'{x:.2f}' for x in render_lags)} s; max {final.max_render_lag:.2f} s; "
        f"input frames dropped {final.dropped}, late {final.late}"
    )
    expected = round(out.listed * FPS)
    print(
        f"output frames: {out.frames} decoded-packets vs {expected} = listed x fps "
        f"({out.frames - expected:+d}); missing ticks inside the span: {out.gaps}"
    )
    print(
        f"input flashes seen per tile over {expected_flashes} whole seconds: "
        f"min {min(flashes.values())}, median {int(np.median(list(flashes.values())))}; "
        f"tiles missing some: {len(missing)} {missing if missing else ''}"
    )
    if args.profile and args.profile.exists():
        top_functions(args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=17, help="synthetic users (17)")
    parser.add_argument("--procs", type=int, default=3, help="bot processes (3)")
    parser.add_argument("--size", default="160x120", help="bot tile size (160x120)")
    parser.add_argument("--seconds", type=float, default=30.0, help="recording length (30)")
    parser.add_argument(
        "--busy",
        type=int,
        default=0,
        help="CPU-spinning processes while recording, to emulate load (0)",
    )
    parser.add_argument("--profile", type=Path, default=None, help="py-spy collapsed stacks")
    run_in_scratch_folder(run, parser.parse_args())


if __name__ == "__main__":
    main()
