"""The recorder's media pipeline alone: CPU per second of output, and where it goes.

Run: ``python bench/pipeline.py [--users 17] [--size 160x120] [--canvas 1280x720]
[--seconds 20] [--layout best_fit|custom|both] [--profile]``.

Feeds ``MixPipeline`` (BEST_FIT, H.264 + AAC, HLS slices written to a scratch folder)
``--users`` users' frames as the channel delivers them: yuv420p pictures at 15 fps
(each a new ``VideoFrame``, like a decoder's output) and 20 ms s16 stereo 48 kHz
audio frames, then renders every tick, as fast as it can. No network, no decoding:
this isolates composing, scaling, mixing, encoding and muxing, the part a change to
``core/media`` affects. The pictures are noise with a moving bar, so x264 works
about as hard as on camera content.

Prints CPU seconds per second of output (the pipeline's share of a real-time
recording) and, with ``--profile``, the functions with the most own time (cProfile).

``--layout custom`` draws the same users in a CUSTOM layout (docs/rest-api.md,
"Custom layout") of the same windows as BEST_FIT, every region cropping its picture
(4:3 pictures in 16:9 tiles) and blended with alpha 0.5 over the canvas: the cost of
regions, crop and alpha over the preset. ``both`` runs the two one after the other
and prints the ratio of the least of ``--repeat`` runs each, interleaved (issue 21's
target: at most 1.15).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import own_cpu_seconds

from core.enums import MixedVideoLayout, RenderMode
from core.layout import MICRO, Region, compute_layout
from core.media.pipeline import MixPipeline, PipelineSettings

FPS = 15


def custom_regions(users: int, width: int, height: int) -> tuple[Region, ...]:
    """BEST_FIT's windows as CUSTOM regions (fractions to a millionth), alpha 0.5, crop."""
    windows = compute_layout(MixedVideoLayout.BEST_FIT, list(range(users)), width, height)
    return tuple(
        Region(
            r.x / width,
            r.y / height,
            # a millionth more than the tile, so the floored edges are the tile's
            r.width / width + 1 / MICRO,
            r.height / height + 1 / MICRO,
            uid,
            alpha=0.5,
            render_mode=RenderMode.CROP,
        )
        for uid, r in windows.items()
    )


def run(args: argparse.Namespace, folder: Path, layout: str = "best_fit") -> None:
    width, height = (int(v) for v in args.canvas.split("x"))
    user_w, user_h = (int(v) for v in args.size.split("x"))
    if layout == "custom":
        settings = PipelineSettings(
            width,
            height,
            FPS,
            args.bitrate,
            layout=MixedVideoLayout.CUSTOM,
            regions=custom_regions(args.users, width, height),
        )
    else:
        settings = PipelineSettings(
            width, height, FPS, args.bitrate, layout=MixedVideoLayout.BEST_FIT
        )
    pipeline = MixPipeline(
        settings, folder, lambda t: f"s{round(t * 1000):08d}.ts", lambda c: c.path.unlink()
    )
    rng = np.random.default_rng(1)
    pictures = [
        rng.integers(0, 255, (user_h * 3 // 2, user_w), dtype=np.uint8) for _ in range(args.users)
    ]
    tone = (np.sin(np.arange(1920) * 2 * np.pi * 440 / 48_000) * 6000).astype(np.int16)[None, :]
    for uid in range(args.users):
        pipeline.user_joined(uid, 0.0)
    for k in range(int(args.seconds * FPS)):
        t = k / FPS
        for uid, picture in enumerate(pictures):
            bar = (k * 4) % max(1, user_h - 8)
            picture[bar : bar + 8] ^= 0xFF  # moving content
            pipeline.push_video(uid, av.VideoFrame.from_ndarray(picture, format="yuv420p"), t)
        for a in range(k * 50 // FPS, (k + 1) * 50 // FPS):  # 20 ms audio frames
            for uid in range(args.users):
                frame = av.AudioFrame.from_ndarray(tone, format="s16", layout="stereo")
                frame.sample_rate = 48_000
                pipeline.push_audio(uid, frame, a / 50)
        pipeline.render_until(t)
    pipeline.finish(args.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=17, help="users (17)")
    parser.add_argument("--size", default="160x120", help="each user's picture (160x120)")
    parser.add_argument("--canvas", default="1280x720", help="output size (1280x720)")
    parser.add_argument("--bitrate", type=int, default=1130, help="video kbps (1130)")
    parser.add_argument("--seconds", type=float, default=20.0, help="output seconds (20)")
    parser.add_argument(
        "--layout",
        choices=["best_fit", "custom", "both"],
        default="best_fit",
        help="BEST_FIT, its windows as CUSTOM regions with alpha and crop, or both (best_fit)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each layout, interleaved; the least is kept"
    )
    args = parser.parse_args()
    layouts = ["best_fit", "custom"] if args.layout == "both" else [args.layout]
    costs: dict[str, float] = {}
    for layout in layouts * args.repeat:
        with tempfile.TemporaryDirectory(prefix="cloudrec-bench-") as scratch:
            profiler = cProfile.Profile() if args.profile else None
            c0, w0 = own_cpu_seconds(), time.perf_counter()
            if profiler is not None:
                profiler.runcall(run, args, Path(scratch), layout)
            else:
                run(args, Path(scratch), layout)
            used, wall = own_cpu_seconds() - c0, time.perf_counter() - w0
        cost = used / args.seconds
        costs[layout] = min(cost, costs.get(layout, cost))
        name = "BEST_FIT" if layout == "best_fit" else "CUSTOM (alpha 0.5, crop)"
        print(
            f"{args.users} users {args.size} -> {name} {args.canvas}@{FPS}, "
            f"{args.seconds:.0f} s of output in {wall:.1f} s wall: "
            f"{cost:.3f} CPU s per output second"
        )
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
    if len(costs) == 2:
        print(f"CUSTOM / BEST_FIT: {costs['custom'] / costs['best_fit']:.3f} (target <= 1.15)")


if __name__ == "__main__":
    main()
