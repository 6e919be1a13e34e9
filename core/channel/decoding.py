"""Decode a received track only while somebody receives it, on a few shared threads.

aiortc decodes every track it receives, each on its own thread: every reassembled
frame goes from the event loop to that thread (a lock and a wake-up), and every
decoded frame comes back through ``run_coroutine_threadsafe`` (a coroutine, a future
and another wake-up of the loop). A publisher's LOW video that nobody records, or
every track of a channel while no recording runs, would cost a decode and two
thread hand-offs per frame for nothing; and with 17 users the hand-offs alone kept
the event loop busier than the decoding, competing for the GIL with the recorder.

A :class:`DecodeGate` stands in for a receiver's private decoder queue (installed
before the receiver starts through :func:`core.channel.aiortc_hooks.replace_decoder_queue`,
as :mod:`core.channel.e2ee_rtp` does for encrypted media). Its ``put`` runs on the event loop for every reassembled frame:

* it first notes that media arrived (the publisher's liveness watchdog must not
  depend on decoding);
* closed, it drops the frame there, before any thread is woken (a video keyframe's
  picture size is still read from its header: :attr:`DecodeGate.size`);
* opened, it passes frames to its :class:`TrackDecoder` from the next frame that
  starts a picture (a VP8 key frame, an H.264 IDR/SPS; every audio frame), so the
  decoder never starts from a missing reference. It asks the sender for a keyframe
  (RTCP PLI) when it opens and again every :data:`KEYFRAME_RETRY` seconds while it
  waits, and after a frame that failed to decode.

A :class:`TrackDecoder` uses aiortc's decoder for the negotiated codec, but runs on
one of the :class:`DecoderPool`'s worker threads (one per core, at most
:data:`MAX_WORKERS`) shared by every track of the process. A worker takes all the
frames queued for it at once, decodes them in order, hands the results back to
the event loop in one call per batch, and then lets the next batch gather for up to
:data:`BATCH_INTERVAL`: thread wake-ups and GIL hand-offs, not decoding, were most
of the cost of delivering small frames (4 users of 320x240: VP8 decodes in ~40 us,
Opus in ~30 us, but each frame's round trip through a thread cost ~100 us). aiortc's
own decoder thread of the receiver still starts and ends with it, but only ever
receives the end-of-track marker, which it passes on to the track.

Timing is unaffected: aiortc maps RTP timestamps to ``pts`` before this queue, for
every frame, so ``pts`` keeps counting while the gate is closed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc import RTCRtpReceiver
from av.frame import Frame

from core.channel.aiortc_hooks import Decoder, new_decoder, replace_decoder_queue
from core.channel.e2ee import Codec, is_keyframe
from core.channel.picture_size import keyframe_size

logger = logging.getLogger(__name__)

KEYFRAME_RETRY = 0.5
"""Seconds between two keyframe requests while an opened gate waits for one."""

BATCH_INTERVAL = 0.01
"""Seconds a decoder thread lets frames gather after a batch (the latency it adds
is at most this; the capture times frames carry are unaffected)."""

MAX_WORKERS = 4
"""Decoder threads at most (PyAV's decoders release the GIL while they decode)."""


def starts_picture(codec_name: str, data: bytes) -> bool:
    """Whether a decoder can start on this frame (unknown codecs: assume it can)."""
    try:
        codec = Codec.of(codec_name)
    except ValueError:
        return True
    return is_keyframe(codec, data)


class DecodeGate(queue.Queue[Any]):
    """A receiver's decoder queue that lets frames through to ``decoder`` only while open.

    ``on_arrival`` is called (on the event loop) for every frame, open or not;
    ``request_keyframe`` when the gate needs a frame to start decoding on.
    """

    def __init__(
        self,
        decoder: TrackDecoder,
        on_arrival: Callable[[], None],
        request_keyframe: Callable[[], None],
    ) -> None:
        super().__init__()
        self.decoder = decoder
        decoder.on_error = self._decode_failed
        self._on_arrival = on_arrival
        self._request_keyframe = request_keyframe
        self._open = False
        self._waiting = True
        self._asked_at = float("-inf")
        self.passed = 0
        """Frames handed to the decoder."""
        self.skipped = 0
        """Frames dropped undecoded (closed, or waiting for a keyframe)."""
        self.size: tuple[int, int] | None = None
        """The picture size the latest video keyframe stated (decoded or not)."""
        self.tap: Callable[[Any, Any], None] | None = None
        """Called on the event loop with every frame (aiortc's codec parameters and
        jitter frame) as it arrives, open or not: the channel's encoded streams."""

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self) -> None:
        """Decode from the next keyframe on (asked for now)."""
        if not self._open:
            self._open = True
            self._waiting = True
            self._ask()

    def close(self) -> None:
        """Stop decoding: frames are dropped until the next :meth:`open`."""
        self._open = False

    def _ask(self) -> None:
        self._asked_at = time.monotonic()
        self._request_keyframe()

    def _decode_failed(self) -> None:
        # Like aiortc: keep the decoder's state and report the lost picture (RFC 4585).
        if self._open and self.decoder.kind == "video":
            self._ask()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stops: aiortc's idle decoder thread ends the track
            super().put(None, block, timeout)
            return
        self._on_arrival()
        codec_parameters, encoded_frame = item
        if self.tap is not None:
            self.tap(codec_parameters, encoded_frame)
        starts = True
        if self.decoder.kind == "video":  # every audio frame starts a picture
            data = bytes(encoded_frame.data)
            starts = starts_picture(codec_parameters.name, data)
            if starts:  # open or not: AUTO needs the size of streams nobody takes
                self.size = keyframe_size(codec_parameters.name, data) or self.size
        if not self._open:
            self.skipped += 1
            return
        if self._waiting:
            if not starts:
                self.skipped += 1
                if time.monotonic() - self._asked_at >= KEYFRAME_RETRY:
                    self._ask()
                return
            self._waiting = False
        self.passed += 1
        self.decoder.submit(codec_parameters, encoded_frame)


class TrackDecoder:
    """Decodes one track's frames on a pool worker and hands them to ``deliver``.

    Create and use on the event loop that runs the track's receiver; ``deliver``
    receives the decoded frames there, in order. :meth:`close` when the track ends.
    """

    def __init__(self, kind: str, deliver: Callable[[Frame], None], pool: DecoderPool) -> None:
        self.kind = kind
        self.deliver = deliver
        self.on_error: Callable[[], None] = lambda: None
        self.loop = asyncio.get_running_loop()
        self._pool = pool
        self._worker = pool.assign()
        self._codec_name: str | None = None
        self._decoder: Decoder | None = None
        self._closed = False

    def submit(self, codec: Any, encoded_frame: Any) -> None:
        """Queue an encoded frame (aiortc's codec parameters and jitter frame)."""
        if not self._closed:
            self._worker.submit(self, codec, encoded_frame)

    def decode(self, codec: Any, encoded_frame: Any) -> list[Frame]:
        """Decode one frame (on the worker thread)."""
        if self._decoder is None or codec.name != self._codec_name:
            self._decoder = new_decoder(codec)
            self._codec_name = codec.name
        return list(self._decoder.decode(encoded_frame))

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (frames decoded after it are dropped)."""
        return self._closed

    def close(self) -> None:
        """No more frames: frees the worker (its thread ends once it has no track)."""
        if not self._closed:
            self._closed = True
            self._pool.release(self._worker)


_Job = tuple[TrackDecoder, Any, Any]
_Result = tuple[TrackDecoder, list[Frame], bool]  # (track, frames, failed)


class _Worker:
    """One decoder thread; runs while some track is assigned to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tracks = 0
        self._jobs: list[_Job] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def start_if_needed(self) -> None:
        with self._wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def submit(self, track: TrackDecoder, codec: Any, encoded_frame: Any) -> None:
        with self._wake:
            self._jobs.append((track, codec, encoded_frame))
            if len(self._jobs) == 1:  # a busy worker takes the rest with its next batch
                self._wake.notify()

    def wake(self) -> None:
        with self._wake:
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._jobs and self.tracks > 0:
                    self._wake.wait()
                if not self._jobs:  # no track left: end; a new track starts a new thread
                    self._thread = None
                    return
                jobs, self._jobs = self._jobs, []
            started = time.monotonic()
            self._decode(jobs)
            # Let frames gather: one wake-up of this thread and of the event loop per
            # BATCH_INTERVAL at most, however many tracks and frames.
            time.sleep(max(0.0, started + BATCH_INTERVAL - time.monotonic()))

    def _decode(self, jobs: list[_Job]) -> None:
        results: dict[asyncio.AbstractEventLoop, list[_Result]] = {}
        for track, codec, encoded_frame in jobs:
            try:
                result: _Result = (track, track.decode(codec, encoded_frame), False)
            except (av.FFmpegError, ValueError) as exc:
                logger.warning("failed to decode a %s frame: %s", codec.name, exc)
                result = (track, [], True)
            except Exception:  # a bug must not end the thread every other track needs
                logger.exception("decoder failed on a %s frame", codec.name)
                result = (track, [], True)
            results.setdefault(track.loop, []).append(result)
        for loop, batch in results.items():
            try:
                loop.call_soon_threadsafe(_deliver, batch)
            except RuntimeError:  # that loop is closed: nobody waits for its frames
                pass


def _deliver(batch: list[_Result]) -> None:
    for track, frames, failed in batch:
        if track.closed:
            continue
        if failed:
            track.on_error()
        for frame in frames:
            track.deliver(frame)


class DecoderPool:
    """Worker threads shared by the :class:`TrackDecoder` objects of a process."""

    def __init__(self, workers: int | None = None) -> None:
        count = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self._workers = [_Worker(f"cloudrec-decoder-{i}") for i in range(count)]
        self._lock = threading.Lock()

    def assign(self) -> _Worker:
        """The worker with the fewest tracks, started if it was idle."""
        with self._lock:
            worker = min(self._workers, key=lambda w: w.tracks)
            worker.tracks += 1
        worker.start_if_needed()
        return worker

    def release(self, worker: _Worker) -> None:
        with self._lock:
            worker.tracks -= 1
        worker.wake()


DECODERS = DecoderPool()
"""The process's decoder threads."""


def install_gate(receiver: RTCRtpReceiver, gate: DecodeGate) -> None:
    """Put ``gate`` in front of ``receiver``'s decoder. Call before the receiver starts."""
    replace_decoder_queue(receiver, gate)
