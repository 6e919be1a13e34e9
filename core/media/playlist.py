"""The file names of a recording, as Agora names them.

The playlist text itself is written by storage (:mod:`core.storage.hls`), which lists
a slice only once it is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime


def playlist_name(sid: str, cname: str) -> str:
    """``<sid>_<cname>.m3u8``."""
    return f"{sid}_{cname}.m3u8"


def slice_name(sid: str, cname: str, start_utc: datetime) -> str:
    """``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.ts`` for a slice starting at ``start_utc``."""
    utc = start_utc.astimezone(UTC)
    stamp = utc.strftime("%Y%m%d%H%M%S") + f"{utc.microsecond // 1000:03d}"
    return f"{sid}_{cname}_{stamp}.ts"


def mp4_name(sid: str, cname: str, index: int) -> str:
    """``<sid>_<cname>_<index>.mp4``: a recording's ``index``-th MP4 file (from 0), as
    Agora names them."""
    return f"{sid}_{cname}_{index}.mp4"
