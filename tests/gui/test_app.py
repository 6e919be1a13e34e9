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
    assert "no display" in result.stderr and "cloudrec demo" in result.stderr
