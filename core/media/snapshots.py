"""JPEG snapshots of the composed picture, every ``capture_interval`` seconds of output.

Agora takes snapshots in individual mode only, one per user (cloudrec's individual
mode does too: :class:`core.media.individual.UserSnapshots`); in mix mode cloudrec
takes the composed picture (the recording's own frame, every window and the
background, as a player shows it): ``docs/recording-files.md``, "Snapshots".

:class:`SnapshotTaker` runs in the recorder's worker thread. The pipeline offers it
every composed frame with its output time (:attr:`MixPipeline.on_picture`); the first
frame at or after each due time ``k * capture_interval`` (k = 1, 2, ...; never output
time 0, whose picture is the empty canvas users' first frames have not reached yet)
is encoded as a JPEG by FFmpeg's MJPEG encoder (about 1 ms for 640x360), written to
the work folder as ``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.jpg`` (the frame's UTC time,
as slices are named) and handed on. A recording of ``d`` seconds thus has
``ceil(d / capture_interval) - 1`` snapshots: 12 s at 5 s gives two (5 s and 10 s).
"""

from __future__ import annotations

import math
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import ColorRange

JPEG_QUALITY = 3
"""FFmpeg's MJPEG quantizer scale (2 best .. 31 worst), as ``ffmpeg -q:v 3``: three
synthetic tiles of 640x360 make 9.5 KB, 1920x1080 49 KB (docs/recording-files.md)."""


@dataclass(frozen=True)
class Snapshot:
    """A JPEG written to the work folder."""

    index: int
    """0 for the recording's first snapshot, then 1, 2, ..."""
    name: str
    path: Path
    time: float
    """Output seconds of the picture."""
    data: bytes = field(repr=False)
    """The JPEG itself (a few tens of KB): the server keeps the latest for its window."""


class SnapshotTaker:
    """Encodes the composed picture every ``interval`` seconds of output time and passes
    each :class:`Snapshot` to ``on_snapshot`` (worker thread; see the module docstring).

    ``name_for`` names a snapshot of an output time. A snapshot that cannot be taken
    (the work folder full, an encoder error) is skipped and reported to ``on_error``
    (the first of a run of failures only): as in Agora's service, the recording is not
    affected when a snapshot fails."""

    def __init__(
        self,
        interval: float,
        work_dir: Path,
        name_for: Callable[[float], str],
        on_snapshot: Callable[[Snapshot], None],
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the snapshot interval must be positive")
        self.interval = interval
        self.work_dir = Path(work_dir)
        self._name_for = name_for
        self._on_snapshot = on_snapshot
        self._on_error = on_error or (lambda message: None)
        self._failing = False
        self._next = 1
        """The next snapshot is due at ``_next * interval``."""
        self._encoder = JpegEncoder()
        self.taken = 0
        """Snapshots written."""
        self.failed = 0
        """Snapshots skipped because they could not be encoded or written."""
        self.encode_seconds = 0.0
        """Thread CPU seconds spent encoding and writing snapshots (the bench reads it)."""

    def due(self, time: float) -> bool:
        """Whether a snapshot is due at output ``time``."""
        return time + 1e-9 >= self._next * self.interval

    def offer(self, time: float, frame: av.VideoFrame) -> None:
        """The composed ``frame`` of output ``time``: encoded when a snapshot is due."""
        if not self.due(time):
            return
        # The next due time after this frame's: one frame is never taken twice, even for
        # an interval shorter than a tick (the config allows none: 1 s at least).
        self._next = math.floor((time + 1e-9) / self.interval) + 1
        started = _time.thread_time()
        try:
            snapshot = self._take(time, frame)
        except (OSError, av.FFmpegError, ValueError) as exc:
            self.failed += 1
            if not self._failing:
                self._failing = True
                self._on_error(f"the snapshot of output time {time:.3f} s failed: {exc}")
            return
        finally:
            self.encode_seconds += _time.thread_time() - started
        self._failing = False
        self._on_snapshot(snapshot)

    def _take(self, time: float, frame: av.VideoFrame) -> Snapshot:
        data = self._encoder.encode(frame)
        name = self._name_for(time)
        path = self.work_dir / name
        with open(path, "wb") as out:
            out.write(data)
        snapshot = Snapshot(self.taken, name, path, time, data)
        self.taken += 1
        return snapshot


class JpegEncoder:
    """FFmpeg's MJPEG encoder for composed pictures, made again when the size changes.
    Not thread safe: one user at a time."""

    def __init__(self) -> None:
        self._codec: av.VideoCodecContext | None = None
        self._count = 0

    def encode(self, frame: av.VideoFrame) -> bytes:
        """``frame`` (the canvas: BT.601 limited range) as one JPEG."""
        codec = self._codec
        if codec is None or (codec.width, codec.height) != (frame.width, frame.height):
            codec = av.CodecContext.create("mjpeg", "w")
            assert isinstance(codec, av.VideoCodecContext)
            codec.width, codec.height = frame.width, frame.height
            codec.pix_fmt = "yuv420p"
            codec.color_range = ColorRange.JPEG
            codec.time_base = Fraction(1, 1)
            codec.options = {"qmin": str(JPEG_QUALITY), "qmax": str(JPEG_QUALITY)}
            self._codec = codec
        # The canvas is BT.601 limited range; JPEG (JFIF) is full range: convert, or a
        # decoder shows washed-out colours (a red tile's 199 read as 190).
        full = frame.reformat(
            format="yuv420p",
            src_color_range=ColorRange.MPEG,
            dst_color_range=ColorRange.JPEG,
        )
        # Rising, also past a failed one, in the codec's own time base: PyAV rescales
        # a frame's pts from the frame's time base (the canvas's 1/fps) to the codec's,
        # which would round neighbouring frames to the same second and be refused.
        full.pts = self._count
        full.time_base = codec.time_base
        self._count += 1
        packets = codec.encode(full)
        if len(packets) != 1:  # MJPEG is intra only: one frame in, one JPEG out
            raise ValueError(f"the JPEG encoder gave {len(packets)} packets for one frame")
        return bytes(packets[0])


@dataclass(frozen=True)
class Picture:
    """A composed picture as a JPEG."""

    time: float
    """Output seconds of the picture."""
    data: bytes = field(repr=False)


class LivePicture:
    """The newest composed picture of a recording, encoded as a JPEG only when asked
    (the window's live thumbnail and preview: ``docs/recording-files.md``, "Live
    picture").

    :meth:`offer` runs in the recorder's worker thread for every composed frame and
    only keeps a reference to it (the compositor makes a new frame each tick); :meth:`jpeg`
    runs in any thread, encodes the newest frame once (about 1 ms at 640x360) and gives
    the same :class:`Picture` again until a newer frame came, so a window asking every
    second costs one JPEG a second, and none is made while nobody asks."""

    def __init__(self) -> None:
        self._latest: tuple[float, av.VideoFrame] | None = None
        self._picture: Picture | None = None
        self._encoder = JpegEncoder()
        self._lock = threading.Lock()

    def offer(self, time: float, frame: av.VideoFrame) -> None:
        """The composed ``frame`` of output ``time`` (the worker thread)."""
        self._latest = (time, frame)

    def jpeg(self) -> Picture | None:
        """The newest picture, None before the first."""
        latest = self._latest
        if latest is None:
            return None
        with self._lock:
            picture = self._picture
            if picture is None or picture.time != latest[0]:
                picture = Picture(latest[0], self._encoder.encode(latest[1]))
                self._picture = picture
            return picture
