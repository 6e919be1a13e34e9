"""Sampling a ``cloudrec server`` child with py-spy, for the benches' ``--profile``.

:func:`profile` starts ``py-spy record`` (raw collapsed stacks, one line per stack,
every thread) on a process; :func:`top_functions` prints where its *busy* samples
are: by thread, by own time and by total time in ``core/`` and ``aiortc/``. A sample
whose leaf waits (a lock, a selector, a sleep in the project's code) is left out.
"""

from __future__ import annotations

import asyncio
import collections
import linecache
import sys
from pathlib import Path

from _common import REPO


async def profile(pid: int, seconds: float, out: Path) -> asyncio.subprocess.Process:
    spy = Path(sys.executable).with_name("py-spy")
    return await asyncio.create_subprocess_exec(
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "50",
        "--nonblocking",
        "--threads",
        "--format",
        "raw",
        "-o",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


IDLE = {"Condition.wait", "EpollSelector.select", "Event.wait", "select", "poll"}
"""Leaf functions where a thread waits (py-spy still samples some waiting threads)."""


def _idle(leaf: str) -> bool:
    name, _, where = leaf.partition(" (")
    if name in IDLE:
        return True
    file, _, line = where.rstrip(")").rpartition(":")
    path = REPO / file
    if path.is_file() and line.isdigit():  # a project line that sleeps or waits
        text = linecache.getline(str(path), int(line))
        return "sleep(" in text or ".wait(" in text
    return False


def _function(frame: str) -> str:
    """``name (file)`` of a py-spy frame ``name (file:line)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rpartition(':')[0]})"


def top_functions(stacks: Path, count: int = 10) -> None:
    """Print where the server's busy samples are: by thread, own time, project code."""
    threads: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    busy = idle = 0
    for line in stacks.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        head, *frames = stack.split(";")
        if not frames or not n.isdigit():
            continue
        k = int(n)
        if _idle(frames[-1]):
            idle += k
            continue
        busy += k
        thread = head.partition(": ")[2].split("-")[0]
        threads[thread] += k
        own[_function(frames[-1])] += k
        for f in {_function(f) for f in frames}:
            if f.partition(" (")[2].startswith(("core/", "aiortc/")):
                total[f] += k
    print(f"py-spy: {busy} busy samples of the server ({idle} waiting ones left out)")
    for name, counter in (
        ("thread", threads),
        ("own time", own),
        ("total, core/ + aiortc/", total),
    ):
        print(f"  by {name}:")
        for frame, k in counter.most_common(count):
            print(f"    {100 * k / busy:5.1f} %  {frame}")
