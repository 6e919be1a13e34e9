"""Give memory the server freed back to the system, so a long recording's RSS stays flat.

A recording server allocates and frees picture-sized buffers on several threads all
the time: decoded frames on the decoder threads, scaled tiles and canvases on the
recorder's worker, encoder packets. glibc keeps freed memory in per-thread arenas
and returns it to the system only from the top of a heap, so holes left between
long-lived blocks stay resident. A 1-hour soak (``bench/soak.py``) grew by 10 MB
(+6.6 %) after its warm-up, with Python's own allocations flat (tracemalloc), and
one ``malloc_trim(0)`` on such a process released a quarter of its resident memory.

:func:`release_free_memory` calls glibc's ``malloc_trim(0)``, which hands the free
pages of every arena back (``madvise``); :func:`trim_periodically` does so every
:data:`TRIM_INTERVAL` seconds, off the event loop. Elsewhere (macOS, Windows, musl)
both do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import sys
from collections.abc import Callable

TRIM_INTERVAL = 30.0
"""Seconds between two trims (one takes a few milliseconds)."""


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return free heap memory to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


async def trim_periodically(interval: float = TRIM_INTERVAL) -> None:
    """Call :func:`release_free_memory` every ``interval`` seconds until cancelled."""
    if _TRIM is None:
        return
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(release_free_memory)
