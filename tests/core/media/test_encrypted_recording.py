"""Recording encrypted channels: bots encrypt end to end, the recorder decrypts.

Checks decode what the recorder stored: every user's colour at its layout window for
the right mode and secret; only background and silence, plus a clear failure, when
the recorder cannot decrypt.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.config import RecordingConfig, TranscodingConfig
from core.enums import SANDBOX_APP_ID, DecryptionMode, MixedVideoLayout
from core.errors import ErrorCode
from core.layout import compute_layout
from core.media.recorder import Recorder, RecorderEvent, RecorderFailure, RecorderStatus
from core.media.segmenter import PTS_OFFSET
from core.participants.analysis import (
    beep_onsets,
    decode_audio,
    heard_from,
    iter_video,
    playlist_slices,
    window_colour,
)
from core.participants.synthetic import (
    BEEP_SAMPLES,
    TONE_AMPLITUDE,
    identify_uid,
    is_flash,
    tone_frequency,
)
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter
from tests.helpers import check_recording, wait_until
from tests.publishers import Publishers

SECRET = "s3cret passphrase"
WIDTH, HEIGHT = 320, 180
LAYOUT = MixedVideoLayout.BEST_FIT


class Recording:
    """A recorder of ``cname`` with its events (and their times) collected."""

    def __init__(self, server: object, root: Path, cname: str, uid: int, **config: object) -> None:
        self.out = root / f"out-{uid}"
        self.events: list[tuple[float, RecorderEvent]] = []
        tc = TranscodingConfig(width=WIDTH, height=HEIGHT, fps=15, bitrate=300, layout=LAYOUT)
        cfg = RecordingConfig(transcoding_config=tc, **config)  # type: ignore[arg-type]
        self.recorder = Recorder(
            server.registry,  # type: ignore[attr-defined]
            SANDBOX_APP_ID,
            cname,
            uid,
            f"sid{uid}",
            cfg,
            PlaylistWriter(
                LocalFolderDestination(self.out), f"sid{uid}_{cname}.m3u8", target_duration=2
            ),
            root / f"work-{uid}",
            slice_seconds=2,
            events=lambda e: self.events.append((time.monotonic(), e)),
        )
        self.playlist = self.out / f"sid{uid}_{cname}.m3u8"

    def failures(self) -> list[tuple[float, RecorderFailure]]:
        return [(t, e) for t, e in self.events if isinstance(e, RecorderFailure)]

    def paths(self) -> list[Path]:
        return [p for p, _ in playlist_slices(self.playlist)]


def check_tiles(
    playlist: Path,
    uids: list[int],
    shown: list[int],
    superseded: Sequence[tuple[int, float]] = (),
) -> None:
    """Every frame of the recording's last second shows each of ``shown`` in its window
    of ``uids`` (once a second, its flash), and the others' windows as background.

    One exception is the recorder's own account: a sender clock correction across a
    tick boundary loses one frame of a camera at the output rate (``docs/recorder.md``,
    "Clock corrections"), and the recorder lists it in ``superseded`` (uid, output
    time). A shown user's flash may be missing from the last second only when the
    recorder lists that user's frame lost where the flash was due: a second after the
    flash of the second before, to within a tick and a half.
    """
    media = check_recording(playlist, fps=15)
    assert media.video_frames >= 30
    windows = compute_layout(LAYOUT, uids, WIDTH, HEIGHT)
    paths = [p for p, _ in playlist_slices(playlist)]
    frames = list(iter_video(paths))
    last_second = frames[-15:]
    for uid in uids:
        colours = [window_colour(image, windows[uid]) for _, image in last_second]
        if uid in shown:
            assert all(is_flash(c) or identify_uid(c, uids) == uid for c in colours), uid
            flashes = sum(is_flash(c) for c in colours)
            if flashes == 0:
                before = [t for t, image in frames[-30:-15]
                          if is_flash(window_colour(image, windows[uid]))]  # fmt: skip
                assert len(before) == 1, (uid, before)
                due = before[0] - PTS_OFFSET + 1.0
                lost = [t for u, t in superseded if u == uid and abs(t - due) <= 1.5 / 15]
                assert lost, (uid, colours, due, superseded)
            else:
                assert flashes == 1, (uid, colours)
        else:
            assert all(max(c) <= 24 for c in colours), (uid, colours)  # the black background


def check_beeps(
    paths: list[Path], uids: list[int], jumps: Sequence[tuple[int, float, float]] = ()
) -> None:
    """A beep on every whole second from when every user is heard to the end.

    Beeps are a second apart to within 10 ms, except across a re-placement the recorder
    lists in ``jumps`` (uid, output time, seconds moved: a sender clock correction
    beyond the mixer's 40 ms continuity tolerance moves that user's audio, and with it
    the mix's beep onset, by up to the correction): between two beeps with such a
    jump, the spacing may differ from a second by the jump's size and 10 ms more.
    """
    audio = decode_audio(paths)
    assert audio is not None
    # every user's tone (0.25 in the mono mix) heard at half its level or more
    start = heard_from(audio, [tone_frequency(u) for u in uids], 0.5 * TONE_AMPLITUDE)
    assert start is not None, "the users are never heard together"
    # A beep already sounding when the audio begins (the recording started within its
    # 100 ms) has no rise in the recording: what the detector finds there is the start
    # of the audio, not an onset (run 10 of a loaded series at 791c087 found one 0.6 ms
    # after output 0, 50 ms off the true beep grid).
    sounding = np.flatnonzero(np.abs(audio.samples) > 0.01)
    first_sound = audio.start + (sounding[0] / audio.sample_rate if sounding.size else 0.0)
    seen_from = max(start, first_sound + BEEP_SAMPLES / audio.sample_rate)
    onsets = [b for b in beep_onsets(audio) if b > seen_from]
    end = audio.start + audio.duration
    # none missing: one a second, the first within a second of everyone being heard (and
    # a beep's length into the audio), the last within a second (and its 100 ms) of the end
    assert onsets, (start, end)
    for a, b in itertools.pairwise(onsets):
        moved = [abs(j) for _, t, j in jumps if a - PTS_OFFSET - 0.1 < t <= b - PTS_OFFSET]
        assert abs(b - a - 1.0) < 0.01 + max(moved, default=0.0), (onsets, jumps)
    assert onsets[0] - seen_from < 1.0 and end - onsets[-1] < 1.1, (onsets, seen_from, end)


@pytest.mark.parametrize(
    ("mode", "codec"),
    [
        (DecryptionMode.AES_128_XTS, "VP8"),
        (DecryptionMode.AES_128_ECB, "VP8"),
        (DecryptionMode.AES_256_XTS, "H264"),
    ],
    ids=["aes_128_xts-vp8", "aes_128_ecb-vp8", "aes_256_xts-h264"],
)
async def test_each_mode_records_three_encrypted_bots(
    channel_server: object, tmp_path: Path, mode: DecryptionMode, codec: str
) -> None:
    cname = f"enc-{mode.name.lower()}"
    rec = Recording(channel_server, tmp_path, cname, 4_000_000_001,
                    decryption_mode=mode, secret=SECRET)  # fmt: skip
    uids = [21, 22, 23]
    async with Publishers(channel_server.url, cname, uids, size=(160, 120), codec=codec,  # type: ignore[attr-defined]
                          encryption=mode.name, secret=SECRET):  # fmt: skip
        # From the senders' first second on: frames that arrive before a sender's first
        # reports are held until they come (docs/channel.md, "Timing and lip sync").
        await rec.recorder.start()
        await asyncio.sleep(4.5)  # the length of the recording
        await rec.recorder.stop()
    # shown when a check below fails: frames the renderer got after their tick was drawn,
    # frames lost to a full queue, and what sender clock corrections cost
    recorder = rec.recorder
    print(f"late {recorder.late_frames} dropped {recorder.dropped_frames} "
          f"lag {recorder.max_render_lag:.3f} s superseded {recorder.superseded_frames} "
          f"audio jumps {recorder.audio_jumps} arrival-timed {recorder.arrival_timed_frames}")  # fmt: skip
    assert recorder.status is RecorderStatus.STOPPED
    assert not rec.failures()
    check_tiles(rec.playlist, uids, shown=uids, superseded=recorder.superseded_frames)
    check_beeps(rec.paths(), uids, recorder.audio_jumps)


async def test_wrong_secret_is_a_failure_and_records_no_garbage(
    channel_server: object, tmp_path: Path
) -> None:
    mode = DecryptionMode.AES_128_XTS
    rec = Recording(channel_server, tmp_path, "wrong", 4_000_000_002,
                    decryption_mode=mode, secret="another secret")  # fmt: skip
    uids = [31, 32]
    async with Publishers(channel_server.url, "wrong", uids, size=(160, 120),  # type: ignore[attr-defined]
                          encryption=mode.name, secret=SECRET):  # fmt: skip
        await rec.recorder.start()
        started = time.monotonic()
        await wait_until(lambda: len(rec.failures()) == 2, 1.0)  # "within a second"
        await asyncio.sleep(1.5)  # the recording goes on
        await rec.recorder.stop()
    failures = rec.failures()
    assert {e.code for _, e in failures} == {ErrorCode.RECORDER_FAILED}
    assert sorted(e.message for _, e in failures) == [
        f"uid {uid}: frames do not decrypt with AES_128_XTS and this secret"
        " — check decryption_mode and secret"
        for uid in uids
    ]
    assert all(t - started < 1.0 for t, _ in failures), [t - started for t, _ in failures]
    assert all(SECRET not in e.message and "another secret" not in e.message for _, e in failures)
    # The recording goes on (the users' windows are laid out) but shows only background
    # and has only silence: nothing that failed its check was decoded.
    assert rec.recorder.status is RecorderStatus.STOPPED
    media = check_recording(rec.playlist, fps=15)
    paths = rec.paths()
    frames = list(iter_video(paths))
    assert len(frames) == media.video_frames >= 15
    for _, image in frames:
        assert int(image.max()) <= 24, "non-background pixels in the recording"
    audio = decode_audio(paths)
    assert audio is not None and float(np.abs(audio.samples).max()) < 0.01


async def test_mode_mismatch_and_unencrypted_users_are_reported_and_left_out(
    channel_server: object, tmp_path: Path
) -> None:
    """One channel, two recordings: AES_128_XTS and NONE.

    uid 41 encrypts with AES_128_XTS, 42 with AES_128_ECB, 43 does not encrypt. The
    XTS recording shows only 41 and reports 42 (mode mismatch) and 43 (no encryption);
    the unencrypted recording shows only 43 and reports 41 and 42 (encrypted).
    """
    cname = "mixed"
    xts = Recording(channel_server, tmp_path, cname, 4_000_000_003,
                    decryption_mode=DecryptionMode.AES_128_XTS, secret=SECRET)  # fmt: skip
    plain = Recording(channel_server, tmp_path, cname, 4_000_000_004)
    url = channel_server.url  # type: ignore[attr-defined]
    common = {"size": (160, 120)}
    async with (
        Publishers(url, cname, [41], encryption="AES_128_XTS", secret=SECRET, **common),
        Publishers(url, cname, [42], encryption="AES_128_ECB", secret=SECRET, **common),
        Publishers(url, cname, [43], **common),
    ):
        await xts.recorder.start()
        await plain.recorder.start()
        await asyncio.sleep(4.0)  # the length of the recordings
        await xts.recorder.stop()
        await plain.recorder.stop()
    uids = [41, 42, 43]
    assert sorted(e.message for _, e in xts.failures()) == [
        "uid 42: frames are encrypted with AES_128_ECB, not AES_128_XTS"
        " — check decryption_mode and secret",
        "uid 43: publishes without encryption, but the recording decrypts with AES_128_XTS:"
        " its media is not recorded — publish with AES_128_XTS or record with"
        " decryption_mode NONE",
    ]
    assert sorted(e.message for _, e in plain.failures()) == [
        f"uid {uid}: publishes media encrypted end to end, which this recording cannot"
        " decrypt — set decryption_mode and secret to the channel's"
        for uid in (41, 42)
    ]
    check_tiles(xts.playlist, uids, shown=[41], superseded=xts.recorder.superseded_frames)
    check_tiles(plain.playlist, uids, shown=[43], superseded=plain.recorder.superseded_frames)
