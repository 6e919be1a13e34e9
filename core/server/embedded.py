"""Start a cloudrec server as a child process on 127.0.0.1 and find its address.

The window, ``cloudrec record`` and ``cloudrec demo`` use this when no remote server
is named. The child gets a fresh bearer token through its environment (never on the
command line, where other users could read it) and reports its random port through
a ready file.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import CloudRecordingError, ErrorCode

START_TIMEOUT = 30.0


@dataclass
class EmbeddedServer:
    """A running child server: its URL, bearer token and process."""

    url: str
    token: str = field(repr=False)
    process: asyncio.subprocess.Process

    async def stop(self, timeout: float = 30.0) -> int:
        """Ask the server to shut down (SIGTERM) and wait; kill it after ``timeout``."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return int(self.process.returncode or 0)


def cloudrec_command() -> list[str]:
    """The command that runs ``cloudrec`` (add a subcommand) with this installation.

    In a frozen bundle (PyInstaller) ``sys.executable`` is the ``cloudrec`` program
    itself and takes no ``-m``; otherwise it is the Python interpreter.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "core.cli"]


def server_command() -> list[str]:
    """The command that runs ``cloudrec server`` with this installation."""
    return [*cloudrec_command(), "server"]


async def start_embedded_server(
    data_dir: Path | None = None, *, extra_args: tuple[str, ...] = (), log_level: str = "warning"
) -> EmbeddedServer:
    """Start ``cloudrec server`` on 127.0.0.1 with a random port and a fresh token."""
    token = secrets.token_urlsafe(32)
    env = {**os.environ, "CLOUDREC_SERVER_TOKEN": token}
    ready = Path(tempfile.mkdtemp(prefix="cloudrec-")) / "ready.json"
    args = [*server_command(), "--host", "127.0.0.1", "--port", "0",
            "--ready-file", str(ready), "--log-level", log_level, *extra_args]  # fmt: skip
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise CloudRecordingError(
                f"the embedded server exited with status {process.returncode} while starting",
                ErrorCode.CONNECT_ERROR,
            )
        try:
            url = str(json.loads(ready.read_text())["url"])
        except (OSError, ValueError, KeyError):
            await asyncio.sleep(0.05)
            continue
        ready.unlink(missing_ok=True)
        ready.parent.rmdir()
        return EmbeddedServer(url, token, process)
    process.kill()
    await process.wait()
    raise CloudRecordingError(
        f"the embedded server did not start within {START_TIMEOUT:.0f} s", ErrorCode.CONNECT_ERROR
    )
