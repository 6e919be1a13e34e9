"""One server per data folder: an advisory lock on ``<data folder>/server.lock``.

Two servers on one data folder would each take the other's running recordings for
interrupted ones (ending them and their playlists) and write the same notices. A
server holds an exclusive ``flock`` on the lock file for as long as it runs; the file
names the holder's process ID, for the message the second server prints. The kernel
drops the lock when the process ends, however it ends, so a crash never leaves a
stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = "server.lock"


class DataFolderInUse(RuntimeError):
    """Another process holds the data folder's lock."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        holder = f"another cloudrec server (pid {pid})" if pid else "another cloudrec server"
        super().__init__(
            f"the data folder {data_dir} is in use by {holder}: stop that server, or give "
            "this one a data folder of its own (--data-dir)"
        )


class DataFolderLock:
    """The lock of one data folder, held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; raises :class:`DataFolderInUse` if another process holds it,
        or OSError if the folder cannot be made or written."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise DataFolderInUse(self.data_dir, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the lock go (idempotent)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def check_free(data_dir: Path) -> None:
    """Raise :class:`DataFolderInUse` if a running server holds ``data_dir``'s lock
    (a check before starting one, so that the second server says so plainly)."""
    lock = DataFolderLock(data_dir)
    lock.acquire()
    lock.release()


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip() or "0") or None
    return None
