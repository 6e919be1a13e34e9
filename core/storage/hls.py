"""HLS media playlist text: what a recording's ``.m3u8`` lists, rendered and read back.

The playlist is storage's business (DESIGN section 5): it lists a slice only once the
slice is safely stored, and ends with ``#EXT-X-ENDLIST`` when the recording has ended
and every slice is listed. :class:`~core.storage.playlist_writer.PlaylistWriter` and the
durable uploader render it from the slices they stored (:class:`SliceFile`).

A slice is listed by its file name written as a relative URI reference (RFC 3986,
:func:`name_to_uri`): a player resolves it against the playlist's URL, so a channel
name's ``#``, ``?``, ``%`` or space must not be read as a fragment, a query, an
escape or the end of the line. The files keep their names as Agora gives them
(``<sid>_<cname>_<utc>.ts``); only the playlist's text is percent-encoded, and
:func:`parse_playlist` decodes it back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote

URI_SAFE_SUB_DELIMS = "!$&'()*,=@"
"""Characters besides RFC 3986's unreserved ones (letters, digits, ``-._~``) that a
slice's URI keeps as they are: sub-delimiters and ``@``, which mean nothing special in a
path segment. Every other character is percent-encoded, as UTF-8 for non-ASCII ones:
``%``, space, ``#``, ``?``, ``/`` and the rest of the gen-delims, ``:`` (a first
segment holding one would read as a scheme), ``;`` (path parameters to some servers)
and ``+`` (a space in Amazon S3's object URLs, as in form encoding)."""


def name_to_uri(name: str) -> str:
    """The relative URI reference of the file ``name`` beside the playlist.

    ``"3f_q&a #1?_20260101000000000.ts"`` -> ``"3f_q&a%20%231%3F_20260101000000000.ts"``.
    """
    return quote(name, safe=URI_SAFE_SUB_DELIMS)


def uri_to_name(uri: str) -> str:
    """The file name a playlist's URI line stands for (percent-decoded, UTF-8)."""
    return unquote(uri, errors="strict")


class SliceFile(Protocol):
    """A closed slice as storage needs it (the recorder's ``ClosedSlice`` is one)."""

    @property
    def name(self) -> str:
        """File name: its key's last part (its URI in the playlist is :func:`name_to_uri`)."""
        ...

    @property
    def path(self) -> Path:
        """The file on local disk."""
        ...

    @property
    def duration(self) -> float:
        """Seconds of media."""
        ...

    @property
    def playlist(self) -> str | None:
        """The file name of the playlist that lists it beside the recording's own (a
        user's track in individual recording), or ``None`` for the recording's own."""
        ...

    @property
    def discontinuity(self) -> bool:
        """Whether it is listed after ``#EXT-X-DISCONTINUITY``."""
        ...


@dataclass(frozen=True)
class PlaylistEntry:
    """One slice as the playlist lists it: its file name (beside the playlist) and duration."""

    name: str
    duration: float
    discontinuity: bool = False
    """A slice is missing before this one (``#EXT-X-DISCONTINUITY``: players reset their
    decoders and timestamps instead of expecting continuous media)."""

    @property
    def uri(self) -> str:
        """The entry's line in the playlist: ``name`` as a relative URI reference."""
        return name_to_uri(self.name)


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

    def add(self, name: str, duration: float, *, discontinuity: bool = False) -> None:
        """List one more slice, by its file name (after it was stored)."""
        if self.ended:
            raise RuntimeError("the playlist has ended")
        self.entries.append(PlaylistEntry(name, duration, discontinuity))

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
            if e.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXTINF:{e.duration:.3f},")
            lines.append(e.uri)
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"


def parse_playlist(text: str) -> Playlist:
    """Read back a playlist :meth:`Playlist.render` wrote (entries, end mark, target);
    each entry's URI is decoded back to its file name."""
    playlist = Playlist(target_duration=1.0)
    duration: float | None = None
    discontinuity = False
    for line in text.splitlines():
        line = line.strip()
        if line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            playlist.target_duration = float(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line == "#EXT-X-ENDLIST":
            playlist.ended = True
        elif line and not line.startswith("#") and duration is not None:
            playlist.entries.append(PlaylistEntry(uri_to_name(line), duration, discontinuity))
            duration, discontinuity = None, False
    return playlist
