"""H.264 and AAC encoders of the recorder, producing packets on the output timeline.

Both encoders are plain PyAV codec contexts, not streams of a container: the
segmenter opens one MPEG-TS container per slice and muxes these packets into it, so
one encoder (and one rate-control state) lasts the whole recording.

* Video: libx264 with a fixed GOP of one slice (``keyint = min-keyint = gop``,
  scene cut off), so keyframes fall exactly on slice boundaries; no B-frames;
  HRD CBR with a one-second VBV at the configured bitrate, so the recording has the
  bitrate that was asked for (the encoder pads with filler data when the picture is
  static). Parameter sets are repeated on every keyframe (no global header), so each
  slice decodes on its own.
* Audio: FFmpeg's AAC-LC encoder; each packet gets an ADTS header, the framing
  MPEG-TS carries AAC in, so slices need no out-of-band codec configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from core.enums import AudioProfile

X264_PRESET = "veryfast"
"""x264 speed preset: the fastest preset that keeps text in the tiles legible at 500 kbps."""

AAC_FRAME_SAMPLES = 1024
"""Samples per AAC frame."""

_ADTS_RATE_INDEX = {
    96000: 0,
    88200: 1,
    64000: 2,
    48000: 3,
    44100: 4,
    32000: 5,
    24000: 6,
    22050: 7,
    16000: 8,
    12000: 9,
    11025: 10,
    8000: 11,
}


@dataclass(frozen=True)
class EncodedPacket:
    """One encoded access unit: its bytes and its place on the output timeline."""

    kind: str  # "video" | "audio"
    data: bytes
    pts: int
    dts: int
    duration: int
    time_base: Fraction
    keyframe: bool

    @property
    def time(self) -> float:
        """Presentation time in seconds on the output timeline."""
        return float(self.pts * self.time_base)

    @property
    def end_time(self) -> float:
        """Presentation time just after this packet."""
        return float((self.pts + self.duration) * self.time_base)


class VideoEncoder:
    """Encodes composed yuv420p frames, numbered 0, 1, 2… at ``fps``, to H.264."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: int,
        bitrate_kbps: int,
        gop: int,
        *,
        preset: str = X264_PRESET,
        threads: int = 0,
    ) -> None:
        if gop < 1:
            raise ValueError(f"gop must be >= 1, not {gop}")
        self.fps = fps
        self.gop = gop
        self.time_base = Fraction(1, fps)
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width = width
        ctx.height = height
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = self.time_base
        ctx.framerate = Fraction(fps, 1)
        ctx.bit_rate = bitrate_kbps * 1000
        ctx.gop_size = gop
        ctx.max_b_frames = 0
        ctx.thread_count = threads
        x264_params = ":".join(
            [
                f"keyint={gop}",
                f"min-keyint={gop}",
                "scenecut=0",
                "bframes=0",
                f"bitrate={bitrate_kbps}",
                f"vbv-maxrate={bitrate_kbps}",
                f"vbv-bufsize={bitrate_kbps}",
                "nal-hrd=cbr",
                "force-cfr=1",
                "repeat-headers=1",
            ]
        )
        ctx.options = {"preset": preset, "x264-params": x264_params}
        ctx.open()
        self._ctx = ctx

    def encode(self, frame: av.VideoFrame, index: int) -> list[EncodedPacket]:
        """Encode output frame number ``index``; returns the packets that came out."""
        frame.pts = index
        frame.time_base = self.time_base
        return self._packets(self._ctx.encode(frame))

    def flush(self) -> list[EncodedPacket]:
        """Drain the encoder at the end of the recording."""
        return self._packets(self._ctx.encode(None))

    def _packets(self, packets: list[av.Packet[Any]]) -> list[EncodedPacket]:
        out = []
        for p in packets:
            if p.pts is None:
                continue
            out.append(
                EncodedPacket(
                    kind="video",
                    data=bytes(p),
                    pts=p.pts,
                    dts=p.dts if p.dts is not None else p.pts,
                    duration=p.duration or 1,
                    time_base=self.time_base,
                    keyframe=p.is_keyframe,
                )
            )
        return out


FAST_CODER_BELOW_KBPS = 96
"""Per channel, the bitrate under which the AAC encoder quantizes with FFmpeg's ``fast``
coder instead of its default ``twoloop``. At 48 Kbps mono (``MUSIC_STANDARD``, the
default profile, and individual recording's audio) ``twoloop`` decoded a 0.7 sine with
peaks of 1.13 (x1.62 of the input), the bots' beeps at x1.68 and four tones at x1.45,
past full scale where players clip, at 8-10 dB SNR; ``fast`` gave x1.00 at 27-77 dB,
x1.16 against x1.43 on a speech-like signal (15.0 against 17.8 dB SNR), at a third to a
half of the CPU. From 96 Kbps a channel ``twoloop`` is within 1-4 % of the input's peak
and is kept (docs/recorder.md, "Audio encoding")."""


class AudioEncoder:
    """Encodes mixed float samples (channels x n, continuous) to AAC-LC with ADTS headers."""

    def __init__(self, profile: AudioProfile) -> None:
        self.profile = AudioProfile(profile)
        self.sample_rate = self.profile.sample_rate
        self.channels = self.profile.channels
        self.time_base = Fraction(1, self.sample_rate)
        ctx = av.CodecContext.create("aac", "w")
        ctx.sample_rate = self.sample_rate
        ctx.layout = "stereo" if self.channels == 2 else "mono"
        ctx.format = "fltp"
        ctx.bit_rate = self.profile.bitrate_kbps * 1000
        ctx.time_base = self.time_base
        if self.profile.bitrate_kbps / self.channels < FAST_CODER_BELOW_KBPS:
            ctx.options = {"aac_coder": "fast"}
        ctx.open()
        self._ctx = ctx
        self._pending = np.zeros((self.channels, 0), dtype=np.float32)
        self._next_pts = 0
        self._adts_fixed = _adts_fixed_header(self.sample_rate, self.channels)

    def encode(self, samples: npt.NDArray[np.float32]) -> list[EncodedPacket]:
        """Append ``samples`` (channels x n, float in [-1, 1]) and encode every full frame."""
        if samples.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {samples.shape[0]}")
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)], axis=1)
        out: list[EncodedPacket] = []
        while self._pending.shape[1] >= AAC_FRAME_SAMPLES:
            chunk = np.ascontiguousarray(self._pending[:, :AAC_FRAME_SAMPLES])
            self._pending = self._pending[:, AAC_FRAME_SAMPLES:]
            out.extend(self._encode_chunk(chunk))
        return out

    def flush(self) -> list[EncodedPacket]:
        """Encode what is left (zero-padded to a whole frame) and drain the encoder."""
        out: list[EncodedPacket] = []
        if self._pending.shape[1]:
            pad = AAC_FRAME_SAMPLES - self._pending.shape[1]
            chunk = np.pad(self._pending, ((0, 0), (0, pad)))
            self._pending = self._pending[:, :0]
            out.extend(self._encode_chunk(chunk))
        out.extend(self._packets(self._ctx.encode(None)))
        return out

    def _encode_chunk(self, chunk: npt.NDArray[np.float32]) -> list[EncodedPacket]:
        frame = av.AudioFrame.from_ndarray(
            chunk, format="fltp", layout="stereo" if self.channels == 2 else "mono"
        )
        frame.sample_rate = self.sample_rate
        frame.pts = self._next_pts
        frame.time_base = self.time_base
        self._next_pts += chunk.shape[1]
        return self._packets(self._ctx.encode(frame))

    def _packets(self, packets: list[av.Packet[Any]]) -> list[EncodedPacket]:
        out = []
        for p in packets:
            if p.pts is None:
                continue
            raw = bytes(p)
            out.append(
                EncodedPacket(
                    kind="audio",
                    data=_adts_header(self._adts_fixed, len(raw)) + raw,
                    pts=p.pts,
                    dts=p.dts if p.dts is not None else p.pts,
                    duration=p.duration or AAC_FRAME_SAMPLES,
                    time_base=self.time_base,
                    keyframe=True,
                )
            )
        return out


def _adts_fixed_header(sample_rate: int, channels: int) -> tuple[int, int]:
    """Bytes 2 and 3 (without the frame length) of the ADTS header for AAC-LC."""
    index = _ADTS_RATE_INDEX[sample_rate]
    profile = 1  # AAC LC: audio object type 2, minus one
    return (profile << 6) | (index << 2) | (channels >> 2), (channels & 0x3) << 6


def _adts_header(fixed: tuple[int, int], payload_size: int) -> bytes:
    """The 7-byte ADTS header (no CRC) for one raw AAC frame of ``payload_size`` bytes."""
    length = payload_size + 7
    return bytes(
        [
            0xFF,
            0xF1,  # sync word, MPEG-4, layer 0, no CRC
            fixed[0],
            fixed[1] | ((length >> 11) & 0x03),
            (length >> 3) & 0xFF,
            ((length & 0x07) << 5) | 0x1F,
            0xFC,  # buffer fullness 0x7FF (variable rate), one raw data block
        ]
    )
