"""One recording: joins a channel, runs the media pipeline, stores slices and the playlist.

How the pieces run (see ``docs/recorder.md``):

* **Event loop** (asyncio): the subscription's join/leave events, one reader task
  per user stream that stamps frames with their output time and queues them, the
  uploader task, and the idle watch. Nothing CPU-heavy runs here.
* **Worker thread**: owns the :class:`~core.media.pipeline.MixPipeline`. Every tick
  it takes what the loop queued and renders output time up to ``now - latency``:
  compose, mix, encode, segment. PyAV releases the GIL in swscale and the codecs.
* **Storing task**: each closed slice is handed, in order, to the recording's
  :class:`~core.media.slices.SliceSink` (implemented by ``core/storage``), which keeps
  it and lists it in the playlist; slow storage never stalls encoding. When the
  recording ends the sink is ended, and its playlist gets ``#EXT-X-ENDLIST``.

End-to-end encrypted users (``docs/encryption.md``) arrive as encoded frames; the
worker decrypts and decodes them (:class:`~core.media.decrypt.MediaOpener`) before
the pipeline sees them, with the configured ``decryption_mode`` and ``secret``.

Every failure ends as a :class:`RecorderFailure` event with an error code and a
message; the recorder never stops silently and never raises into the server's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import av

from core.channel.clock import HOLD_LIMIT
from core.channel.picture_size import vp8_keyframe_size
from core.channel.roster import Role, UserJoined, UserLeft
from core.channel.streams import EncodedFrame
from core.config import RecordingConfig
from core.enums import (
    ChannelType,
    MixedVideoLayout,
    RecordingMode,
    RenderMode,
    StreamMode,
    VideoStreamType,
)
from core.errors import CloudRecordingError, ErrorCode, InvalidOperationError
from core.layout import LayoutSpec, Region
from core.media.compositor import Backgrounds
from core.media.decrypt import MediaOpener
from core.media.individual import IndividualPipeline
from core.media.mp4 import Mp4Spec, Mp4Writer, finalize
from core.media.pipeline import MixPipeline, PipelineSettings
from core.media.playlist import (
    mp4_name,
    slice_name,
    snapshot_name,
    track_playlist_name,
    track_slice_name,
)
from core.media.slices import ClosedSlice, SliceSink
from core.media.snapshots import LivePicture, Snapshot, SnapshotTaker
from core.media.streaming import DestinationStatus, StreamDestination, StreamFanout, StreamSpec
from core.media.timeline import DEFAULT_LATENCY, OutputClock, render_point
from core.selection import StreamSelection

if TYPE_CHECKING:
    from core.channel.registry import ChannelRegistry
    from core.channel.streams import FrameStream
    from core.channel.subscription import Subscription

logger = logging.getLogger(__name__)

IDLE_CHECK_INTERVAL = 0.25
"""Seconds between two checks of whether the channel is empty."""

KEEP_RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Seconds between tries to keep a closed slice that the sink could not keep (its
backup folder or the ledger failing): a fault of up to ~8 s loses nothing; a longer
one fails the recording with the sink's code (the durable uploader's: BACKUP_FAILED, 440)."""


class RecorderStatus(StrEnum):
    """Life cycle of a :class:`Recorder`."""

    CREATED = "created"
    STARTING = "starting"
    RECORDING = "recording"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class StopReason(StrEnum):
    """Why a recording ended."""

    REQUESTED = "requested"
    """``stop()`` was called."""
    IDLE = "idle"
    """No user was in the channel for ``max_idle_time`` seconds."""
    FAILED = "failed"
    """The recorder failed (see the preceding :class:`RecorderFailure`)."""


@dataclass(frozen=True)
class StoredSlice:
    """A slice that the sink kept and listed in the playlist."""

    name: str
    key: str
    bytes: int
    duration: float
    start: float
    """Seconds from the start of the recording."""
    playlist: str | None = None
    """The playlist file that lists it, when not the recording's own (a user's track in
    individual recording)."""


@dataclass(frozen=True)
class FileStored(StoredSlice):
    """A whole file beside the playlist (an MP4) was handed to the sink, which kept it
    (never listed in the playlist; the fields are a slice's)."""


@dataclass(frozen=True)
class StreamChanged:
    """A live stream destination changed state (``docs/streaming.md``; its URL masked)."""

    status: DestinationStatus


@dataclass(frozen=True)
class SnapshotStored:
    """A JPEG snapshot of the composed picture was handed to the sink, which kept it
    beside the playlist (``docs/recording-files.md``, "Snapshots")."""

    name: str
    key: str
    size: int
    """Bytes."""
    time: float
    """Output seconds of the picture."""
    data: bytes = field(repr=False)
    """The JPEG."""


@dataclass(frozen=True)
class RecorderStarted:
    """Joined the channel and encoding (no slice is stored yet)."""

    sid: str
    start_time: float  # Unix time of output time 0


@dataclass(frozen=True)
class SliceStored:
    """A slice was handed to the sink, which kept it and listed it in the playlist."""

    slice: StoredSlice
    playlist_key: str


@dataclass(frozen=True)
class IdleExit:
    """The channel was empty for ``idle_seconds``; the recording stops by itself."""

    idle_seconds: float


@dataclass(frozen=True)
class RecorderFailure:
    """Something went wrong; ``code`` tells how bad (see :class:`~core.errors.ErrorCode`)."""

    code: ErrorCode
    message: str


@dataclass(frozen=True)
class RecorderStopped:
    """The recording ended: every slice is handled and the playlist ended."""

    reason: StopReason
    slices: int
    duration: float


RecorderEvent = (
    RecorderStarted
    | StreamChanged
    | SliceStored
    | FileStored
    | SnapshotStored
    | IdleExit
    | RecorderFailure
    | RecorderStopped
)


# Commands from the loop to the worker thread.
@dataclass(frozen=True)
class _Frame:
    uid: int
    kind: str
    frame: av.AudioFrame | av.VideoFrame | EncodedFrame
    time: float


@dataclass(frozen=True)
class _Roster:
    """A user's window comes or goes (``audio``: with its voice, as on a leave)."""

    uid: int
    joined: bool
    time: float
    audio: bool = True


@dataclass(frozen=True)
class _AudioEnd:
    """A user's voice is no longer recorded from ``time`` on."""

    uid: int
    time: float


@dataclass(frozen=True)
class _Layout:
    layout: LayoutSpec
    time: float
    background: str | None = None
    backgrounds: Backgrounds | None = None


@dataclass(frozen=True)
class _Gone:
    """A user left the channel: its decoders go."""

    uid: int


@dataclass(frozen=True)
class _Check:
    """A frame the channel holds back for its sender's first reports: checked at once
    (decryption), recorded when it comes with its time."""

    uid: int
    frame: av.AudioFrame | av.VideoFrame | EncodedFrame


_Command = _Frame | _Roster | _AudioEnd | _Gone | _Layout | _Check


@dataclass(frozen=True)
class _Mp4Part:
    """A closed MP4 part, to finalize and store (in order with the slices)."""

    part: ClosedSlice


@dataclass
class _Taken:
    """What the recorder takes of one user in the channel (its stream selection)."""

    audio: asyncio.Task[None] | None = None
    """The reader of the user's audio, while its voice is recorded."""
    video: asyncio.Task[None] | None = None
    """The reader of the user's video, while it has a window and publishes video."""
    tile: bool = False
    """Whether the user has a window in the mix."""
    retiring: dict[str, tuple[asyncio.Task[None], asyncio.Task[None]]] = field(default_factory=dict)
    """Per kind, a stream no longer taken, still read for the latency window: (the timer
    that ends it, its reader)."""


class Recorder:
    """Records channel ``cname`` of ``app_id`` as uid ``uid``; its slices go to ``sink``."""

    def __init__(
        self,
        registry: ChannelRegistry,
        app_id: str,
        cname: str,
        uid: int,
        sid: str,
        config: RecordingConfig,
        sink: SliceSink,
        work_dir: Path,
        *,
        slice_seconds: float | None = None,
        events: Callable[[RecorderEvent], None] | None = None,
        latency: float = DEFAULT_LATENCY,
        x264_preset: str = "veryfast",
        backgrounds: Backgrounds | None = None,
    ) -> None:
        """``backgrounds``: the images ``config``'s transcoding config names, decoded
        (``core.server.images.backgrounds_of``)."""
        self.registry = registry
        self.app_id = app_id
        self.cname = cname
        self.uid = uid
        self.sid = sid
        self.config = config
        self.sink = sink
        self.work_dir = Path(work_dir)
        self.slice_seconds = float(slice_seconds or config.slice_duration)
        self.latency = latency
        self._emit_to = events
        self._x264_preset = x264_preset
        self._status = RecorderStatus.CREATED
        self._stop_reason: StopReason | None = None
        self._clock: OutputClock | None = None
        self._subscription: Subscription | None = None
        self._pipeline: MixPipeline | IndividualPipeline | None = None
        self._opener: MediaOpener | None = None
        self._commands: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._worker_done: asyncio.Future[None] | None = None
        self._stop_at: float | None = None  # output time; set by stop(), read by the worker
        self._abort = False  # the worker ends at once (failure)
        self._closed_slices: asyncio.Queue[ClosedSlice | _Mp4Part | Snapshot | None] = (
            asyncio.Queue()
        )
        self.snapshots: SnapshotTaker | None = None
        """The snapshot taker (worker thread) when the config asks for snapshots."""
        self.streams = StreamFanout()
        """The live stream destinations of a mix recording (:meth:`set_streams`)."""
        self._stream_spec: StreamSpec | None = None
        self.live_picture = LivePicture()
        """The newest composed picture, as a JPEG when asked (none for audio only)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._uploader: asyncio.Task[None] | None = None
        self._users: dict[int, _Taken] = {}  # the users in the channel it records, in join order
        self._until: dict[tuple[int, str], float] = {}  # retiring streams: (uid, kind) -> end
        # The streams being read, for the worker to see frames the channel holds back
        # (FrameStream.held_since): written on the loop, read by the worker thread.
        self._streams: dict[tuple[int, str], FrameStream] = {}
        self._streams_lock = threading.Lock()
        self._arrival_timed_uids: set[int] = set()
        self._selection = config.stream_selection
        self._idle_since: float | None = None
        self._stored: list[StoredSlice] = []
        self._unkept: list[str] = []  # slices the sink could not keep (see _store)
        self._failed_uids: set[int] = set()
        self._high_size: dict[int, tuple[int, int]] = {}
        self._layout = config.transcoding_config.layout_spec
        self._backgrounds = backgrounds or Backgrounds()
        self._stopping: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self.media_frames = 0
        """Frames of the users' media taken into the recording (audio and video); 0 when
        no user sent a stream it records (Agora's stop answers 206 code 435 then)."""
        self.render_lag = 0.0
        """Seconds the renderer is behind its schedule (0 while it keeps real time);
        written by the worker thread."""
        self.max_render_lag = 0.0
        """The largest :attr:`render_lag` so far."""
        self.arrival_timed_frames = 0
        """Users' frames whose capture time the channel estimated from arrival, because
        their sender sent no report within the channel's hold limit (``docs/channel.md``,
        "Timing and lip sync"); their lip sync is not exact."""

    # --- public state -----------------------------------------------------------

    @property
    def status(self) -> RecorderStatus:
        """Where the recording is in its life cycle."""
        return self._status

    @property
    def stop_reason(self) -> StopReason | None:
        """Why it ended (``None`` while running)."""
        return self._stop_reason

    @property
    def slices(self) -> list[StoredSlice]:
        """Slices stored and listed so far, in order."""
        return list(self._stored)

    @property
    def recorded_bytes(self) -> int:
        """Bytes of all stored slices."""
        return sum(s.bytes for s in self._stored)

    @property
    def start_time(self) -> float | None:
        """Unix time the recording's timeline starts at (``None`` before start)."""
        return self._clock.wall_origin if self._clock else None

    @property
    def duration(self) -> float:
        """Seconds of stored recording."""
        if self.individual:  # the users' tracks side by side: the timeline they cover
            return max((s.start + s.duration for s in self._stored), default=0.0)
        return sum(s.duration for s in self._stored)

    @property
    def dropped_frames(self) -> int:
        """Users' frames lost before the picture or the mix: a stream from the
        channel or the renderer's per-user queue overflowed (the renderer was behind)."""
        dropped = self._subscription.dropped if self._subscription is not None else 0
        if self._pipeline is not None:
            dropped += self._pipeline.frames_dropped
        return dropped

    @property
    def late_frames(self) -> int:
        """Video frames that reached the renderer after their output tick was drawn."""
        return self._pipeline.frames_late if self._pipeline is not None else 0

    @property
    def superseded_frames(self) -> list[tuple[int, float]]:
        """The latest video frames never shown though their camera is no faster than the
        output (a sender clock correction across a tick), as (uid, output time)."""
        return list(self._pipeline.superseded) if self._pipeline is not None else []

    @property
    def audio_jumps(self) -> list[tuple[int, float, float]]:
        """The latest re-placements of a user's audio (a gap, or a sender clock
        correction beyond the mixer's continuity tolerance), as (uid, output time,
        seconds moved)."""
        mixer = self._pipeline.mixer if self._pipeline is not None else None
        return list(mixer.jumps) if mixer is not None else []

    @property
    def clock(self) -> OutputClock | None:
        """The recording's output timeline (``None`` before start)."""
        return self._clock

    @property
    def users(self) -> list[int]:
        """uids being recorded, in join order."""
        return list(self._users)

    @property
    def audio_levels(self) -> dict[int, float]:
        """Each recorded user's audio level as mixed now, in dBFS (a peak meter;
        :data:`~core.media.audio_mixer.SILENCE_DB` for silence); empty without audio."""
        pipeline = self._pipeline
        mixer = pipeline.mixer if pipeline is not None else None
        return dict(mixer.levels) if mixer is not None else {}

    @property
    def playlist_key(self) -> str:
        """The destination key of the playlist."""
        return self.sink.playlist_key

    # --- life cycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Join the channel and start recording.

        Raises :class:`~core.channel.errors.UidInUseError` when ``uid`` is in the
        channel, :class:`CloudRecordingError` (``RECORDER_INIT``) when the pipeline
        cannot be set up, and the sink's error (a :class:`CloudRecordingError`) when it
        fails its check.
        """
        if self._status is not RecorderStatus.CREATED:
            raise InvalidOperationError(f"recorder {self.sid} was already started")
        self._status = RecorderStatus.STARTING
        cfg = self.config
        types = cfg.recording_stream_types
        try:
            await self.sink.check()
            await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
            channel = self.registry.channel(self.app_id, self.cname)
            video_stream = cfg.video_stream_type
            self._subscription = channel.subscribe(
                self.uid,
                audio=types.has_audio,
                video=types.has_video,
                video_stream=(
                    VideoStreamType.HIGH if video_stream is VideoStreamType.AUTO else video_stream
                ),
                encoded=self.individual,
            )
        except BaseException:
            self._status = RecorderStatus.FAILED
            raise
        try:
            tc = cfg.transcoding_config
            settings = PipelineSettings(
                width=tc.width,
                height=tc.height,
                fps=tc.fps,
                bitrate_kbps=tc.bitrate,
                background=tc.background_color,
                layout=self._layout.layout,
                max_resolution_uid=self._layout.max_resolution_uid,
                regions=self._layout.regions,
                render_mode=self._layout.render_mode,
                active_speaker=self._layout.active_speaker,
                backgrounds=self._backgrounds,
                audio_profile=cfg.audio_profile if types.has_audio else None,
                video=types.has_video,
                slice_seconds=self.slice_seconds,
                x264_preset=self._x264_preset,
            )
            secret = cfg.secret.get_secret_value() if cfg.secret is not None else None
            self._opener = MediaOpener(
                cfg.decryption_mode,
                secret,
                self._user_error_threadsafe,
                self._keyframe_threadsafe,
                decode=not self.individual,
            )
            self._clock = clock = OutputClock.start(tc.fps)
            if self.individual:
                self._pipeline = self._individual_pipeline(clock, tc.fps)
            files = cfg.recording_file_config
            mp4 = (
                Mp4Writer(
                    self.work_dir,
                    Mp4Spec(
                        (tc.width, tc.height, tc.fps) if types.has_video else None,
                        (48_000, cfg.audio_profile.channels) if types.has_audio else None,
                    ),
                    files.mp4_max_seconds,
                    lambda index: mp4_name(self.sid, self.cname, index),
                    self._mp4_part_threadsafe,
                )
                if files.mp4
                else None
            )
            if self._pipeline is None:
                self._pipeline = await asyncio.to_thread(
                    MixPipeline,
                    settings,
                    self.work_dir,
                    lambda t: slice_name(self.sid, self.cname, clock.utc(t)),
                    self._slice_closed_threadsafe,
                    self._user_error_threadsafe,
                    (self.streams,) if mp4 is None else (mp4, self.streams),
                )
            self._set_up_pictures(clock)
            if not self.individual:
                self._stream_spec = StreamSpec(
                    (tc.width, tc.height, tc.fps) if types.has_video else None,
                    (48_000, cfg.audio_profile.channels) if types.has_audio else None,
                )
                publish = cfg.rtmp_publish_config
                urls = [o.rtmp_url.get_secret_value() for o in publish.outputs] if publish else []
                self.set_streams(urls)
        except Exception as exc:
            self._status = RecorderStatus.FAILED
            await self._subscription.close()
            raise CloudRecordingError(
                f"cannot set up the recorder: {exc}", ErrorCode.RECORDER_INIT
            ) from exc
        loop = asyncio.get_running_loop()
        self._worker_done = loop.create_future()
        self._thread = threading.Thread(
            target=self._work, args=(loop,), name=f"recorder-{self.sid}", daemon=True
        )
        self._thread.start()
        self._uploader = loop.create_task(self._upload_loop())
        self._spawn(self._follow_roster())
        self._spawn(self._watch_idle())
        self._status = RecorderStatus.RECORDING
        self._emit(RecorderStarted(self.sid, clock.wall_origin))

    def set_streams(self, urls: Sequence[str]) -> None:
        """Push the recording to exactly these stream URLs from now on: a new one starts
        at the next keyframe, one no longer listed stops (``docs/streaming.md``). A mix
        recording only; call on the event loop."""
        spec = self._stream_spec
        if spec is None:
            raise InvalidOperationError("live streams are of a running mix recording")
        wanted = list(dict.fromkeys(urls))
        for destination in self.streams.destinations:
            if destination.url not in wanted:
                self.streams.remove(destination.url, wait=False)
        current = {d.url for d in self.streams.destinations}
        loop = asyncio.get_running_loop()

        def changed(status: DestinationStatus) -> None:  # a destination's own thread
            loop.call_soon_threadsafe(self._emit, StreamChanged(status))

        for url in wanted:
            if url not in current:
                self.streams.add(StreamDestination(url, spec, changed))

    @property
    def stream_states(self) -> list[DestinationStatus]:
        """Each live stream destination's state now, URLs masked."""
        return [d.status for d in self.streams.destinations]

    @property
    def stop_time(self) -> float | None:
        """The output time the recording was cut at (frames captured from then on are
        not recorded); None until it stops."""
        return self._stop_at

    @property
    def individual(self) -> bool:
        """Whether each user is recorded in files of their own (INDIVIDUAL mode)."""
        return self.config.recording_mode is RecordingMode.INDIVIDUAL

    def _individual_pipeline(self, clock: OutputClock, tick_rate: int) -> IndividualPipeline:
        sid, cname = self.sid, self.cname
        shots = self.config.snapshot_config
        return IndividualPipeline(
            self.work_dir,
            self.slice_seconds,
            tick_rate,
            lambda uid, kind: track_playlist_name(sid, cname, uid, kind),
            lambda uid, kind, start, suffix: track_slice_name(
                sid, cname, uid, kind, clock.utc(start), suffix
            ),
            self._slice_closed_threadsafe,
            self._keyframe_threadsafe,
            snapshot_interval=None if shots is None else float(shots.capture_interval),
            on_snapshot=lambda snapshot: self._loop_call(self._closed_slices.put_nowait, snapshot),
            on_error=lambda message: self._loop_call(
                self._emit, RecorderFailure(ErrorCode.RECORDER_FAILED, message)
            ),
            copy_audio=self.config.stream_mode is StreamMode.ORIGINAL,
        )

    async def stop(self) -> None:
        """Stop recording: render what was captured until now, store it, end the playlist."""
        await self._stop(StopReason.REQUESTED)

    def fail(self, code: ErrorCode, message: str) -> None:
        """End the recording as failed (a fault outside the recorder, e.g. the server's
        database): ``message`` is reported with ``code``, then it stops as on a failure."""
        if self._status in (
            RecorderStatus.STARTING,
            RecorderStatus.RECORDING,
            RecorderStatus.STOPPING,
        ):
            self._fail(code, message)

    async def wait_stopped(self) -> None:
        """Wait until the recording ended (by :meth:`stop`, idle exit or failure)."""
        await self._stopped.wait()

    async def update_layout(
        self,
        layout: MixedVideoLayout | None = None,
        max_resolution_uid: int | None = None,
        background_color: str | None = None,
        regions: Sequence[Region] | None = None,
        render_mode: RenderMode | None = None,
        backgrounds: Backgrounds | None = None,
        active_speaker: bool | None = None,
    ) -> None:
        """Change the layout (and VERTICAL's large user, the background colour
        ``#RRGGBB``, the CUSTOM layout's regions, the presets' render mode, the
        background images, the active speaker) from the next frame on; what is ``None``
        stays."""
        old = self._layout
        self._layout = LayoutSpec(
            old.layout if layout is None else MixedVideoLayout(layout),
            old.max_resolution_uid if max_resolution_uid is None else max_resolution_uid,
            old.regions if regions is None else tuple(regions),
            old.render_mode if render_mode is None else RenderMode(render_mode),
            old.active_speaker if active_speaker is None else active_speaker,
        )
        if self._clock is not None:
            now = self._clock.now()
            self._commands.put(_Layout(self._layout, now, background_color, backgrounds))
        if backgrounds is not None:
            self._backgrounds = backgrounds
        self._update_stream_choice()

    async def _stop(self, reason: StopReason) -> None:
        if self._stopping is None:
            if self._status not in (RecorderStatus.RECORDING, RecorderStatus.STARTING):
                return
            self._stopping = asyncio.get_running_loop().create_task(self._shutdown(reason))
        await asyncio.shield(self._stopping)

    async def _shutdown(self, reason: StopReason) -> None:
        self._status = RecorderStatus.STOPPING
        self._stop_reason = reason
        assert self._clock is not None and self._worker_done is not None
        self._stop_at = self._clock.now()
        if reason is StopReason.FAILED:
            self._abort = True
        # The worker renders up to _stop_at once the latency window passed.
        with contextlib.suppress(Exception):
            await self._worker_done
        await asyncio.to_thread(self.streams.close)  # closed already unless the worker failed
        if self._subscription is not None:
            await self._subscription.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._closed_slices.put_nowait(None)
        if self._uploader is not None:
            await self._uploader
        if self._stop_reason is StopReason.FAILED:
            self._status = RecorderStatus.FAILED
        else:
            self._status = RecorderStatus.STOPPED
        self._emit(RecorderStopped(self._stop_reason or reason, len(self._stored), self.duration))
        self._stopped.set()

    def _fail(self, code: ErrorCode, message: str) -> None:
        """Report a failure that ends the recording."""
        self._emit(RecorderFailure(code, message))
        if self._stopping is None:
            self._spawn(self._stop(StopReason.FAILED), tracked=False)
        else:
            self._stop_reason = StopReason.FAILED

    # --- roster and frames (event loop) ------------------------------------------

    def _spawn(self, coro: object, *, tracked: bool = True) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        if tracked:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
        return task

    def _records(self, event: UserJoined) -> bool:
        live = self.config.channel_type is ChannelType.LIVE
        assert self._subscription is not None
        live = live or self._subscription.channel_type is ChannelType.LIVE
        return event.role is Role.HOST or not live

    async def _follow_roster(self) -> None:
        assert self._subscription is not None and self._clock is not None
        sub, clock = self._subscription, self._clock
        try:
            async for event in sub.events():
                if isinstance(event, UserJoined):
                    if event.uid in self._users or not self._records(event):
                        continue
                    self._users[event.uid] = _Taken()
                    self._idle_since = None
                    self._take(event.uid, clock.to_output(event.time))
                    self._update_stream_choice()
                elif isinstance(event, UserLeft) and event.uid in self._users:
                    taken = self._users.pop(event.uid)
                    for kind, (timer, reader) in taken.retiring.items():
                        timer.cancel()  # its streams end with the user
                        reader.cancel()
                        self._until.pop((event.uid, kind), None)
                    if not self._users:  # idle time counts from the leave itself
                        self._idle_since = event.time
                    self._high_size.pop(event.uid, None)
                    at = clock.to_output(event.time)
                    if taken.tile:
                        self._commands.put(_Roster(event.uid, False, at, audio=False))
                    if taken.audio is not None:
                        self._commands.put(_AudioEnd(event.uid, at))
                    self._commands.put(_Gone(event.uid))
                    self._update_stream_choice()
        except Exception as exc:  # a broken subscription ends the recording
            logger.exception("recorder %s: roster failed", self.sid)
            self._fail(ErrorCode.RECORDER_FAILED, f"lost the channel's roster: {exc}")

    def _take(self, uid: int, at: float) -> None:
        """Take what the stream selection says of ``uid``'s media from output time ``at``
        on, and stop taking the rest: a stream not taken is not received (so not decoded),
        a user without video taken has no window, one without audio taken is not heard."""
        sub, taken = self._subscription, self._users[uid]
        assert sub is not None
        types = self.config.recording_stream_types
        audio = types.has_audio and self._selection.audio.takes(uid)
        video = types.has_video and self._selection.video.takes(uid)
        if audio and taken.audio is None:
            taken.audio = self._resume(uid, "audio")
            if taken.audio is None and (stream := sub.audio(uid)) is not None:
                taken.audio = self._start_reading(stream)
        elif not audio and taken.audio is not None:
            self._retire(uid, "audio", taken.audio, at)
            taken.audio = None
            self._commands.put(_AudioEnd(uid, at))
        if video and not taken.tile:
            taken.video = self._resume(uid, "video")
            if taken.video is None and (stream := sub.video(uid)) is not None:
                taken.video = self._start_reading(stream)
            taken.tile = True
            self._commands.put(_Roster(uid, True, at))
        elif not video and taken.tile:
            if taken.video is not None:
                self._retire(uid, "video", taken.video, at)
                taken.video = None
            else:
                sub.unsubscribe(uid, "video")
            self._high_size.pop(uid, None)
            taken.tile = False
            self._commands.put(_Roster(uid, False, at, audio=False))

    def _retire(self, uid: int, kind: str, reader: asyncio.Task[None], at: float) -> None:
        """Stop taking ``uid``'s ``kind`` from output time ``at`` on. Its frames captured
        before ``at`` may still be on their way (network, receiver, decoder: up to the
        latency window): the stream is read, and frames from ``at`` on dropped, for
        :attr:`latency` seconds more, then unsubscribed (no longer received or decoded).
        Ending it at once lost the last tens of ms of a voice before an update."""
        self._until[(uid, kind)] = at
        timer = self._spawn(self._end_retired(uid, kind, reader))
        self._users[uid].retiring[kind] = (timer, reader)

    def _resume(self, uid: int, kind: str) -> asyncio.Task[None] | None:
        """A retiring stream of ``uid``'s ``kind`` taken again: its reader, which goes on
        (``None`` when there is none)."""
        timer, reader = self._users[uid].retiring.pop(kind, (None, None))
        if timer is None or reader is None or reader.done():
            return None
        timer.cancel()
        self._until.pop((uid, kind), None)
        return reader

    async def _end_retired(self, uid: int, kind: str, reader: asyncio.Task[None]) -> None:
        await asyncio.sleep(self.latency)
        # Frames the channel holds for the user's first sender reports may be captured
        # before the stream stopped being taken: read them too (held for HOLD_LIMIT at most).
        stream = self._streams.get((uid, kind))
        if stream is not None and (held := stream.held_since) is not None:
            await asyncio.sleep(max(0.0, held + HOLD_LIMIT - time.monotonic()) + self.latency)
        reader.cancel()
        self._until.pop((uid, kind), None)
        taken = self._users.get(uid)
        if taken is not None:
            taken.retiring.pop(kind, None)
        sub = self._subscription
        if sub is not None and not sub.closed:
            sub.unsubscribe(uid, kind)

    async def update_subscription(self, selection: StreamSelection) -> None:
        """Record whose audio and whose video ``selection`` says, from the next output
        frame on, for the users in the channel now and those who join later (Agora's
        ``update`` with ``streamSubscribe``)."""
        self._selection = selection
        if self._clock is None or self._subscription is None or self._subscription.closed:
            return
        now = self._clock.now()
        for uid in list(self._users):
            self._take(uid, now)
        self._update_stream_choice()

    @property
    def selection(self) -> StreamSelection:
        """Whose audio and whose video the recording takes now."""
        return self._selection

    def _start_reading(self, stream: FrameStream) -> asyncio.Task[None]:
        """Read ``stream`` into the pipeline; the worker sees it from now on."""
        with self._streams_lock:
            self._streams[(stream.uid, stream.kind)] = stream
        uid, put = stream.uid, self._commands.put
        stream.on_held = lambda frame: put(_Check(uid, frame))
        return self._spawn(self._read(stream))

    def _oldest_held(self) -> float | None:
        """The arrival time of the oldest frame the channel holds back for a stream
        being read (worker thread)."""
        with self._streams_lock:
            held = [s.held_since for s in self._streams.values() if s.held_since is not None]
        return min(held, default=None)

    async def _read(self, stream: FrameStream) -> None:
        try:
            await self._read_frames(stream)
        finally:
            with self._streams_lock:
                if self._streams.get((stream.uid, stream.kind)) is stream:
                    del self._streams[(stream.uid, stream.kind)]

    async def _read_frames(self, stream: FrameStream) -> None:
        assert self._clock is not None
        clock, put, uid, kind = self._clock, self._commands.put, stream.uid, stream.kind
        until = self._until
        async for received in stream:
            time = clock.to_output(received.time)
            end = until.get((uid, kind))
            if end is not None and time >= end:
                continue  # captured after this stream stopped being taken (see _retire)
            self.media_frames += 1
            if received.estimated:
                self._arrival_timed(uid)
            frame = received.frame
            if kind == "video" and stream.video_stream is not VideoStreamType.LOW:
                size = _picture_size(frame)
                if size is not None and self._high_size.get(uid) != size:
                    self._high_size[uid] = size
                    self._update_stream_choice()
            put(_Frame(uid, kind, frame, time))

    def _arrival_timed(self, uid: int) -> None:
        self.arrival_timed_frames += 1
        if uid not in self._arrival_timed_uids:
            self._arrival_timed_uids.add(uid)
            logger.warning(
                "recorder %s: uid %s sent no sender report within %.1f s; frames timed by "
                "arrival until it does (lip sync not exact)",
                self.sid, uid, HOLD_LIMIT,
            )  # fmt: skip

    def _update_stream_choice(self) -> None:
        """With AUTO, take a user's LOW stream while its window is no larger than the
        low stream's picture, HIGH otherwise. The low size comes from the low stream's
        keyframes; where it is unknown (encrypted media, no keyframe seen yet) the low
        stream is taken to be half the high size (the dual-stream default)."""
        if self.config.video_stream_type is not VideoStreamType.AUTO or self.individual:
            return  # individual recording: AUTO is HIGH (no windows to fit)
        if self._layout.active_speaker and self._subscription is not None:
            # any user may be shown large at the next word: every one in HIGH
            for uid, taken in self._users.items():
                if taken.tile:
                    self._subscription.set_video_stream(uid, VideoStreamType.HIGH)
            return
        sub = self._subscription
        tiled = [uid for uid, taken in self._users.items() if taken.tile]
        if sub is None or not tiled:
            return
        tc = self.config.transcoding_config
        windows = self._layout.windows(tiled, tc.width, tc.height)
        for uid in tiled:
            window = windows[uid].rect if uid in windows else None
            # the size of the frames received, or else of the keyframes the channel saw
            # (received frames may be held for the sender's first reports: up to 3 s)
            high = self._high_size.get(uid) or sub.video_size(uid, VideoStreamType.HIGH)
            low = sub.video_size(uid, VideoStreamType.LOW)
            if low is None and high is not None:
                low = (high[0] // 2, high[1] // 2)
            small = (
                low is not None
                and window is not None
                and window.width <= low[0]
                and window.height <= low[1]
            )
            sub.set_video_stream(uid, VideoStreamType.LOW if small else VideoStreamType.HIGH)

    async def _watch_idle(self) -> None:
        limit = self.config.max_idle_time
        while True:
            now = time.monotonic()
            wait = IDLE_CHECK_INTERVAL
            if self._users:
                self._idle_since = None
            elif self._idle_since is None:
                self._idle_since = now
            elif (idle := now - self._idle_since) >= limit:
                self._emit(IdleExit(idle))
                self._spawn(self._stop(StopReason.IDLE), tracked=False)
                return
            else:  # wake at the limit itself, not at the next check after it
                wait = min(wait, limit - idle)
            await asyncio.sleep(wait)

    # --- worker thread ----------------------------------------------------------

    def _work(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._pipeline is not None and self._clock is not None
        pipeline, clock = self._pipeline, self._clock
        rate = (
            pipeline.tick_rate
            if isinstance(pipeline, IndividualPipeline)
            else pipeline.settings.tick_rate
        )
        wait = HOLD_LIMIT + self.latency  # the channel releases held frames by HOLD_LIMIT
        error: BaseException | None = None
        try:
            while not self._abort:
                # Normally now - latency; earlier while the channel holds a user's frames
                # back for its first sender reports (bounded: docs/recorder.md). Read
                # before draining: a stream stops saying so only once its reader has
                # queued what was released, so the drain below takes those frames.
                now, held = clock.now(), self._oldest_held()
                self._drain(pipeline)
                held_at = None if held is None else clock.to_output(held)
                ready = render_point(now, self.latency, held_at, wait)
                stop_at = self._stop_at
                if stop_at is not None and ready >= stop_at:
                    pipeline.finish(stop_at)
                    break
                pipeline.render_until(ready if stop_at is None else min(ready, stop_at))
                behind = (
                    render_point(clock.now(), self.latency, held_at, wait)
                    - pipeline.output_time
                    - 1 / rate
                )
                self.render_lag = lag = max(0.0, behind)
                self.max_render_lag = max(self.max_render_lag, lag)
                next_tick = pipeline.output_time + 1 / rate
                time.sleep(max(0.0, min(next_tick - ready, 1 / rate)))
        except BaseException as exc:
            error = exc
        loop.call_soon_threadsafe(self._worker_finished, error)

    def _drain(self, pipeline: MixPipeline | IndividualPipeline) -> None:
        assert self._opener is not None
        get, opener = self._commands.get_nowait, self._opener
        while True:
            try:
                command = get()
            except queue.Empty:
                return
            if isinstance(command, _Frame):
                uid, kind = command.uid, command.kind
                for frame, when in opener.open(uid, kind, command.frame, command.time):
                    if isinstance(pipeline, IndividualPipeline):
                        stop_at = self._stop_at  # the mix renders up to it; here, a cut
                        if stop_at is not None and when >= stop_at:
                            continue
                        if kind == "video" and isinstance(frame, EncodedFrame):
                            pipeline.push_video(uid, frame, when)
                        elif kind == "audio" and not isinstance(frame, av.VideoFrame):
                            pipeline.push_audio(uid, frame, when)
                    elif isinstance(frame, av.VideoFrame):
                        pipeline.push_video(uid, frame, when)
                    elif isinstance(frame, av.AudioFrame):
                        pipeline.push_audio(uid, frame, when)
            elif isinstance(command, _Roster):
                if command.joined:
                    pipeline.user_joined(command.uid, command.time)
                else:
                    pipeline.user_left(command.uid, command.time, audio=command.audio)
            elif isinstance(command, _AudioEnd):
                pipeline.audio_left(command.uid, command.time)
            elif isinstance(command, _Gone):
                opener.forget(command.uid)
            elif isinstance(command, _Check):
                opener.check(command.uid, command.frame)
            else:
                pipeline.set_layout(
                    command.layout, command.time, command.background, command.backgrounds
                )

    def _set_up_pictures(self, clock: OutputClock) -> None:
        """Let the pipeline show every composed frame to :attr:`live_picture` and, with a
        snapshot config, to a :class:`SnapshotTaker`, whose JPEGs go to the sink in
        order with the slices."""
        pipeline = self._pipeline
        if pipeline is None or pipeline.compositor is None:
            return
        live = self.live_picture
        config = self.config.snapshot_config
        if config is None:
            pipeline.on_picture = live.offer
            return
        taker = self.snapshots = SnapshotTaker(
            config.capture_interval,
            self.work_dir,
            lambda t: snapshot_name(self.sid, self.cname, clock.utc(t)),
            lambda snapshot: self._loop_call(self._closed_slices.put_nowait, snapshot),
            lambda message: self._loop_call(
                self._emit, RecorderFailure(ErrorCode.RECORDER_FAILED, message)
            ),
        )

        def offer(time: float, frame: av.VideoFrame) -> None:
            live.offer(time, frame)
            taker.offer(time, frame)

        pipeline.on_picture = offer

    def _slice_closed_threadsafe(self, closed: ClosedSlice) -> None:
        self._loop_call(self._closed_slices.put_nowait, closed)

    def _mp4_part_threadsafe(self, part: ClosedSlice) -> None:
        self._loop_call(self._closed_slices.put_nowait, _Mp4Part(part))

    def _user_error_threadsafe(self, uid: int, message: str) -> None:
        self._loop_call(self._user_error, uid, message)

    def _keyframe_threadsafe(self, uid: int) -> None:
        self._loop_call(self._request_keyframe, uid)

    def _request_keyframe(self, uid: int) -> None:
        if self._subscription is not None and not self._subscription.closed:
            self._subscription.request_keyframe(uid)

    def _loop_call(self, fn: Callable[..., object], *args: object) -> None:
        assert self._worker_done is not None
        self._worker_done.get_loop().call_soon_threadsafe(fn, *args)

    def _user_error(self, uid: int, message: str) -> None:
        # One user's bad media is reported once; the recording goes on without it.
        if uid not in self._failed_uids:
            self._failed_uids.add(uid)
            self._emit(RecorderFailure(ErrorCode.RECORDER_FAILED, f"uid {uid}: {message}"))

    def _worker_finished(self, error: BaseException | None) -> None:
        assert self._worker_done is not None
        if not self._worker_done.done():
            self._worker_done.set_result(None)
        if error is not None:
            logger.error("recorder %s: media pipeline failed", self.sid, exc_info=error)
            self._fail(ErrorCode.RECORDER_FAILED, _describe(error))

    # --- storage ------------------------------------------------------------------

    async def _upload_loop(self) -> None:
        while True:
            closed = await self._closed_slices.get()
            if closed is None:
                break
            if isinstance(closed, _Mp4Part):
                await self._store_mp4(closed.part)
            elif isinstance(closed, Snapshot):
                await self._store_snapshot(closed)
            else:
                await self._store(closed)
        try:
            await self.sink.end()
        except CloudRecordingError as exc:
            self._emit(RecorderFailure(ErrorCode.UPLOADER_FAILED, exc.message))

    async def _store(self, closed: ClosedSlice) -> None:
        """Hand a closed slice to the sink, retrying a sink that cannot keep it (its
        backup folder or ledger failing) for :data:`KEEP_RETRY_DELAYS`; then the
        recording fails loudly and no later slice is stored, so that the playlist ends
        at the last slice kept instead of skipping one. Unkept slices stay in the
        work folder."""
        key = await self._keep(closed, self.sink.add_slice, "slice")
        if key is None:
            return
        stored = StoredSlice(
            closed.name, key, closed.size, closed.duration, closed.start, closed.playlist
        )
        self._stored.append(stored)
        with contextlib.suppress(OSError):
            await asyncio.to_thread(closed.path.unlink)
        playlist_key = self.playlist_key
        if closed.playlist is not None:  # beside the recording's playlist
            folder = playlist_key.rpartition("/")[0]
            playlist_key = f"{folder}/{closed.playlist}" if folder else closed.playlist
        self._emit(SliceStored(stored, playlist_key))

    async def _keep(
        self, closed: ClosedSlice, add: Callable[[ClosedSlice], Awaitable[str]], noun: str
    ) -> str | None:
        """``add`` (the sink's add_slice or add_file) ``closed``, a ``noun`` ("slice",
        "file"); its key, or None when it cannot be kept (see :meth:`_store`)."""
        if self._unkept:
            self._unkept.append(closed.name)
            return None
        for delay in (*KEEP_RETRY_DELAYS, None):
            try:
                return await add(closed)
            except CloudRecordingError as exc:
                if delay is None:
                    self._unkept.append(closed.name)
                    tried = sum(KEEP_RETRY_DELAYS)
                    self._fail(
                        exc.code,  # the sink's: BACKUP_FAILED for the durable uploader's backup
                        f"{exc.message} (tried for {tried:.0f} s): the recording stops; its "
                        f"{len(self._stored)} slices kept so far are safe, {closed.name} and "
                        f"any later {noun} stay in the work folder {self.work_dir}",
                    )
                    return None
                logger.warning("recorder %s: %s; trying again in %.2f s", self.sid, exc, delay)
                await asyncio.sleep(delay)
        return None  # not reached: the last delay is None

    async def _store_mp4(self, part: ClosedSlice) -> None:
        """Make a closed MP4 part a regular MP4 (off the loop) and hand it to the sink."""
        final = part.path.with_name(part.name)
        try:
            seconds = await asyncio.to_thread(finalize, part.path, final)
        except (ValueError, OSError, av.FFmpegError) as exc:
            self._emit(
                RecorderFailure(
                    ErrorCode.RECORDER_FAILED,
                    f"{part.name} could not be written: {exc}; its part stays in the work "
                    f"folder {self.work_dir}",
                )
            )
            return
        size = (await asyncio.to_thread(final.stat)).st_size
        closed = ClosedSlice(part.index, part.name, final, part.start, seconds, size)
        key = await self._keep(closed, self.sink.add_file, "file")
        if key is None:
            return
        for path in (part.path, final):
            with contextlib.suppress(OSError):
                await asyncio.to_thread(path.unlink)
        self._emit(FileStored(part.name, key, size, seconds, part.start))

    async def _store_snapshot(self, snapshot: Snapshot) -> None:
        """Hand a snapshot to the sink (kept and uploaded beside the playlist, retried as
        a slice is) and report it."""
        size = len(snapshot.data)
        closed = ClosedSlice(snapshot.index, snapshot.name, snapshot.path, snapshot.time, 0.0, size)
        key = await self._keep(closed, self.sink.add_file, "file")
        if key is None:
            return
        with contextlib.suppress(OSError):
            await asyncio.to_thread(snapshot.path.unlink)
        self._emit(SnapshotStored(snapshot.name, key, size, snapshot.time, snapshot.data))

    def _emit(self, event: RecorderEvent) -> None:
        if self._emit_to is None:
            return
        try:
            self._emit_to(event)
        except Exception:  # a listener's bug must not stop the recording
            logger.exception("recorder %s: event listener failed on %r", self.sid, event)


def _picture_size(frame: av.AudioFrame | av.VideoFrame | EncodedFrame) -> tuple[int, int] | None:
    """A video frame's size: decoded, or from an encrypted VP8 keyframe's clear header."""
    if isinstance(frame, av.VideoFrame):
        return frame.width, frame.height
    if isinstance(frame, EncodedFrame) and frame.codec == "VP8":
        return vp8_keyframe_size(frame.data)
    return None


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the work folder is full: {error}"
    if isinstance(error, av.FFmpegError):
        return f"media encoding failed: {error}"
    return f"the media pipeline failed: {type(error).__name__}: {error}"
