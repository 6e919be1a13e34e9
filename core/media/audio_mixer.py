"""Mixes every user's audio onto the output timeline.

Each user's frames are resampled once, on arrival, to the output rate and layout
(48 kHz, mono or stereo) and placed at the sample their capture time maps to. A
frame that starts within :data:`CONTINUITY_TOLERANCE` of where the user's previous
frame ended is placed right after it, so timestamp jitter never turns into clicks;
a larger jump (packet loss, a clock correction) re-places the user, leaving silence
in a gap and dropping the part of the new frame that overlaps what the user already
has placed (never the two summed); :attr:`AudioMixer.jumps` lists each re-placement. Where no one speaks the mix is silence, so the
recording's audio never has holes.

The sum passes a limiter: unity gain while the mix stays under
:data:`LIMIT_THRESHOLD`, gain reduction with instant attack and a smooth release
above it, and a final clip to [-1, 1]. Everything is float, so loud mixes never
wrap around the way an integer sum would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import av
import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 48_000
CONTINUITY_TOLERANCE = 0.04
"""Seconds a frame may start early or late and still be placed contiguously."""

LIMIT_THRESHOLD = 0.89
"""Peak level (about -1 dBFS) above which the limiter reduces gain."""

_JUMPS_KEPT = 256

LEVEL_FALL = 20.0
"""dB per second by which a user's shown level falls after a peak (a meter's release)."""
SILENCE_DB = -90.0
"""The level of a user who sent nothing (or digital silence), in dBFS."""

_LIMITER_BLOCK = 240  # 5 ms gain steps
_RELEASE_PER_BLOCK = 0.97  # gain recovers by ~3 % per 5 ms block (~80 ms time constant)

FloatArray = npt.NDArray[np.float32]


@dataclass
class _UserAudio:
    resampler: av.AudioResampler
    chunks: list[tuple[int, FloatArray]] = field(default_factory=list)  # (start sample, data)
    next_sample: int | None = None  # where the user's next frame is expected
    placed_until: int = 0  # where the user's placed audio ends
    peak: float = 0.0  # the meter: the latest peak, falling by LEVEL_FALL dB a second


class AudioMixer:
    """Per-user placement, mixing and limiting at 48 kHz with ``channels`` (1 or 2)."""

    def __init__(self, channels: int, *, sample_rate: int = SAMPLE_RATE) -> None:
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, not {channels}")
        self.channels = channels
        self.sample_rate = sample_rate
        self._users: dict[int, _UserAudio] = {}
        self._gain = 1.0
        self._mixed_until = 0
        self.late_samples = 0  # samples that arrived after their time was mixed
        self.jumps: deque[tuple[int, float, float]] = deque(maxlen=_JUMPS_KEPT)
        """The latest re-placements, as (uid, output time, seconds moved: negative is
        earlier): a user's frame that started more than :data:`CONTINUITY_TOLERANCE`
        away from where its previous frame ended."""
        self.tick_levels: dict[int, float] = {}
        """Each user's peak level within the last :meth:`mix` call alone, in dBFS (what
        the active speaker is judged by: no meter's fall)."""
        self.levels: dict[int, float] = {}
        """Each user's level as mixed, in dBFS (a peak meter falling by
        :data:`LEVEL_FALL` dB a second), made anew by each :meth:`mix`: another thread
        may read it."""

    @property
    def users(self) -> list[int]:
        """uids currently mixed."""
        return list(self._users)

    def add_user(self, uid: int) -> None:
        """Start mixing ``uid`` (no-op if present)."""
        if uid not in self._users:
            layout = "stereo" if self.channels == 2 else "mono"
            self._users[uid] = _UserAudio(
                av.AudioResampler(format="flt", layout=layout, rate=self.sample_rate)
            )

    def remove_user(self, uid: int) -> None:
        """Stop mixing ``uid`` and forget its buffered audio."""
        self._users.pop(uid, None)

    def push(self, uid: int, frame: av.AudioFrame, time: float) -> None:
        """Add ``uid``'s ``frame`` captured at ``time`` (seconds on the output timeline)."""
        user = self._users.get(uid)
        if user is None:
            self.add_user(uid)
            user = self._users[uid]
        frame.pts = None  # placement is by ``time``; the resampler must not re-time
        for out in user.resampler.resample(frame):
            data = out.to_ndarray().reshape(-1, self.channels).T.astype(np.float32, copy=False)
            jump = self._place(user, data, time)
            if jump:
                self.jumps.append((uid, time, jump / self.sample_rate))
            time += data.shape[1] / self.sample_rate

    def _place(self, user: _UserAudio, data: FloatArray, time: float) -> int:
        """Place ``data`` for ``time``; the samples the user was re-placed by (0 when
        placed right after its previous frame, or for its first)."""
        start = round(time * self.sample_rate)
        tolerance = CONTINUITY_TOLERANCE * self.sample_rate
        jump = 0
        if user.next_sample is not None:
            if abs(start - user.next_sample) <= tolerance:
                start = user.next_sample
            else:
                jump = start - user.next_sample
        user.next_sample = start + data.shape[1]
        if start < user.placed_until:
            # a user's frames arrive in capture order, so what lies before
            # ``placed_until`` is placed already: drop it, never sum a user twice
            data, start = data[:, user.placed_until - start :], user.placed_until
            if data.shape[1] == 0:
                return jump
        user.placed_until = start + data.shape[1]
        if start + data.shape[1] <= self._mixed_until:
            self.late_samples += data.shape[1]
            return jump
        if start < self._mixed_until:
            cut = self._mixed_until - start
            self.late_samples += cut
            data, start = data[:, cut:], self._mixed_until
        user.chunks.append((start, data))
        return jump

    def mix(self, end_sample: int) -> FloatArray:
        """The limited mix from where the previous call stopped up to ``end_sample``."""
        start = self._mixed_until
        n = max(0, end_sample - start)
        out = np.zeros((self.channels, n), dtype=np.float32)
        if n == 0:
            return out
        fall = 10.0 ** (-LEVEL_FALL / 20.0 * n / self.sample_rate)
        levels: dict[int, float] = {}
        tick_levels: dict[int, float] = {}
        for uid, user in self._users.items():
            kept: list[tuple[int, FloatArray]] = []
            peak = 0.0
            for chunk_start, data in user.chunks:
                chunk_end = chunk_start + data.shape[1]
                lo, hi = max(chunk_start, start), min(chunk_end, end_sample)
                if lo < hi:
                    part = data[:, lo - chunk_start : hi - chunk_start]
                    out[:, lo - start : hi - start] += part
                    peak = max(peak, float(np.abs(part).max()))
                if chunk_end > end_sample:
                    kept.append((chunk_start, data))
            user.chunks = kept
            user.peak = max(peak, user.peak * fall)
            levels[uid] = _db(user.peak)
            tick_levels[uid] = _db(peak)
        self.levels = levels
        self.tick_levels = tick_levels
        self._mixed_until = end_sample
        return self._limit(out)

    def _limit(self, mix: FloatArray) -> FloatArray:
        n = mix.shape[1]
        blocks = -(-n // _LIMITER_BLOCK)
        peaks = np.abs(mix).max(axis=0)
        padded = np.zeros(blocks * _LIMITER_BLOCK, dtype=np.float32)
        padded[:n] = peaks
        block_peaks = padded.reshape(blocks, _LIMITER_BLOCK).max(axis=1)
        if self._gain >= 1.0 and float(block_peaks.max(initial=0.0)) <= LIMIT_THRESHOLD:
            return mix  # the common case: nothing to limit
        gains = np.empty(blocks + 1, dtype=np.float32)
        gains[0] = self._gain
        g = self._gain
        for i, peak in enumerate(block_peaks):
            target = min(1.0, LIMIT_THRESHOLD / float(peak)) if peak > 0 else 1.0
            g = target if target < g else min(target, 1.0 - (1.0 - g) * _RELEASE_PER_BLOCK)
            gains[i + 1] = g
        self._gain = g
        # Each block ramps from the previous block's gain to its own; attack is
        # therefore spread over one block and the final clip catches its start.
        ramp = np.linspace(0.0, 1.0, _LIMITER_BLOCK, endpoint=False, dtype=np.float32)
        curve = (gains[:-1, None] + (gains[1:, None] - gains[:-1, None]) * ramp).reshape(-1)
        limited = mix * np.minimum(curve[:n], gains[1:].repeat(_LIMITER_BLOCK)[:n])
        return np.clip(limited, -1.0, 1.0).astype(np.float32, copy=False)


def _db(peak: float) -> float:
    """A peak amplitude in dBFS, no lower than :data:`SILENCE_DB`."""
    return max(SILENCE_DB, 20.0 * float(np.log10(max(peak, 1e-12))))
