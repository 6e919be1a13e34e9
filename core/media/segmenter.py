"""Cuts the encoded streams into MPEG-TS slices on keyframes.

Packets of both encoders come in, each stream in its own order; the segmenter
interleaves them by time (a packet is written once the other stream has caught up
with it), and starts a new slice file at the first video keyframe at or after each
slice boundary (for audio-only recordings: the first audio packet). Every slice is
its own MPEG-TS file with its own PAT/PMT, so it plays alone; timestamps continue
across slices, offset by :data:`PTS_OFFSET` like FFmpeg's own HLS output so that
AAC's priming packet never has a negative timestamp. The slices also join as one
stream: a new muxer starts every TS packet identifier's continuity counter at 0,
which a reader of the playlist as one stream (FFmpeg's HLS demuxer, a player
stitching slices) takes for lost packets and flags as corrupt, so each closed slice's
counters are rewritten to go on from the slice before (:class:`ContinuityCounters`),
as FFmpeg's HLS muxer, which keeps one muxer for all slices, writes them.

A track of individual recording (``docs/recorder.md``, "Individual recording") is
one stream, copied as it came: its slices may be WebM files (VP8 cannot go into
MPEG-TS), whose timestamps are the output time itself, and its slice grid starts at
its first packet (a user who joins at 10 s has files from 10 s on) instead of at 0.

When a slice is complete (file closed) the ``on_slice`` callback receives a
:class:`~core.media.slices.ClosedSlice`; storing it is the caller's business, off this
thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from av.container import OutputContainer
from av.stream import Stream

from core.media.encoder import EncodedPacket
from core.media.slices import ClosedSlice as ClosedSlice  # re-exported: callers name it here

PTS_OFFSET = 1.4
"""Seconds added to every timestamp in the slices (FFmpeg's default mux delay x 2)."""

_TS_TIME_BASE = Fraction(1, 90_000)


TS_PACKET = 188
_NULL_PID = 0x1FFF

MIN_TS_PACKETS = 16
"""TS packets a slice has at least: a shorter one is padded with null packets. Readers
tell a file's format by its content, and FFmpeg's MPEG-TS probe needs more than 10
packets in step: a slice of a few audio frames (a recording stopped just after a
boundary) was read as MPEG program stream, whose decoder then failed on it."""

_NULL_PACKET = bytes([0x47, 0x1F, 0xFF, 0x10]) + b"\xff" * (TS_PACKET - 4)


class ContinuityCounters:
    """Rewrites MPEG-TS continuity counters so that consecutive files join as one stream.

    Each TS packet carries a 4-bit counter per packet identifier (PID) that goes up by
    one with every packet that has a payload (ISO/IEC 13818-1, 2.4.3.3). :meth:`rewrite`
    numbers a file's packets on from where the previous file's left off, per PID;
    packets without payload repeat the counter, as the standard says, and null packets
    are left alone. Nothing else in the file changes, except that a file of fewer than
    :data:`MIN_TS_PACKETS` packets gets null packets at its end.
    """

    def __init__(self) -> None:
        self._next: dict[int, int] = {}  # PID -> counter of its next payload packet

    def rewrite(self, path: Path) -> None:
        """Renumber the counters of the TS file ``path`` in place."""
        data = bytearray(path.read_bytes())
        if len(data) % TS_PACKET or any(data[i] != 0x47 for i in range(0, len(data), TS_PACKET)):
            raise ValueError(f"{path.name} is not a sequence of 188-byte TS packets")
        packets = np.frombuffer(data, dtype=np.uint8).reshape(-1, TS_PACKET).copy()
        pids = ((packets[:, 1].astype(np.int32) & 0x1F) << 8) | packets[:, 2]
        has_payload = (packets[:, 3] & 0x10) != 0
        for pid in np.unique(pids):
            if pid == _NULL_PID:
                continue  # stuffing: its counter means nothing
            rows = np.nonzero(pids == pid)[0]
            payload = has_payload[rows].astype(np.int32)
            start = self._next.get(int(pid), 0)
            # the n-th payload packet (from 0) gets start + n; one without repeats the last
            counters = (start + np.cumsum(payload) - 1) & 0x0F
            packets[rows, 3] = (packets[rows, 3] & 0xF0) | counters.astype(np.uint8)
            self._next[int(pid)] = (start + int(payload.sum())) & 0x0F
        padding = _NULL_PACKET * max(0, MIN_TS_PACKETS - len(packets))
        path.write_bytes(packets.tobytes() + padding)


class PacketOutput(Protocol):
    """Another file the segmenter's interleaved packets go to (an MP4 writer)."""

    def mux(self, packet: EncodedPacket) -> None:
        """Write one packet; packets come in decode-time order across streams."""
        ...

    def close(self, end: float | None = None) -> None:
        """The recording ended at output time ``end``."""
        ...


@dataclass(frozen=True)
class StreamSpec:
    """What the slices carry: video size/rate and/or audio rate/channels, in a container."""

    video: tuple[int, int, int] | None = None  # width, height, fps
    audio: tuple[int, int] | None = None  # sample rate, channels
    video_codec: str = "h264"
    """``h264`` or ``vp8`` (a copied VP8 track: WebM slices only)."""
    audio_codec: str = "aac"
    """``aac`` or ``opus`` (a copied Opus track, individual mode's ``original``)."""
    format: str = "mpegts"
    """``mpegts`` (``.ts`` slices) or ``webm``."""

    @property
    def suffix(self) -> str:
        """The slices' file name suffix."""
        return ".webm" if self.format == "webm" else ".ts"


class Segmenter:
    """Writes packets into consecutive slice files of about ``slice_seconds`` each.

    ``name_for(start_seconds)`` names the slice that starts at that output time. Slices
    start on a grid of ``slice_seconds`` from ``origin`` (``None``: from the first
    packet); ``on_keyframe_wanted`` is called for each video packet that is past its
    slice's boundary but no keyframe (a copied track asks its sender for one).
    """

    def __init__(
        self,
        work_dir: Path,
        spec: StreamSpec,
        slice_seconds: float,
        name_for: Callable[[float], str],
        on_slice: Callable[[ClosedSlice], None],
        also: Sequence[PacketOutput] = (),
        *,
        origin: float | None = 0.0,
        on_keyframe_wanted: Callable[[], None] | None = None,
    ) -> None:
        if spec.video is None and spec.audio is None:
            raise ValueError("a recording needs audio or video")
        self._also = tuple(also)
        self.work_dir = Path(work_dir)
        self.spec = spec
        self.slice_seconds = slice_seconds
        self._name_for = name_for
        self._on_slice = on_slice
        self._queues: dict[str, deque[EncodedPacket]] = {}
        if spec.video is not None:
            self._queues["video"] = deque()
        if spec.audio is not None:
            self._queues["audio"] = deque()
        self._cut_kind = "video" if spec.video is not None else "audio"
        self._origin = origin
        self._on_keyframe_wanted = on_keyframe_wanted
        self._pts_offset = PTS_OFFSET if spec.format == "mpegts" else 0.0
        self._container: OutputContainer | None = None
        self._streams: dict[str, Stream] = {}
        self._slice_index = -1
        self._slice_start = 0.0
        self._slice_name = ""
        self._slice_path = Path()
        self._end_time = 0.0
        self.closed_slices = 0
        self._counters = ContinuityCounters()

    @property
    def next_boundary(self) -> float | None:
        """The output time from which the next slice may start (``None`` before the
        first packet)."""
        if self._origin is None:
            return None
        return self._origin + (self._slice_index + 1) * self.slice_seconds

    def write(self, packets: list[EncodedPacket]) -> None:
        """Queue packets (each stream's packets in decode order) and write what is ready."""
        for p in packets:
            self._queues[p.kind].append(p)
        self._drain(final=False)

    def close(self) -> None:
        """Write everything left and close the last slice (and the other outputs)."""
        self._drain(final=True)
        self._close_slice(end=self._end_time)
        for output in self._also:
            output.close(self._end_time)

    def _drain(self, *, final: bool) -> None:
        queues = list(self._queues.values())
        while True:
            ready = [q for q in queues if q]
            if not ready or (not final and len(ready) < len(queues)):
                return
            q = min(ready, key=lambda q: q[0].dts * q[0].time_base)
            self._mux(q.popleft())

    def _mux(self, p: EncodedPacket) -> None:
        t = p.time
        if self._origin is None:
            self._origin = t
        boundary = self._origin + (self._slice_index + 1) * self.slice_seconds - 1e-6
        if self._slice_index < 0:
            self._open_slice(self._origin)
        elif p.kind == self._cut_kind and t >= boundary:
            if p.keyframe:
                self._close_slice(end=t)
                self._open_slice(t)
            elif self._on_keyframe_wanted is not None:
                self._on_keyframe_wanted()
        if self._container is None:
            return  # after close(): nothing more is written
        packet = av.Packet(p.data)
        offset = round(self._pts_offset / p.time_base)
        packet.pts = p.pts + offset
        packet.dts = p.dts + offset
        packet.duration = p.duration
        packet.time_base = p.time_base
        packet.is_keyframe = p.keyframe
        packet.stream = self._streams[p.kind]
        self._container.mux(packet)
        self._end_time = max(self._end_time, p.end_time)
        for output in self._also:
            output.mux(p)

    def _open_slice(self, t: float) -> None:
        self._slice_index += 1
        # Slices start on the boundary grid: the first at its origin, then every
        # slice_seconds (at the first keyframe at or after each boundary).
        self._slice_start = t if self._slice_index == 0 else max(0.0, t)
        self._slice_name = self._name_for(self._slice_start)
        self._slice_path = self.work_dir / self._slice_name
        spec = self.spec
        container = av.open(str(self._slice_path), "w", format=spec.format)
        assert isinstance(container, OutputContainer)
        self._streams = {}
        if spec.video is not None:
            width, height, fps = spec.video
            vs = container.add_mux_stream(spec.video_codec, rate=fps, width=width, height=height)
            vs.time_base = _TS_TIME_BASE
            self._streams["video"] = vs
        if spec.audio is not None:
            rate, _channels = spec.audio
            stream = container.add_mux_stream(spec.audio_codec, rate=rate)
            stream.time_base = _TS_TIME_BASE
            self._streams["audio"] = stream
        self._container = container

    def _close_slice(self, end: float) -> None:
        if self._container is None:
            return
        self._container.close()
        self._container = None
        if self.spec.format == "mpegts":
            self._counters.rewrite(self._slice_path)
        duration = max(0.0, end - self._slice_start)
        self.closed_slices += 1
        self._on_slice(
            ClosedSlice(
                index=self._slice_index,
                name=self._slice_name,
                path=self._slice_path,
                start=self._slice_start,
                duration=duration,
                size=self._slice_path.stat().st_size,
            )
        )
