"""Individual recording of real publishers: each user's audio and video in playlists of
their own, decoded slice by slice, every frame."""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path

import av
import numpy as np
import pytest

from core.config import RecordingConfig, SnapshotConfig, TranscodingConfig
from core.enums import (
    DecryptionMode,
    RecordingMode,
    RecordingStreamType,
    StreamMode,
    VideoStreamType,
)
from core.media.playlist import track_playlist_name, track_slice_name
from core.media.recorder import RecorderFailure, RecorderStatus, SnapshotStored
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import playlist_slices
from core.participants.synthetic import identify_uid, is_flash, tone_frequency
from tests.core.media.test_recorder import SID, Recording, bots_in
from tests.helpers import AAC_FRAME_SAMPLES, wait_until
from tests.publishers import Publishers

SLICE = 2.0
WEBM_ROUNDING = 0.0005
"""WebM keeps times in milliseconds: a VP8 frame read back is up to half a millisecond
from its output time (a frame at 14.00297 s, before a stop at 14.002967 s, read 14.003:
series 11, run 3)."""


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


def tone_levels(samples: np.ndarray, uids: list[int]) -> dict[int, float]:  # type: ignore[type-arg]
    """The spectrum's magnitude at each user's tone (a second of samples, 1 Hz bins)."""
    spectrum = np.abs(np.fft.rfft(samples[:48_000] * np.hanning(48_000)))
    return {uid: float(spectrum[tone_frequency(uid)]) for uid in uids}


def only_tone_of(samples: np.ndarray, uid: int, uids: list[int]) -> None:  # type: ignore[type-arg]
    """Each second of ``samples`` holds ``uid``'s tone and no other user's. Another
    user's tone would be as loud as the own one (every bot's is 0.25); what 48 Kbps AAC
    and the 1 kHz beep (every user's) leave at another tone's frequency measured about
    -33 dB, so another tone must stay below a tenth (-20 dB) of the own one."""
    for second in range(len(samples) // 48_000):
        levels = tone_levels(samples[second * 48_000 : (second + 1) * 48_000], uids)
        own = levels.pop(uid)
        assert own > 100 and all(other < own / 10 for other in levels.values()), (
            uid,
            second,
            own,
            levels,
        )


async def test_three_users_make_six_tracks(channel_server: object, tmp_path: Path) -> None:
    """Users 11 and 12 from the start, 13 joining 10 s in, recorded 14 s: six playlists
    named as Agora names them, each slice playing alone; each video shows only its
    user's colour (and the flash once a second), each audio only its user's tone; every
    track starts with its user and runs to the stop, within a slice."""
    rec = Recording(channel_server, tmp_path, "solo", individual(), slice_seconds=SLICE)
    async with bots_in(channel_server, "solo", [11, 12]) as bots:
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 10.0, 15.0)
        joined = rec.output_time()
        await bots.join(13)
        await wait_until(lambda: rec.output_time() >= 14.0, 10.0)
        await rec.recorder.stop()
    # the cut: a little after the test asked (the stop runs in its own task)
    stopped = rec.recorder.stop_time
    assert stopped is not None
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
        # the track starts when the user does: a user there from the start with the
        # keyframe the subscription asked for (within a keyframe request's round trip),
        # a joiner with its first frame; a loaded run at be6acb7 started a user 1.6 s
        # late, its first keyframe dropped as captured before output time 0
        first_video = video[0][0]
        assert start - WEBM_ROUNDING <= first_video < start + 0.5, (uid, start, first_video)
        last_video = video[-1][0]
        assert stopped - SLICE < last_video <= stopped + WEBM_ROUNDING, (uid, last_video, stopped)
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
        assert start <= first_audio < start + 0.5, (uid, start, first_audio)
        assert len(samples) / 48_000 == pytest.approx(stopped - first_audio, abs=0.3)
        only_tone_of(samples, uid, [11, 12, 13])
    # not a single frame was decoded by the channel for the recording
    await asyncio.sleep(0)


async def test_original_stream_mode_copies_each_users_opus(
    channel_server: object, tmp_path: Path
) -> None:
    """Audio only with ``streamMode`` ``original`` (Agora's individual audio
    non-transcoding recording): one playlist per user holding Opus in MPEG-TS, nothing
    transcoded; each slice decodes alone, only its user's tone, from the start to the
    stop within a slice."""
    config = individual(stream_mode=StreamMode.ORIGINAL,
                        recording_stream_types=RecordingStreamType.AUDIO_ONLY)  # fmt: skip
    rec = Recording(channel_server, tmp_path, "opus", config, slice_seconds=SLICE)
    async with bots_in(channel_server, "opus", [41, 42]):
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 6.0, 15.0)
        stopped = rec.output_time()
        await rec.recorder.stop()
    assert rec.recorder.status is RecorderStatus.STOPPED and not rec.of(RecorderFailure)
    expected = sorted(track_playlist_name(SID, "opus", uid, "audio") for uid in (41, 42))
    assert sorted(p.name for p in rec.out.glob("*.m3u8")) == expected
    for uid in (41, 42):
        playlist = rec.out / track_playlist_name(SID, "opus", uid, "audio")
        for path, _ in playlist_slices(playlist):
            with av.open(str(path)) as container:
                assert container.streams[0].codec_context.name == "opus", path
        audio = decode_track(playlist)
        assert 0.0 <= audio[0][0] < 0.5, (uid, audio[0][0])
        samples = np.concatenate([f.to_ndarray()[0] for _, f in audio])  # type: ignore[union-attr]
        assert len(samples) / 48_000 == pytest.approx(stopped - audio[0][0], abs=0.3)
        only_tone_of(samples, uid, [41, 42])


async def test_lists_choose_the_tracks_and_a_rejoin_continues_the_playlist(
    channel_server: object, tmp_path: Path
) -> None:
    """With video taken of 31 only and audio of 32 only, those are the two playlists.
    31 leaves 3 s in and comes back 2 s later: its playlist goes on after a
    discontinuity, its frames jump by the absence (no frame captured while it was away),
    and the slice after the jump plays alone."""
    config = individual(subscribe_video_uids=("31",), subscribe_audio_uids=("32",))
    rec = Recording(channel_server, tmp_path, "lists", config, slice_seconds=SLICE)
    async with bots_in(channel_server, "lists", [31, 32]) as bots:
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 3.0)
        await bots.leave(31)
        left = rec.output_time()
        await wait_until(lambda: rec.output_time() >= left + 2.0)
        await bots.join(31)
        back = rec.output_time()
        await wait_until(lambda: rec.output_time() >= back + 3.0)
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    video = rec.out / track_playlist_name(SID, "lists", 31, "video")
    audio = rec.out / track_playlist_name(SID, "lists", 32, "audio")
    assert sorted(p.name for p in rec.out.glob("*.m3u8")) == sorted([video.name, audio.name])
    text = video.read_text()
    assert text.count("#EXT-X-DISCONTINUITY") == 1, text
    frames = decode_track(video)
    times = [t for t, _ in frames]
    jumps = [(a, b) for a, b in itertools.pairwise(times) if b - a > 0.5]
    assert len(jumps) == 1, jumps
    (before, after) = jumps[0]
    assert before <= left and after >= back - 1.5, (before, after, left, back)
    for _, frame in frames:
        rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)  # type: ignore[union-attr]
        colour = tuple(float(v) for v in np.median(rgb, axis=0))
        assert is_flash(colour) or identify_uid(colour, [31, 32]) == 31, colour
    sound = decode_track(audio)
    samples = np.concatenate([f.to_ndarray()[0] for _, f in sound])  # type: ignore[union-attr]
    only_tone_of(samples, 32, [31, 32])


@pytest.mark.parametrize("codec", ["VP8", "H264"])
async def test_encrypted_users_are_decrypted_not_decoded(
    channel_server: object, tmp_path: Path, codec: str
) -> None:
    """Users who encrypt end to end (AES-128-XTS) recorded individually with the
    channel's mode and secret: their tracks are stored decrypted, as sent (VP8 in WebM,
    H.264 in MPEG-TS), and decode to their colours and tones."""
    secret = "s3cret passphrase"
    config = individual(decryption_mode=DecryptionMode.AES_128_XTS, secret=secret)
    rec = Recording(channel_server, tmp_path, "sealed", config, slice_seconds=SLICE)
    async with Publishers(channel_server.url, "sealed", [41, 42], size=(160, 120),  # type: ignore[attr-defined]
                          codec=codec, encryption="AES_128_XTS", secret=secret):  # fmt: skip
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 4.0)
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    suffix = ".webm" if codec == "VP8" else ".ts"
    for uid in (41, 42):
        playlist = rec.out / track_playlist_name(SID, "sealed", uid, "video")
        assert all(path.suffix == suffix for path, _ in playlist_slices(playlist))
        frames = decode_track(playlist)
        assert len(frames) >= 2 * 15, len(frames)
        for _, frame in frames:
            rgb = frame.to_ndarray(format="rgb24").reshape(-1, 3)  # type: ignore[union-attr]
            colour = tuple(float(v) for v in np.median(rgb, axis=0))
            assert is_flash(colour) or identify_uid(colour, [41, 42]) == uid, colour
        sound = decode_track(rec.out / track_playlist_name(SID, "sealed", uid, "audio"))
        samples = np.concatenate([f.to_ndarray()[0] for _, f in sound])  # type: ignore[union-attr]
        only_tone_of(samples, uid, [41, 42])


async def test_snapshots_are_of_each_user(channel_server: object, tmp_path: Path) -> None:
    """A snapshot every 2 s of a 7.5 s individual recording: three JPEGs of each user,
    named as Agora names them, each showing that user alone, each taken from the first
    keyframe the track asked for at its due time (within half a second of it)."""
    config = individual(snapshot_config=SnapshotConfig(capture_interval=2))
    rec = Recording(channel_server, tmp_path, "shots", config, slice_seconds=SLICE)
    async with bots_in(channel_server, "shots", [51, 52]):
        await rec.recorder.start()
        # 1.5 s after the last due time (6 s): its keyframe asked for and delivered
        # (7 s left 1 s, which a loaded run missed once: 5 snapshots of 6)
        await wait_until(lambda: rec.output_time() >= 7.5)
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    stored = rec.of(SnapshotStored)
    assert len(stored) == 6 and len({s.name for s in stored}) == 6
    clock = rec.recorder.clock
    assert clock is not None
    for uid in (51, 52):
        mine = sorted((s for s in stored if f"__uid_s_{uid}__" in s.name), key=lambda s: s.time)
        assert [math.floor(s.time / 2) for s in mine] == [1, 2, 3], [s.time for s in mine]
        for s in mine:
            assert s.time % 2 < 0.5, s.time  # the keyframe asked for at the due time
            expected = track_slice_name(SID, "shots", uid, "video", clock.utc(s.time), ".jpg")
            assert s.name == expected
            with av.open(str(rec.out / s.name)) as container:
                picture = next(container.decode(video=0))
            rgb = picture.to_ndarray(format="rgb24").reshape(-1, 3)
            colour = tuple(float(v) for v in np.median(rgb, axis=0))
            assert is_flash(colour) or identify_uid(colour, [51, 52]) == uid, colour


async def test_the_low_stream_is_recorded_when_asked(
    channel_server: object, tmp_path: Path
) -> None:
    """``video_stream_type`` LOW: a dual-stream user's low video (half the size) is the
    one copied into its playlist."""
    config = individual(video_stream_type=VideoStreamType.LOW)
    rec = Recording(channel_server, tmp_path, "small", config, slice_seconds=SLICE)
    async with bots_in(channel_server, "small", [61], size=(320, 240), low_stream=True):
        await rec.recorder.start()
        await wait_until(lambda: rec.output_time() >= 3.0)
        await rec.recorder.stop()
    assert not rec.of(RecorderFailure)
    frames = decode_track(rec.out / track_playlist_name(SID, "small", 61, "video"))
    assert frames and {(f.width, f.height) for _, f in frames} == {(160, 120)}  # type: ignore[union-attr]
