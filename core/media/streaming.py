"""Live streaming out: the recording's own encoded packets pushed to RTMP and SRT.

A mix recording encodes once; its segmenter hands every packet it writes into a slice
to the outputs beside it (``core.media.segmenter.PacketOutput``), as it does to the MP4
writer. A :class:`StreamFanout` is one such output: it passes each packet to every
:class:`StreamDestination` it holds, which destinations can join and leave while the
recording runs (``docs/streaming.md``).

Each destination runs on its own thread with a bounded queue: the render thread only
appends to it (a destination that falls :data:`QUEUE_SECONDS` behind loses its oldest
packets, counted), so a slow or dead destination never holds the recording or the
other destinations up. A destination connects, waits for the next video keyframe
(the recording's encoder makes one every slice, SPS/PPS in front: the stream's codec
header comes from it), then sends every packet, its timestamps counted from that
keyframe. A failure (refused, dropped, a write error) closes the connection and
tries again after :data:`RETRY_DELAYS`, until it works or the destination is removed;
each change of state is reported (``on_state``) with the last error.

Transports: ``rtmp://`` and ``rtmps://`` are FFmpeg's own RTMP protocol in this
process (FLV); PyAV's FFmpeg has no SRT, so for ``srt://`` the packets are muxed into
MPEG-TS here and written to a child ``ffmpeg`` (the system's, built with libsrt) that
copies them to the SRT URL without decoding anything.

Stream keys are secrets: a destination is named by :func:`mask_url` everywhere
(states, logs, errors), never by its URL.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import IO
from urllib.parse import urlsplit

import av
from av.container import OutputContainer
from av.stream import Stream

from core.media.encoder import EncodedPacket
from core.media.mp4 import audio_specific_config
from core.stream_urls import MAX_DESTINATIONS, check_url, mask_url

logger = logging.getLogger(__name__)

QUEUE_SECONDS = 4.0
"""Seconds of packets a destination holds before it drops its oldest."""

RETRY_DELAYS = (1.0, 2.0, 4.0, 5.0)
"""Seconds before the 1st, 2nd, ... reconnection; the last repeats: a destination
that comes back is live again within 5 s plus its connection."""

CONNECT_TIMEOUT = 5.0
"""Seconds a connection may take (and a write may block) before it counts as failed."""

_TS_TIME_BASE = Fraction(1, 90_000)
_STOP = object()


class DestinationState(StrEnum):
    """Where a destination is."""

    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    STOPPED = "stopped"


@dataclass(frozen=True)
class DestinationStatus:
    """A destination's state as reported (its URL masked)."""

    url: str
    """:func:`mask_url` of the destination."""
    state: DestinationState
    error: str = ""
    """The last error (empty while live after no failure)."""
    connects: int = 0
    """Times it went live."""
    dropped: int = 0
    """Packets dropped because it fell behind."""


def parameter_sets(access_unit: bytes) -> bytes:
    """The SPS and PPS NAL units (Annex-B, with start codes) in front of an H.264 access
    unit: the stream's codec header."""
    units, i, n = [], 0, len(access_unit)
    starts = []
    while i < n - 3:
        if access_unit[i : i + 3] == b"\x00\x00\x01":
            starts.append(i + 3)
            i += 3
        else:
            i += 1
    for k, start in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else n
        unit = access_unit[start:end].rstrip(b"\x00")
        if unit and unit[0] & 0x1F in (7, 8):  # SPS, PPS
            units.append(b"\x00\x00\x00\x01" + unit)
    return b"".join(units)


@dataclass(frozen=True)
class StreamSpec:
    """What the recording's packets are: video size/rate and/or AAC rate/channels."""

    video: tuple[int, int, int] | None
    audio: tuple[int, int] | None


SRT_LINGER = 5
"""Seconds an SRT sender waits, when it closes, for what it has not sent yet: without,
closing dropped what was queued (a 3 s burst reached srt-live-transmit as 6.6 of 72 KB;
with it all of it), so a stop lost the stream's last moments."""


def _lingering(url: str) -> str:
    """``url`` with :data:`SRT_LINGER` unless it sets its own ``linger``."""
    query = urlsplit(url).query
    if any(part.split("=", 1)[0] == "linger" for part in query.split("&") if part):
        return url
    return f"{url}{'&' if query else '?'}linger={SRT_LINGER}"


class _Connection:
    """One connection of a destination: a muxer writing to the URL (RTMP) or to an
    ``ffmpeg`` child that sends to it (SRT)."""

    def __init__(self, url: str, spec: StreamSpec, header: bytes) -> None:
        self.url = url
        self._child: subprocess.Popen[bytes] | None = None
        scheme = urlsplit(url).scheme
        if scheme == "srt":
            # copies the MPEG-TS muxed here to the SRT URL (no decoding)
            command = ["ffmpeg", "-v", "error", "-f", "mpegts", "-i", "pipe:0"]
            self._child = subprocess.Popen(
                [*command, "-c", "copy", "-f", "mpegts", _lingering(url)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            assert self._child.stdin is not None
            self._pipe: IO[bytes] | None = self._child.stdin
            container = av.open(self._pipe, "w", format="mpegts")
        else:
            self._pipe = None
            container = av.open(url, "w", format="flv", timeout=(CONNECT_TIMEOUT, CONNECT_TIMEOUT))
        assert isinstance(container, OutputContainer)
        self.container = container
        self.flv = self._pipe is None
        self.streams: dict[str, Stream] = {}
        if spec.video is not None:
            width, height, fps = spec.video
            video = container.add_stream("h264", rate=fps)
            video.width, video.height = width, height
            video.pix_fmt = "yuv420p"
            video.codec_context.extradata = header
            video.time_base = _TS_TIME_BASE
            self.streams["video"] = video
        if spec.audio is not None:
            rate, channels = spec.audio
            audio = container.add_stream("aac", rate=rate)
            audio.codec_context.layout = "stereo" if channels == 2 else "mono"
            audio.codec_context.extradata = audio_specific_config(rate, channels)
            audio.time_base = Fraction(1, rate)
            self.streams["audio"] = audio

    def send(self, packet: EncodedPacket, origin: Fraction) -> None:
        """Write ``packet``, its time counted from ``origin`` (seconds)."""
        # FLV carries raw AAC (its header says the format); MPEG-TS keeps ADTS
        data = packet.data[7:] if packet.kind == "audio" and self.flv else packet.data
        shift = round(origin / packet.time_base)
        out = av.Packet(data)
        out.pts, out.dts = packet.pts - shift, packet.dts - shift
        out.duration = packet.duration
        out.time_base = packet.time_base
        out.is_keyframe = packet.keyframe
        out.stream = self.streams[packet.kind]
        self.container.mux(out)
        if self._child is not None and self._child.poll() is not None:
            raise OSError(f"the SRT sender ended: {self._child_error()}")

    def _child_error(self) -> str:
        child = self._child
        if child is None or child.stderr is None:
            return ""
        text = child.stderr.read().decode(errors="replace").strip()
        return (text.splitlines() or [f"exit status {child.returncode}"])[-1]

    def close(self) -> None:
        try:
            self.container.close()
        except (av.FFmpegError, OSError):
            pass
        if self._child is not None:
            if self._pipe is not None:
                try:
                    self._pipe.close()
                except OSError:
                    pass
            try:
                self._child.wait(timeout=CONNECT_TIMEOUT + SRT_LINGER)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
            if self._child.stderr is not None:
                self._child.stderr.close()


class StreamDestination:
    """Pushes the recording's packets to ``url`` on its own thread (see the module
    docstring). ``on_state`` is called (from that thread) with every change of state."""

    def __init__(
        self,
        url: str,
        spec: StreamSpec,
        on_state: Callable[[DestinationStatus], None] = lambda status: None,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.url = check_url(url)
        self.masked = mask_url(url)
        self.spec = spec
        self._on_state = on_state
        self._delays = retry_delays
        fps = spec.video[2] if spec.video is not None else 50
        self._queue: deque[EncodedPacket] = deque(maxlen=int(QUEUE_SECONDS * (fps + 50)))
        self._wake = threading.Condition()
        self._stopping = False
        self.status = DestinationStatus(self.masked, DestinationState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"stream {self.masked}", daemon=True)
        self._thread.start()

    # --- the render thread's side ----------------------------------------------------

    def offer(self, packet: EncodedPacket) -> None:
        """Queue one packet (never blocks; a full queue drops its oldest)."""
        with self._wake:
            if len(self._queue) == self._queue.maxlen:
                self._set(dropped=self.status.dropped + 1)
            self._queue.append(packet)
            self._wake.notify()

    def close(self, timeout: float = CONNECT_TIMEOUT + 1.0) -> None:
        """Stop sending (what is queued is sent first while the connection works); wait
        ``timeout`` seconds at most for the thread to end (0: return at once)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if timeout:
            self._thread.join(timeout)

    # --- its own thread --------------------------------------------------------------

    def _set(self, **changes: object) -> None:
        status = dataclasses.replace(self.status, **changes)  # type: ignore[arg-type]
        changed = (status.state, status.error) != (self.status.state, self.status.error)
        self.status = status
        if changed:
            self._report(status)

    def _report(self, status: DestinationStatus) -> None:
        try:
            self._on_state(status)
        except Exception:
            logger.exception("stream %s: the state listener failed", self.masked)

    def _next(self, timeout: float | None) -> EncodedPacket | object | None:
        with self._wake:
            if not self._queue and not self._stopping:
                self._wake.wait(timeout)
            if self._queue:
                return self._queue.popleft()
            return _STOP if self._stopping else None

    def _run(self) -> None:
        self._report(self.status)  # connecting, from the next keyframe
        attempt = 0
        while True:
            keyframe = self._await_keyframe()
            if keyframe is None:
                break
            try:
                self._set(state=DestinationState.CONNECTING)
                connection = _Connection(self.url, self.spec, parameter_sets(keyframe.data))
            except (av.FFmpegError, OSError, ValueError) as exc:
                if not self._retry(attempt, exc):
                    break
                attempt += 1
                continue
            try:
                finished = self._send(connection, keyframe)
            except (av.FFmpegError, OSError, ValueError) as exc:
                connection.close()
                if not self._retry(attempt, exc):
                    break
                attempt += 1
                continue
            connection.close()
            if finished:
                break
        self._set(state=DestinationState.STOPPED)

    def _await_keyframe(self) -> EncodedPacket | None:
        """The next video keyframe (the queue before it is dropped); None once stopped.
        An audio-only recording starts on any packet."""
        while True:
            item = self._next(None)
            if item is _STOP:
                return None
            if isinstance(item, EncodedPacket):
                if self.spec.video is None or (item.kind == "video" and item.keyframe):
                    return item

    def _send(self, connection: _Connection, first: EncodedPacket) -> bool:
        """Send from ``first`` on until stopped (True) or a failure (raises)."""
        origin = first.dts * first.time_base
        connection.send(first, origin)
        self._set(state=DestinationState.LIVE, error="", connects=self.status.connects + 1)
        logger.info("stream %s: live", self.masked)
        while True:
            item = self._next(None)
            if item is _STOP:
                return True
            if isinstance(item, EncodedPacket) and item.dts * item.time_base >= origin:
                connection.send(item, origin)

    def _retry(self, attempt: int, exc: BaseException) -> bool:
        """Report ``exc`` and wait before the next attempt; False once stopped."""
        message = str(exc).replace(self.url, self.masked)
        logger.warning("stream %s: %s (retrying)", self.masked, message)
        self._set(state=DestinationState.RETRYING, error=message)
        delay = self._delays[min(attempt, len(self._delays) - 1)]
        with self._wake:
            if not self._stopping:
                self._wake.wait_for(lambda: self._stopping, delay)
            self._queue.clear()  # the next connection starts on a new keyframe
            return not self._stopping


class StreamFanout:
    """A packet output of the segmenter that feeds its destinations (thread safe: the
    render thread muxes, any thread adds and removes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._destinations: dict[str, StreamDestination] = {}

    def add(self, destination: StreamDestination) -> None:
        """Feed ``destination`` from the next packet on (keyed by its URL)."""
        with self._lock:
            if destination.url in self._destinations:
                raise ValueError(f"{destination.masked} is already a destination")
            if len(self._destinations) >= MAX_DESTINATIONS:
                raise ValueError(f"at most {MAX_DESTINATIONS} stream destinations")
            self._destinations[destination.url] = destination

    def remove(self, url: str, *, wait: bool = True) -> StreamDestination | None:
        """Stop feeding the destination of ``url`` and close it (``wait``: until its
        thread ended); it, or None."""
        with self._lock:
            destination = self._destinations.pop(url, None)
        if destination is not None:
            destination.close() if wait else destination.close(0)
        return destination

    @property
    def destinations(self) -> list[StreamDestination]:
        with self._lock:
            return list(self._destinations.values())

    def mux(self, packet: EncodedPacket) -> None:
        for destination in self.destinations:
            destination.offer(packet)

    def close(self, end: float | None = None) -> None:
        with self._lock:
            destinations, self._destinations = list(self._destinations.values()), {}
        for destination in destinations:
            destination.close()
