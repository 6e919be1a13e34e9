"""Stream selection (Agora's subscription lists) and its update, on the decoded recording.

Four synthetic participants over WHIP; tiles are identified by their colour, voices by
their tone frequency (core.participants.synthetic). docs/rest-api.md, "Stream selection
and update", states the rules checked here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.enums import SANDBOX_APP_ID, MixedVideoLayout, VideoStreamType
from core.layout import compute_layout
from core.media.recorder import RecorderFailure
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import (
    DecodedAudio,
    beep_onsets,
    decode_audio,
    iter_video,
    tone_level,
    window_colour,
)
from core.participants.synthetic import TONE_AMPLITUDE, identify_uid, is_flash, tone_frequency
from core.selection import StreamSelection
from tests.core.media.test_recorder import Recording, bots_in, config
from tests.helpers import wait_until

UIDS = [1, 2, 3, 4]
CHANGE_BOUND = 2.0
"""Output seconds after an ``update`` by which the recording shows it (issue 17)."""

LEVEL_TOLERANCE = 0.05
"""A voice in the mix has its tone at the level it was sent at, within 5 % (the mixer adds
at unity gain; measured 0.6 s after a beep, as test_recorder.py does)."""

SILENT = 0.05 * TONE_AMPLITUDE
"""A voice not in the mix: its tone no louder than codec noise."""


def shown_uids(image: np.ndarray, uids: list[int]) -> list[int | None]:  # type: ignore[type-arg]
    """The uid each BEST_FIT window of ``uids`` shows (its own uid for a flash)."""
    shown: list[int | None] = []
    for uid, window in compute_layout(MixedVideoLayout.BEST_FIT, uids, 640, 360).items():
        colour = window_colour(image, window)
        shown.append(uid if is_flash(colour) else identify_uid(colour, UIDS))
    return shown


def check_voices(audio: DecodedAudio, start: float, end: float, voices: set[int]) -> None:
    """In output time [start, end): every voice of ``voices`` at its sent level 0.6 s after
    each beep (once a second; the beep replaces the tone for a moment), and every other
    voice silent in every 0.3 s window."""
    onsets = [b - PTS_OFFSET for b in beep_onsets(audio)]
    onsets = [b for b in onsets if start <= b and b + 0.9 <= end]
    assert len(onsets) >= 2, (start, end, onsets)
    for uid in voices:
        heard = [tone_level(audio, b + 0.6 + PTS_OFFSET, tone_frequency(uid)) for b in onsets]
        assert all(abs(v - TONE_AMPLITUDE) <= LEVEL_TOLERANCE * TONE_AMPLITUDE for v in heard), (
            uid, start, [round(v, 3) for v in heard],
        )  # fmt: skip
    t = start
    while t + 0.3 <= end:
        for uid in set(UIDS) - voices:
            level = tone_level(audio, t + PTS_OFFSET, tone_frequency(uid))
            # with the heard voices' levels there: a gap of 30 ms in a neighbour's tone
            # (30 Hz away) alone measures about SILENT at this frequency
            heard = {v: round(tone_level(audio, t + PTS_OFFSET, tone_frequency(v)), 4)
                     for v in voices}  # fmt: skip
            assert level <= SILENT, (uid, round(t, 2), round(level, 4), heard)
        t += 0.25


async def test_only_the_subscribed_tiles_and_voices_and_an_update_changes_them(
    channel_server: object, tmp_path: Path
) -> None:
    """Four users; video subscribed for 1 and 2, audio for 3 only: the mix shows exactly
    the tiles of 1 and 2 and has exactly the voice of 3, and uid 4, who joins later, is
    neither seen nor heard. Unsubscribed streams are not decoded. An update to video
    3 and 4, audio 4 takes 1 and 2 out (tiles gone), 3's voice out, and gives 3 and 4
    their tiles and 4 its voice, within 2 s of output time."""
    cfg = config(layout=MixedVideoLayout.BEST_FIT, background_color="#204080")
    cfg = cfg.model_copy(
        update={"subscribe_video_uids": ("1", "2"), "subscribe_audio_uids": ("3",)}
    )
    rec = Recording(channel_server, tmp_path, "selection", cfg, slice_seconds=2)
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "selection")  # type: ignore[attr-defined]

    def decoding(uid: int) -> tuple[bool, bool]:
        publisher = channel.publisher(uid)
        gates = publisher.gates
        return gates[None].is_open, gates[VideoStreamType.HIGH].is_open

    async with bots_in(channel_server, "selection", [1, 2, 3]) as bots:
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 1.0)
        await bots.join(4)  # joins later: the lists apply to it too
        await wait_until(lambda: 4 in rec.recorder.users)
        await wait_until(lambda: rec.output_time() >= 5.0)
        # (audio, video) decoded for the recording: only what it takes
        before = {uid: decoding(uid) for uid in UIDS}
        updated = rec.output_time()
        await rec.recorder.update_subscription(
            StreamSelection.of(subscribe_video_uids=["3", "4"], subscribe_audio_uids=["4"])
        )
        applied = rec.output_time()
        # stage two spans 3.5 s: at least two of its beeps are followed by 0.9 s of it
        await wait_until(lambda: rec.output_time() >= applied + CHANGE_BOUND + 3.5)
        after = {uid: decoding(uid) for uid in UIDS}
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    assert before == {1: (False, True), 2: (False, True), 3: (True, False), 4: (False, False)}
    assert after == {1: (False, False), 2: (False, False), 3: (False, True), 4: (True, True)}

    paths = rec.slice_paths()
    frames = [(t - PTS_OFFSET, image) for t, image in iter_video(paths)]
    first = [(t, shown_uids(image, [1, 2])) for t, image in frames if 1.5 <= t < updated]
    assert len(first) >= 2 * 15, len(first)
    assert all(shown == [1, 2] for _, shown in first), [s for s in first if s[1] != [1, 2]]
    second = [(t, shown_uids(image, [3, 4])) for t, image in frames if t >= updated]
    changed = next(t for t, shown in second if shown == [3, 4])
    print(f"the update shows in the picture {changed - updated:.3f} s of output time after it")
    settled = [(t, s) for t, s in second if t >= applied + CHANGE_BOUND]
    assert len(settled) >= 2 * 15, len(settled)
    assert all(shown == [3, 4] for _, shown in settled), [s for s in settled if s[1] != [3, 4]]

    audio = decode_audio(paths)
    assert audio is not None
    end = frames[-1][0]
    check_voices(audio, 1.5, updated, {3})
    check_voices(audio, applied + CHANGE_BOUND, end, {4})
