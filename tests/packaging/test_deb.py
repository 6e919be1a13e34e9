"""The .deb built by packaging/build.sh: its fields, its layout, and that it records.

Builds the PyInstaller bundle and the .deb from this checkout into temporary folders
(about a minute on 2 cores), extracts the package with ``dpkg-deb -x`` and runs the
bundled program in an environment without the project's Python: no virtual
environment, no PYTHONPATH, PATH=/usr/bin:/bin, a fresh HOME, no display, no D-Bus.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _unit(package: Package) -> dict[str, list[str]]:
    """The [Service] settings of the packaged cloudrec-server.service (each key's values)."""
    text = (package.root / "lib" / "systemd" / "system" / "cloudrec-server.service").read_text()
    settings: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


async def test_the_packaged_server_records_as_its_systemd_unit_runs_it(
    package: Package, tmp_path: Path, s3_server: Any, s3_bucket: str
) -> None:
    """Issue 26: the unit's ExecStart from the extracted package, with what systemd
    gives it: its user (nobody, when the test runs as root), its StateDirectory (0750)
    as data and working folder, its UMask, the credentials of LoadCredential= in
    $CREDENTIALS_DIRECTORY (the master key and the token, 0400), no D-Bus and so no
    keyring, a clean environment. Only the listening address (an unused port, a ready
    file) and the test's S3 endpoint are added on the command line. Real bots record to
    the signature-checking S3 server through the SDK with the credential's token;
    ``systemctl stop`` (the unit's KillSignal) comes while it records: a clean exit
    within TimeoutStopSec; no file of the state folder holds the storage key in plain
    text; started again, the server uploads what the stop left backed up and ends the
    playlist (the master key unsealed the keys); every slice in the bucket decodes and
    the backup folder is empty."""
    from core import (
        CloudRecordingError,
        CloudStorageConfig,
        RecordingConfig,
        StorageVendor,
        TranscodingConfig,
        create_cloud_recorder,
    )
    from core.enums import SANDBOX_APP_ID
    from core.participants.bots import run_bots
    from tests.helpers import CallbackLog, check_recording

    unit = _unit(package)
    program, *arguments = unit["ExecStart"][0].split()
    assert program == "/opt/cloudrec/cloudrec"
    state_name = unit["StateDirectory"][0]
    state = tmp_path / "var-lib" / state_name  # /var/lib/<StateDirectory>
    state.mkdir(parents=True, mode=int(unit["StateDirectoryMode"][0], 8))
    credentials = tmp_path / "credentials"  # what systemd makes of LoadCredential=
    credentials.mkdir(mode=0o700)
    token = "unit-test-token-" + os.urandom(8).hex()
    contents = {"cloudrec-master-key": os.urandom(32).hex(), "cloudrec-server-token": token}
    for entry in unit["LoadCredential"]:
        name, source = entry.split(":", 1)
        assert source.startswith("/etc/cloudrec/"), source
        (credentials / name).write_text(contents[name])
        (credentials / name).chmod(0o400)
    # /opt, /etc and /var/lib of the unit's command line, in the extracted package
    mapped = {"/opt/cloudrec/": f"{package.root}/opt/cloudrec/",
              "/etc/cloudrec/": f"{package.root}/etc/cloudrec/",
              f"/var/lib/{state_name}": str(state)}  # fmt: skip
    argv = [str(package.program)]
    for argument in arguments:
        for path, there in mapped.items():
            argument = argument.replace(path, there)
        argv.append(argument)
    ready = tmp_path / "ready.json"
    port = int(s3_server.endpoint.rsplit(":", 1)[1])
    argv += ["--port", "0", "--ready-file", str(ready), "--allow-endpoint", f"127.0.0.1:{port}"]
    as_root = os.geteuid() == 0
    if as_root:  # the unit's own user: nobody stands in for the package's system user
        for path in (state, credentials, *credentials.iterdir()):
            os.chown(path, 65534, 65534)
        ready.parent.chmod(0o777)  # the ready file (the harness's, not the unit's)
        # pytest's temporary folders are root's alone: let nobody through to the
        # package (execute only) and to the state folder
        for place in (package.root, tmp_path):
            for folder in (place, *place.parents):
                if folder.is_relative_to(Path(tempfile.gettempdir())) and folder != Path(
                    tempfile.gettempdir()
                ):
                    folder.chmod(folder.stat().st_mode | 0o001)

    def become_the_units_user() -> None:
        os.umask(int(unit["UMask"][0], 8))
        if as_root:
            os.setgid(65534)
            os.setuid(65534)

    env = {**_clean_env(tmp_path), "CREDENTIALS_DIRECTORY": str(credentials)}
    log = tmp_path / "server.log"  # the journal's part
    stop_signal = getattr(signal, unit["KillSignal"][0])
    timeout = float(unit["TimeoutStopSec"][0])

    async def start_unit() -> tuple[asyncio.subprocess.Process, str]:
        """The unit's process as systemd starts it; its URL once it listens."""
        ready.unlink(missing_ok=True)
        with log.open("ab") as journal:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=state, env=env, preexec_fn=become_the_units_user,
                stdout=asyncio.subprocess.DEVNULL, stderr=journal,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not ready.is_file() or not ready.read_text():
            assert process.returncode is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the packaged server did not start"
            await asyncio.sleep(0.1)
        return process, json.loads(ready.read_text())["url"]

    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3, region=0, bucket=s3_bucket,
        access_key=s3_server.access_key, secret_key=s3_server.secret_key,
        endpoint=s3_server.endpoint, file_name_prefix=("unit",),
    )  # fmt: skip
    config = RecordingConfig(
        slice_duration=2,
        transcoding_config=TranscodingConfig(width=320, height=240, fps=15, bitrate=300),
    )
    playlist_key = ""
    server, url = await start_unit()
    try:
        async with run_bots(url, channel="unit", uids=[71], size=(160, 120)):
            recorder = create_cloud_recorder(CallbackLog(), server=url, token=token)
            await recorder.start(SANDBOX_APP_ID, "unit", None, 970, config, storage)
            sid = recorder.sid
            playlist_key = f"unit/{sid}_unit.m3u8"
            await asyncio.sleep(6)
            # systemctl stop while it records: the unit's KillSignal, a clean exit in time
            server.send_signal(stop_signal)
            assert await asyncio.wait_for(server.wait(), timeout) == 0, log.read_text()[-3000:]
            with contextlib.suppress(CloudRecordingError):
                await recorder.release()
        for file in (p for p in state.rglob("*") if p.is_file()):
            assert s3_server.secret_key.encode() not in file.read_bytes(), file
        # started again (the next boot): what the stop left backed up is uploaded and
        # the playlist ended, with the storage keys the master key unsealed
        server, url = await start_unit()
        deadline = time.monotonic() + 60
        while b"#EXT-X-ENDLIST" not in _object_or_empty(s3_server, s3_bucket, playlist_key):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.5)
        server.send_signal(stop_signal)
        assert await asyncio.wait_for(server.wait(), timeout) == 0, log.read_text()[-3000:]
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
    assert list((state / "backup" / str(sid)).iterdir()) == []
    folder = tmp_path / "down"
    folder.mkdir()
    text = s3_server.get_object(s3_bucket, playlist_key).decode()
    (folder / f"{sid}_unit.m3u8").write_text(text)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            (folder / line).write_bytes(s3_server.get_object(s3_bucket, f"unit/{line}"))
    media = check_recording(folder / f"{sid}_unit.m3u8", fps=15)
    assert media.listed_seconds is not None and media.listed_seconds >= 4


def _object_or_empty(s3_server: Any, bucket: str, key: str) -> bytes:
    from botocore.exceptions import ClientError

    try:
        return bytes(s3_server.get_object(bucket, key))
    except ClientError:  # not there yet (NoSuchKey)
        return b""
