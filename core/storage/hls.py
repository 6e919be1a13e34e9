"""HLS media playlist text: what a recording's ``.m3u8`` lists, rendered and read back.

The playlist is storage's business (DESIGN section 5): it lists a slice only once the
slice is safely stored, and ends with ``#EXT-X-ENDLIST`` when the recording has ended
and every slice is listed. :class:`~core.storage.playlist_writer.PlaylistWriter` and the
durable uploader render it from the slices they stored (:class:`SliceFile`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class SliceFile(Protocol):
    """A closed slice as storage needs it (the recorder's ``ClosedSlice`` is one)."""

    @property
    def name(self) -> str:
        """File name: its key's last part and its URI in the playlist."""
        ...

    @property
    def path(self) -> Path:
        """The file on local disk."""
        ...

    @property
    def duration(self) -> float:
        """Seconds of media."""
        ...


@dataclass(frozen=True)
class PlaylistEntry:
    """One slice as the playlist lists it: its URI (relative to the playlist) and duration."""

    uri: str
    duration: float


@dataclass
class Playlist:
    """A growing HLS media playlist (``EVENT`` type) that is ended once.

    ``target_duration`` is the slice length the recorder aims at; the rendered
    ``#EXT-X-TARGETDURATION`` is never below any listed slice's rounded duration, as
    RFC 8216 requires.
    """

    target_duration: float
    entries: list[PlaylistEntry] = field(default_factory=list)
    ended: bool = False

    def add(self, uri: str, duration: float) -> None:
        """List one more slice (after it was stored)."""
        if self.ended:
            raise RuntimeError("the playlist has ended")
        self.entries.append(PlaylistEntry(uri, duration))

    def end(self) -> None:
        """Mark the recording as finished (``#EXT-X-ENDLIST``)."""
        self.ended = True

    @property
    def duration(self) -> float:
        """Sum of the listed slices' durations."""
        return sum(e.duration for e in self.entries)

    def render(self) -> str:
        """The playlist text."""
        target = max([math.ceil(self.target_duration)] + [round(e.duration) for e in self.entries])
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{max(1, target)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:EVENT",
        ]
        for e in self.entries:
            lines.append(f"#EXTINF:{e.duration:.3f},")
            lines.append(e.uri)
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"


def parse_playlist(text: str) -> Playlist:
    """Read back a playlist :meth:`Playlist.render` wrote (entries, end mark, target)."""
    playlist = Playlist(target_duration=1.0)
    duration: float | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-TARGETDURATION:"):
            playlist.target_duration = float(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line == "#EXT-X-ENDLIST":
            playlist.ended = True
        elif line and not line.startswith("#") and duration is not None:
            playlist.entries.append(PlaylistEntry(line, duration))
            duration = None
    return playlist
