"""Rules of the package: core never imports Qt; the console script and subcommands exist."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.cli import main


def test_core_never_imports_qt() -> None:
    code = (
        "import sys, core, core.cli, core.sdk.recorder, core.wire\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6', 'qasync', 'gui', 'shiboken6'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_no_module_under_core_imports_qt() -> None:
    from pathlib import Path

    import core

    root = Path(core.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in (
            "import PySide6",
            "from PySide6",
            "import qasync",
            "from qasync",
            "from gui",
            "import gui",
        ):
            assert word not in text, f"{path.relative_to(root.parent)} has {word!r}"


def test_help_lists_the_subcommands(capsys: object) -> None:
    import pytest

    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "token" in out


def test_public_names_of_the_design_are_exported() -> None:
    import core

    names = """create_cloud_recorder CloudRecorder CloudRecorderObserver RecordingConfig
    TranscodingConfig CloudStorageConfig RecordingStreamType DecryptionMode ChannelType AudioProfile
    VideoStreamType MixedVideoLayout StorageVendor QiniuRegion AmazonS3Region AliyunRegion ErrorCode
    CloudRecordingError InvalidParameterError recommended_bitrate compute_layout""".split()
    for name in names:
        assert hasattr(core, name), name


_BLOCK_EXTRAS = """
import importlib.abc, sys
BLOCKED = {"numpy", "av", "aiortc", "aioice", "fastapi", "uvicorn", "cryptography",
           "botocore", "packaging", "keyring", "PySide6", "shiboken6", "qasync"}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""
"""Run first in a child interpreter: as if only ``pip install cloudrec`` (the SDK) were
installed, every package of the server and gui extras is missing."""


def _without_extras(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK_EXTRAS + code], capture_output=True, text=True, timeout=60
    )


def test_the_sdk_works_without_the_extras() -> None:
    result = _without_extras(
        "import core\n"
        "from core import RecordingConfig, CloudStorageConfig, create_cloud_recorder\n"
        "recorder = create_cloud_recorder(None, server='http://127.0.0.1:9', token='t')\n"
        "print(type(recorder).__name__, RecordingConfig().max_idle_time)\n"
        "from core.cli import main\n"
        "raise SystemExit(main(['token', '--app-id', '970CA35de60c44645bbae8a215061b33',"
        " '--app-certificate', '5CFd2fd1755d40ecb72977518be15d3b', '--channel', 'c']))\n"
    )
    assert result.returncode == 0, result.stderr
    name, idle, token = result.stdout.split()
    assert (name, idle) == ("CloudRecorder", "30") and token.startswith("007")


@pytest.mark.parametrize(
    ("argv", "extra"),
    [(["server"], "server"), (["bots", "--help"], "server"), (["demo"], "server"), ([], "gui")],
)
def test_a_missing_extra_names_what_to_install(argv: list[str], extra: str) -> None:
    result = _without_extras(f"from core.cli import main\nraise SystemExit(main({argv!r}))\n")
    assert result.returncode == 2, result
    (line,) = result.stderr.splitlines()
    assert line.endswith(f"pip install 'cloudrec[{extra}]'"), line
    assert line.startswith("cloudrec") or line.startswith("the cloudrec window"), line
    assert " needs '" in line and "is not installed" in line, line
