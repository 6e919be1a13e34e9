"""Fetch a finished recording from its bucket into a local folder.

The operator's **Download** in the window (docs/gui.md): the playlist, then every slice
it lists (and any whole file named beside it, such as the MP4s), each signed with the
storage config's keys as the uploader signs its uploads, written whole or not at all.
The playlist is written last, so a folder whose download stopped half-way holds slices
but no playlist pointing at missing ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.config import CloudStorageConfig
from core.storage.destination import StorageError, validate_key
from core.storage.factory import make_destination
from core.storage.hls import parse_playlist
from core.storage.s3 import S3Destination


@dataclass(frozen=True)
class Downloaded:
    """What :func:`download_recording` wrote."""

    playlist: Path
    files: tuple[Path, ...]
    """The slices and other files, in the order fetched."""
    bytes: int


def _beside(name: str) -> bool:
    """Whether ``name`` is a plain file name (no folder, nothing a key would change)."""
    return "/" not in name and str(validate_key(name)) == name


Progress = Callable[[int, int], None]
"""Told ``(files fetched, files in all)`` after each file."""


async def download_recording(
    storage: CloudStorageConfig,
    playlist: str,
    folder: Path,
    *,
    extra: Sequence[str] = (),
    progress: Progress | None = None,
) -> Downloaded:
    """Fetch ``playlist`` (its name as the recording reports it), every slice it lists and
    the ``extra`` files (names beside it) from the bucket of ``storage`` into ``folder``.

    Raises :class:`StorageError` when an object cannot be fetched or written (what was
    fetched before stays), and :class:`ValueError` for a local storage (its files are
    on disk already) or a name that is not a plain file name."""
    if not storage.vendor.is_cloud:
        raise ValueError("a local folder's recording is on disk already: nothing to download")
    for name in (playlist, *extra):
        if not _beside(name):
            raise ValueError(f"{name!r} is not the name of a file beside the playlist")
    destination, prefix = make_destination(storage, folder)
    assert isinstance(destination, S3Destination)

    def key(name: str) -> str:
        return f"{prefix}/{name}" if prefix else name

    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    try:
        listed_at = folder / f".{playlist}.listing"
        size = await destination.get_file(key(playlist), listed_at)
        try:
            text = await asyncio.to_thread(listed_at.read_text, encoding="utf-8")
            names = [entry.name for entry in parse_playlist(text).entries]
            for name in names:  # written into the folder itself, never elsewhere
                if not _beside(name):
                    raise StorageError(f"the playlist lists {name!r}, not a file beside it")
            total = len(names) + len(extra) + 1
            files: list[Path] = []
            for name in [*names, *extra]:
                path = folder / name
                size += await destination.get_file(key(name), path)
                files.append(path)
                if progress is not None:
                    progress(len(files), total)
            target = folder / playlist
            await asyncio.to_thread(listed_at.replace, target)
        finally:
            await asyncio.to_thread(listed_at.unlink, missing_ok=True)
        if progress is not None:
            progress(total, total)
        return Downloaded(target, tuple(files), size)
    except UnicodeDecodeError as exc:
        raise StorageError(f"the playlist {playlist!r} is not text: {exc.reason}") from None
    finally:
        await destination.aclose()
