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
import functools
import sys
from collections.abc import Callable

TRIM_INTERVAL = 30.0
"""Seconds between two trims (one takes a few milliseconds)."""


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, loaded on first use (``None`` off Linux or glibc)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def release_free_memory() -> bool:
    """Return free heap memory to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


async def trim_periodically(interval: float = TRIM_INTERVAL) -> None:
    """Call :func:`release_free_memory` every ``interval`` seconds until cancelled."""
    if _malloc_trim() is None:
        return
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(release_free_memory)
