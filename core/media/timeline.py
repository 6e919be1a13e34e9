"""The output timeline of a recording: one clock for audio, video and slice names.

Output time 0 is :attr:`OutputClock.origin` on the server's ``time.monotonic()``
(the clock every received frame's ``time`` is on). The origin is put on the frame
grid of the wall clock (a multiple of 1/fps in Unix time), the grid synthetic and
most real cameras capture on, so a source frame lands on an output frame instead of
half a frame period away.

The recorder renders output time ``t`` at monotonic ``origin + t + latency``: the
latency window lets late frames (network jitter, the receiver's buffers, a busy
decoder) arrive before their time is composed and mixed. While the channel holds a
user's frames back for its first sender reports, rendering waits for them
(:func:`render_point`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_LATENCY = 0.4
"""Seconds between a frame's capture and the moment its output time is rendered.

aiortc delivers video ~70 ms and audio ~80 ms after capture on loopback; the rest
absorbs decoder and scheduling delays on a busy 2-core machine.
"""


def render_point(now: float, latency: float, held_since: float | None, wait: float) -> float:
    """The output time to render up to at output time ``now``.

    Normally ``now - latency``. While the channel holds frames back for a user's first
    sender reports (``docs/channel.md``, "Timing and lip sync"), ``held_since`` is the
    output time the oldest of them arrived at; they were captured at most ``latency``
    before that (the latency window's own assumption), so rendering stops at
    ``held_since - latency`` until they come, and they come with their exact times
    instead of after their tick. It waits ``wait`` seconds at most, whatever happens
    to them: the channel releases held frames within its hold limit, so ``wait`` is
    that limit plus a latency window for the event loop to hand them over.
    """
    ready = now - latency
    if held_since is None:
        return ready
    return min(ready, max(held_since - latency, ready - wait))


@dataclass(frozen=True)
class OutputClock:
    """Maps server monotonic time and Unix time to output seconds."""

    origin: float
    """``time.monotonic()`` of output time 0."""
    wall_origin: float
    """``time.time()`` of output time 0."""

    @classmethod
    def start(cls, fps: int, *, now: float | None = None, wall: float | None = None) -> OutputClock:
        """A clock whose origin is the next multiple of ``1/fps`` of the wall clock."""
        now = time.monotonic() if now is None else now
        wall = time.time() if wall is None else wall
        wall_origin = math.ceil(wall * fps) / fps
        return cls(origin=now + (wall_origin - wall), wall_origin=wall_origin)

    def to_output(self, monotonic_time: float) -> float:
        """Output seconds of a server ``time.monotonic()`` instant."""
        return monotonic_time - self.origin

    def now(self) -> float:
        """The current output time (not yet rendered: rendering runs ``latency`` behind)."""
        return time.monotonic() - self.origin

    def utc(self, output_time: float) -> datetime:
        """The UTC date and time of an output instant (for slice names)."""
        return datetime.fromtimestamp(self.wall_origin + output_time, tz=UTC)
