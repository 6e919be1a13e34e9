"""The media pipeline end to end on synthetic frames: what it writes is decoded and measured."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from core.enums import AudioProfile, MixedVideoLayout, RenderMode
from core.layout import Rect, Region, compute_layout
from core.media.compositor import Backgrounds
from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.segmenter import PTS_OFFSET, ClosedSlice
from core.participants.analysis import (
    beep_onsets,
    decode_audio,
    iter_video,
    pair_offsets,
    window_colour,
)
from core.participants.synthetic import identify_uid, is_flash
from core.storage.hls import Playlist
from tests.helpers import AAC_FRAME_SAMPLES, DecodedMedia, check_recording

from .conftest import Feed


def ffprobe(path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def make(tmp_path: Path, **kwargs: object) -> tuple[MixPipeline, list[ClosedSlice]]:
    slices: list[ClosedSlice] = []
    settings = PipelineSettings(**kwargs)  # type: ignore[arg-type]
    pipeline = MixPipeline(
        settings, tmp_path, lambda t: f"s_{round(t * 1000):07d}.ts", slices.append
    )
    return pipeline, slices


def listed(tmp_path: Path, slices: list[ClosedSlice], **checks: object) -> DecodedMedia:
    """Write the playlist storage would write for ``slices``; decode and count it."""
    playlist = Playlist(target_duration=max(s.duration for s in slices))
    for s in slices:
        playlist.add(s.name, s.duration)
    playlist.end()
    path = tmp_path / "recording.m3u8"
    path.write_text(playlist.render())
    return check_recording(path, **checks)  # type: ignore[arg-type]


def stream_bytes(path: Path) -> dict[str, int]:
    info = ffprobe(path, "-show_entries", "stream=index,codec_type:packet=stream_index,size")
    kinds = {s["index"]: s["codec_type"] for s in info["streams"]}
    totals = dict.fromkeys(kinds.values(), 0)
    for p in info["packets"]:
        totals[kinds[p["stream_index"]]] += int(p["size"])
    return totals


def test_three_user_recording_decodes_with_exact_format_and_bitrates(
    tmp_path: Path, synthetic_feed: Feed
) -> None:
    seconds = 30.0
    pipeline, slices = make(tmp_path, width=640, height=360, fps=15, bitrate_kbps=500)
    for uid in (1, 2, 3):
        pipeline.user_joined(uid, 0.0)
    synthetic_feed(pipeline, [1, 2, 3], 0.0, seconds)
    pipeline.finish(seconds)

    assert len(slices) == 8 and [s.index for s in slices] == list(range(8))
    # 7 GOPs of 60 frames; the last slice ends with the audio, padded to a whole AAC frame
    audio_frames = math.ceil(seconds * 48_000 / AAC_FRAME_SAMPLES)
    audio_end = audio_frames * AAC_FRAME_SAMPLES / 48_000
    assert [s.duration for s in slices] == pytest.approx([4.0] * 7 + [audio_end - 28.0], abs=1e-9)
    media = listed(tmp_path, slices, fps=15)  # every frame of every slice decodes, no error
    assert media.video_frames == seconds * 15
    assert [s.video_frames for s in media.slices] == [60] * 7 + [30]
    assert media.audio_samples == (audio_frames + 1) * AAC_FRAME_SAMPLES  # + the priming frame
    totals = {"video": 0, "audio": 0}
    for s in slices:
        info = ffprobe(
            s.path,
            "-show_entries",
            "stream=codec_name,width,height,r_frame_rate,avg_frame_rate,sample_rate,channels"
            ":format=duration,start_time",
        )
        video, audio = info["streams"]
        assert (video["codec_name"], video["width"], video["height"]) == ("h264", 640, 360)
        assert video["r_frame_rate"] == "15/1"
        assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 1)
        assert abs(float(info["format"]["start_time"]) - PTS_OFFSET - s.start) < 0.03
        first = ffprobe(
            s.path,
            "-select_streams",
            "v",
            "-show_entries",
            "packet=flags",
            "-read_intervals",
            "%+#1",
        )
        assert first["packets"][0]["flags"].startswith("K")  # each slice starts on a keyframe
        for kind, size in stream_bytes(s.path).items():
            totals[kind] += size
    video_kbps = totals["video"] * 8 / seconds / 1000
    audio_kbps = totals["audio"] * 8 / seconds / 1000
    assert 400 <= video_kbps <= 600, video_kbps
    # ADTS headers (7 bytes per 1024 samples) are framing, not payload
    audio_payload_kbps = audio_kbps - 7 * 8 * 48_000 / 1024 / 1000
    assert 48 * 0.85 <= audio_payload_kbps <= 48 * 1.15, audio_payload_kbps


@pytest.mark.parametrize(
    "profile", [AudioProfile.MUSIC_HIGH_QUALITY, AudioProfile.MUSIC_HIGH_QUALITY_STEREO]
)
def test_audio_only_recording_has_the_profile(
    tmp_path: Path, synthetic_feed: Feed, profile: AudioProfile
) -> None:
    seconds = 8.0
    pipeline, slices = make(tmp_path, video=False, audio_profile=profile, slice_seconds=2.0)
    pipeline.user_joined(5, 0.0)
    pipeline.user_joined(6, 0.0)
    synthetic_feed(pipeline, [5, 6], 0.0, seconds, video_uids=[])
    pipeline.finish(seconds)
    assert len(slices) == 4  # cut at the first audio packet at or after 2, 4 and 6 s
    audio_frames = math.ceil(seconds * 48_000 / AAC_FRAME_SAMPLES)
    audio_end = audio_frames * AAC_FRAME_SAMPLES / 48_000  # padded to a whole AAC frame
    assert sum(s.duration for s in slices) == pytest.approx(audio_end, abs=1e-9)
    media = listed(tmp_path, slices, fps=None)  # every frame of every slice decodes, no error
    assert media.audio_samples == (audio_frames + 1) * AAC_FRAME_SAMPLES  # + the priming frame
    total = 0
    for s in slices:
        info = ffprobe(s.path, "-show_entries", "stream=codec_type,sample_rate,channels")
        assert [st["codec_type"] for st in info["streams"]] == ["audio"]
        assert info["streams"][0]["sample_rate"] == "48000"
        assert info["streams"][0]["channels"] == profile.channels
        total += stream_bytes(s.path)["audio"]
    kbps = total * 8 / seconds / 1000 - 7 * 8 * 48_000 / 1024 / 1000
    assert profile.bitrate_kbps * 0.85 <= kbps <= profile.bitrate_kbps * 1.15, kbps


def test_video_only_recording_has_no_audio(tmp_path: Path, synthetic_feed: Feed) -> None:
    pipeline, slices = make(tmp_path, audio_profile=None, slice_seconds=1.0, width=320, height=180)
    pipeline.user_joined(9, 0.0)
    synthetic_feed(pipeline, [9], 0.0, 2.0)
    pipeline.finish(2.0)
    assert len(slices) == 2
    media = listed(tmp_path, slices, fps=15, audio=False)
    assert [s.video_frames for s in media.slices] == [15, 15]
    for s in slices:
        info = ffprobe(s.path, "-show_entries", "stream=codec_type,width,height")
        assert info["streams"] == [{"codec_type": "video", "width": 320, "height": 180}]


def frame_at(paths: list[Path], time: float) -> np.ndarray:  # type: ignore[type-arg]
    best = None
    for t, image in iter_video(paths):
        if best is None or abs(t - PTS_OFFSET - time) < best[0]:
            best = (abs(t - PTS_OFFSET - time), image)
    assert best is not None
    return best[1]


PRESETS = [layout for layout in MixedVideoLayout if layout is not MixedVideoLayout.CUSTOM]


@pytest.mark.parametrize("layout", PRESETS)
@pytest.mark.parametrize("count", [1, 2, 4, 5])
def test_every_window_shows_its_user(
    tmp_path: Path, synthetic_feed: Feed, layout: MixedVideoLayout, count: int
) -> None:
    uids = [101 + i for i in range(count)]
    pipeline, slices = make(
        tmp_path,
        layout=layout,
        audio_profile=None,
        width=640,
        height=360,
        max_resolution_uid=uids[-1],
    )
    for uid in uids:
        pipeline.user_joined(uid, 0.0)
    synthetic_feed(pipeline, uids, 0.0, 1.0)
    pipeline.finish(1.0)
    image = frame_at([s.path for s in slices], 0.5)
    windows = compute_layout(layout, uids, 640, 360, uids[-1])
    assert list(windows) and len(windows) == count
    for uid, window in windows.items():
        x, y = window.centre
        assert identify_uid(image[y, x], uids) == uid
        assert identify_uid(window_colour(image, window), uids) == uid


def solid_frame(colour: tuple[int, int, int], size: tuple[int, int]) -> av.VideoFrame:
    rgb = np.zeros((size[1], size[0], 3), dtype=np.uint8)
    rgb[:, :] = colour
    return av.VideoFrame.from_ndarray(rgb, format="rgb24")


def near(pixel: np.ndarray, colour: tuple[int, int, int]) -> bool:  # type: ignore[type-arg]
    return bool(np.abs(pixel.astype(int) - colour).max() < 30)


@pytest.mark.parametrize("mode", list(RenderMode))
def test_pictures_keep_their_aspect_ratio_cropped_or_fitted(
    tmp_path: Path, mode: RenderMode
) -> None:
    pipeline, slices = make(
        tmp_path,
        audio_profile=None,
        background="#2040C0",
        width=640,
        height=360,
        render_mode=mode,
    )
    pipeline.user_joined(1, 0.0)
    for k in range(15):  # a square red picture in the 16:9 canvas
        pipeline.push_video(1, solid_frame((220, 0, 0), (200, 200)), k / 15)
    pipeline.finish(1.0)
    image = frame_at([s.path for s in slices], 0.5)
    assert near(image[180, 320], (220, 0, 0)) and near(image[180, 150], (220, 0, 0))
    for x in (20, 620):  # FIT: 140 px of background on each side; CROP: none
        expected = (0x20, 0x40, 0xC0) if mode is RenderMode.FIT else (220, 0, 0)
        assert near(image[180, x], expected), (x, image[180, x])


RED, GREEN, BLUE, YELLOW = (220, 0, 0), (0, 200, 0), (0, 0, 220), (220, 220, 0)
CUSTOM_BACKGROUND = (0x20, 0x40, 0xC0)


def nearest(pixel: np.ndarray, colours: dict[str, tuple[int, int, int]]) -> str:  # type: ignore[type-arg]
    return min(colours, key=lambda name: int(np.abs(pixel.astype(int) - colours[name]).sum()))


def edges(
    line: np.ndarray, inside: tuple[int, int, int], outside: tuple[int, int, int]
) -> tuple[int, int]:  # type: ignore[type-arg]
    """The first and the last index of ``line`` whose pixel is nearer ``inside``."""
    hits = [i for i, p in enumerate(line) if nearest(p, {"in": inside, "out": outside}) == "in"]
    return hits[0], hits[-1]


def test_custom_regions_show_their_users_with_alpha_crop_and_fit(tmp_path: Path) -> None:
    regions = (
        Region(0, 0, 1, 1, uid=1),  # red, the whole canvas
        Region(0.1, 0.2, 0.3, 0.5, uid=2),  # green, square picture cropped to fill
        Region(0.6, 0.2, 0.3, 0.5, alpha=0.5),  # nobody named: user 3 (blue), half seen
        Region(0.1, 0.75, 0.3, 0.2, uid=4, render_mode=RenderMode.FIT),  # tall, with bars
    )
    pipeline, slices = make(
        tmp_path,
        audio_profile=None,
        background="#2040C0",
        width=640,
        height=360,
        layout=MixedVideoLayout.CUSTOM,
        regions=regions,
    )
    pictures = {1: (RED, (640, 360)), 2: (GREEN, (200, 200)), 3: (BLUE, (320, 180))}
    pictures[4] = (YELLOW, (100, 200))
    for uid in pictures:
        pipeline.user_joined(uid, 0.0)
    for k in range(15):
        for uid, (colour, size) in pictures.items():
            pipeline.push_video(uid, solid_frame(colour, size), k / 15)
    pipeline.finish(1.0)
    image = frame_at([s.path for s in slices], 0.5)
    # each region at its pixels: [floor(x*W), floor((x+w)*W)) likewise in y
    green, blue, yellow = (r.rect(640, 360) for r in (regions[1], regions[2], regions[3]))
    assert green == Rect(64, 72, 192, 180) and blue == Rect(384, 72, 192, 180)
    # green: its user's colour at the centre, its edges within 2 px, no bars (cropped)
    gx, gy = green.centre
    left, right = edges(image[gy], GREEN, RED)
    top, bottom = edges(image[:, gx], GREEN, RED)
    assert abs(left - 64) <= 2 and abs(right - 255) <= 2, (left, right)
    assert abs(top - 72) <= 2 and abs(bottom - 251) <= 2, (top, bottom)
    for y in (green.y + 3, gy, green.y + green.height - 4):
        row = image[y, green.x + 3 : green.x + green.width - 3]
        assert all(near(p, GREEN) for p in row), y
    # blue at alpha 0.5 over red: the blend, its edges within 2 px
    blend = (110, 0, 110)
    bx, by = blue.centre
    assert near(image[by, bx], blend), image[by, bx]
    left, right = edges(image[by, 320:], blend, RED)  # the right half: green is left
    assert abs(left + 320 - 384) <= 2 and abs(right + 320 - 575) <= 2, (left, right)
    # yellow fitted: 100x200 into 192x72 is 36x72, centred; background bars beside it
    yx, yy = yellow.centre
    assert near(image[yy, yx], YELLOW)
    assert near(image[yy, yellow.x + 20], CUSTOM_BACKGROUND)
    assert near(image[yy, yellow.x + yellow.width - 20], CUSTOM_BACKGROUND)
    left, right = edges(image[yy, yellow.x : yellow.x + yellow.width], YELLOW, CUSTOM_BACKGROUND)
    assert abs(left - 78) <= 2 and abs(right - 113) <= 2, (left, right)
    # outside every region but the first: red
    assert near(image[20, 20], RED) and near(image[340, 620], RED)


def test_joiners_and_leavers_retile_at_their_tick(tmp_path: Path, synthetic_feed: Feed) -> None:
    pipeline, slices = make(tmp_path, layout=MixedVideoLayout.BEST_FIT, audio_profile=None)
    pipeline.user_joined(1, 0.0)
    pipeline.user_joined(2, 0.0)
    synthetic_feed(pipeline, [1, 2], 0.0, 2.0)
    pipeline.user_joined(3, 2.0)  # joins at 2.0 s
    synthetic_feed(pipeline, [1, 2, 3], 2.0, 4.0)
    pipeline.user_left(1, 4.0)  # leaves at 4.0 s
    synthetic_feed(pipeline, [2, 3], 4.0, 6.0)
    pipeline.finish(6.0)
    # Roster changes take effect at the first tick at or after their time
    # (docs/recorder.md): ticks before 2.0 show the two-user layout, from 2.0 to 4.0
    # the three-user one, from 4.0 on the one of users 2 and 3. Each window shows its
    # user, or on whole seconds that user's flash.
    stages = [
        (0.0, [1, 2]),
        (2.0, [1, 2, 3]),
        (4.0, [2, 3]),
    ]
    ticks = 0
    for t, image in iter_video([s.path for s in slices]):
        t -= PTS_OFFSET
        uids = next(u for start, u in reversed(stages) if t >= start - 1e-6)
        flash = abs(t - round(t)) < 1e-6
        for uid, window in compute_layout(MixedVideoLayout.BEST_FIT, uids, 640, 360).items():
            colour = window_colour(image, window)
            assert is_flash(colour) if flash else identify_uid(colour, [1, 2, 3]) == uid, (t, uid)
        ticks += 1
    assert ticks == 6 * 15


def test_flash_and_beep_stay_together(tmp_path: Path, synthetic_feed: Feed) -> None:
    pipeline, slices = make(tmp_path, width=320, height=180, slice_seconds=2.0)
    pipeline.user_joined(4, 0.0)
    synthetic_feed(pipeline, [4], 0.0, 8.0)
    pipeline.finish(8.0)
    paths = [s.path for s in slices]
    window = compute_layout(MixedVideoLayout.FLOAT, [4], 320, 180)[4]
    flashes, previous = [], False
    for t, image in iter_video(paths):
        flash = is_flash(window_colour(image, window))
        if flash and not previous:
            flashes.append(t)
        previous = flash
    audio = decode_audio(paths)
    assert audio is not None
    offsets = pair_offsets(flashes, beep_onsets(audio))
    assert len(flashes) == 8 and len(offsets) == 8
    assert max(abs(o) for o in offsets) <= 0.040, offsets


def test_garbage_from_one_user_is_reported_and_the_rest_recorded(
    tmp_path: Path, synthetic_feed: Feed
) -> None:
    errors: list[tuple[int, str]] = []
    slices: list[ClosedSlice] = []
    pipeline = MixPipeline(
        PipelineSettings(slice_seconds=1.0),
        tmp_path,
        lambda t: f"g{t}.ts",
        slices.append,
        on_user_error=lambda uid, message: errors.append((uid, message)),
    )
    pipeline.user_joined(1, 0.0)
    pipeline.user_joined(66, 0.0)
    bad_audio = av.AudioFrame(format="s16", layout="mono", samples=960)
    bad_audio.sample_rate = 0  # nonsense rate: cannot be resampled
    pipeline.push_audio(66, bad_audio, 0.1)
    pipeline.push_video(66, av.VideoFrame(1, 1, "yuv420p"), 0.1)
    synthetic_feed(pipeline, [1], 0.0, 2.0)
    pipeline.finish(2.0)
    assert {uid for uid, _ in errors} == {66}
    assert len(slices) == 2 and all(s.size > 0 for s in slices)


def test_late_and_overflowing_input_frames_are_counted(tmp_path: Path) -> None:
    """A renderer that fell behind loses input frames; the counters say how many."""
    pipeline, slices = make(tmp_path, audio_profile=None, width=320, height=180)
    pipeline.user_joined(1, 0.0)
    grey = np.full((120, 160, 3), 128, dtype=np.uint8)

    def frame() -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(grey, format="rgb24")

    for k in range(15):  # in time: neither late nor dropped
        pipeline.push_video(1, frame(), k / 15)
    pipeline.render_until(1.0)
    assert (pipeline.frames_late, pipeline.frames_dropped) == (0, 0)
    pipeline.push_video(1, frame(), 0.5)  # its tick was drawn half a second ago
    pipeline.push_video(1, frame(), 1.0)  # the next tick's: in time
    assert pipeline.frames_late == 1
    for k in range(130):  # 130 frames queued before a render: 120 fit, 10 pushed out
        pipeline.push_video(1, frame(), 1.0 + k / 15)
    assert pipeline.frames_dropped == 12  # the 2 above and the oldest 10 of the 130
    pipeline.finish(10.0)
    assert slices and sum(s.duration for s in slices) == pytest.approx(10.0, abs=0.01)


def shown_frames(tmp_path: Path, times: list[float], duration: float) -> tuple[list[int], list]:  # type: ignore[type-arg]
    """Record one user (uid 1) whose frame ``k`` (grey level ``40 + 6 k``) is captured at
    ``times[k]``: the index of the frame each output tick shows, decoded, and the
    frames the pipeline lists as superseded."""
    pipeline, slices = make(tmp_path, audio_profile=None, width=320, height=180)
    pipeline.user_joined(1, 0.0)
    for k, t in enumerate(times):
        grey = np.full((180, 320, 3), 40 + 6 * k, dtype=np.uint8)
        pipeline.push_video(1, av.VideoFrame.from_ndarray(grey, format="rgb24"), t)
    pipeline.finish(duration)
    shown = []
    for _, image in iter_video([s.path for s in slices]):
        level = float(image[60:120, 100:220].mean())
        k = round((level - 40) / 6)
        assert abs(40 + 6 * k - level) < 2.5, level  # one of the frames, not a blend
        shown.append(k)
    assert pipeline.frames_superseded == len(pipeline.superseded)
    return shown, list(pipeline.superseded)


def test_a_jittered_frame_waits_a_tick_instead_of_being_skipped(tmp_path: Path) -> None:
    """A 15 fps camera recorded at 15 fps, its frames 20 ms after each tick, except
    frame 15, captured 70 ms early (a camera's jitter): frames 14 and 15 are both due at
    the tick of 14 and nothing at the next, so 15 waits a tick and every frame is shown
    once, none lost (before, 14 was never shown and 15 twice)."""
    times = [k / 15 + 0.020 - (0.070 if k == 15 else 0.0) for k in range(30)]
    assert shown_frames(tmp_path, times, 2.0) == (list(range(30)), [])


def test_a_clock_correction_across_a_tick_loses_one_frame_and_lists_it(tmp_path: Path) -> None:
    """The same camera, its frames 30 ms before each tick, and from frame 15 on its
    sender's clock estimate corrected 13 ms earlier (a faster sender report; the loaded
    runs saw corrections of 1-60 ms). Every later frame is then due one tick earlier, so
    the tick after has a frame of its own and nothing can wait: frame 14 is never
    shown, and the pipeline lists it with its capture time."""
    times = [k / 15 - 0.030 - (0.013 if k >= 15 else 0.0) for k in range(31)]
    shown, superseded = shown_frames(tmp_path, times, 2.0)
    assert shown == [*range(14), *range(15, 31)]
    assert superseded == [(1, pytest.approx(times[14]))]


def test_a_faster_camera_is_thinned_to_the_newest_due_frame(tmp_path: Path) -> None:
    """30 fps into 15 fps: each tick shows the newest frame due, every second one; the
    next tick has frames of its own, so nothing waits, and thinning is not listed as
    superseded."""
    times = [k / 30 + 0.005 for k in range(30)]
    assert shown_frames(tmp_path, times, 1.0) == ([2 * t for t in range(15)], [])


@pytest.mark.parametrize("video", [True, False], ids=["audio-video", "audio-only"])
def test_sixteen_slices_read_as_one_stream_without_a_warning(
    tmp_path: Path, synthetic_feed: Feed, video: bool
) -> None:
    """64 s in 4 s slices, 15 joins: FFmpeg reading the playlist as one stream, at
    warning level, prints nothing (continuity counters, timestamps and PCR go on across
    every join), and the joined stream has every frame of the slices."""
    pipeline, slices = make(tmp_path, width=160, height=90, slice_seconds=4.0, video=video)
    pipeline.user_joined(1, 0.0)
    synthetic_feed(pipeline, [1], 0.0, 64.0)
    pipeline.finish(64.0)
    assert len(slices) == 16
    media = listed(tmp_path, slices, fps=15 if video else None)
    assert media.video_frames == (64 * 15 if video else 0)
    playlist = tmp_path / "recording.m3u8"
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "warning", "-i", str(playlist),
         "-f", "null", "-"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")


def picture(rgb: np.ndarray) -> av.VideoFrame:  # type: ignore[type-arg]
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")


def test_background_images_show_where_no_user_is_and_for_users_without_video(
    tmp_path: Path,
) -> None:
    magenta, cyan = (200, 0, 200), (0, 200, 200)
    canvas = np.zeros((180, 320, 3), dtype=np.uint8)
    canvas[:, :160], canvas[:, 160:] = magenta, cyan
    backgrounds = Backgrounds(
        canvas=picture(canvas),
        default_user=solid_frame(YELLOW, (64, 64)),
        users={2: (solid_frame(GREEN, (64, 64)), RenderMode.CROP)},
    )
    pipeline, slices = make(
        tmp_path,
        audio_profile=None,
        width=320,
        height=180,
        layout=MixedVideoLayout.BEST_FIT,
        backgrounds=backgrounds,
    )
    for uid in (1, 2, 3):  # a 2x2 grid: the fourth cell is empty
        pipeline.user_joined(uid, 0.0)
    seconds = 5.4
    for k in range(round(seconds * 15)):
        pipeline.push_video(1, solid_frame(RED, (160, 90)), k / 15)
        if k < 15:  # user 3's camera stops after a second; user 2 never sends video
            pipeline.push_video(3, solid_frame(BLUE, (160, 90)), k / 15)
    pipeline.finish(seconds)
    windows = compute_layout(MixedVideoLayout.BEST_FIT, [1, 2, 3], 320, 180)
    shown: dict[float, dict[str, tuple[int, int, int]]] = {}
    for t, image in iter_video([s.path for s in slices]):
        t = round(t - PTS_OFFSET, 3)
        cells = {f"user {uid}": window_colour(image, w) for uid, w in windows.items()}
        cells["empty cell"] = window_colour(image, Rect(160, 90, 160, 90))
        shown[t] = cells
    assert len(shown) == round(seconds * 15)  # every frame decoded
    last_frame = 14 / 15
    for t, cells in shown.items():
        assert near(np.array(cells["user 1"]), RED), (t, cells)
        assert near(np.array(cells["user 2"]), GREEN), (t, cells)  # its own image
        assert near(np.array(cells["empty cell"]), cyan), (t, cells)  # the canvas image
        # user 3: its camera, then its last picture, then after 3.5 s the default image
        gone = t + 0.5 / 15 - last_frame > 3.5
        assert near(np.array(cells["user 3"]), YELLOW if gone else BLUE), (t, cells)
    assert any(not near(np.array(c["user 3"]), BLUE) for c in shown.values())
