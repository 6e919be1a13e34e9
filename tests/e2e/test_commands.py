"""The headless commands as a user runs them: ``cloudrec demo`` and ``cloudrec record``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import check_recording

pytestmark = pytest.mark.slow


def _cloudrec(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_demo_prints_a_playlist_whose_slices_decode(tmp_path: Path) -> None:
    result = _cloudrec(
        "demo", "--seconds", "6", cwd=tmp_path, env={"XDG_DATA_HOME": str(tmp_path / "data")}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    playlist = Path(result.stdout.strip().splitlines()[-1])
    assert playlist.parent == tmp_path / "recordings" and playlist.suffix == ".m3u8"
    assert "on_recording_started" in result.stdout and "on_recording_uploaded" in result.stdout
    assert playlist.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    media = check_recording(playlist, fps=15)  # the demo records at 15 fps
    assert 5 <= media.video_frames / 15 <= 8


def test_record_prints_callbacks_and_stops_after_the_duration(tmp_path: Path) -> None:
    config = tmp_path / "rec.toml"
    config.write_text(
        "[recording]\nmax_idle_time = 10\nprogress_interval = 1\n"
        '[transcoding]\nwidth = 320\nheight = 240\nlayout = "best_fit"\n'
        f'[storage]\nlocal_folder = "{tmp_path / "out"}"\n'
    )
    result = _cloudrec(
        "record",
        "--channel",
        "cli",
        "--uid",
        "77",
        "--config",
        str(config),
        "--duration",
        "4",
        cwd=tmp_path,
        env={"XDG_DATA_HOME": str(tmp_path / "data")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    order = [
        n
        for n in (
            "on_recording_connecting",
            "on_recording_started",
            "on_recording_stopped",
            "on_recording_uploaded",
        )
    ]
    positions = [next(i for i, line in enumerate(lines) if name in line) for name in order]
    assert positions == sorted(positions)
    (playlist,) = (tmp_path / "out").glob("*_cli.m3u8")
    media = check_recording(playlist, fps=15)  # an empty channel: 4 s of background
    # --duration counts from start()'s answer; the REST start and stop around it add a
    # fraction of a second either way.
    assert 3.5 <= media.video_frames / 15 <= 4.5, media.video_frames


def test_record_reports_bad_input_and_fatal_errors_with_the_remedy(tmp_path: Path) -> None:
    bad = _cloudrec("record", "--width", "4000", cwd=tmp_path)
    assert bad.returncode == 2 and "width" in bad.stdout and "4000" in bad.stdout
    failing = _cloudrec(
        "record",
        "--vendor",
        "AMAZON_S3",
        "--bucket",
        "rec-bucket",
        "--endpoint",
        "http://127.0.0.1:9",
        cwd=tmp_path,
        env={
            "CLOUDREC_ACCESS_KEY": "AK",
            "CLOUDREC_SECRET_KEY": "never-printed",
            "XDG_DATA_HOME": str(tmp_path / "data"),
        },
    )
    assert failing.returncode == 2, failing.stdout + failing.stderr
    assert "UPLOADER_INIT (438)" in failing.stdout
    assert "release(cancel=True)" in failing.stdout  # the seed's remedy
    assert "never-printed" not in failing.stdout + failing.stderr
