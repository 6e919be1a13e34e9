"""The systemd service the .deb ships (packaging/deb): its unit passes
``systemd-analyze verify`` (with its program where the package puts it: here a
stand-in of the same name, as the bundle itself is tested by test_deb.py), and its
settings file is read by ``cloudrec server --config`` as the unit starts it."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from core.commands import server
from tests.helpers import require

PROJECT = Path(__file__).resolve().parents[2]
UNIT = PROJECT / "packaging" / "deb" / "cloudrec-server.service"
SETTINGS = PROJECT / "packaging" / "deb" / "server.toml"


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    require(shutil.which("systemd-analyze") is not None, "systemd-analyze is not installed")
    program = tmp_path / "opt" / "cloudrec" / "cloudrec"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    unit = tmp_path / "cloudrec-server.service"
    unit.write_text(UNIT.read_text().replace("/opt/cloudrec/cloudrec", str(program)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # not even a warning
    text = UNIT.read_text()
    for hardening in ("ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                      "StateDirectory=cloudrec", "User=cloudrec",
                      "LoadCredential=cloudrec-master-key:"):  # fmt: skip
        assert hardening in text, hardening


def test_the_shipped_settings_are_read_as_the_unit_starts_the_server() -> None:
    parser = argparse.ArgumentParser()
    server.add_arguments(parser)
    exec_start = next(line for line in UNIT.read_text().splitlines()
                      if line.startswith("ExecStart="))  # fmt: skip
    argv = exec_start.split()[2:]  # after the program and "server"
    args = parser.parse_args([a if a != "/etc/cloudrec/server.toml" else str(SETTINGS)
                              for a in argv])  # fmt: skip
    server.apply_config_file(args)
    assert args.data_dir == Path("/var/lib/cloudrec")  # the unit's StateDirectory
    assert (args.host, args.port, args.log_level) == ("127.0.0.1", 8480, "info")
    assert args.min_free_space == 1024 * 1024 * 1024


def test_a_settings_file_with_an_unknown_option_names_the_allowed_ones(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    server.add_arguments(parser)
    bad = tmp_path / "server.toml"
    bad.write_text('data-folder = "/srv"\n')
    args = parser.parse_args(["--config", str(bad)])
    with pytest.raises(server.CloudRecordingError) as info:
        server.apply_config_file(args)
    assert "'data-folder' is no option" in info.value.message and "data-dir" in info.value.message


def test_the_settings_file_is_read_through_the_cli_as_the_unit_runs_it() -> None:
    """`cloudrec server --config FILE` as the unit's ExecStart gives it, through the
    CLI's own parser (whose subcommand carries a default of its own): the packaged
    server failed here with KeyError '_module' before its first start."""
    from core import cli

    exec_start = next(line for line in UNIT.read_text().splitlines()
                      if line.startswith("ExecStart="))  # fmt: skip
    argv = [a if a != "/etc/cloudrec/server.toml" else str(SETTINGS)
            for a in exec_start.split()[1:]]  # fmt: skip
    args = cli.build_parser("server").parse_args(argv)
    server.apply_config_file(args)
    assert (args.host, args.port, args.log_level) == ("127.0.0.1", 8480, "info")
    assert args.data_dir == Path("/var/lib/cloudrec")
