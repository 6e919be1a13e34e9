"""Hold a sender's frames until their times can come from its sender reports.

A frame's capture time comes from its track's RTCP sender reports
(:mod:`core.channel.clock`), and aiortc sends a track's first report 0.5-1.5 s after
the track starts. A frame that arrives before then cannot be timed exactly yet, but
its RTP timestamp can be once the report comes. So a publisher's frames are held
(:class:`SyncHold`) while any of its tracks that carry media has no report yet, and
timed, all of them with the one sender offset of that moment, when every such track
has one. The first second of a user is then as exact as the rest, and audio and video
of the user keep the relative timing the sender reported, from the first frame on.

One user's tracks are held together, not each on its own: the offset that maps the
sender's clock to ours is the smallest of all its reports (audio's and video's), so
a track released on its own report could be timed with an offset the other track's
first report would then lower, and a user's first second would lose the A/V alignment
the rest has.

The hold is bounded: when some track still has no report :data:`~core.channel.clock.HOLD_LIMIT`
after the first frame held, the frames are released anyway. Those of tracks with
reports get their exact times; the others are timed by arrival (point 5 of
:mod:`core.channel.clock`), counted in :attr:`SyncHold.arrival_timed`, and such a
track is not waited for again (its later frames go by arrival until its first report
comes). A track that starts sending later (a camera started after the microphone)
is waited for once in its turn.

Pure logic, no aiortc and no asyncio: the publisher calls :meth:`SyncHold.add` for each
frame, :meth:`SyncHold.release` on each sender report and at the limit, and delivers
what they return.
"""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

from core.channel.clock import HOLD_LIMIT, SenderClock, Stamp, TrackClock

T = TypeVar("T")


class Timed(NamedTuple, Generic[T]):
    """An item (a frame) with its capture time."""

    item: T
    time: float
    """Seconds, server monotonic."""
    estimated: bool
    """Whether ``time`` was estimated from arrival (no sender report in time)."""


class SyncHold(Generic[T]):
    """One sender's frames, held until their times can come from its reports."""

    def __init__(self, sender: SenderClock, limit: float = HOLD_LIMIT) -> None:
        self.sender = sender
        self.limit = limit
        self._held: list[tuple[T, TrackClock, Stamp]] = []
        self._given_up: set[TrackClock] = set()  # not waited for again
        self.arrival_timed = 0
        """Frames timed by arrival because their track had no sender report in time."""

    @property
    def since(self) -> float | None:
        """Arrival time of the oldest frame held, or ``None`` when none is held."""
        return self._held[0][2].arrival if self._held else None

    @property
    def deadline(self) -> float | None:
        """When the frames held are released even without reports (``None``: none held)."""
        since = self.since
        return None if since is None else since + self.limit

    def _waiting(self) -> list[TrackClock]:
        return [t for t in self.sender.waiting() if t not in self._given_up]

    def add(self, item: T, track: TrackClock, stamp: Stamp) -> list[Timed[T]]:
        """A frame of ``track`` arrived (``stamp`` from :meth:`TrackClock.stamp`): the
        frames to deliver now, in arrival order, with their times (none while held)."""
        if not self._held and not self._waiting():
            return [self._timed(item, track, stamp)]
        self._held.append((item, track, stamp))
        return self.release(stamp.arrival)

    def release(self, now: float, *, force: bool = False) -> list[Timed[T]]:
        """The frames held, with their times, if every track that carries media has a
        sender report, or the limit passed (``now``, server monotonic), or ``force``
        (the publisher leaves); otherwise nothing."""
        if not self._held:
            return []
        waiting = self._waiting()
        if waiting:
            deadline = self.deadline
            assert deadline is not None
            if now < deadline and not force:
                return []
            self._given_up.update(waiting)
        held, self._held = self._held, []
        return [self._timed(item, track, stamp) for item, track, stamp in held]

    def _timed(self, item: T, track: TrackClock, stamp: Stamp) -> Timed[T]:
        when = track.report_time(stamp)
        if when is None:
            self.arrival_timed += 1
            return Timed(item, track.arrival_time(stamp), True)
        return Timed(item, when, False)
