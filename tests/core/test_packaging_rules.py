"""Rules of the package: core never imports Qt; the console script and subcommands exist."""

from __future__ import annotations

import subprocess
import sys

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
