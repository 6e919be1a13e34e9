"""Starting the window where there is no display says so and exits, instead of Qt aborting."""

from __future__ import annotations

import os
import subprocess
import sys


def test_no_display_gives_a_clear_message_and_exit_code_2() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}
    }
    result = subprocess.run(
        [sys.executable, "-m", "core.cli"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "cloudrec: cannot open the window: there is no display (neither DISPLAY nor "
        "WAYLAND_DISPLAY is set).\n"
        "Run it in a desktop session, or use the headless commands: `cloudrec demo` "
        "records 3 bots into ./recordings, `cloudrec server` runs the recording server, "
        "`cloudrec record` records a channel.\n"
    )
