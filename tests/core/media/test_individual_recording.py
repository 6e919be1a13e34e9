"""Individual recording of real publishers: each user's audio and video in playlists of
their own, decoded slice by slice, every frame."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from core.config import RecordingConfig, TranscodingConfig
from core.enums import RecordingMode
from core.media.playlist import track_playlist_name
from core.media.recorder import RecorderFailure, RecorderStatus
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import playlist_slices
from core.participants.synthetic import identify_uid, is_flash, tone_frequency
from tests.core.media.test_recorder import SID, Recording, bots_in
from tests.helpers import AAC_FRAME_SAMPLES, wait_until

SLICE = 2.0


def individual(**fields: object) -> RecordingConfig:
    tc = TranscodingConfig(width=640, height=360, fps=15, bitrate=500)
    return RecordingConfig(recording_mode=RecordingMode.INDIVIDUAL, transcoding_config=tc,
                           **fields)  # type: ignore[arg-type]  # fmt: skip


def decode_track(playlist: Path) -> list[tuple[float, av.VideoFrame | av.AudioFrame]]:
    """Every frame of every slice of a track's playlist, each slice decoded on its own
    (any decoding error fails), as (output time, frame): MPEG-TS slices carry
    PTS_OFFSET, WebM ones the output time itself."""
    out: list[tuple[float, av.VideoFrame | av.AudioFrame]] = []
    slices = playlist_slices(playlist)
    assert slices, playlist
    for path, listed in slices:
        offset = PTS_OFFSET if path.suffix == ".ts" else 0.0
        with av.open(str(path)) as container:
            assert len(container.streams) == 1, path  # one track per file
            try:
                frames = [(float(f.time or 0.0) - offset, f)
                          for f in container.decode(container.streams[0])]  # fmt: skip
            except av.FFmpegError as exc:
                raise AssertionError(f"{path.name}: {exc}") from exc
        assert frames, path
        out += frames  # type: ignore[arg-type]
        assert listed > 0
    return out


def dominant_frequency(samples: np.ndarray) -> int:  # type: ignore[type-arg]
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return int(np.argmax(spectrum[: len(samples) // 48]) * 48_000 / len(samples))


async def test_three_users_make_six_tracks(channel_server: object, tmp_path: Path) -> None:
    """Users 11 and 12 from the start, 13 joining 3 s in, recorded 8 s: six playlists
    named as Agora names them, each slice playing alone; each video shows only its
    user's colour (and the flash once a second), each audio only its user's tone; every
    track starts with its user and runs to the stop, within a slice."""
    rec = Recording(channel_server, tmp_path, "solo", individual(), slice_seconds=SLICE)
    async with bots_in(channel_server, "solo", [11, 12]) as bots:
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 3.0)
        joined = rec.output_time()
        await bots.join(13)
        await wait_until(lambda: rec.output_time() >= 8.0)
        stopped = rec.output_time()
        await rec.recorder.stop()
    r = rec.recorder
    assert r.status is RecorderStatus.STOPPED and not rec.of(RecorderFailure)
    assert bots.skipped == 0
    names = sorted(p.name for p in rec.out.glob("*.m3u8"))
    expected = sorted(track_playlist_name(SID, "solo", uid, kind)
                      for uid in (11, 12, 13) for kind in ("audio", "video"))  # fmt: skip
    assert names == expected  # and no playlist of the recording's own: it has no mix
    for uid in (11, 12, 13):
        video = decode_track(rec.out / track_playlist_name(SID, "solo", uid, "video"))
        audio = decode_track(rec.out / track_playlist_name(SID, "solo", uid, "audio"))
        start = joined if uid == 13 else 0.0
        # the track starts when the user does (a joiner's first frames: up to a
        # keyframe request's round trip and its first sender reports later)
        first_video = video[0][0]
        assert start <= first_video < start + 1.5, (uid, start, first_video)
        last_video = video[-1][0]
        assert stopped - SLICE < last_video <= stopped, (uid, last_video, stopped)
        times = [t for t, _ in video]
        assert all(b > a for a, b in itertools.pairwise(times))
        flashes = 0
        for t, frame in video:
            assert isinstance(frame, av.VideoFrame)
            rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)
            colour = tuple(float(v) for v in np.median(rgb, axis=0))
            flash = is_flash(colour)
            flashes += flash
            assert flash or identify_uid(colour, [11, 12, 13]) == uid, (uid, t, colour)
        assert flashes >= int(last_video - first_video) - 1, (uid, flashes)
        # audio: continuous from the user's first frame, only the user's tone
        samples = np.concatenate([f.to_ndarray()[0] for _, f in audio])  # type: ignore[union-attr]
        # (the AAC encoder's priming frame is stamped 1024 samples before the first one)
        first_audio = audio[0][0] + AAC_FRAME_SAMPLES / 48_000
        assert start <= first_audio < start + 1.5, (uid, start, first_audio)
        assert len(samples) / 48_000 == pytest.approx(stopped - first_audio, abs=0.3)
        tone = tone_frequency(uid)
        for second in range(int(len(samples) / 48_000) - 1):
            # the 0.7 s between two beeps: the tone alone
            window = samples[second * 48_000 + 9_600 : second * 48_000 + 43_200]
            assert abs(dominant_frequency(window) - tone) <= 3, (uid, second)
    # not a single frame was decoded by the channel for the recording
    await asyncio.sleep(0)
