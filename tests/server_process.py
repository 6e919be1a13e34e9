"""``cloudrec server`` as a child process (``python -m core.cli server``) on 127.0.0.1
with a random port, at log level debug, keeping everything it prints."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import wait_until

REPO = Path(__file__).resolve().parents[1]


@dataclass
class ServerProcess:
    """A running server: its URL, its process, the files holding what it printed, and
    its data folder."""

    url: str
    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    data: Path

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def printed(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.stdout() + self.stderr()

    def stored(self) -> bytes:
        """The contents of every file in the server's data folder."""
        return b"".join(p.read_bytes() for p in self.data.rglob("*") if p.is_file())

    def cmdline(self) -> bytes:
        """The process's arguments as every user of the machine can read them."""
        return Path(f"/proc/{self.process.pid}/cmdline").read_bytes()


def server_command(tmp: Path, *flags: str) -> list[str]:
    """The command line of a server with its ready file and data folder in ``tmp``."""
    return [
        sys.executable, "-m", "core.cli", "server", "--host", "127.0.0.1", "--port", "0",
        "--ready-file", str(tmp / "ready.json"), "--data-dir", str(tmp / "data"),
        "--log-level", "debug", *flags,
    ]  # fmt: skip


@asynccontextmanager
async def server_process(
    tmp: Path, *flags: str, env: dict[str, str]
) -> AsyncIterator[ServerProcess]:
    """The server running (its ready file written, which it does after printing its URL
    and admin token lines); on exit it is stopped with SIGTERM and must exit 0."""
    out, err = tmp / "stdout.txt", tmp / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = await asyncio.to_thread(
            subprocess.Popen, server_command(tmp, *flags), env=env, cwd=REPO,
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        )  # fmt: skip
    ready = tmp / "ready.json"
    try:
        await wait_until(lambda: ready.exists() or process.poll() is not None, timeout=60)
        assert process.poll() is None, err.read_text()
        await wait_until(lambda: "listening on" in out.read_text(), timeout=10)
        url = out.read_text().split("listening on ", 1)[1].split()[0]
        yield ServerProcess(url, process, out, err, tmp / "data")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    assert code == 0, err.read_text()


async def refused_server(tmp: Path, *flags: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run a server that must refuse to start: its exit code, stdout and stderr."""
    result = await asyncio.to_thread(
        subprocess.run, server_command(tmp, *flags), env=env, cwd=REPO,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr
