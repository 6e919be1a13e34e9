"""How many WHIP sessions an app may have, and how fast new ones may come.

Each WHIP session is a peer connection: ICE gathering, a DTLS handshake, UDP ports,
and decoding threads for what it sends. Per app the channel allows at most
``max_sessions`` sessions at once (publishers plus joiners being answered) and new
sessions at ``rate`` per second on average with bursts of up to ``burst`` (a token
bucket: ``burst`` tokens, refilled at ``rate`` per second, one taken per new session).
Both are checked after the joiner's token and offer (so a stranger without a token
for a certificate app uses none of that app's budget) and right before the peer
connection is made. A refusal is :class:`~core.channel.errors.BusyError`:

* 503 with ``Retry-After`` when the app is full (WHIP, RFC 9725: a server under load
  MAY answer 503, optionally with ``Retry-After``);
* 429 with ``Retry-After`` (the whole seconds until the next token) when sessions come
  too fast (RFC 6585).

The defaults (:data:`DEFAULT_MAX_SESSIONS`, :data:`DEFAULT_RATE`,
:data:`DEFAULT_BURST`) let ``cloudrec bots --users 64`` join at once next to people;
``cloudrec server --whip-max-sessions N --whip-rate PER_SECOND --whip-burst N``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from core.channel.errors import BusyError

DEFAULT_MAX_SESSIONS = 100
"""WHIP sessions an app may have at once."""
DEFAULT_RATE = 10.0
"""New WHIP sessions per second an app may open on average."""
DEFAULT_BURST = 64
"""New WHIP sessions an app may open at once after a quiet time (``cloudrec bots``
joins up to 64 together)."""

FULL_RETRY_AFTER = 10
"""``Retry-After`` seconds of a 503 (an app full): when a session leaves is unknown."""


class WhipLimits:
    """Per-app session count and token bucket; ``clock`` is monotonic seconds."""

    def __init__(
        self,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_sessions < 1 or burst < 1 or not (0 < rate < math.inf):
            raise ValueError("max_sessions and burst must be at least 1, rate above 0")
        self.max_sessions, self.rate, self.burst = max_sessions, rate, burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # app -> (tokens, when)

    def admit(self, app_id: str, sessions: int) -> None:
        """Take a token for a new session of ``app_id``, which has ``sessions`` now;
        :class:`BusyError` (nothing taken) when a limit refuses it."""
        if sessions >= self.max_sessions:
            raise BusyError(
                f"app {app_id} has {sessions} WHIP sessions, the most this server allows "
                f"at once ({self.max_sessions}; cloudrec server --whip-max-sessions); "
                f"try again when someone has left",
                status=503,
                retry_after=FULL_RETRY_AFTER,
            )
        now = self._clock()
        tokens, when = self._buckets.get(app_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.rate)
        if tokens < 1:
            self._buckets[app_id] = (tokens, now)
            wait = max(1, math.ceil((1 - tokens) / self.rate))
            raise BusyError(
                f"too many new WHIP sessions for app {app_id}: at most {self.rate:g} a second "
                f"(bursts of {self.burst}; cloudrec server --whip-rate, --whip-burst); "
                f"try again in {wait} s",
                status=429,
                retry_after=wait,
            )
        self._buckets[app_id] = (tokens - 1, now)
