"""Closed slices and where the recorder hands them: the media side of the storage boundary.

The segmenter closes one MPEG-TS file after another (:class:`ClosedSlice`); the
recorder hands each, in order, to a :class:`SliceSink` and ends the sink when the
recording ends. The sink is implemented on the storage side (``core/storage``: the
durable uploader, or a playlist writer over any destination) and decides where the
slice is stored and what the playlist lists. Media code never imports storage code
and storage code never imports media code: the two meet in this protocol, which the
storage side satisfies structurally.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class ClosedSlice:
    """A finished slice file in the work folder."""

    index: int
    """0 for the first slice of the recording, then 1, 2, ... (the playlist's order)."""
    name: str
    """File name, ``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.ts``: also its name in the playlist."""
    path: Path
    """The file in the work folder."""
    start: float
    """Seconds on the output timeline."""
    duration: float
    """Seconds of media (the playlist's ``#EXTINF``)."""
    size: int
    """Bytes."""
    playlist: str | None = None
    """The playlist that lists it, when not the recording's own: a user's track in
    individual recording (``<sid>_<cname>__uid_s_<uid>__uid_e_<kind>.m3u8``)."""
    discontinuity: bool = False
    """The first slice of a track that continues its playlist after a gap (the user
    left and came back): listed after ``#EXT-X-DISCONTINUITY``."""


class SliceSink(Protocol):
    """Where a recorder's closed slices go (implemented by ``core/storage``).

    The recorder calls :meth:`check` once before recording, :meth:`add_slice` for
    every closed slice in order (one call at a time) and :meth:`end` once after the
    last. Failures raise :class:`~core.errors.CloudRecordingError`; the recorder reports
    them as upload failures and goes on recording.
    """

    description: str
    """Human-readable location (no secrets), e.g. ``local folder /srv/rec``."""

    playlist_key: str
    """Key of the recording's playlist at the destination."""

    async def check(self) -> None:
        """Preflight: raise if slices cannot be stored."""
        ...

    async def add_slice(self, closed: ClosedSlice) -> str:
        """Keep ``closed`` safe and list it in the playlist after every slice added before;
        return its key. When this returns, the recorder may delete the work file. On a
        raise the slice is not listed and its work file stays."""
        ...

    async def add_file(self, closed: ClosedSlice) -> str:
        """Keep a whole file of the recording beside the playlist (an MP4, a snapshot),
        never listed in it; its key. As :meth:`add_slice`: afterwards the recorder may
        delete the work file; on a raise it stays."""
        ...

    async def end(self) -> None:
        """No slice follows: the playlist ends (``#EXT-X-ENDLIST``) once it lists them all."""
        ...
