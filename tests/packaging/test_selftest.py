"""``cloudrec --self-test`` from the source tree, and its checks of a recording."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.commands import selftest
from core.sdk.embedded import server_command
from tests.ts_slices import write_ts_slice

OK_LINE = re.compile(
    r"^cloudrec self-test: ok, (\d+\.\d) s recorded, (\d+) slices, 320x240@15, audio 48 kHz$"
)


def test_self_test_records_and_prints_one_ok_line(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test sets offscreen itself
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(lines) == 1, result.stdout
    match = OK_LINE.match(lines[0])
    assert match, lines[0]
    assert float(match[1]) >= selftest.MIN_RECORDED_SECONDS and int(match[2]) >= 1


def test_embedded_server_runs_the_cli_module_from_source() -> None:
    assert server_command() == [sys.executable, "-m", "core.cli", "server"]


def _playlist(folder: Path, names: list[str], ended: bool = True) -> Path:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4"]
    for name in names:
        lines += ["#EXTINF:2.000,", name]
    path = folder / "sid_selftest.m3u8"
    path.write_text("\n".join([*lines, *(["#EXT-X-ENDLIST"] if ended else [])]) + "\n")
    return path


def test_check_recording_counts_what_the_slices_hold(tmp_path: Path) -> None:
    for name in ("a.ts", "b.ts"):
        write_ts_slice(tmp_path / name, seconds=2.0)
    result = selftest.check_recording(_playlist(tmp_path, ["a.ts", "b.ts"]))
    assert (result.slices, result.width, result.height, result.audio_rate) == (2, 320, 240, 48000)
    assert 3.5 <= result.seconds <= 4.5
    assert result.line().startswith("cloudrec self-test: ok, 4.")


def test_an_unfinished_playlist_fails(tmp_path: Path) -> None:
    write_ts_slice(tmp_path / "a.ts")
    with pytest.raises(selftest.SelfTestError, match="EXT-X-ENDLIST"):
        selftest.check_recording(_playlist(tmp_path, ["a.ts"], ended=False))


def test_a_slice_without_audio_or_a_broken_slice_fails(tmp_path: Path) -> None:
    write_ts_slice(tmp_path / "silent.ts", audio=False)
    with pytest.raises(selftest.SelfTestError, match=r"silent\.ts lacks"):
        selftest.check_recording(_playlist(tmp_path, ["silent.ts"]))
    (tmp_path / "broken.ts").write_bytes(b"\x00" * 1000)
    with pytest.raises(selftest.SelfTestError, match=r"broken\.ts"):
        selftest.check_recording(_playlist(tmp_path, ["broken.ts"]))


def test_too_little_media_fails(tmp_path: Path) -> None:
    write_ts_slice(tmp_path / "a.ts", seconds=1.0)
    with pytest.raises(selftest.SelfTestError, match=r"only 1\.0 s of video"):
        selftest.check_recording(_playlist(tmp_path, ["a.ts"]))
