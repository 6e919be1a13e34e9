"""Recording encrypted channels: bots encrypt end to end, the recorder decrypts.

Checks decode what the recorder stored: every user's colour at its layout window for
the right mode and secret; only background and silence, plus a clear failure, when
the recorder cannot decrypt.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from core.config import RecordingConfig, TranscodingConfig
from core.enums import SANDBOX_APP_ID, DecryptionMode, MixedVideoLayout
from core.errors import ErrorCode
from core.layout import compute_layout
from core.media.recorder import Recorder, RecorderEvent, RecorderFailure, RecorderStatus
from core.participants.analysis import (
    beep_onsets,
    decode_audio,
    iter_video,
    playlist_slices,
    window_colour,
)
from core.participants.bots import run_bots
from core.participants.synthetic import identify_uid
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter

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


def check_tiles(paths: list[Path], uids: list[int], shown: list[int]) -> None:
    """The last second of video shows each of ``shown`` in its window of ``uids``."""
    windows = compute_layout(LAYOUT, uids, WIDTH, HEIGHT)
    frames = list(iter_video(paths))
    assert len(frames) >= 30
    for uid in uids:
        found = [
            identify_uid(window_colour(image, windows[uid]), uids) for _, image in frames[-15:]
        ]
        expected = uid if uid in shown else None
        # A flash (white) frame identifies no uid; every other frame shows the uid.
        assert found.count(expected) >= 12, (uid, found)


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
    async with run_bots(channel_server.url, channel=cname, uids=uids, size=(160, 120),  # type: ignore[attr-defined]
                        low_stream=False, codec=codec, encryption=mode, secret=SECRET):  # fmt: skip
        await rec.recorder.start()
        await asyncio.sleep(4.5)
        await rec.recorder.stop()
    assert rec.recorder.status is RecorderStatus.STOPPED
    assert not rec.failures()
    paths = rec.paths()
    check_tiles(paths, uids, shown=uids)
    audio = decode_audio(paths)
    assert audio is not None and len(beep_onsets(audio)) >= 3


async def test_wrong_secret_is_a_failure_and_records_no_garbage(
    channel_server: object, tmp_path: Path
) -> None:
    mode = DecryptionMode.AES_128_XTS
    rec = Recording(channel_server, tmp_path, "wrong", 4_000_000_002,
                    decryption_mode=mode, secret="another secret")  # fmt: skip
    uids = [31, 32]
    async with run_bots(channel_server.url, channel="wrong", uids=uids, size=(160, 120),  # type: ignore[attr-defined]
                        low_stream=False, encryption=mode, secret=SECRET):  # fmt: skip
        started = time.monotonic()
        await rec.recorder.start()
        await asyncio.sleep(4.5)
        await rec.recorder.stop()
    failures = rec.failures()
    assert {e.code for _, e in failures} == {ErrorCode.RECORDER_FAILED}
    assert sorted(e.message for _, e in failures) == [
        f"uid {uid}: frames do not decrypt with AES_128_XTS and this secret"
        " — check decryption_mode and secret"
        for uid in uids
    ]
    assert all(t - started < 3.0 for t, _ in failures), [t - started for t, _ in failures]
    assert all(SECRET not in e.message and "another secret" not in e.message for _, e in failures)
    # The recording goes on (the users' windows are laid out) but shows only background
    # and has only silence: nothing that failed its check was decoded.
    assert rec.recorder.status is RecorderStatus.STOPPED
    paths = rec.paths()
    frames = list(iter_video(paths))
    assert len(frames) >= 30
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
    common = {"channel": cname, "size": (160, 120), "low_stream": False}
    async with (
        run_bots(url, uids=[41], encryption=DecryptionMode.AES_128_XTS, secret=SECRET, **common),  # type: ignore[arg-type]
        run_bots(url, uids=[42], encryption=DecryptionMode.AES_128_ECB, secret=SECRET, **common),  # type: ignore[arg-type]
        run_bots(url, uids=[43], **common),  # type: ignore[arg-type]
    ):
        await xts.recorder.start()
        await plain.recorder.start()
        await asyncio.sleep(4.0)
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
    check_tiles(xts.paths(), uids, shown=[41])
    check_tiles(plain.paths(), uids, shown=[43])
