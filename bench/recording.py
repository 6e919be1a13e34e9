"""Recording cost: cloudrec's recorder against FFmpeg's command line on the same inputs.

Run: ``python bench/recording.py [--seconds 20]``. What it does, all on this machine:

1. Starts a cloudrec server (channel) in this process and 4 synthetic users
   (``cloudrec bots``, 320x240@15 VP8 + Opus) in a child process, so their encoding
   is not counted here.
2. **Live**: measures this process's CPU while the channel only receives (baseline),
   then while a 640x360@15 BEST_FIT recording (H.264 500 kbps, AAC 48 kbps, 4 s HLS
   slices to a local folder) runs. The difference is the recorder's cost.
3. **Capture**: saves each user's received audio and video to a file (VP8 + Opus in
   Matroska) -- the "same input streams" for the offline comparison.
4. **Offline, cloudrec**: decodes the 4 files with PyAV and runs cloudrec's pipeline
   (place, compose, mix, H.264 + AAC, MPEG-TS slices) as fast as it can.
5. **Offline, FFmpeg**: ``ffmpeg`` decodes the same files, scales and tiles them
   (``xstack``), mixes the audio (``amix``), encodes with the same x264/AAC settings
   and writes HLS; its CPU is taken from ``getrusage(RUSAGE_CHILDREN)``.

Step 4 runs once more with a snapshot every second. Steps 4 and 5 run again with MP4
beside HLS (cloudrec: the same packets muxed into an
MP4 too, made faststart at the end; FFmpeg: the tee muxer writing HLS and a faststart
MP4 from one encode).

Prints CPU seconds per recorded second for each, the ratios to FFmpeg, and what MP4
costs on top of HLS (target: within 10 %).

``--streams`` measures live streaming instead (docs/streaming.md): the same live
recording with 0, 1 and 3 RTMP destinations (FFmpeg listeners on 127.0.0.1 in child
processes, not counted), alternating, and prints what each destination adds on top of
the recording's own CPU (target: at most 5 %).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import channel_with_bots, load, own_cpu_seconds

from core.config import RecordingConfig, RtmpPublishConfig, StreamOutput, TranscodingConfig
from core.enums import SANDBOX_APP_ID, MixedVideoLayout
from core.media.mp4 import Mp4Spec, Mp4Writer, finalize
from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.recorder import Recorder
from core.media.slices import ClosedSlice
from core.media.snapshots import SnapshotTaker
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter

ROOT = Path(__file__).resolve().parent.parent
UIDS = [1001, 1002, 1003, 1004]
CHANNEL = "bench"
WIDTH, HEIGHT, FPS, BITRATE = 640, 360, 15, 500
BOT_SIZE = (320, 240)
SNAPSHOT_INTERVAL = 1.0
"""Seconds between snapshots in the bench: the shortest interval Agora allows, the most
it can cost (the default is 10 s)."""


async def measure(seconds: float) -> float:
    """CPU seconds per wall second of this process over ``seconds``."""
    c0, w0 = own_cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    return (own_cpu_seconds() - c0) / (time.monotonic() - w0)


async def capture(registry: object, seconds: float, folder: Path) -> list[Path]:
    """Save each user's received media (VP8 + Opus, times from the channel) to a file."""
    channel = registry.channel(SANDBOX_APP_ID, CHANNEL)  # type: ignore[attr-defined]
    sub = channel.subscribe(4_000_000_002)
    t0 = time.monotonic() + 0.5
    paths, tasks = [], []
    for uid in UIDS:
        path = folder / f"user{uid}.mkv"
        paths.append(path)
        tasks.append(asyncio.create_task(_save(sub.audio(uid), sub.video(uid), path, t0, seconds)))
    await asyncio.gather(*tasks)
    await sub.close()
    return paths


async def _save(audio: object, video: object, path: Path, t0: float, seconds: float) -> None:
    out = av.open(str(path), "w", format="matroska")
    vs = out.add_stream("libvpx", rate=FPS)
    vs.width, vs.height, vs.pix_fmt = BOT_SIZE[0], BOT_SIZE[1], "yuv420p"
    vs.bit_rate = 300_000
    vs.codec_context.time_base = Fraction(1, 1000)
    as_ = out.add_stream("libopus", rate=48_000)
    as_.layout = "stereo"
    as_.codec_context.time_base = Fraction(1, 48_000)
    end = t0 + seconds

    async def pump(stream: object, kind: str) -> None:
        samples, last_pts = 0, -1
        async for received in stream:  # type: ignore[attr-defined]
            if received.time < t0:
                continue
            if received.time >= end:
                break
            frame = received.frame
            if kind == "video":
                frame = frame.reformat(format="yuv420p")
                last_pts = max(last_pts + 1, round((received.time - t0) * 1000))
                frame.pts = last_pts
                frame.time_base = Fraction(1, 1000)
                out.mux(vs.encode(frame))
            else:
                if samples == 0:
                    samples = round((received.time - t0) * 48_000)
                frame.pts = samples
                frame.time_base = Fraction(1, 48_000)
                samples += frame.samples
                out.mux(as_.encode(frame))

    await asyncio.gather(pump(video, "video"), pump(audio, "audio"))
    out.mux(vs.encode(None))
    out.mux(as_.encode(None))
    out.close()


def cloudrec_offline(
    paths: list[Path], folder: Path, *, mp4: bool = False, snapshots: float | None = None
) -> tuple[float, float]:
    """Decode + compose + encode + HLS with cloudrec's pipeline (and, with ``mp4``, the
    same packets into a fragmented MP4 made a faststart MP4 at the end, as the recorder
    writes them; with ``snapshots``, a JPEG of the composed picture every that many
    seconds, as the recorder takes them); (CPU s, recorded s)."""
    c0 = own_cpu_seconds()
    events: list[tuple[float, int, av.AudioFrame | av.VideoFrame]] = []
    for uid, path in zip(UIDS, paths, strict=True):
        with av.open(str(path)) as container:
            for frame in container.decode(*container.streams):
                if frame.pts is not None and frame.time_base is not None:
                    events.append((float(frame.pts * frame.time_base), uid, frame))
    events.sort(key=lambda e: e[0])
    folder.mkdir()
    settings = PipelineSettings(WIDTH, HEIGHT, FPS, BITRATE, layout=MixedVideoLayout.BEST_FIT)
    parts: list[ClosedSlice] = []
    also = (
        [
            Mp4Writer(
                folder,
                Mp4Spec((WIDTH, HEIGHT, FPS), (48_000, 1)),
                7200,
                "r_{}.mp4".format,
                parts.append,
            )
        ]
        if mp4
        else []
    )
    pipeline = MixPipeline(
        settings, folder, lambda t: f"s{round(t * 1000):08d}.ts", lambda s: None, also=also
    )
    if snapshots is not None:
        taker = SnapshotTaker(snapshots, folder, "shot_{:.3f}.jpg".format, lambda s: None)
        pipeline.on_picture = taker.offer
    for uid in UIDS:
        pipeline.user_joined(uid, 0.0)
    for t, uid, media in events:
        if isinstance(media, av.VideoFrame):
            pipeline.push_video(uid, media, t)
        else:
            pipeline.push_audio(uid, media, t)
        pipeline.render_until(t - 0.4)
    end = events[-1][0]
    pipeline.finish(end)
    for part in parts:
        finalize(part.path, part.path.with_name(part.name))
    return own_cpu_seconds() - c0, end


def ffmpeg_offline(
    paths: list[Path], folder: Path, *, mp4: bool = False
) -> tuple[float, float, list[str]]:
    """The same job on FFmpeg's command line (with ``mp4``: the same encode also into a
    faststart MP4, through the tee muxer); (CPU s, recorded s, command)."""
    folder.mkdir()
    tw, th = WIDTH // 2, HEIGHT // 2
    scale = (
        f"scale={tw}:{th}:force_original_aspect_ratio=decrease,pad={tw}:{th}:(ow-iw)/2:(oh-ih)/2"
    )
    graph = ";".join(
        [f"[{i}:v]{scale},fps={FPS}[v{i}]" for i in range(4)]
        + ["[v0][v1][v2][v3]xstack=inputs=4:layout=0_0|w0_0|0_h0|w0_h0[v]"]
        + ["[0:a][1:a][2:a][3:a]amix=inputs=4:normalize=0,aresample=48000[a]"]
    )
    gop = FPS * 4
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for p in paths:
        cmd += ["-i", str(p)]
    cmd += [
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-b:v",
        f"{BITRATE}k",
        "-maxrate",
        f"{BITRATE}k",
        "-bufsize",
        f"{BITRATE}k",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-bf",
        "0",
        "-x264-params",
        "nal-hrd=cbr",
        "-r",
        str(FPS),
        "-c:a",
        "aac",
        "-b:a",
        "48k",
        "-ac",
        "1",
        "-ar",
        "48000",
    ]
    hls = ["-hls_time", "4", "-hls_list_size", "0",
           "-hls_segment_filename", str(folder / "s%05d.ts")]  # fmt: skip
    if mp4:
        cmd += [
            "-f",
            "tee",
            f"[f=hls:hls_time=4:hls_list_size=0:hls_segment_filename={folder}/s%05d.ts]"
            f"{folder}/out.m3u8|[f=mp4:movflags=+faststart]{folder}/out.mp4",
        ]
    else:
        cmd += ["-f", "hls", *hls, str(folder / "out.m3u8")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    duration = sum(
        float(line.split(":")[1].rstrip(","))
        for line in (folder / "out.m3u8").read_text().splitlines()
        if line.startswith("#EXTINF:")
    )
    return used, duration, cmd


async def live(seconds: float, folder: Path) -> tuple[float, float, float, list[Path]]:
    async with channel_with_bots(folder, CHANNEL, UIDS, BOT_SIZE, FPS) as registry:
        baseline = await measure(seconds / 2)
        config = RecordingConfig(
            transcoding_config=TranscodingConfig(
                width=WIDTH,
                height=HEIGHT,
                fps=FPS,
                bitrate=BITRATE,
                layout=MixedVideoLayout.BEST_FIT,
            )
        )
        recorder = Recorder(
            registry,
            SANDBOX_APP_ID,
            CHANNEL,
            4_000_000_001,
            "bench",
            config,
            PlaylistWriter(
                LocalFolderDestination(folder / "live"),
                f"bench_{CHANNEL}.m3u8",
                target_duration=config.slice_duration,
            ),
            folder / "work",
        )
        c0, w0 = own_cpu_seconds(), time.monotonic()
        await recorder.start()
        await asyncio.sleep(seconds)
        await recorder.stop()
        recording = (own_cpu_seconds() - c0) / (time.monotonic() - w0)
        recorded = recorder.duration
        inputs = await capture(registry, seconds, folder)
    return baseline, recording, recorded, inputs


async def stream_costs(
    seconds: float, repeat: int, folder: Path
) -> tuple[float, dict[int, list[float]]]:
    """This process's CPU per second: the channel alone, then a recording with 0, 1 and 3
    live destinations (each run in turn, ``repeat`` times)."""
    costs: dict[int, list[float]] = {0: [], 1: [], 3: []}
    async with channel_with_bots(folder, CHANNEL, UIDS, BOT_SIZE, FPS) as registry:
        baseline = await measure(seconds / 2)
        for run in range(repeat):
            for count in costs:
                listeners = []
                urls = []
                for k in range(count):
                    port = _free_port()
                    url = f"rtmp://127.0.0.1:{port}/live/bench{k}"
                    command = ["ffmpeg", "-v", "quiet", "-listen", "1", "-i", url]
                    listeners.append(
                        await asyncio.create_subprocess_exec(
                            *command, "-c", "copy", "-f", "null", "-",
                            stdin=asyncio.subprocess.DEVNULL,
                        )
                    )  # fmt: skip
                    urls.append(url)
                await asyncio.sleep(0.5)
                config = RecordingConfig(
                    transcoding_config=TranscodingConfig(
                        width=WIDTH, height=HEIGHT, fps=FPS, bitrate=BITRATE,
                        layout=MixedVideoLayout.BEST_FIT,
                    ),
                    rtmp_publish_config=RtmpPublishConfig(outputs=tuple(
                        StreamOutput(rtmp_url=SecretStr(u)) for u in urls
                    )) if urls else None,
                )  # fmt: skip
                sid = f"streams{run}x{count}"
                recorder = Recorder(
                    registry, SANDBOX_APP_ID, CHANNEL, 4_000_000_001, sid, config,
                    PlaylistWriter(LocalFolderDestination(folder / sid), f"{sid}.m3u8",
                                   target_duration=config.slice_duration),
                    folder / f"work-{sid}",
                )  # fmt: skip
                c0, w0 = own_cpu_seconds(), time.monotonic()
                await recorder.start()
                await asyncio.sleep(seconds)
                live_ones = sum(s.state == "live" for s in recorder.stream_states)
                await recorder.stop()
                costs[count].append((own_cpu_seconds() - c0) / (time.monotonic() - w0))
                for listener in listeners:
                    if listener.returncode is None:
                        listener.terminate()
                    await listener.wait()
                if live_ones != count:
                    raise AssertionError(f"{live_ones} of {count} destinations were live")
    return baseline, costs


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main_streams(seconds: float, repeat: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cloudrec-bench-"))
    try:
        baseline, costs = asyncio.run(stream_costs(seconds, repeat, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    recording = statistics.median(costs[0]) - baseline
    print(f"4 users, {WIDTH}x{HEIGHT}@{FPS} BEST_FIT, H.264 {BITRATE} kbps + AAC; {load()}")
    print(f"live: channel receiving only  {baseline:.3f} CPU s / s")
    print(f"recording, no stream   {recording:.4f} CPU s / s (runs "
          f"{', '.join(f'{c - baseline:.3f}' for c in costs[0])})")  # fmt: skip
    for count in (1, 3):
        extra = statistics.median(costs[count]) - baseline - recording
        print(
            f"recording + {count} RTMP destination(s)  "
            f"{statistics.median(costs[count]) - baseline:.4f} CPU s / s: "
            f"{extra / count:.4f} per destination = {100 * extra / count / recording:.1f} % "
            f"of the recording's CPU (target <= 5 %)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="recording length (20)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="offline runs of each tool, alternating; medians are compared (3)",
    )
    parser.add_argument(
        "--streams", action="store_true", help="measure live streaming's cost instead"
    )
    args = parser.parse_args()
    if args.streams:
        main_streams(args.seconds, args.repeat)
        return
    folder = Path(tempfile.mkdtemp(prefix="cloudrec-bench-"))
    ours_runs: list[float] = []
    ff_runs: list[float] = []
    ours_mp4_runs: list[float] = []
    ff_mp4_runs: list[float] = []
    snapshot_runs: list[float] = []
    try:
        baseline, recording, recorded, inputs = asyncio.run(live(args.seconds, folder))
        for i in range(args.repeat):
            ours_cpu, ours_s = cloudrec_offline(inputs, folder / f"cloudrec{i}")
            ff_cpu, ff_s, _ = ffmpeg_offline(inputs, folder / f"ffmpeg{i}")
            ours_runs.append(ours_cpu / ours_s)
            ff_runs.append(ff_cpu / ff_s)
            ours_cpu, ours_s = cloudrec_offline(inputs, folder / f"cloudrec-mp4-{i}", mp4=True)
            ff_cpu, ff_s, _ = ffmpeg_offline(inputs, folder / f"ffmpeg-mp4-{i}", mp4=True)
            ours_mp4_runs.append(ours_cpu / ours_s)
            ff_mp4_runs.append(ff_cpu / ff_s)
            ours_cpu, ours_s = cloudrec_offline(
                inputs, folder / f"cloudrec-shots-{i}", snapshots=SNAPSHOT_INTERVAL
            )
            snapshot_runs.append(ours_cpu / ours_s)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    recorder_live = recording - baseline
    ours, ff = statistics.median(ours_runs), statistics.median(ff_runs)

    def runs(values: list[float]) -> str:
        return f"median of {len(values)}: {min(values):.3f}-{max(values):.3f}"

    print(
        f"4 users, {WIDTH}x{HEIGHT}@{FPS} BEST_FIT, H.264 {BITRATE} kbps + AAC 48 kbps, HLS; "
        f"{load()}"
    )
    print(
        f"live: channel receiving only (nobody subscribed: no decoding)  {baseline:.3f} CPU s / s"
    )
    print(
        f"live: channel + recorder            {recording:.3f} CPU s / s ({recorded:.1f} s recorded)"
    )
    print(f"live: decoding + recorder (difference)  {recorder_live:.3f} CPU s / recorded s")
    print(
        f"offline cloudrec decode+compose+encode+HLS  {ours:.3f} CPU s / recorded s ({runs(ours_runs)})"
    )
    print(
        f"offline ffmpeg   decode+compose+encode+HLS  {ff:.3f} CPU s / recorded s ({runs(ff_runs)})"
    )
    print(
        f"ratio cloudrec / ffmpeg, same decode + compose + encode from the same inputs: "
        f"{ours / ff:.2f} (target <= 1.3)"
    )
    print(
        f"ratio live decoding + recorder (incl. frame delivery from the channel) / ffmpeg: "
        f"{recorder_live / ff:.2f}"
    )
    ours_mp4, ff_mp4 = statistics.median(ours_mp4_runs), statistics.median(ff_mp4_runs)
    print(
        f"offline cloudrec HLS + MP4  {ours_mp4:.3f} CPU s / recorded s ({runs(ours_mp4_runs)}); "
        f"MP4 on top of HLS: {ours_mp4 / ours:.3f} x HLS alone (target <= 1.10)"
    )
    print(
        f"offline ffmpeg   HLS + MP4 (tee)  {ff_mp4:.3f} CPU s / recorded s "
        f"({runs(ff_mp4_runs)}); {ff_mp4 / ff:.3f} x its HLS alone; "
        f"ratio cloudrec / ffmpeg with MP4: {ours_mp4 / ff_mp4:.2f}"
    )
    shots = statistics.median(snapshot_runs)
    print(
        f"offline cloudrec HLS + a snapshot every {SNAPSHOT_INTERVAL:g} s  {shots:.3f} CPU s / "
        f"recorded s ({runs(snapshot_runs)}); {shots / ours:.3f} x HLS alone"
    )


if __name__ == "__main__":
    main()
