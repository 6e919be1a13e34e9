"""The active speaker (core/media/speaker.py): who gets the large window, tick by tick
from levels, and on decoded recordings of the pipeline."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np

from core.enums import MixedVideoLayout
from core.layout import compute_layout
from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.segmenter import PTS_OFFSET, ClosedSlice
from core.media.speaker import HOLD, MIN_SPEECH, ActiveSpeaker
from core.participants.analysis import iter_video, window_colour

TICK = 1 / 15
LOUD, QUIET = -12.0, -90.0


def follow(levels_at: dict[int, object], seconds: float) -> list[tuple[float, int | None]]:
    """Run the tracker over ``seconds``; each uid's level is ``levels_at[uid](t)``.
    (time, speaker) at every change."""
    tracker = ActiveSpeaker(TICK)
    changes: list[tuple[float, int | None]] = []
    for k in range(round(seconds / TICK)):
        t = k * TICK
        if tracker.update({uid: f(t) for uid, f in levels_at.items()}):  # type: ignore[operator]
            changes.append((round(t, 3), tracker.speaker))
    return changes


def speaks(start: float, end: float) -> object:
    return lambda t: LOUD if start <= t < end else QUIET


def clicks(every: float, length: float) -> object:
    return lambda t: LOUD if t % every < length else QUIET


def test_the_first_to_speak_long_enough_takes_the_window_and_the_next_takes_it_over() -> None:
    changes = follow({1: speaks(0, 4), 2: speaks(4, 9), 3: clicks(1.5, 0.2)}, 9)
    assert [uid for _, uid in changes] == [1, 2]
    first, second = (t for t, _ in changes)
    assert abs(first - (MIN_SPEECH - TICK)) < 1e-3  # its ninth tick of speech (t to ms)
    # user 2 spoke more than user 1 by the margin 1.25 s after the change: within 3 s
    assert 4 < second <= 4 + 3.0, second


def test_short_sounds_and_two_talking_at_once_do_not_swap_it() -> None:
    # user 2 coughs 0.4 s every second while user 1 talks: never moves
    assert [uid for _, uid in follow({1: speaks(0, 10), 2: clicks(1.0, 0.4)}, 10)] == [1]
    # alone, short sounds never make a speaker (less than MIN_SPEECH in any 2 s)
    assert follow({1: clicks(1.0, 0.25), 2: clicks(1.3, 0.25)}, 10) == []
    # two talking together: the first keeps it
    assert [uid for _, uid in follow({1: speaks(0, 10), 2: speaks(1, 10)}, 10)] == [1]


def test_turns_faster_than_the_hold_are_not_followed_at_once() -> None:
    # 1 and 2 alternate every 0.8 s: at most one change per HOLD
    changes = follow({1: clicks(1.6, 0.8), 2: lambda t: LOUD if t % 1.6 >= 0.8 else QUIET}, 12)
    times = [t for t, _ in changes]
    assert all(b - a >= HOLD - 1e-6 for a, b in itertools.pairwise(times)), times


def test_a_speaker_who_leaves_gives_the_window_up() -> None:
    tracker = ActiveSpeaker(TICK)
    for _ in range(15):
        tracker.update({1: LOUD, 2: QUIET})
    assert tracker.speaker == 1
    tracker.update({2: QUIET})  # user 1 left the mix
    assert tracker.speaker is None


RED, GREEN, BLUE = (220, 0, 0), (0, 200, 0), (0, 0, 220)
COLOURS = {1: RED, 2: GREEN, 3: BLUE}


def record(tmp_path: Path, layout: MixedVideoLayout, max_resolution_uid: int = 0) -> list[Path]:
    """8 s: user 1 talks 0-4 s, user 2 from 4 s on, user 3 clicks 0.2 s every 1.5 s."""
    slices: list[ClosedSlice] = []
    settings = PipelineSettings(
        320, 180, 15, 300, layout=layout, max_resolution_uid=max_resolution_uid,
        active_speaker=True,
    )  # fmt: skip
    pipeline = MixPipeline(
        settings, tmp_path, lambda t: f"s{round(t * 1000):07d}.ts", slices.append
    )
    for uid in COLOURS:
        pipeline.user_joined(uid, 0.0)
    talking = {1: speaks(0, 4), 2: speaks(4, 99), 3: clicks(1.5, 0.2)}
    tone = (np.sin(np.arange(960) * 2 * np.pi * 440 / 48_000) * 8000).astype(np.int16)
    seconds = 8.0
    for k in range(round(seconds * 50)):  # 20 ms audio frames
        t = k / 50
        for uid, f in talking.items():
            loud = f(t) == LOUD  # type: ignore[operator]
            samples = np.repeat((tone if loud else np.zeros(960, np.int16))[None, :], 2, axis=0)
            frame = av.AudioFrame.from_ndarray(
                samples.T.reshape(1, -1).copy(), format="s16", layout="stereo"
            )
            frame.sample_rate = 48_000
            pipeline.push_audio(uid, frame, t)
    for j in range(round(seconds * 15)):
        for uid, colour in COLOURS.items():
            rgb = np.zeros((90, 160, 3), dtype=np.uint8)
            rgb[:, :] = colour
            pipeline.push_video(uid, av.VideoFrame.from_ndarray(rgb, format="rgb24"), j / 15)
    pipeline.finish(seconds)
    return [s.path for s in slices]


def large_user(image: np.ndarray, layout: MixedVideoLayout) -> int:  # type: ignore[type-arg]
    """Whose colour fills the large window (FLOAT: the canvas above the small windows;
    VERTICAL: the left window)."""
    big = compute_layout(layout, [1, 2, 3], 320, 180)[1]
    probe = big._replace(height=big.height // 3) if layout is MixedVideoLayout.FLOAT else big
    colour = np.array(window_colour(image, probe))
    return min(COLOURS, key=lambda uid: int(np.abs(colour - COLOURS[uid]).sum()))


def test_the_recording_shows_the_speaker_large(tmp_path: Path) -> None:
    for layout in (MixedVideoLayout.FLOAT, MixedVideoLayout.VERTICAL):
        folder = tmp_path / layout.name
        folder.mkdir()
        shown = [
            (t - PTS_OFFSET, large_user(image, layout))
            for t, image in iter_video(record(folder, layout))
        ]
        assert len(shown) == 8 * 15  # every frame decoded
        runs = [shown[0]] + [b for a, b in itertools.pairwise(shown) if a[1] != b[1]]
        # the first to join until user 1 has spoken enough, then user 1, then user 2
        # within 3 s of its first word; user 3's clicks never
        assert [uid for _, uid in runs] == [1, 2], (layout, runs)
        assert 4.0 < runs[1][0] <= 7.0, (layout, runs)


def test_max_resolution_uid_holds_the_large_window(tmp_path: Path) -> None:
    paths = record(tmp_path, MixedVideoLayout.VERTICAL, max_resolution_uid=3)
    assert {large_user(image, MixedVideoLayout.VERTICAL) for _, image in iter_video(paths)} == {3}
