"""Small helpers the end-to-end tests share."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from core import CloudRecorderObserver


class CallbackLog(CloudRecorderObserver):
    """An observer that keeps every callback, in order, with its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            return lambda *args: self.calls.append((name, args))
        return super().__getattribute__(name)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def decoded_duration(path: Path) -> float:
    """Decode ``path`` (a slice or a playlist) with ffprobe; fail on any error; its duration."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    return float(json.loads(result.stdout)["format"]["duration"])


# Debian's Chromium as the tests drive it (RECIPES.md): headless, fake camera and
# microphone, loopback ICE candidates, and no background traffic off the machine.
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
