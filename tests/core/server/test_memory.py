"""Freed memory goes back to the system (glibc's malloc_trim)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from core.server.memory import release_free_memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_memory_freed_by_another_thread_is_returned() -> None:
    """A thread allocates 200 MB in 2 KiB blocks and frees most of them, keeping one in
    64 alive (the holes a long recording leaves): glibc keeps the holes resident until
    malloc_trim hands them back."""
    kept: list[bytes] = []

    def churn() -> None:
        blocks = [bytes(2048) for _ in range(100_000)]
        kept.extend(blocks[::64])
        blocks.clear()

    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    before = rss_kib()
    assert release_free_memory()
    after = rss_kib()
    print(f"RSS {before / 1024:.0f} MiB -> {after / 1024:.0f} MiB after malloc_trim")
    assert before - after > 100 * 1024  # most of the 200 MB came back
    assert len(kept) == 1563
