"""The storage interface the recorder writes through, and its one error type.

A :class:`Destination` stores named objects (HLS slices and playlists). The local
folder (:mod:`core.storage.local`) and the cloud uploaders implement it; the recorder
only ever calls these five methods, so a destination can be swapped without touching
the media pipeline.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from core.errors import CloudRecordingError, ErrorCode

PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
"""Content type of an HLS playlist (``.m3u8``)."""

SLICE_CONTENT_TYPE = "video/mp2t"

FILE_CONTENT_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg"}
"""The content type of each kind of whole file stored beside a playlist, by suffix."""


def file_content_type(name: str) -> str:
    """The content type a whole file beside the playlist is stored with."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return FILE_CONTENT_TYPES.get(suffix, "application/octet-stream")


"""Content type of an MPEG-TS slice (``.ts``)."""


class StorageError(CloudRecordingError):
    """Storing, checking or deleting an object failed; the message says what and where."""

    default_code = ErrorCode.UPLOADER_FAILED


@runtime_checkable
class Destination(Protocol):
    """Where a recording's files end up.

    Keys are relative, ``/``-separated names such as ``prefix/<sid>_<cname>.m3u8``.
    Every method raises :class:`StorageError` on failure. A successful ``put_*``
    means the object is durably stored: the recorder lists a slice in the playlist
    only after ``put_file`` returned.
    """

    description: str
    """Human-readable location (no secrets), e.g. ``local folder /srv/rec``."""

    async def check(self) -> None:
        """Preflight: write and delete a small object; raise :class:`StorageError` if that fails."""
        ...

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` under ``key``, replacing any older object."""
        ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any older object."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing object is not an error."""
        ...

    async def aclose(self) -> None:
        """Release connections and other resources."""
        ...


def validate_key(key: str) -> PurePosixPath:
    """Check that ``key`` is a relative name without ``..``; return it as a path.

    Raises :class:`StorageError` for an empty, absolute or escaping key.
    """
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise StorageError(f"invalid object key {key!r}: must be a relative name without '..'")
    return path
