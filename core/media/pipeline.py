"""The recorder's media engine: place, compose, mix, encode and segment.

A :class:`MixPipeline` is confined to one thread (the recorder's worker thread;
PyAV's codecs and swscale release the GIL there, so the event loop keeps running).
It receives users' frames with their times on the output timeline, and roster
changes with theirs, and :meth:`MixPipeline.render_until` turns everything up to an
output time into encoded output:

* Video tick ``k`` is output time ``k / fps``. Each user shows the newest frame
  captured no later than half a frame period after the tick (so a frame is matched
  to the nearest tick, never one tick late), or keeps its previous picture. One
  exception keeps a user's frames from being skipped and repeated for nothing: when
  two or more frames are due at a tick and none at the next, the newest waits for
  the next tick. That happens when a camera's capture times jitter across a tick
  boundary: a 15 fps camera recorded at 15 fps would otherwise lose one frame and
  show the next twice (a visible judder); a faster camera, whose next tick has
  frames of its own, is thinned as before. A correction that moves every later frame
  of a camera at the output rate one tick earlier cannot be absorbed so (the next
  tick has a frame of its own): the older of the two frames is never shown, and
  :attr:`MixPipeline.superseded` lists it.
* Audio for the span of each tick is mixed by :class:`~core.media.audio_mixer.AudioMixer`.
* Roster changes take effect at the first tick at or after their time; the layout
  is re-computed with :func:`core.layout.compute_windows`.

Errors caused by one user's media (a frame that cannot be converted) drop that frame
and are reported through ``on_user_error``; everything else raises to the caller.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av

from core.enums import AudioProfile, MixedVideoLayout, RenderMode
from core.layout import LayoutSpec, Region
from core.media.audio_mixer import AudioMixer
from core.media.compositor import Backgrounds, Compositor
from core.media.encoder import AudioEncoder, EncodedPacket, VideoEncoder
from core.media.segmenter import ClosedSlice, PacketOutput, Segmenter, StreamSpec
from core.media.speaker import ActiveSpeaker

AUDIO_ONLY_TICK_RATE = 25
"""Ticks per second when there is no video (audio is mixed per tick)."""

VIDEO_GONE_AFTER = 3.5
"""Seconds without a new frame after which a user with a background image shows it
(Agora: a user who stops sending video for more than 3.5 s)."""

_MAX_QUEUED_VIDEO = 120  # 4 s of a 30 fps camera: the latency window and the renderer's
# longest wait for a joiner's frames held for its first sender reports (docs/recorder.md)
_SUPERSEDED_KEPT = 256


@dataclass(frozen=True)
class PipelineSettings:
    """What the pipeline produces."""

    width: int = 640
    height: int = 360
    fps: int = 15
    bitrate_kbps: int = 500
    background: str = "#000000"
    layout: MixedVideoLayout = MixedVideoLayout.FLOAT
    max_resolution_uid: int = 0
    regions: tuple[Region, ...] = ()
    """The CUSTOM layout's regions."""
    render_mode: RenderMode = RenderMode.CROP
    """How the presets' windows are filled."""
    active_speaker: bool = False
    """FLOAT and VERTICAL: the large window follows who speaks (``core.media.speaker``)."""
    backgrounds: Backgrounds = field(default_factory=Backgrounds)
    """The canvas's and users' background images."""
    audio_profile: AudioProfile | None = AudioProfile.MUSIC_STANDARD  # None: no audio
    video: bool = True
    slice_seconds: float = 4.0
    x264_preset: str = "veryfast"

    @property
    def layout_spec(self) -> LayoutSpec:
        """The layout these settings start with."""
        return LayoutSpec(
            self.layout,
            self.max_resolution_uid,
            self.regions,
            self.render_mode,
            self.active_speaker,
        )

    @property
    def tick_rate(self) -> int:
        """Ticks per second of output time."""
        return self.fps if self.video else AUDIO_ONLY_TICK_RATE

    @property
    def gop(self) -> int:
        """Frames per slice (and per keyframe interval)."""
        return max(1, round(self.slice_seconds * self.fps))


class MixPipeline:
    """Thread-confined engine from users' frames to closed MPEG-TS slices."""

    def __init__(
        self,
        settings: PipelineSettings,
        work_dir: Path,
        name_for: Callable[[float], str],
        on_slice: Callable[[ClosedSlice], None],
        on_user_error: Callable[[int, str], None] | None = None,
        also: Sequence[PacketOutput] = (),
    ) -> None:
        """``also``: outputs that get every packet the slices get (an MP4 writer)."""
        if not settings.video and settings.audio_profile is None:
            raise ValueError("a recording needs audio or video")
        self.settings = s = settings
        self._on_user_error = on_user_error or (lambda uid, message: None)
        self._layout = s.layout_spec
        self._roster: list[int] = []  # join order
        self._roster_events: list[tuple[float, int, bool]] = []  # (time, uid, joined)
        self._audio_ends: list[tuple[float, int]] = []  # (time, uid)
        self._layout_events: list[tuple[float, LayoutSpec, str | None, Backgrounds | None]] = []
        self._shown_at: dict[int, float] = {}  # capture time of each user's picture shown
        self._video_queues: dict[int, deque[tuple[float, av.VideoFrame]]] = {}
        self._tick = 0
        self.frames_encoded = 0
        self.frames_dropped = 0
        """Video frames pushed out of a full per-user queue, never shown."""
        self.frames_late = 0
        """Video frames pushed after the tick they belong to was rendered."""
        self.superseded: deque[tuple[int, float]] = deque(maxlen=_SUPERSEDED_KEPT)
        """The latest frames never shown although their user's camera is no faster than
        the output, as (uid, capture time): a newer frame a whole output frame later was
        due at the same tick (a sender clock correction across a tick boundary)."""
        self.frames_superseded = 0
        """How many frames :attr:`superseded` has listed in all."""
        self.on_picture: Callable[[float, av.VideoFrame], None] | None = None
        """Called with (output time, frame) for every composed frame, before it is encoded
        (the recorder's snapshots); the frame is what the encoder gets next: read it only."""
        self.compositor: Compositor | None = None
        self.video_encoder: VideoEncoder | None = None
        self.mixer: AudioMixer | None = None
        self.speaker: ActiveSpeaker | None = None
        """Who speaks (with audio): the large window of an active-speaker layout."""
        self.audio_encoder: AudioEncoder | None = None
        if s.video:
            self.compositor = Compositor(s.width, s.height, s.background)
            if s.backgrounds != Backgrounds():
                self.compositor.set_backgrounds(s.backgrounds)
            self.video_encoder = VideoEncoder(
                s.width, s.height, s.fps, s.bitrate_kbps, s.gop, preset=s.x264_preset
            )
        if s.audio_profile is not None:
            self.audio_encoder = AudioEncoder(s.audio_profile)
            self.mixer = AudioMixer(self.audio_encoder.channels)
            self.speaker = ActiveSpeaker(1 / s.tick_rate)
        spec = StreamSpec(
            video=(s.width, s.height, s.fps) if s.video else None,
            audio=(48_000, self.audio_encoder.channels) if self.audio_encoder else None,
        )
        # Slices are whole GOPs: cut exactly where the encoder puts keyframes.
        slice_seconds = s.gop / s.fps if s.video else s.slice_seconds
        self.segmenter = Segmenter(work_dir, spec, slice_seconds, name_for, on_slice, also)

    # --- input ----------------------------------------------------------------

    def user_joined(self, uid: int, time: float) -> None:
        """``uid`` joined at output ``time``."""
        bisect.insort(self._roster_events, (time, uid, True), key=lambda e: e[0])

    def user_left(self, uid: int, time: float, *, audio: bool = True) -> None:
        """``uid`` left at output ``time``: its window goes and, unless ``audio`` is
        false (its video alone is no longer recorded), its voice (:meth:`audio_left`)."""
        bisect.insort(self._roster_events, (time, uid, False), key=lambda e: e[0])
        if audio:
            self.audio_left(uid, time)

    def audio_left(self, uid: int, time: float) -> None:
        """``uid`` is no longer heard from output ``time`` on: at the first tick at or
        after ``time`` its audio buffered for later is dropped."""
        bisect.insort(self._audio_ends, (time, uid), key=lambda e: e[0])

    def set_layout(
        self,
        layout: LayoutSpec,
        time: float | None = None,
        background: str | None = None,
        backgrounds: Backgrounds | None = None,
    ) -> None:
        """Change the layout (and, if given, the background colour and images) at output
        ``time`` (``None``: from the next tick on)."""
        if time is None:
            self._apply_layout(layout, background, backgrounds)
            self._retile()
        else:
            event = (time, layout, background, backgrounds)
            bisect.insort(self._layout_events, event, key=lambda e: e[0])

    def _apply_layout(
        self, layout: LayoutSpec, background: str | None, backgrounds: Backgrounds | None
    ) -> None:
        self._layout = layout
        if self.compositor is None:
            return
        if background is not None:
            self.compositor.set_background(background)
        if backgrounds is not None:
            self.compositor.set_backgrounds(backgrounds)

    def push_video(self, uid: int, frame: av.VideoFrame, time: float) -> None:
        """``uid``'s video ``frame`` captured at output ``time``."""
        if self.compositor is None:
            return
        if frame.width < 2 or frame.height < 2:
            self._on_user_error(uid, f"video frame of {frame.width}x{frame.height} ignored")
            return
        queue = self._video_queues.setdefault(uid, deque(maxlen=_MAX_QUEUED_VIDEO))
        if len(queue) == _MAX_QUEUED_VIDEO:
            self.frames_dropped += 1
        if self._tick > 0 and time <= (self._tick - 0.5) / self.settings.tick_rate:
            self.frames_late += 1
        queue.append((time, frame))

    def push_audio(self, uid: int, frame: av.AudioFrame, time: float) -> None:
        """``uid``'s audio ``frame`` captured at output ``time``."""
        if self.mixer is None:
            return
        try:
            self.mixer.push(uid, frame, time)
        except (av.FFmpegError, ValueError) as exc:
            self._on_user_error(uid, f"audio frame ignored: {exc}")

    # --- output ---------------------------------------------------------------

    @property
    def output_time(self) -> float:
        """Output seconds rendered so far."""
        return self._tick / self.settings.tick_rate

    @property
    def roster(self) -> list[int]:
        """uids in the output, in join order."""
        return list(self._roster)

    def render_until(self, time: float) -> None:
        """Render every tick whose span ends at or before output ``time``."""
        rate = self.settings.tick_rate
        while (self._tick + 1) / rate <= time + 1e-9:
            self._render_tick()

    def finish(self, time: float) -> None:
        """Render up to ``time``, drain the encoders and close the last slice."""
        self.render_until(time)
        packets: list[EncodedPacket] = []
        if self.video_encoder is not None:
            packets += self.video_encoder.flush()
        if self.audio_encoder is not None:
            packets += self.audio_encoder.flush()
        self.segmenter.write(packets)
        self.segmenter.close()

    def _render_tick(self) -> None:
        rate = self.settings.tick_rate
        tick_time = self._tick / rate
        self._apply_roster(tick_time)
        packets: list[EncodedPacket] = []
        if self.mixer is not None and self.audio_encoder is not None:
            end_sample = (self._tick + 1) * self.mixer.sample_rate // rate
            packets += self.audio_encoder.encode(self.mixer.mix(end_sample))
            if (
                self.speaker is not None
                and self.speaker.update(self.mixer.tick_levels)
                and self._layout.active_speaker
            ):
                self._retile()
        if self.compositor is not None and self.video_encoder is not None:
            self._select_frames(tick_time + 0.5 / rate)
            frame = self.compositor.render()
            for uid, message in self.compositor.take_errors():
                self._on_user_error(uid, message)
            if self.on_picture is not None:
                self.on_picture(tick_time, frame)
            packets += self.video_encoder.encode(frame, self._tick)
            self.frames_encoded += 1
        self.segmenter.write(packets)
        self._tick += 1

    def _apply_roster(self, tick_time: float) -> None:
        changed = False
        while self._roster_events and self._roster_events[0][0] <= tick_time + 1e-9:
            _, uid, joined = self._roster_events.pop(0)
            if joined and uid not in self._roster:
                self._roster.append(uid)
                changed = True
            elif not joined and uid in self._roster:
                self._roster.remove(uid)
                self._video_queues.pop(uid, None)
                changed = True
        while self._audio_ends and self._audio_ends[0][0] <= tick_time + 1e-9:
            _, uid = self._audio_ends.pop(0)
            if self.mixer is not None:
                self.mixer.remove_user(uid)
        while self._layout_events and self._layout_events[0][0] <= tick_time + 1e-9:
            _, layout, background, backgrounds = self._layout_events.pop(0)
            self._apply_layout(layout, background, backgrounds)
            changed = True
        if changed:
            self._retile()

    def _retile(self) -> None:
        if self.compositor is None:
            return
        s = self.settings
        speaker = self.speaker.speaker if self.speaker is not None else None
        windows = (
            self._layout.windows(self._roster, s.width, s.height, speaker) if self._roster else {}
        )
        self.compositor.set_layout(windows)

    def _select_frames(self, horizon: float) -> None:
        assert self.compositor is not None
        period = 1 / self.settings.tick_rate
        for uid, queue in self._video_queues.items():
            due = 0
            while due < len(queue) and queue[due][0] <= horizon:
                due += 1
            if due >= 2 and (due == len(queue) or queue[due][0] > horizon + period):
                due -= 1  # the next tick has no frame of its own: the newest waits for it
            if due == 0:
                continue
            newest = queue[due - 1][0]
            for _ in range(due - 1):
                time, _frame = queue.popleft()
                if newest - time >= 0.75 * period:  # not a faster camera thinned
                    self.superseded.append((uid, time))
                    self.frames_superseded += 1
            shown_at, chosen = queue.popleft()
            if uid in self._roster:
                self.compositor.update(uid, chosen)
                self._shown_at[uid] = shown_at
        for uid, shown_at in list(self._shown_at.items()):
            # a camera that stopped: its user's background image, when it has one
            if horizon - shown_at > VIDEO_GONE_AFTER and self.compositor.has_user_background(uid):
                self.compositor.clear(uid)
                del self._shown_at[uid]
