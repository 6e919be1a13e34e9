"""Soak: one 4-user recording for a long time (default an hour; not run in CI).

Run: ``python bench/soak.py [--seconds 3600] [--profile stacks.txt]``.

1. Starts ``cloudrec server`` (``start_embedded_server``) and 4 synthetic users
   (``cloudrec bots``, 320x240@15) in a child process, and records them through the
   SDK: BEST_FIT 640x360@15, H.264 500 kbps + AAC, 4 s slices, LOCAL storage in a
   temporary folder (through the server's durable uploader, as for a user).
2. Every ``--sample`` seconds reads the server's resident memory and CPU from /proc.
3. Reads the recording back: A/V offset (white flash vs 1 kHz beep, the bots' sync
   marks, ``core.participants.analysis``) over the first and the last 30 s, output frames
   against listed seconds x fps, and the flashes of every user's tile (dropped input).

Prints memory growth after the warm-up (the first 5 minutes, or the first 20 % for
runs shorter than 25 minutes) as MB and MB per hour, the offsets at start and end
and their drift, dropped frames, and the server's CPU per recorded second.

``--profile FILE`` also samples the server with py-spy (``pip install py-spy``) for
a minute from the end of the warm-up, writes the collapsed stacks to FILE and prints
the functions with the most samples (self and total). It perturbs the run a little.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from _common import (
    Output,
    Recording,
    cpu_seconds,
    find_playlist,
    flash_times,
    load,
    rss_bytes,
    run_in_scratch_folder,
    spawn_bots,
    start_embedded_server,
    wait_for_users,
)
from _profile import profile, top_functions

from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
from core.enums import MixedVideoLayout, StorageVendor
from core.participants.analysis import beep_onsets, decode_audio, pair_offsets, playlist_slices

CHANNEL = "soak"
UIDS = [1001, 1002, 1003, 1004]
WIDTH, HEIGHT, FPS, BITRATE = 640, 360, 15, 500
SYNC_SPAN = 30.0
MB = 1024 * 1024


def warmup(seconds: float) -> float:
    return 300.0 if seconds >= 1500 else 0.2 * seconds


def offsets(paths: list[Path]) -> list[float]:
    """beep - flash (s) of the first user's tile, for each second in ``paths``."""
    audio = decode_audio(paths)
    if audio is None:
        return []
    flashes = flash_times(paths, MixedVideoLayout.BEST_FIT, UIDS, WIDTH, HEIGHT)[UIDS[0]]
    return pair_offsets(flashes, beep_onsets(audio))


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no flash/beep pairs"
    ms = [v * 1000 for v in values]
    return (
        f"{name}: {len(ms)} pairs, mean {statistics.mean(ms):+.1f} ms, "
        f"max |{max(abs(v) for v in ms):.1f}| ms"
    )


async def run(args: argparse.Namespace, folder: Path) -> None:
    server = await start_embedded_server(folder / "data", storage_roots=(folder / "rec",))
    pid = server.pid
    print(f"server pid {pid}; {load()}", flush=True)
    bots = spawn_bots(server.url, CHANNEL, len(UIDS), uid_base=UIDS[0], size="320x240")
    samples: list[tuple[float, float, int]] = []  # (seconds since start, CPU s, RSS)
    spy = None
    try:
        await wait_for_users(server.url, CHANNEL, len(UIDS), [bots])
        config = RecordingConfig(
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
        rec = await Recording.start(server, CHANNEL, config, storage)
        w0 = time.monotonic()
        samples.append((0.0, cpu_seconds(pid), rss_bytes(pid)))
        while (elapsed := time.monotonic() - w0) < args.seconds:
            await asyncio.sleep(min(args.sample, args.seconds - elapsed))
            samples.append((time.monotonic() - w0, cpu_seconds(pid), rss_bytes(pid)))
            if args.profile and spy is None and samples[-1][0] >= warmup(args.seconds):
                spy = await profile(pid, min(60.0, args.seconds / 2), args.profile)
        health = await rec.state()
        await rec.stop()
        if spy is not None:
            await spy.wait()
    finally:
        bots.terminate()
        bots.wait(10)
        await server.stop()

    playlist = find_playlist(folder / "rec")
    out = Output.read(playlist, FPS)
    slices = playlist_slices(playlist)
    head, tail, span = [], [], 0.0
    for path, duration in slices:
        if span < SYNC_SPAN:
            head.append(path)
        span += duration
    span = 0.0
    for path, duration in reversed(slices):
        if span < SYNC_SPAN:
            tail.insert(0, path)
        span += duration
    first, last = offsets(head), offsets(tail)
    flashes = flash_times(out.slices, MixedVideoLayout.BEST_FIT, UIDS, WIDTH, HEIGHT)
    whole = int(out.last - out.first)

    wall = samples[-1][0]
    cpu = (samples[-1][1] - samples[0][1]) / wall
    warm = warmup(args.seconds)
    base = min(samples, key=lambda s: abs(s[0] - warm))
    growth = (samples[-1][2] - base[2]) / MB
    hours = (samples[-1][0] - base[0]) / 3600
    print(f"4 users 320x240@15 -> BEST_FIT {WIDTH}x{HEIGHT}@{FPS}, {wall:.0f} s; {load()}")
    print(
        f"server CPU (channel + recorder + durable upload to LOCAL): {cpu:.3f} CPU s / s "
        f"(target 0.25)"
    )
    step = max(1, round(60 / args.sample)) if len(samples) > 60 else 1
    print(
        f"RSS MB every {args.sample * step:.0f} s: "
        f"{' '.join(f'{s[2] / MB:.0f}' for s in samples[::step])}"
    )
    print(
        f"RSS growth after {base[0]:.0f} s warm-up: {growth:+.1f} MB "
        f"({100 * growth / (base[2] / MB):+.1f} % of {base[2] / MB:.0f} MB, target <= 5 %; "
        f"{growth / hours if hours > 0 else 0:+.1f} MB/h); "
        f"peak {max(s[2] for s in samples) / MB:.0f} MB"
    )
    print(
        f"renderer (query): max lag {health.max_render_lag:.2f} s, input frames dropped "
        f"{health.dropped}, late {health.late}"
    )
    print(describe(f"A/V offset, first {SYNC_SPAN:.0f} s", first))
    print(describe(f"A/V offset, last {SYNC_SPAN:.0f} s ", last))
    if first and last:
        drift = (statistics.mean(last) - statistics.mean(first)) * 1000
        print(f"A/V drift end - start: {drift:+.1f} ms (target |offset| <= 40 ms)")
    expected = round(out.listed * FPS)
    print(
        f"output: playlist {out.listed:.1f} s vs {wall:.1f} s wall; {out.frames} frames vs "
        f"{expected} = listed x fps ({out.frames - expected:+d}); missing ticks {out.gaps}"
    )
    print(
        f"input flashes per tile over {whole} whole seconds: "
        f"{', '.join(f'{u}: {len(t)}' for u, t in flashes.items())}"
    )
    if args.profile and args.profile.exists():
        top_functions(args.profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0, help="recording length (3600)")
    parser.add_argument("--sample", type=float, default=10.0, help="memory sampling, s (10)")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy collapsed stacks")
    run_in_scratch_folder(run, parser.parse_args())


if __name__ == "__main__":
    main()
