"""The recorder's side of end-to-end encryption: decrypt, check and decode users' frames.

A :class:`MediaOpener` sits in front of the :class:`~core.media.pipeline.MixPipeline`,
in the recorder's worker thread. Every frame the channel delivers goes through
:meth:`MediaOpener.open`, which returns the decoded frames to feed the pipeline:

* Decoded frames (a publisher without encryption) pass as they are when the recording
  has no decryption mode; with a mode they are refused: the recording was asked for
  encrypted media, and a publisher that does not encrypt is reported, not recorded.
* :class:`~core.channel.streams.EncodedFrame` objects (a publisher that encrypts) are
  decrypted with the recording's mode and secret (:mod:`core.channel.e2ee`), then
  decoded with one PyAV decoder per user, kind and video stream. Video decoding
  starts on a keyframe (one is asked for whenever a decoder waits).

An opener made with ``decode=False`` (individual recording, which stores video as it
came) returns :class:`~core.channel.streams.EncodedFrame` objects instead: encrypted
ones decrypted, clear ones (an encoded subscription) as they are, each with its
``encrypted`` flag cleared; the same checks and reports apply.

Frames that do not decrypt are dropped, never decoded: no garbage reaches the
recording (the user's window stays background, its audio silent). Each user's
problem is reported once through ``on_error(uid, message)``: at once for a mode
mismatch or a missing encryption, after :data:`BAD_FRAMES_BEFORE_REPORT` consecutive
frames for a failed check value (a wrong secret), so a frame damaged in transit is
just dropped. Frames the channel holds back for their sender's first reports
(``docs/channel.md``, "The first second") are looked at as they arrive
(:meth:`MediaOpener.check`), so a problem is reported then, not when they come.
"""

from __future__ import annotations

import dataclasses
import fractions
import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field

import av

from core.channel.e2ee import Codec, DecryptError, E2eeKeys, FrameDecryptor
from core.channel.streams import EncodedFrame
from core.enums import DecryptionMode, VideoStreamType

logger = logging.getLogger(__name__)

BAD_FRAMES_BEFORE_REPORT = 5
"""Consecutive frames failing their check value before a wrong secret is reported."""

KEYFRAME_REQUEST_INTERVAL = 1.0
"""Seconds between two keyframe requests for one user."""

_TIME_BASES = {"audio": fractions.Fraction(1, 48_000), "video": fractions.Fraction(1, 90_000)}

DecodedFrame = av.AudioFrame | av.VideoFrame


def _codec_context(codec: Codec) -> av.VideoCodecContext | av.AudioCodecContext:
    if codec is Codec.VP8:
        return av.VideoCodecContext.create("libvpx", "r")  # as aiortc decodes VP8
    if codec is Codec.H264:
        video = av.VideoCodecContext.create("h264", "r")
        video.thread_type = "SLICE"  # frame threads would hold frames back
        return video
    audio = av.AudioCodecContext.create("libopus", "r")
    # The same output as the channel's decoded audio: 48 kHz s16 stereo.
    audio.format = "s16"
    audio.layout = "stereo"
    audio.sample_rate = 48_000
    return audio


@dataclass
class _Decoder:
    codec: Codec
    source: VideoStreamType | None
    context: av.VideoCodecContext | av.AudioCodecContext
    kind: str
    waiting_for_keyframe: bool
    times: dict[int, float] = field(default_factory=dict)

    @classmethod
    def create(cls, codec: Codec, source: VideoStreamType | None, kind: str) -> _Decoder:
        return cls(codec, source, _codec_context(codec), kind, codec is not Codec.OPUS)

    def decode(self, data: bytes, pts: int, when: float) -> list[tuple[DecodedFrame, float]]:
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = _TIME_BASES[self.kind]
        self.times[pts] = when
        out: list[tuple[DecodedFrame, float]] = []
        for frame in self.context.decode(packet):
            if not isinstance(frame, av.AudioFrame | av.VideoFrame):
                continue
            frame_time = self.times.pop(frame.pts, when) if frame.pts is not None else when
            out.append((frame, frame_time))
        if len(self.times) > 64:  # frames the decoder never returned
            self.times.clear()
        return out


@dataclass
class _UserState:
    bad_frames: int = 0
    held_bad_frames: int = 0  # the same count over frames checked early (check())
    reported: bool = False
    last_keyframe_request: float = -1e9
    decoders: dict[str, _Decoder] = field(default_factory=dict)


class MediaOpener:
    """Decrypts and decodes users' frames for one recording (thread-confined).

    ``on_error(uid, message)`` reports a user's problem (called at most once per
    user); ``request_keyframe(uid)`` asks the user for a video keyframe. Both are
    called from the calling thread: make them thread-safe.
    """

    def __init__(
        self,
        mode: DecryptionMode,
        secret: str | None,
        on_error: Callable[[int, str], None],
        request_keyframe: Callable[[int], None],
        *,
        decode: bool = True,
    ) -> None:
        self.mode = DecryptionMode(mode)
        self.decode = decode
        self._decryptor: FrameDecryptor | None = None
        if self.mode is not DecryptionMode.NONE:
            if not secret:
                raise ValueError(f"decryption mode {self.mode.name} needs a secret")
            self._decryptor = FrameDecryptor(E2eeKeys.derive(self.mode, secret))
        self._on_error = on_error
        self._request_keyframe = request_keyframe
        self._users: dict[int, _UserState] = {}
        self.dropped = 0
        """Frames dropped because they could not be decrypted or decoded."""

    def forget(self, uid: int) -> None:
        """``uid`` left: drop its decoders (a rejoin starts afresh, reports again)."""
        self._users.pop(uid, None)

    def open(
        self, uid: int, kind: str, frame: DecodedFrame | EncodedFrame, when: float
    ) -> list[tuple[DecodedFrame | EncodedFrame, float]]:
        """The frames (with their times) to record for ``frame`` of ``uid``: decoded,
        or with ``decode=False`` clear :class:`EncodedFrame` objects."""
        if not isinstance(frame, EncodedFrame) or not frame.encrypted:
            if self._decryptor is None:
                if isinstance(frame, EncodedFrame) and self.decode:
                    return self._open_encoded(uid, kind, frame, frame.data, when)
                return [(frame, when)]
            self._refuse_clear(uid)
            self.dropped += 1
            return []
        if self._decryptor is None:
            self._refuse_encrypted(uid)
            self.dropped += 1
            return []
        return self._open_encrypted(uid, kind, frame, when)

    def check(self, uid: int, frame: DecodedFrame | EncodedFrame) -> None:
        """Check ``frame`` of ``uid`` as :meth:`open` will, without decoding it, and
        report a problem as :meth:`open` does: for a frame the channel holds back until
        its sender's first reports (up to 3 s), so that a wrong mode or secret is
        reported when the user's frames arrive, not when they are released. Its
        failures are counted apart from :meth:`open`'s, which sees the frame again."""
        if not isinstance(frame, EncodedFrame) or not frame.encrypted:
            if self._decryptor is not None:
                self._refuse_clear(uid)
            return
        if self._decryptor is None:
            self._refuse_encrypted(uid)
            return
        state = self._users.setdefault(uid, _UserState())
        try:
            self._decryptor.decrypt(Codec.of(frame.codec), frame.data)
        except DecryptError as exc:
            if exc.reason == DecryptError.BAD_KEY:
                state.held_bad_frames += 1
                if state.held_bad_frames < BAD_FRAMES_BEFORE_REPORT:
                    return
            self._report(uid, f"{exc} — check decryption_mode and secret")
            return
        state.held_bad_frames = 0

    def _refuse_clear(self, uid: int) -> None:
        self._report(
            uid,
            f"publishes without encryption, but the recording decrypts with "
            f"{self.mode.name}: its media is not recorded — publish with "
            f"{self.mode.name} or record with decryption_mode NONE",
        )

    def _refuse_encrypted(self, uid: int) -> None:
        self._report(
            uid,
            "publishes media encrypted end to end, which this recording cannot "
            "decrypt — set decryption_mode and secret to the channel's",
        )

    def _open_encrypted(
        self, uid: int, kind: str, frame: EncodedFrame, when: float
    ) -> list[tuple[DecodedFrame | EncodedFrame, float]]:
        assert self._decryptor is not None
        state = self._users.setdefault(uid, _UserState())
        try:
            plain = self._decryptor.decrypt(Codec.of(frame.codec), frame.data)
        except DecryptError as exc:
            self.dropped += 1
            if exc.reason == DecryptError.BAD_KEY:
                state.bad_frames += 1
                if state.bad_frames < BAD_FRAMES_BEFORE_REPORT:
                    return []
            self._report(uid, f"{exc} — check decryption_mode and secret")
            return []
        state.bad_frames = 0
        if not self.decode:
            return [(dataclasses.replace(frame, data=plain, encrypted=False), when)]
        return self._open_encoded(uid, kind, frame, plain, when)

    def _open_encoded(
        self, uid: int, kind: str, frame: EncodedFrame, plain: bytes, when: float
    ) -> list[tuple[DecodedFrame | EncodedFrame, float]]:
        """Decode ``plain``, the clear bytes of ``frame``, from a keyframe on."""
        state = self._users.setdefault(uid, _UserState())
        codec = Codec.of(frame.codec)
        decoder = state.decoders.get(kind)
        if decoder is None or decoder.codec is not codec or decoder.source is not frame.source:
            decoder = state.decoders[kind] = _Decoder.create(codec, frame.source, kind)
        if decoder.waiting_for_keyframe:
            if not frame.keyframe:
                self.dropped += 1
                self._ask_keyframe(uid, state)
                return []
            decoder.waiting_for_keyframe = False
        try:
            return list(decoder.decode(plain, frame.pts, when))
        except av.FFmpegError as exc:
            # A damaged frame: start again on the next keyframe.
            logger.info("uid %s: %s frame not decodable: %s", uid, codec, exc)
            self.dropped += 1
            decoder.waiting_for_keyframe = kind == "video"
            if kind == "video":
                self._ask_keyframe(uid, state)
            return []

    def _ask_keyframe(self, uid: int, state: _UserState) -> None:
        now = _time.monotonic()
        if now - state.last_keyframe_request >= KEYFRAME_REQUEST_INTERVAL:
            state.last_keyframe_request = now
            self._request_keyframe(uid)

    def _report(self, uid: int, message: str) -> None:
        state = self._users.setdefault(uid, _UserState())
        if not state.reported:
            state.reported = True
            self._on_error(uid, message)
