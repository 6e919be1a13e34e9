"""The recorder's decryption: a wrong secret is reported after exactly
``BAD_FRAMES_BEFORE_REPORT`` consecutive failed frames, once (docs/encryption.md)."""

from __future__ import annotations

import os

import av

from core.channel.e2ee import Codec, E2eeKeys, FrameEncryptor
from core.channel.streams import EncodedFrame
from core.enums import DecryptionMode, VideoStreamType
from core.media.decrypt import BAD_FRAMES_BEFORE_REPORT, MediaOpener

MODE = DecryptionMode.AES_128_XTS
SECRET = "the recording's secret"


def delta_frame(keys: E2eeKeys, pts: int) -> EncodedFrame:
    """A VP8 inter frame encrypted with ``keys`` (random payload: it is never decoded,
    the decoder waits for a keyframe)."""
    clear = bytes([0x11]) + os.urandom(199)
    data = FrameEncryptor(keys).encrypt(Codec.VP8, clear)
    return EncodedFrame(data, "VP8", False, pts, VideoStreamType.HIGH, encrypted=True)


def test_a_wrong_secret_is_reported_after_five_consecutive_failed_frames_once() -> None:
    assert BAD_FRAMES_BEFORE_REPORT == 5  # the number docs/encryption.md gives
    errors: list[tuple[int, str]] = []
    keyframes: list[int] = []
    opener = MediaOpener(MODE, SECRET, lambda uid, m: errors.append((uid, m)), keyframes.append)
    right = E2eeKeys.derive(MODE, SECRET)
    wrong = E2eeKeys.derive(MODE, "another secret")
    pts = 0

    def push(keys: E2eeKeys, uid: int = 7) -> None:
        nonlocal pts
        pts += 6000
        assert opener.open(uid, "video", delta_frame(keys, pts), pts / 90_000) == []

    # Four failures, then a frame that decrypts: damage in transit, not reported.
    for _ in range(BAD_FRAMES_BEFORE_REPORT - 1):
        push(wrong)
    push(right)
    for _ in range(BAD_FRAMES_BEFORE_REPORT - 1):
        push(wrong)
    assert errors == []
    push(wrong)  # the fifth in a row
    assert errors == [
        (7, f"frames do not decrypt with {MODE.name} and this secret — check "
            "decryption_mode and secret"),
    ]  # fmt: skip
    for _ in range(20):
        push(wrong)
    assert len(errors) == 1  # once per user
    # Another user's count is its own.
    for _ in range(BAD_FRAMES_BEFORE_REPORT - 1):
        push(wrong, uid=8)
    assert len(errors) == 1
    push(wrong, uid=8)
    assert [uid for uid, _ in errors] == [7, 8]
    # Every failed frame was dropped; the one that decrypted waited for a keyframe.
    assert (
        opener.dropped == 2 * (BAD_FRAMES_BEFORE_REPORT - 1) + 1 + 1 + 20 + BAD_FRAMES_BEFORE_REPORT
    )
    assert keyframes == [7]


def test_frames_held_for_sender_reports_are_checked_as_they_arrive() -> None:
    """check() (frames the channel holds until the sender's first reports) reports a
    wrong secret after the same five failed frames, and the mismatches at once, without
    decoding; open() then sees the same frames again and reports nothing more."""
    errors: list[tuple[int, str]] = []
    opener = MediaOpener(MODE, SECRET, lambda uid, m: errors.append((uid, m)), lambda uid: None)
    wrong = E2eeKeys.derive(MODE, "another secret")
    frames = [delta_frame(wrong, 6000 * k) for k in range(BAD_FRAMES_BEFORE_REPORT)]
    for frame in frames[:-1]:
        opener.check(7, frame)
    assert errors == []
    opener.check(7, frames[-1])
    assert [uid for uid, _ in errors] == [7]
    for frame in frames:
        assert opener.open(7, "video", frame, 0.0) == []
    assert len(errors) == 1
    clear = av.AudioFrame(format="s16", layout="stereo", samples=960)
    opener.check(8, clear)  # a user who does not encrypt, in a decrypting recording
    plain = MediaOpener(
        DecryptionMode.NONE, None, lambda uid, m: errors.append((uid, m)), lambda uid: None
    )
    plain.check(9, frames[0])  # an encrypted user, in a recording without decryption
    plain.check(10, clear)  # as it should be
    assert [uid for uid, _ in errors] == [7, 8, 9]
