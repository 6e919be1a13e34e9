"""MP4 files beside the HLS slices: encoded once, muxed twice.

The segmenter hands every packet it writes into a slice to an :class:`Mp4Writer` too
(same H.264 and AAC packets, no second encode). The writer keeps a *fragmented* MP4
(``<name>.part``: an empty ``moov``, then a ``moof``/``mdat`` fragment at least every
:data:`FRAGMENT_SECONDS`), so that a crash or a SIGKILL leaves a file whose complete
fragments all play: at most the last fragment and what the I/O buffer held are lost.
At a video keyframe once the file is ``max_seconds`` long (and at the end of the
recording) the part is closed and reported (``on_part``); :func:`finalize` then
rewrites it, off the render thread, into a regular MP4 with its ``moov`` in front
(``-movflags +faststart``): seekable, and playable in a browser's ``<video>`` and in
common players. :func:`finalize` is also what recovers the part of a recording that a
crash interrupted: it copies every fragment that reads back whole.

Timing: video starts at 0 in every file; the audio keeps its place against it. AAC's
priming frame (1024 samples, stamped before 0) is kept in the first file and hidden by
an edit list in the final MP4, as FFmpeg writes it, so audio and video stay exactly as
aligned as in the slices.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer, OutputContainer
from av.stream import Stream

from core.media.encoder import EncodedPacket
from core.media.slices import ClosedSlice

logger = logging.getLogger(__name__)

FRAGMENT_SECONDS = 1.0
"""Longest fragment of a part being written: what a crash can lose, at most (plus the
I/O buffer)."""

PART_SUFFIX = ".part"

MAX_SECONDS = 2 * 3600
"""Agora's MP4 files end at about 2 hours (its start reference; its file management
guide says 3 since 2026-05) ..."""

MAX_BYTES = 2 * 1024**3
"""... or about 2 GB, whichever comes first: then the next file starts."""

START_KEY = {"video": "cloudrec_video_start", "audio": "cloudrec_audio_start"}
"""Metadata of a part: where each stream's first packet lies, in seconds from the
file's start (an exact fraction, e.g. ``-2/375`` for AAC's priming frame at 48 kHz)."""
"""Suffix of the fragmented file being written (the final MP4's name plus this)."""

_FRAGMENTED = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof+use_metadata_tags",
    "avoid_negative_ts": "make_zero",
    "frag_duration": str(round(FRAGMENT_SECONDS * 1_000_000)),
}
_FINAL = {"movflags": "+faststart", "use_editlist": "1", "avoid_negative_ts": "disabled"}
_TS_TIME_BASE = Fraction(1, 90_000)


@dataclass(frozen=True)
class Mp4Spec:
    """What the MP4 carries: video size/rate and/or AAC rate/channels."""

    video: tuple[int, int, int] | None  # width, height, fps
    audio: tuple[int, int] | None  # sample rate, channels


class Mp4Writer:
    """Writes packets into consecutive fragmented MP4 parts of at most ``max_seconds``.

    ``name_for(index)`` names the final MP4 of the ``index``-th file (0, 1, ...: Agora
    numbers a recording's MP4 files so); the part being written is that name plus
    :data:`PART_SUFFIX` in ``work_dir``. Each file ends at the first keyframe once it
    holds ``max_seconds`` or ``max_bytes``.
    ``on_part`` receives each closed part (as a :class:`ClosedSlice` of the part file:
    its index, final name, start and duration on the output timeline).
    """

    def __init__(
        self,
        work_dir: Path,
        spec: Mp4Spec,
        max_seconds: float,
        name_for: Callable[[int], str],
        on_part: Callable[[ClosedSlice], None],
        max_bytes: int = MAX_BYTES,
    ) -> None:
        if spec.video is None and spec.audio is None:
            raise ValueError("an MP4 needs audio or video")
        if max_seconds <= 0:
            raise ValueError(f"max_seconds must be positive, not {max_seconds}")
        self.work_dir = Path(work_dir)
        self.spec = spec
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self._bytes = 0
        self._name_for = name_for
        self._on_part = on_part
        self._cut_kind = "video" if spec.video is not None else "audio"
        self._container: OutputContainer | None = None
        self._streams: dict[str, Stream] = {}
        self._index = -1
        self._start = 0.0
        self._name = ""
        self._end = 0.0
        self._closed = False
        self._held: list[EncodedPacket] = []
        self._header_written = False

    @property
    def part_path(self) -> Path | None:
        """The part being written now (None between files)."""
        return self.work_dir / (self._name + PART_SUFFIX) if self._container else None

    def mux(self, packet: EncodedPacket) -> None:
        """Write one packet (packets come interleaved by decode time, as the segmenter
        writes them)."""
        if self._closed:
            return
        t = packet.time
        if self._container is None:
            self._open(0.0 if self._index < 0 else t)
        elif (
            packet.kind == self._cut_kind
            and packet.keyframe
            and (t >= self._start + self.max_seconds - 1e-6 or self._bytes >= self.max_bytes)
        ):
            self._close_part(end=t)
            self._open(t)
        self._held.append(packet)
        self._bytes += len(packet.data)
        if self._header_written or {p.kind for p in self._held} >= set(self._streams):
            self._write_held()
        self._end = max(self._end, packet.end_time)

    def close(self, end: float | None = None) -> None:
        """Close the last part (the recording ended at output time ``end``)."""
        if not self._closed:
            self._closed = True
            self._close_part(end=self._end if end is None else max(end, self._start))

    def _open(self, start: float) -> None:
        self._index += 1
        self._start = start
        self._name = self._name_for(self._index)
        path = self.work_dir / (self._name + PART_SUFFIX)
        container = av.open(str(path), "w", format="mp4", options=dict(_FRAGMENTED))
        assert isinstance(container, OutputContainer)
        self._streams = {}
        if self.spec.video is not None:
            width, height, fps = self.spec.video
            video = container.add_mux_stream("h264", rate=fps, width=width, height=height)
            video.time_base = _TS_TIME_BASE
            self._streams["video"] = video
        if self.spec.audio is not None:
            rate, channels = self.spec.audio
            audio = container.add_stream("aac", rate=rate)
            audio.codec_context.layout = "stereo" if channels == 2 else "mono"
            audio.codec_context.extradata = audio_specific_config(rate, channels)
            audio.time_base = Fraction(1, rate)
            self._streams["audio"] = audio
        self._container = container
        self._held = []
        self._header_written = False
        self._bytes = 0

    def _write_held(self) -> None:
        """Write the packets held since the part opened. A fragmented MP4 starts every
        stream at 0, so before its header the part notes where each stream really starts
        (seconds from the file's start, exact fractions) for :func:`finalize`: the first
        packet of each stream must be known by then, hence the holding."""
        assert self._container is not None
        if not self._header_written:
            for kind in self._streams:
                first = next((p for p in self._held if p.kind == kind), None)
                if first is not None:
                    begins = first.dts * first.time_base - Fraction(self._start).limit_denominator(
                        90_000
                    )
                    self._container.metadata[START_KEY[kind]] = str(begins)
            self._header_written = True
        for packet in self._held:
            data = packet.data[7:] if packet.kind == "audio" else packet.data  # no ADTS
            out = av.Packet(data)
            out.pts, out.dts = packet.pts, packet.dts
            out.duration = packet.duration
            out.time_base = packet.time_base
            out.is_keyframe = packet.keyframe
            out.stream = self._streams[packet.kind]
            self._container.mux(out)
        self._held = []

    def _close_part(self, end: float) -> None:
        if self._container is None:
            return
        if self._held:  # a stream never came: write what there is
            self._write_held()
        path = self.work_dir / (self._name + PART_SUFFIX)
        self._container.close()
        self._container = None
        self._on_part(
            ClosedSlice(
                index=self._index,
                name=self._name,
                path=path,
                start=self._start,
                duration=max(0.0, end - self._start),
                size=path.stat().st_size,
            )
        )


_RATE_INDEX = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


def audio_specific_config(sample_rate: int, channels: int) -> bytes:
    """The 2-byte AudioSpecificConfig of AAC-LC (ISO/IEC 14496-3, 1.6.2.1): object type 2,
    the sampling frequency index and the channel configuration."""
    index = _RATE_INDEX.index(sample_rate)
    bits = (2 << 11) | (index << 7) | (channels << 3)
    return bits.to_bytes(2, "big")


def finalize(part: Path, out: Path) -> float:
    """Rewrite the fragmented MP4 ``part`` into the regular MP4 ``out``, its ``moov`` in
    front; every fragment that reads back whole is kept (a part cut short by a crash
    loses only its broken end). Returns the seconds of media written.

    Raises :class:`ValueError` when ``part`` cannot be read or holds no whole packet.
    """
    _drop_torn_end(part)
    tmp = out.with_name(out.name + ".tmp")
    written = 0
    with contextlib.ExitStack() as stack:
        try:
            source = av.open(str(part), "r")
        except av.error.FFmpegError as exc:
            raise ValueError(f"{part.name} is not a readable MP4: {exc}") from exc
        assert isinstance(source, InputContainer)
        stack.callback(source.close)
        target = av.open(str(tmp), "w", format="mp4", options=dict(_FINAL))
        assert isinstance(target, OutputContainer)
        streams = {}
        for stream in source.streams:
            if stream.type in ("video", "audio"):
                streams[stream.index] = target.add_stream_from_template(stream)
        # The part's muxer shifted every stream by the earliest start (so nothing is
        # negative) and then pulled each stream's first sample to 0; the metadata says
        # where each stream really starts (seconds from the file's start). So a first
        # sample goes back to its stream's start and every later one moves by the
        # earliest start. Video then starts at 0 and the audio's priming frame before
        # it, where the final MP4's edit list hides it.
        chosen = [s for s in source.streams if s.index in streams]
        starts = {s.index: Fraction(source.metadata.get(START_KEY[s.type], "0")) for s in chosen}
        base = min(starts.values(), default=Fraction(0))
        seen: set[int] = set()
        ends: list[float] = []
        try:
            for packet in source.demux(*chosen):
                if packet.dts is None or packet.pts is None or packet.time_base is None:
                    continue
                index = packet.stream.index
                if index in seen:
                    moved = round(base / packet.time_base)
                else:
                    seen.add(index)
                    moved = round(starts[index] / packet.time_base) - packet.dts
                packet.pts += moved
                packet.dts += moved
                packet.stream = streams[index]
                ends.append(float((packet.pts + (packet.duration or 0)) * packet.time_base))
                target.mux(packet)
                written += 1
        except (av.error.InvalidDataError, av.error.EOFError) as exc:  # a crash's torn end
            logger.warning("%s: kept what read back whole before %s", part.name, exc)
        target.close()
    if written == 0:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"{part.name} holds no whole packet")
    tmp.replace(out)
    with av.open(str(out)) as check:
        duration = check.duration
    return float(duration) / 1_000_000 if duration else max(ends, default=0.0)


def _drop_torn_end(part: Path) -> None:
    """Cut ``part`` after its last whole fragment: a writer killed mid-fragment leaves a
    box whose size runs past the end of the file (and maybe a ``moof`` whose ``mdat``
    never came), which a demuxer would hand on as a short, undecodable sample."""
    size = part.stat().st_size
    keep, at = 0, 0
    with part.open("rb") as f:
        while at + 8 <= size:
            f.seek(at)
            header = f.read(16)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if length == 1 and len(header) == 16:
                length = int.from_bytes(header[8:16], "big")
            if length < 8 or at + length > size:
                break  # torn
            at += length
            if kind != b"moof":  # a fragment is whole with its mdat
                keep = at
    if keep < size:
        logger.warning("%s: %d bytes of a torn fragment dropped", part.name, size - keep)
        with part.open("r+b") as f:
            f.truncate(keep)
