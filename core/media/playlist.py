"""The file names of a recording, as Agora names them.

The playlist text itself is written by storage (:mod:`core.storage.hls`), which lists
a slice only once it is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TRACK_PLAYLIST = re.compile(r"__uid_s_(\d+)__uid_e_(audio|video)\.m3u8$")
_STAMP = re.compile(r"_(\d{17})\.[a-z0-9]+$")


def playlist_name(sid: str, cname: str) -> str:
    """``<sid>_<cname>.m3u8``."""
    return f"{sid}_{cname}.m3u8"


def slice_name(sid: str, cname: str, start_utc: datetime) -> str:
    """``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.ts`` for a slice starting at ``start_utc``."""
    return f"{sid}_{cname}_{_stamp(start_utc)}.ts"


def snapshot_name(sid: str, cname: str, taken_utc: datetime) -> str:
    """``<sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.jpg`` for a snapshot of the picture at
    ``taken_utc`` (the slices' stamp; Agora's snapshots carry the same one, after the
    user's part that a composed picture has not: docs/recording-files.md)."""
    return f"{sid}_{cname}_{_stamp(taken_utc)}.jpg"


def _stamp(when: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` in UTC."""
    utc = when.astimezone(UTC)
    return utc.strftime("%Y%m%d%H%M%S") + f"{utc.microsecond // 1000:03d}"


def mp4_name(sid: str, cname: str, index: int) -> str:
    """``<sid>_<cname>_<index>.mp4``: a recording's ``index``-th MP4 file (from 0), as
    Agora names them."""
    return f"{sid}_{cname}_{index}.mp4"


def track_playlist_name(sid: str, cname: str, uid: int, kind: str) -> str:
    """``<sid>_<cname>__uid_s_<uid>__uid_e_<kind>.m3u8``: a user's ``audio`` or
    ``video`` playlist in individual recording, as Agora names it."""
    return f"{sid}_{cname}__uid_s_{uid}__uid_e_{kind}.m3u8"


def track_slice_name(
    sid: str, cname: str, uid: int, kind: str, start_utc: datetime, suffix: str
) -> str:
    """``<sid>_<cname>__uid_s_<uid>__uid_e_<kind>_<UTC yyyyMMddHHmmssSSS><suffix>``: a
    slice (``.ts`` or ``.webm``) of a user's track in individual recording."""
    return f"{sid}_{cname}__uid_s_{uid}__uid_e_{kind}_{_stamp(start_utc)}{suffix}"


def track_of(playlist: str) -> tuple[int, str] | None:
    """``(uid, kind)`` of a track's playlist name (:func:`track_playlist_name`), or
    ``None`` for another name."""
    found = _TRACK_PLAYLIST.search(playlist)
    return (int(found.group(1)), found.group(2)) if found else None


def start_of(name: str) -> datetime | None:
    """The UTC stamp a slice's file name carries (its start), or ``None``."""
    found = _STAMP.search(name)
    if found is None:
        return None
    return datetime.strptime(found.group(1) + "000", "%Y%m%d%H%M%S%f").replace(tzinfo=UTC)
