"""Slices and their playlist written straight into a destination (no backup, no retry).

:class:`PlaylistWriter` is the simplest slice sink (the ``SliceSink`` protocol of
:mod:`core.media.slices`): each closed slice is stored with ``put_file``, then the
playlist is rewritten to list it. A slice whose ``put_file`` failed is never listed;
the end of the recording adds ``#EXT-X-ENDLIST``. A slice that names a playlist of its
own (a user's track in individual recording) is listed there, beside the recording's
playlist; the recording's playlist is then written only if it lists a slice too. The server records through the
durable uploader instead (:mod:`core.storage.uploader`); this writer serves a recorder
that writes to a folder of its own (tests, benchmarks).
"""

from __future__ import annotations

from core.storage.destination import (
    PLAYLIST_CONTENT_TYPE,
    SLICE_CONTENT_TYPE,
    Destination,
    file_content_type,
)
from core.storage.hls import Playlist, SliceFile


def key_beside(playlist_key: str, name: str) -> str:
    """The key of file ``name`` in the folder of ``playlist_key`` (slices sit beside it)."""
    folder = playlist_key.rpartition("/")[0]
    return f"{folder}/{name}" if folder else name


class PlaylistWriter:
    """Stores slices in ``destination`` and keeps the playlist at ``playlist_key`` listing them.

    ``target_duration`` is the slice length the recorder aims at (``#EXT-X-TARGETDURATION``).
    """

    def __init__(
        self, destination: Destination, playlist_key: str, *, target_duration: float = 4.0
    ) -> None:
        self.destination = destination
        self.playlist_key = playlist_key
        self.description = destination.description
        self._target = target_duration
        self._playlists: dict[str, Playlist] = {playlist_key: Playlist(target_duration)}

    async def check(self) -> None:
        """The destination's preflight."""
        await self.destination.check()

    async def add_slice(self, closed: SliceFile) -> str:
        """Store the slice, then rewrite the playlist to list it; its key.

        Raises :class:`~core.storage.destination.StorageError`; the slice is then not listed.
        """
        key = key_beside(self.playlist_key, closed.name)
        await self.destination.put_file(key, closed.path, SLICE_CONTENT_TYPE)
        own = closed.playlist
        playlist_key = self.playlist_key if own is None else key_beside(self.playlist_key, own)
        playlist = self._playlists.setdefault(playlist_key, Playlist(self._target))
        playlist.add(closed.name, closed.duration, discontinuity=closed.discontinuity)
        try:
            await self._write(playlist_key)
        except BaseException:
            playlist.entries.pop()
            raise
        return key

    async def add_file(self, closed: SliceFile) -> str:
        """Store a whole file beside the playlist (an MP4, a snapshot); its key."""
        key = key_beside(self.playlist_key, closed.name)
        await self.destination.put_file(key, closed.path, file_content_type(closed.name))
        return key

    async def end(self) -> None:
        """End the playlists (``#EXT-X-ENDLIST``) and write them."""
        for key, playlist in self._playlists.items():
            playlist.end()
            own = key == self.playlist_key
            if own and not playlist.entries and len(self._playlists) > 1:
                continue  # individual recording: the users' playlists are the recording
            await self._write(key)

    async def _write(self, key: str) -> None:
        data = self._playlists[key].render().encode()
        await self.destination.put_bytes(key, data, PLAYLIST_CONTENT_TYPE)
