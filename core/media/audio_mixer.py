"""Mixes every user's audio onto the output timeline.

Each user's frames are resampled once, on arrival, to the output rate and layout
(48 kHz, mono or stereo) and placed at the sample their capture time maps to. A
frame that starts within :data:`CONTINUITY_TOLERANCE` of where the user's previous
frame ended is placed right after it, so timestamp jitter never turns into clicks;
a larger jump (packet loss, a clock correction) re-places the user, leaving silence
in a gap and dropping the part of the new frame that overlaps what the user already
has placed (never the two summed); :attr:`AudioMixer.jumps` lists each re-placement. Where no one speaks the mix is silence, so the
recording's audio never has holes.

The sum passes a look-ahead limiter (:class:`Limiter`): the mix untouched while it
stays under :data:`LIMIT_THRESHOLD`; above it, the gain falls over the
:data:`LOOKAHEAD` before a peak arrives, so no sample passes the threshold and nothing
is clipped, holds for :data:`HOLD` and recovers with a :data:`RELEASE` time constant.
The mixer reads each user's audio :data:`LOOKAHEAD` ahead of what it hands out (its
output is not delayed, so pictures and sound stay where their capture times put
them): a frame has to arrive that much earlier not to be late. Everything is float, so
loud mixes never wrap around the way an integer sum would.
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

LIMIT_THRESHOLD = 0.84
"""Peak level (-1.5 dBFS) above which the limiter reduces gain: the headroom is for the
AAC encoder, which takes peaks higher (measured up to x1.16 on a speech-like signal at
48 Kbps: docs/recorder.md, "Audio encoding"), so decoded mixes stay within full scale."""

LOOKAHEAD = 240
"""Samples (5 ms) over which the gain falls before a peak: the attack."""

HOLD = 2_400
"""Samples (50 ms) the gain stays down after a peak before it recovers: longer than a
period of the beating of voices or tones a few tens of Hz apart, so a steady loud mix
gets a steady gain rather than one that moves with every beat (distortion)."""

RELEASE = 0.1
"""Seconds: the time constant of the gain's recovery after the hold."""

_JUMPS_KEPT = 256

LEVEL_FALL = 20.0
"""dB per second by which a user's shown level falls after a peak (a meter's release)."""
SILENCE_DB = -90.0
"""The level of a user who sent nothing (or digital silence), in dBFS."""

FloatArray = npt.NDArray[np.float32]


def sliding_min(values: npt.NDArray[np.float64], width: int) -> npt.NDArray[np.float64]:
    """``min(values[i : i + width])`` for every whole window, in O(n) (van Herk/Gil-Werman:
    prefix minima and suffix minima of ``width``-long blocks)."""
    n = len(values)
    if n < width:
        return np.empty(0)
    padded = np.concatenate([values, np.full(-n % width, np.inf)])
    blocks = padded.reshape(-1, width)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[: n - width + 1], prefix[width - 1 : n])


class Limiter:
    """A look-ahead peak limiter over blocks of a continuous signal.

    :meth:`process` gets the samples to hand out followed by :data:`LOOKAHEAD` more,
    which it only looks at. Each sample needs at most ``r = threshold / |peak|`` of
    gain; the gain is the mean, over the last ``lookahead + 1`` samples, of the minimum
    of ``r`` from ``hold`` before to ``lookahead`` after each of them, which never
    exceeds ``r`` anywhere and falls as a straight ramp before a peak; then it recovers
    no faster than the release. Below the threshold (and once recovered) the samples
    pass untouched.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        threshold: float = LIMIT_THRESHOLD,
        lookahead: int = LOOKAHEAD,
        hold: int = HOLD,
        release: float = RELEASE,
    ) -> None:
        self.threshold, self.lookahead, self.hold = threshold, lookahead, hold
        self._decay = 1.0 / (release * sample_rate)  # of the gain reduction, per sample
        self._needed = np.ones(hold + lookahead)  # r of the samples before this block
        self._reduction = 0.0  # 1 - gain of the last sample handed out
        self.gain = 1.0
        """The gain of the last sample handed out."""

    def process(self, samples: FloatArray, n: int) -> FloatArray:
        """The first ``n`` samples (channels x n) limited; ``samples`` holds
        ``n + lookahead`` of them."""
        peaks = np.abs(samples).max(axis=0) if samples.shape[1] else np.zeros(0)
        quiet = float(peaks.max(initial=0.0)) <= self.threshold
        if quiet and self._reduction == 0.0 and float(self._needed.min()) >= 1.0:
            return samples[:, :n]  # the common case: nothing to limit, nothing recovering
        needed = np.ones(len(peaks))
        loud = peaks > self.threshold
        needed[loud] = self.threshold / peaks[loud]
        known = np.concatenate([self._needed, needed])
        # for output sample i (0 <= i < n) and the lookahead samples before it:
        # the least gain needed from ``hold`` before to ``lookahead`` after
        window = sliding_min(known, self.hold + self.lookahead + 1)[: n + self.lookahead]
        sums = np.concatenate([[0.0], np.cumsum(window)])
        width = self.lookahead + 1
        ramp = (sums[width : width + n] - sums[:n]) / width
        # release: the reduction decays by exp(-decay) a sample, never below the ramp's
        steps = np.arange(n) * self._decay
        with np.errstate(divide="ignore"):
            logs = np.log(np.maximum(1.0 - ramp, 0.0)) + steps
        start = np.log(self._reduction) - self._decay if self._reduction > 0 else -np.inf
        reduction = np.exp(np.maximum.accumulate(np.concatenate([[start], logs]))[1:] - steps)
        reduction[reduction < 1e-9] = 0.0  # recovered: unity again
        gain = 1.0 - reduction
        if n:
            self._needed = known[n : n + self.hold + self.lookahead]
            self._reduction = float(reduction[-1])
            self.gain = float(gain[-1])
        limited: FloatArray = samples[:, :n] * gain.astype(np.float32)
        return limited


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
        self._limiter = Limiter(sample_rate)
        self._mixed_until = 0  # the output handed out ends here
        self._summed_until = 0  # the users' audio is summed up to here (LOOKAHEAD on)
        self._ahead = np.zeros((channels, 0), dtype=np.float32)  # summed, not handed out
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
        if start + data.shape[1] <= self._summed_until:
            self.late_samples += data.shape[1]
            return jump
        if start < self._summed_until:
            cut = self._summed_until - start
            self.late_samples += cut
            data, start = data[:, cut:], self._summed_until
        user.chunks.append((start, data))
        return jump

    def mix(self, end_sample: int) -> FloatArray:
        """The limited mix from where the previous call stopped up to ``end_sample`` (the
        users' audio is summed :data:`LOOKAHEAD` further, for the limiter to see)."""
        start = self._mixed_until
        n = max(0, end_sample - start)
        if n == 0:
            return np.zeros((self.channels, 0), dtype=np.float32)
        lookahead = self._limiter.lookahead
        summed = self._sum(self._summed_until, end_sample + lookahead)
        samples = np.concatenate([self._ahead, summed], axis=1)
        self._ahead = samples[:, n:]
        self._mixed_until = end_sample
        return self._limiter.process(samples, n)

    def _sum(self, start: int, end: int) -> FloatArray:
        """Every user's audio from ``start`` to ``end`` summed; the users' levels."""
        n = max(0, end - start)
        out = np.zeros((self.channels, n), dtype=np.float32)
        fall = 10.0 ** (-LEVEL_FALL / 20.0 * n / self.sample_rate)
        levels: dict[int, float] = {}
        tick_levels: dict[int, float] = {}
        for uid, user in self._users.items():
            kept: list[tuple[int, FloatArray]] = []
            peak = 0.0
            for chunk_start, data in user.chunks:
                chunk_end = chunk_start + data.shape[1]
                lo, hi = max(chunk_start, start), min(chunk_end, end)
                if lo < hi:
                    part = data[:, lo - chunk_start : hi - chunk_start]
                    out[:, lo - start : hi - start] += part
                    peak = max(peak, float(np.abs(part).max()))
                if chunk_end > end:
                    kept.append((chunk_start, data))
            user.chunks = kept
            user.peak = max(peak, user.peak * fall)
            levels[uid] = _db(user.peak)
            tick_levels[uid] = _db(peak)
        self.levels = levels
        self.tick_levels = tick_levels
        self._summed_until = max(self._summed_until, end)
        return out


def _db(peak: float) -> float:
    """A peak amplitude in dBFS, no lower than :data:`SILENCE_DB`."""
    return max(SILENCE_DB, 20.0 * float(np.log10(max(peak, 1e-12))))
