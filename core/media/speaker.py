"""Who is speaking: the user an active-speaker layout shows large.

A cloudrec extension (``transcodingConfig.activeSpeaker``, docs/rest-api.md, "Active
speaker"): with FLOAT or VERTICAL, the large window goes to the user who spoke most
over the last :data:`WINDOW` seconds, from the audio levels the mixer measures for
each output tick (:attr:`core.media.audio_mixer.AudioMixer.tick_levels`).

A user *speaks* in a tick whose level is above :data:`SPEAKING_DB`. Its score is the
seconds it spoke within the window. The large window moves from the current speaker
to another user only when that user

- spoke at least :data:`MIN_SPEECH` seconds of the window (a cough, a click, a short
  "yes" never moves it),
- spoke :data:`MARGIN` seconds more than the current speaker (two people talking
  together do not swap it back and forth), and
- :data:`HOLD` seconds have passed since the last move.

So when one user stops and another starts, the large window follows after about
``(WINDOW + MARGIN) / 2`` = 1.25 s, within issue 21's 3 s; and until anyone has spoken
:data:`MIN_SPEECH` seconds there is no speaker, and the layout's own rule applies
(the first user to join).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

WINDOW = 2.0
SPEAKING_DB = -40.0
MIN_SPEECH = 0.6
MARGIN = 0.5
HOLD = 1.5


class ActiveSpeaker:
    """Follows the users' levels tick by tick; :attr:`speaker` is who is shown large."""

    def __init__(self, tick_seconds: float) -> None:
        self.tick_seconds = tick_seconds
        self._ticks = max(1, round(WINDOW / tick_seconds))
        self._spoke: dict[int, deque[bool]] = {}
        self._since_switch = HOLD  # the first speaker takes the window at once
        self.speaker: int | None = None
        self.switches = 0

    def update(self, levels: Mapping[int, float]) -> bool:
        """One tick's levels (dBFS per user); True when :attr:`speaker` changed."""
        for uid in list(self._spoke):
            if uid not in levels:
                del self._spoke[uid]  # gone from the mix
        for uid, level in levels.items():
            history = self._spoke.setdefault(uid, deque(maxlen=self._ticks))
            history.append(level > SPEAKING_DB)
        self._since_switch += self.tick_seconds
        if self.speaker is not None and self.speaker not in self._spoke:
            self.speaker = None
        scores = {uid: sum(h) * self.tick_seconds for uid, h in self._spoke.items()}
        if not scores:
            return False
        best = max(scores, key=lambda uid: scores[uid])
        if best == self.speaker or scores[best] < MIN_SPEECH - 1e-9:
            return False
        current = scores.get(self.speaker, 0.0) if self.speaker is not None else 0.0
        if self.speaker is not None and (
            scores[best] < current + MARGIN - 1e-9 or self._since_switch < HOLD - 1e-9
        ):
            return False
        self.speaker = best
        self._since_switch = 0.0
        self.switches += 1
        return True
