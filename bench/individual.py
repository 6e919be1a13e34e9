"""Individual recording's cost against mix recording's, for the same channel.

Run: ``python bench/individual.py [--seconds 20] [--repeat 3]``. A cloudrec server
(channel) runs in this process and 4 synthetic users (``cloudrec bots``, 320x240@15
VP8 + Opus) in a child process, so their encoding is not counted. This process's CPU
is measured while the channel only receives (baseline), then, alternately, while a
mix recording (640x360@15 BEST_FIT, H.264 500 kbps, AAC 48 kbps, 4 s HLS slices) and
individual recordings run, each to a local folder: ``streamMode`` ``default`` (each
user's VP8 copied into WebM slices, Opus transcoded to AAC, as Agora's default) and
``original`` (nothing transcoded: the Opus copied too). A recording's cost is its CPU
over the baseline's; printed per user and recorded second (medians of ``--repeat``
runs), with the ratios. What was written is checked: the mix's playlist and each
user's two playlists decode.

Target (issue 25): individual recording without transcoding <= 0.01 core per user.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import channel_with_bots, load, own_cpu_seconds

from core.config import RecordingConfig, TranscodingConfig
from core.enums import SANDBOX_APP_ID, MixedVideoLayout, RecordingMode, StreamMode
from core.media.playlist import track_playlist_name
from core.media.recorder import Recorder
from core.participants.analysis import playlist_slices
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter

ROOT = Path(__file__).resolve().parent.parent
UIDS = [1001, 1002, 1003, 1004]
CHANNEL = "bench"
FPS = 15


async def _cpu_over(seconds: float) -> float:
    c0, w0 = own_cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return (own_cpu_seconds() - c0) / (time.monotonic() - w0)


def _frames(playlist: Path) -> int:
    """Frames decoded from every slice of ``playlist`` (each slice on its own)."""
    count = 0
    for path, _ in playlist_slices(playlist):
        with av.open(str(path)) as container:
            for stream in container.streams:
                count += sum(1 for _ in container.decode(stream))
                container.seek(0)
    return count


async def _record(
    registry: object,
    mode: RecordingMode,
    seconds: float,
    folder: Path,
    stream_mode: StreamMode = StreamMode.DEFAULT,
) -> float:
    """CPU seconds per wall second of this process while a recording in ``mode`` runs;
    checks what it wrote."""
    sid = f"{mode.path}{time.monotonic_ns()}"
    config = RecordingConfig(
        recording_mode=mode,
        stream_mode=stream_mode,
        transcoding_config=TranscodingConfig(
            width=640, height=360, fps=FPS, bitrate=500, layout=MixedVideoLayout.BEST_FIT
        ),
    )
    out = folder / sid
    recorder = Recorder(
        registry,  # type: ignore[arg-type]
        SANDBOX_APP_ID,
        CHANNEL,
        4_000_000_001,
        sid,
        config,
        PlaylistWriter(LocalFolderDestination(out), f"{sid}_{CHANNEL}.m3u8", target_duration=4),
        folder / f"work-{sid}",
    )
    c0, w0 = own_cpu_seconds(), time.monotonic()
    await recorder.start()
    await asyncio.sleep(seconds)
    await recorder.stop()
    cpu = (own_cpu_seconds() - c0) / (time.monotonic() - w0)
    if mode is RecordingMode.MIX:
        playlists = [out / f"{sid}_{CHANNEL}.m3u8"]
    else:
        playlists = [out / track_playlist_name(sid, CHANNEL, u, k)
                     for u in UIDS for k in ("audio", "video")]  # fmt: skip
    for playlist in playlists:
        if _frames(playlist) == 0:
            raise AssertionError(f"{playlist.name}: nothing decodes")
    return cpu


async def live(
    seconds: float, repeat: int, folder: Path
) -> tuple[float, list[float], list[float], list[float]]:
    mix: list[float] = []
    individual: list[float] = []
    original: list[float] = []
    async with channel_with_bots(folder, CHANNEL, UIDS, (320, 240), FPS) as registry:
        baseline = await _cpu_over(seconds / 2)
        for _ in range(repeat):
            mix.append(await _record(registry, RecordingMode.MIX, seconds, folder))
            individual.append(await _record(registry, RecordingMode.INDIVIDUAL, seconds, folder))
            original.append(
                await _record(
                    registry, RecordingMode.INDIVIDUAL, seconds, folder, StreamMode.ORIGINAL
                )
            )
    return baseline, mix, individual, original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="recording length (20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode (3)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cloudrec-bench-"))
    try:
        baseline, mix, individual, original = asyncio.run(live(args.seconds, args.repeat, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    users = len(UIDS)
    mix_cost = statistics.median(m - baseline for m in mix)
    individual_cost = statistics.median(i - baseline for i in individual)
    original_cost = statistics.median(o - baseline for o in original)
    print(f"4 users (320x240@15 VP8 + Opus), {args.seconds:.0f} s recordings; {load()}")
    print(f"live: channel receiving only  {baseline:.3f} CPU s / s")
    print(
        f"mix (640x360@15 BEST_FIT, H.264 + AAC)  {mix_cost:.4f} CPU s / s = "
        f"{mix_cost / users:.4f} per user "
        f"(runs {', '.join(f'{m - baseline:.3f}' for m in mix)})"
    )
    print(
        f"individual default (VP8 copied, Opus -> AAC)  {individual_cost:.4f} CPU s / s = "
        f"{individual_cost / users:.4f} per user "
        f"(runs {', '.join(f'{i - baseline:.3f}' for i in individual)})"
    )
    print(
        f"individual original (VP8 and Opus copied)    {original_cost:.4f} CPU s / s = "
        f"{original_cost / users:.4f} per user "
        f"(runs {', '.join(f'{o - baseline:.3f}' for o in original)}; target <= 0.01 per user)"
    )
    print(
        f"ratio to mix: individual default {individual_cost / mix_cost:.2f}, "
        f"individual original {original_cost / mix_cost:.2f}"
    )


if __name__ == "__main__":
    main()
