"""Individual recording: each user's audio and video in their own files.

Agora's individual mode (``mode=individual``, ``streamMode`` ``default``) records every
user's video as it came and transcodes the audio; cloudrec does the same
(``docs/recorder.md``, "Individual recording"):

* **Video is copied, never decoded.** H.264 goes into MPEG-TS slices; VP8, which
  MPEG-TS cannot carry, into WebM slices, as Agora does for VP8 from browsers. A slice
  starts on a keyframe: a frame before a slice is :attr:`Segmenter.slice_seconds`
  long, the track asks its sender for a keyframe (RTCP PLI), and cuts at the first
  keyframe from the boundary on. A picture size or codec
  change starts a new slice at that keyframe (a WebM file has one size).
* **Audio is transcoded** from Opus to AAC-LC (48 kHz mono, 48 Kbps: Agora's profile
  for individual audio) in MPEG-TS slices, cut on the slice grid. It is continuous
  from the user's first audio frame: a gap (lost packets, a muted sender) is silence,
  an overlap is trimmed, so the file's time is the output time. With ``streamMode``
  ``original`` nothing is transcoded: the Opus packets go into MPEG-TS slices as sent
  (:class:`AudioCopyTrack`), as Agora's individual audio non-transcoding recording
  writes them; the AAC encoder is most of a transcoded user's cost (docs/recorder.md).

**Snapshots** (``snapshot_config``) are of each user, as Agora takes them in this mode:
every ``capture_interval`` seconds of output a user's track asks for a keyframe and
decodes that one keyframe alone (no decoder runs between snapshots) into a JPEG named
``<sid>_<cname>__uid_s_<uid>__uid_e_video_<UTC>.jpg``.

Timestamps are output times (the recording's timeline, :class:`~core.media.timeline.OutputClock`),
so every user's files line up with each other: a user who joins at 10 s has files
whose first timestamp is 10 s (plus :data:`~core.media.segmenter.PTS_OFFSET` in
MPEG-TS). A track ends when its user leaves or stops being recorded; a new track of
the same user and kind continues the same playlist after a discontinuity.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from core.channel.picture_size import keyframe_size
from core.channel.streams import EncodedFrame
from core.enums import AudioProfile
from core.media.encoder import AudioEncoder, EncodedPacket
from core.media.segmenter import Segmenter, StreamSpec
from core.media.slices import ClosedSlice
from core.media.snapshots import Snapshot, SnapshotTaker

logger = logging.getLogger(__name__)

AUDIO_PROFILE = AudioProfile.MUSIC_STANDARD
"""Individual audio: 48 kHz, mono, 48 Kbps LC-AAC (Agora's transcoded individual audio)."""

FIRST_KEYFRAME_GRACE = 0.1
"""Seconds before output time 0 within which a track's first keyframe opens it at 0.
The output clock starts on the next whole tick of the wall clock (up to a 1/fps after
the recorder subscribed), and the keyframe the subscription asked for is often captured
in between: dropped as before the recording, the track waited for the next keyframe it
asked for, after the user's frames held for its first sender reports (a loaded run
started a present user's video 1.6 s late)."""

KEYFRAME_INTERVAL = 0.5
"""Seconds of the track's media between two keyframe requests while it waits for one."""

DEFAULT_FPS = 15
"""The frame rate a video slice's header states before the track measured one."""

_VIDEO_TIME_BASE = Fraction(1, 90_000)
_MIN_STEP = 90  # 1 ms in 90 kHz ticks
_AUDIO_FRAME = 960  # 20 ms at 48 kHz: a gap or overlap below this is jitter, absorbed
_CONTAINERS = {"H264": ("h264", "mpegts"), "VP8": ("vp8", "webm")}

NameFor = Callable[[float, str], str]
"""Names a slice of a track: (its start on the output timeline, its suffix) -> file name."""


_DECODERS = {"H264": "h264", "VP8": "libvpx"}


class UserSnapshots:
    """JPEGs of one user's video every ``interval`` seconds of output, each decoded from
    the first keyframe at or after its due time ``k * interval`` (k = 1, 2, ...), which
    the track asks its sender for. A :class:`SnapshotTaker` (``name_for``,
    ``on_snapshot``, ``on_error``: see there) encodes and writes them, as in mix mode."""

    def __init__(
        self,
        interval: float,
        work_dir: Path,
        name_for: Callable[[float], str],
        on_snapshot: Callable[[Snapshot], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.taker = SnapshotTaker(interval, work_dir, name_for, on_snapshot, on_error)
        self._on_error = on_error

    def due(self, time: float) -> bool:
        """Whether a snapshot is due at output ``time`` (ask for a keyframe then)."""
        return self.taker.due(time)

    def offer(self, frame: EncodedFrame, time: float) -> bool:
        """A frame of the track; a due keyframe becomes a snapshot (numbered 0, 1, ...
        per user: the recording numbers them over its users). Whether one was taken."""
        if not frame.keyframe or not self.due(time):
            return False
        try:
            decoder = av.VideoCodecContext.create(_DECODERS[frame.codec], "r")
            assert isinstance(decoder, av.VideoCodecContext)
            pictures = [p for p in decoder.decode(av.Packet(frame.data))
                        if isinstance(p, av.VideoFrame)]  # fmt: skip
        except av.FFmpegError as exc:
            pictures, error = [], str(exc)
        else:
            error = "the keyframe gave no picture"
        if not pictures:
            self._on_error(f"the snapshot of output time {time:.3f} s failed: {error}")
            return False
        taken = self.taker.taken
        self.taker.offer(time, pictures[0])
        return self.taker.taken > taken


class VideoTrack:
    """One user's video, copied into slices from its first keyframe on.

    ``request_keyframe`` asks the sender for a keyframe; ``on_slice`` receives each
    closed slice. Call :meth:`push` with every frame in order, :meth:`close` at the end.
    """

    def __init__(
        self,
        work_dir: Path,
        slice_seconds: float,
        name_for: NameFor,
        on_slice: Callable[[ClosedSlice], None],
        request_keyframe: Callable[[], None],
        snapshots: UserSnapshots | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.snapshots = snapshots
        self.slice_seconds = slice_seconds
        self._name_for = name_for
        self._on_slice = on_slice
        self._request_keyframe = request_keyframe
        self._asked_at = float("-inf")
        self._now = 0.0  # the output time of the frame being pushed
        self._segmenter: Segmenter | None = None
        self._format: tuple[str, tuple[int, int]] | None = None  # codec, size
        self._pending: tuple[EncodedFrame, int] | None = None  # the last frame, its pts
        self._period = round(_VIDEO_TIME_BASE.denominator / DEFAULT_FPS)
        self.frames = 0
        """Frames written."""
        self.skipped = 0
        """Frames dropped before the first keyframe (or of a codec it cannot store)."""

    def push(self, frame: EncodedFrame, time: float) -> None:
        """``frame`` captured at output ``time``. Frames before time 0 are not recorded,
        but for a first keyframe just before it (:data:`FIRST_KEYFRAME_GRACE`); once the
        track has started no frame is left out (each refers to the one before: one
        missing would smear every picture up to the next keyframe), one stamped before
        0 (a sender clock correction) is placed right after the one before."""
        started = self._segmenter is not None
        if time < 0 and (started or (frame.keyframe and time > -FIRST_KEYFRAME_GRACE)):
            time = 0.0  # its pts: just after the frame before (strictly increasing)
        if time < 0 or frame.codec not in _CONTAINERS:
            self.skipped += 1
            return
        self._now = time
        size = keyframe_size(frame.codec, frame.data) if frame.keyframe else None
        if self._segmenter is None and size is None:
            self.skipped += 1
            self._ask()
            return
        pts = round(time / _VIDEO_TIME_BASE)
        if self._pending is not None:
            last_pts = self._pending[1]
            # strictly increasing, whatever the clock did, by 1 ms at least: WebM keeps
            # milliseconds, and two frames 1/90000 s apart had the same time there
            pts = max(pts, last_pts + _MIN_STEP)
            self._period = pts - last_pts
            if size is not None and (frame.codec, size) != self._format:
                self._write_pending(self._period)
                self._finish_segmenter()
            else:
                self._write_pending(self._period)
        if self._segmenter is None:
            assert size is not None
            logger.debug("video track starts at %.3f (%s %dx%d) after %d frames skipped",
                         time, frame.codec, size[0], size[1], self.skipped)  # fmt: skip
            self._segmenter = self._start_segmenter(frame.codec, size)
        self._pending = (frame, pts)
        # ask a frame ahead: a sender that answers at once cuts on the slice grid
        boundary = self._segmenter.next_boundary
        ahead = float((pts + self._period) * _VIDEO_TIME_BASE)
        if boundary is not None and ahead >= boundary - 1e-6:
            self._ask()
        shots = self.snapshots
        if shots is not None and not shots.offer(frame, time) and shots.due(ahead):
            self._ask()

    def close(self) -> None:
        """Write the last frame (lasting a frame period) and close the last slice."""
        self._write_pending(self._period)
        self._finish_segmenter()

    def _ask(self) -> None:
        if self._now - self._asked_at >= KEYFRAME_INTERVAL:
            logger.debug("video track asks for a keyframe at %.3f", self._now)
            self._asked_at = self._now
            self._request_keyframe()

    def _start_segmenter(self, codec: str, size: tuple[int, int]) -> Segmenter:
        name, container = _CONTAINERS[codec]
        fps = max(1, round(_VIDEO_TIME_BASE.denominator / self._period))
        spec = StreamSpec(video=(size[0], size[1], fps), video_codec=name, format=container)
        self._format = (codec, size)
        return Segmenter(
            self.work_dir,
            spec,
            self.slice_seconds,
            lambda start: self._name_for(start, spec.suffix),
            self._on_slice,
            origin=None,
            on_keyframe_wanted=self._ask,
        )

    def _write_pending(self, duration: int) -> None:
        if self._pending is None or self._segmenter is None:
            return
        frame, pts = self._pending
        self._pending = None
        packet = EncodedPacket("video", frame.data, pts, pts, duration, _VIDEO_TIME_BASE,
                               frame.keyframe)  # fmt: skip
        self._segmenter.write([packet])
        self.frames += 1

    def _finish_segmenter(self) -> None:
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None
            self._format = None


def _track_segmenter(
    work_dir: Path,
    spec: StreamSpec,
    slice_seconds: float,
    name_for: NameFor,
    on_slice: Callable[[ClosedSlice], None],
) -> Segmenter:
    """An audio track's slices: ``spec``'s container, on a grid from its first packet."""
    return Segmenter(
        work_dir,
        spec,
        slice_seconds,
        lambda start: name_for(start, spec.suffix),
        on_slice,
        origin=None,
    )


class AudioTrack:
    """One user's audio, decoded and encoded to AAC, continuous from its first frame."""

    def __init__(
        self,
        work_dir: Path,
        slice_seconds: float,
        name_for: NameFor,
        on_slice: Callable[[ClosedSlice], None],
    ) -> None:
        self._encoder = AudioEncoder(AUDIO_PROFILE)
        self._rate = self._encoder.sample_rate
        spec = StreamSpec(audio=(self._rate, self._encoder.channels))
        self._segmenter = _track_segmenter(work_dir, spec, slice_seconds, name_for, on_slice)
        self._decoder: av.AudioCodecContext | None = None
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self._rate)
        self._origin: int | None = None  # output sample of the first sample
        self._written = 0  # samples given to the encoder
        self.gaps = 0
        """Gaps filled with silence (more than a frame of samples missing)."""

    def push(self, frame: EncodedFrame | av.AudioFrame, time: float) -> None:
        """An Opus frame (or a decoded one) captured at output ``time``."""
        if time < 0:
            return
        if isinstance(frame, EncodedFrame):
            if self._decoder is None:
                self._decoder = av.CodecContext.create("libopus", "r")
            assert self._decoder is not None
            decoded = self._decoder.decode(av.Packet(frame.data))
        else:
            decoded = [frame]
        for d in decoded:
            for resampled in self._resampler.resample(d):
                samples = resampled.to_ndarray().reshape(1, -1).astype(np.float32)
                self._add(samples, time)
                time += samples.shape[1] / self._rate

    def close(self) -> None:
        """Encode what is left and close the last slice."""
        self._segmenter.write(self._shifted(self._encoder.flush()))
        self._segmenter.close()

    def _add(self, samples: npt.NDArray[np.float32], time: float) -> None:
        position = round(time * self._rate)
        if self._origin is None:
            self._origin = position
        expected = self._origin + self._written
        if position - expected > _AUDIO_FRAME:  # a gap: silence up to this frame
            self.gaps += 1
            silence = np.zeros((1, position - expected), dtype=np.float32)
            self._encode(silence)
        elif expected - position > _AUDIO_FRAME:  # an overlap: drop what was written
            samples = samples[:, expected - position :]
            if samples.shape[1] == 0:
                return
        self._encode(samples)

    def _encode(self, samples: npt.NDArray[np.float32]) -> None:
        self._written += samples.shape[1]
        self._segmenter.write(self._shifted(self._encoder.encode(samples)))

    def _shifted(self, packets: list[EncodedPacket]) -> list[EncodedPacket]:
        """The encoder counts from 0: place its packets at the track's origin."""
        origin = self._origin or 0
        return [dataclasses.replace(p, pts=p.pts + origin, dts=p.dts + origin) for p in packets]


OPUS_RATE = 48_000
"""Opus timestamps count 48 kHz samples whatever the coded bandwidth (RFC 7587)."""


def opus_samples(packet: bytes) -> int:
    """The 48 kHz samples an Opus packet holds, read from its TOC byte and frame count
    (RFC 6716, section 3.1); 0 for a malformed packet or one over 120 ms."""
    if not packet:
        return 0
    toc = packet[0]
    config = toc >> 3
    if config < 12:  # SILK: 10, 20, 40 or 60 ms frames
        per_frame = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:  # hybrid: 10 or 20 ms
        per_frame = (480, 960)[config % 2]
    else:  # CELT: 2.5, 5, 10 or 20 ms
        per_frame = (120, 240, 480, 960)[config % 4]
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    elif len(packet) < 2:
        return 0
    else:
        frames = packet[1] & 0x3F
    total = per_frame * frames
    return total if 0 < total <= 5760 else 0


class AudioCopyTrack:
    """One user's audio as sent: its Opus packets copied into MPEG-TS slices, nothing
    decoded or encoded (``streamMode`` ``original``, Agora's individual audio
    non-transcoding recording).

    Packets keep their place on the output timeline: jitter under a frame is absorbed
    (each packet follows the one before), a gap stays a gap (a muted or silent sender
    sends nothing to record, as Agora's non-transcoding recording records nothing for
    silenced audio), and a packet that would overlap the one before by more than a
    frame is dropped (an Opus packet cannot be trimmed)."""

    def __init__(
        self,
        work_dir: Path,
        slice_seconds: float,
        name_for: NameFor,
        on_slice: Callable[[ClosedSlice], None],
    ) -> None:
        spec = StreamSpec(audio=(OPUS_RATE, 2), audio_codec="opus")
        self._segmenter = _track_segmenter(work_dir, spec, slice_seconds, name_for, on_slice)
        self._next: int | None = None  # the 48 kHz sample just after the last packet
        self.gaps = 0
        """Gaps left in the track (more than a frame of samples missing)."""
        self.dropped = 0
        """Packets not written: malformed, decoded audio, or overlapping."""

    def push(self, frame: EncodedFrame | av.AudioFrame, time: float) -> None:
        """An Opus packet captured at output ``time``."""
        if time < 0:
            return
        if not isinstance(frame, EncodedFrame):  # an encoded subscription delivers packets
            self.dropped += 1
            return
        samples = opus_samples(frame.data)
        if samples == 0:
            self.dropped += 1
            return
        pts = round(time * OPUS_RATE)
        if self._next is not None:
            if pts - self._next > _AUDIO_FRAME:
                self.gaps += 1
            elif self._next - pts > _AUDIO_FRAME:
                self.dropped += 1
                return
            else:
                pts = self._next
        self._next = pts + samples
        packet = EncodedPacket(
            kind="audio",
            data=frame.data,
            pts=pts,
            dts=pts,
            duration=samples,
            time_base=Fraction(1, OPUS_RATE),
            keyframe=True,
        )
        self._segmenter.write([packet])

    def close(self) -> None:
        """Close the last slice."""
        self._segmenter.close()


class IndividualPipeline:
    """Every user's tracks of one individual recording (the recorder's worker thread).

    It stands where a mix recording has its :class:`~core.media.pipeline.MixPipeline`
    and takes the same calls: frames (as they came: :class:`EncodedFrame` objects,
    or decoded audio), joins and leaves, and the render point, which here only moves
    the output time on (nothing is composed). A user's track starts with the user's
    first frame of that kind and ends when the user leaves (or stops being recorded);
    frames captured before that leave that come later are dropped, and a later frame
    starts a new track in the same playlist, after a discontinuity.

    ``playlist_for(uid, kind)`` names a track's playlist, ``name_for(uid, kind, start,
    suffix)`` its slices; ``on_slice`` gets every closed slice, numbered in closing
    order across the recording; ``request_keyframe(uid)`` asks a user for a keyframe.
    With ``snapshot_interval``, each user's video is snapshotted (:class:`UserSnapshots`)
    and ``on_snapshot`` gets the JPEGs, numbered across the recording.
    """

    compositor = None
    mixer = None
    frames_late = 0
    superseded: tuple[tuple[int, float], ...] = ()

    def __init__(
        self,
        work_dir: Path,
        slice_seconds: float,
        tick_rate: int,
        playlist_for: Callable[[int, str], str],
        name_for: Callable[[int, str, float, str], str],
        on_slice: Callable[[ClosedSlice], None],
        request_keyframe: Callable[[int], None],
        *,
        snapshot_interval: float | None = None,
        on_snapshot: Callable[[Snapshot], None] = lambda snapshot: None,
        on_error: Callable[[str], None] = lambda message: None,
        copy_audio: bool = False,
    ) -> None:
        self.work_dir = work_dir
        self.copy_audio = copy_audio
        """Audio as sent (Opus, ``streamMode`` ``original``) instead of AAC."""
        self.slice_seconds = slice_seconds
        self.tick_rate = tick_rate
        self.snapshot_interval = snapshot_interval
        self._on_snapshot = on_snapshot
        self._on_error = on_error
        self._snapshots = 0
        self._playlist_for = playlist_for
        self._name_for = name_for
        self._on_slice = on_slice
        self._request_keyframe = request_keyframe
        self._tracks: dict[tuple[int, str], VideoTrack | AudioTrack | AudioCopyTrack] = {}
        self._ended: dict[tuple[int, str], float] = {}  # (uid, kind) -> output time it ended
        self._started: set[str] = set()  # playlists with a slice already
        self._slices = 0
        self._output_time = 0.0
        self.on_picture: Callable[[float, av.VideoFrame], None] | None = None
        self.frames_dropped = 0
        """Frames dropped: captured before their track ended (the user had left)."""

    @property
    def output_time(self) -> float:
        """The output time rendered up to."""
        return self._output_time

    @property
    def tracks(self) -> list[tuple[int, str]]:
        """The open tracks, as (uid, kind)."""
        return list(self._tracks)

    def push_video(self, uid: int, frame: EncodedFrame, time: float) -> None:
        """``uid``'s video frame captured at output ``time``."""
        track = self._track(uid, "video", time)
        if isinstance(track, VideoTrack):
            track.push(frame, time)

    def push_audio(self, uid: int, frame: EncodedFrame | av.AudioFrame, time: float) -> None:
        """``uid``'s audio frame captured at output ``time``."""
        track = self._track(uid, "audio", time)
        if isinstance(track, AudioTrack | AudioCopyTrack):
            track.push(frame, time)

    def user_joined(self, uid: int, time: float) -> None:
        """A track starts with its first frame: nothing to do at the join."""

    def user_left(self, uid: int, time: float, *, audio: bool = True) -> None:
        """``uid`` left (or its video is no longer recorded) at output ``time``."""
        self._end(uid, "video", time)
        if audio:
            self._end(uid, "audio", time)

    def audio_left(self, uid: int, time: float) -> None:
        """``uid``'s audio is no longer recorded from output ``time`` on."""
        self._end(uid, "audio", time)

    def set_layout(self, *args: object, **kwargs: object) -> None:
        """Individual recording has no layout."""

    def render_until(self, time: float) -> None:
        """Frames are written as they come: only the output time moves on."""
        self._output_time = max(self._output_time, time)

    def finish(self, time: float) -> None:
        """The recording ends at output ``time``: every track closes its last slice."""
        self.render_until(time)
        for uid, kind in list(self._tracks):
            self._end(uid, kind, time)

    def _track(
        self, uid: int, kind: str, time: float
    ) -> VideoTrack | AudioTrack | AudioCopyTrack | None:
        key = (uid, kind)
        track = self._tracks.get(key)
        if track is not None:
            return track
        if time <= self._ended.get(key, float("-inf")):
            self.frames_dropped += 1  # captured before its track ended
            return None
        playlist = self._playlist_for(uid, kind)
        work = self.work_dir

        def name_for(start: float, suffix: str) -> str:
            return self._name_for(uid, kind, start, suffix)

        def closed(part: ClosedSlice) -> None:
            self._closed(part, playlist)

        if kind == "video":
            shots = None
            if self.snapshot_interval is not None:
                shots = UserSnapshots(self.snapshot_interval, work,
                                      lambda time: name_for(time, ".jpg"), self._snapshot,
                                      self._on_error)  # fmt: skip
            track = VideoTrack(work, self.slice_seconds, name_for, closed,
                               lambda: self._request_keyframe(uid), shots)  # fmt: skip
        elif self.copy_audio:
            track = AudioCopyTrack(work, self.slice_seconds, name_for, closed)
        else:
            track = AudioTrack(work, self.slice_seconds, name_for, closed)
        self._tracks[key] = track
        return track

    def _end(self, uid: int, kind: str, time: float) -> None:
        self._ended[(uid, kind)] = time
        track = self._tracks.pop((uid, kind), None)
        if track is not None:
            track.close()

    def _snapshot(self, snapshot: Snapshot) -> None:
        self._on_snapshot(dataclasses.replace(snapshot, index=self._snapshots))
        self._snapshots += 1

    def _closed(self, part: ClosedSlice, playlist: str) -> None:
        first_of_track = part.index == 0
        gap = first_of_track and playlist in self._started
        self._started.add(playlist)
        self._on_slice(dataclasses.replace(
            part, index=self._slices, playlist=playlist, discontinuity=gap
        ))  # fmt: skip
        self._slices += 1
