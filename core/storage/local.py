"""A local folder as a :class:`~core.storage.destination.Destination`.

Every write goes to a temporary file in the target folder, is flushed and fsync'ed,
then renamed over the final name, and the folder itself is fsync'ed: a reader (a
player following the playlist, a restart after a crash) sees either the old object
or the complete new one, never a torn file. Disk work runs in a worker thread so the
event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import uuid
from pathlib import Path

from core.storage.destination import StorageError, validate_key

_COPY_CHUNK = 1 << 20


class LocalFolderDestination:
    """Stores objects as files under ``root`` (created on demand); keys map to sub-paths."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.description = f"local folder {self.root}"

    def path_of(self, key: str) -> Path:
        """The file that holds ``key``."""
        return self.root.joinpath(*validate_key(key).parts)

    async def check(self) -> None:
        """Write, read back and delete a probe file."""
        key = f".cloudrec-check-{uuid.uuid4().hex}"
        await self.put_bytes(key, b"cloudrec", "text/plain")
        try:
            data = await asyncio.to_thread(self.path_of(key).read_bytes)
        except OSError as exc:
            raise _storage_error("read back", self.path_of(key), exc) from exc
        if data != b"cloudrec":
            raise StorageError(f"{self.description}: the probe file read back differently")
        await self.delete(key)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Copy ``path`` to ``key`` atomically."""
        target = self.path_of(key)
        await asyncio.to_thread(_atomic_write, target, Path(path), None)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Write ``data`` to ``key`` atomically."""
        target = self.path_of(key)
        await asyncio.to_thread(_atomic_write, target, None, bytes(data))

    async def delete(self, key: str) -> None:
        """Remove ``key`` if it exists."""
        target = self.path_of(key)
        try:
            await asyncio.to_thread(target.unlink, missing_ok=True)
        except OSError as exc:
            raise _storage_error("delete", target, exc) from exc

    async def aclose(self) -> None:
        """Nothing to release for a local folder."""


def _storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    reason = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc.strerror or str(exc)
    return StorageError(f"cannot {action} {path}: {reason}")


def _atomic_write(target: Path, source: Path | None, data: bytes | None) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as out:
            if source is not None:
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, out, _COPY_CHUNK)
            elif data is not None:
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise _storage_error("write", target, exc) from exc


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
