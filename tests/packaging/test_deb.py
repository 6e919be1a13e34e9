"""The .deb built by packaging/build.sh: its fields, its layout, and that it records.

Builds the PyInstaller bundle and the .deb from this checkout into temporary folders
(about a minute on 2 cores), extracts the package with ``dpkg-deb -x`` and runs the
bundled program in an environment without the project's Python: no virtual
environment, no PYTHONPATH, PATH=/usr/bin:/bin, a fresh HOME, no display, no D-Bus.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import require

pytestmark = pytest.mark.packaging

PROJECT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]
REQUIRED_DEPENDS = {
    "libgl1",
    "libegl1",
    "libxcb1",
    "fontconfig",
    "fonts-dejavu-core",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
}
BUILD_TIMEOUT = 240


@dataclass
class Package:
    """A built .deb and the folder it was extracted into."""

    deb: Path
    root: Path

    @property
    def program(self) -> Path:
        return self.root / "opt" / "cloudrec" / "cloudrec"

    def field(self, name: str) -> str:
        result = subprocess.run(
            ["dpkg-deb", "-f", str(self.deb), name], capture_output=True, text=True, check=True
        )
        return result.stdout.strip()


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    require(shutil.which("dpkg-deb") is not None, "dpkg-deb is not installed (Debian's dpkg)")
    work = tmp_path_factory.mktemp("deb")
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DIST_DIR": str(work / "dist"),
        "BUILD_DIR": str(work / "build"),
    }
    result = subprocess.run(
        ["bash", str(PROJECT / "packaging" / "build.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    debs = sorted((work / "dist").glob("cloudrec_*.deb"))
    assert len(debs) == 1, debs
    root = work / "root"
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True)
    shutil.rmtree(work / "build")  # the PyInstaller work files and the package tree
    yield Package(debs[0], root)


def _clean_env(home: Path) -> dict[str, str]:
    """What a desktop user's shell might have, minus any Python of this project."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def test_control_fields(package: Package) -> None:
    assert package.field("Package") == "cloudrec"
    assert package.field("Version") == VERSION
    depends = {d.split("(")[0].strip() for d in package.field("Depends").split(",")}
    assert REQUIRED_DEPENDS <= depends, REQUIRED_DEPENDS - depends
    assert re.fullmatch(r"libc6 \(>= 2\.\d+\)", package.field("Depends").split(",")[0].strip())
    assert package.deb.name == f"cloudrec_{VERSION}_{package.field('Architecture')}.deb"


def test_self_test_of_the_installed_bundle(package: Package, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(package.program), "--self-test"],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(
        r"cloudrec self-test: ok, \d+\.\d s recorded, \d+ slices, 320x240@15, audio 48 kHz\n",
        result.stdout,
    ), result.stdout + result.stderr


def test_version(package: Package, tmp_path: Path) -> None:
    # (Child processes of the bundle, its embedded server above all, are started with
    # core.sdk.embedded.cloudrec_command(); the self-test below runs one.)
    result = subprocess.run(
        [str(package.program), "--version"],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == f"cloudrec {VERSION}"


def test_bundled_server_serves_the_join_page(package: Package, tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    server = subprocess.Popen(
        [
            str(package.program),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=_clean_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.is_file() or not ready.read_text():
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the bundled server did not start"
            time.sleep(0.1)
        url = json.loads(ready.read_text())["url"]
        page = httpx.get(f"{url}/join", timeout=10)
        script = httpx.get(f"{url}/join/join.js", timeout=10)
        docs = httpx.get(f"{url}/docs/assets/swagger-ui-bundle.js", timeout=10)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert page.status_code == 200 and "<title>cloudrec" in page.text
    assert script.status_code == 200 and "{{SANDBOX_APP_ID}}" not in script.text
    # /docs from the bundle's own Swagger UI files (no CDN: docs/rest-api.md)
    assert docs.status_code == 200 and len(docs.content) > 100_000


def test_layout_launcher_desktop_entry_and_icons(package: Package) -> None:
    root = package.root
    launcher = root / "usr" / "bin" / "cloudrec"
    assert launcher.is_symlink() and os.readlink(launcher) == "/opt/cloudrec/cloudrec"
    assert os.access(package.program, os.X_OK)
    internal = root / "opt" / "cloudrec" / "_internal"
    for name in ("join/index.html", "join/join.js", "icons/cloudrec.svg"):
        assert (internal / "resources" / name).is_file(), name
    assert list((internal / "resources" / "translations").glob("*.qm"))

    desktop = root / "usr" / "share" / "applications" / "cloudrec.desktop"
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(desktop)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(desktop, encoding="utf-8")
    main = entry["Desktop Entry"]
    assert main["Type"] == "Application" and main["Name"] == "cloudrec"
    assert main["Exec"].split()[0] == launcher.name and main["Icon"] == "cloudrec"

    hicolor = root / "usr" / "share" / "icons" / "hicolor"
    for size in (16, 32, 48, 64, 128, 256):
        png = (hicolor / f"{size}x{size}" / "apps" / "cloudrec.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", png[16:24]) == (size, size)
