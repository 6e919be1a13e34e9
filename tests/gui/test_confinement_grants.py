"""The window's embedded server gets the folders and S3 hosts its user chose as storage
roots and allowed endpoints (docs/security.md, "Confinement")."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from core.enums import StorageVendor
from gui.embedded_server import EmbeddedServer
from gui.keyring_store import KeyringStore
from gui.server_connection import ServerConnection
from gui.settings import AppSettings, StorageProfile

from .conftest import FakeServer


async def test_the_window_starts_its_server_with_its_users_folders_and_endpoints(
    settings: AppSettings,
    store: KeyringStore,
    fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Home, the Storage tab's draft and every profile: folders (``~`` expanded; a
    relative one, which no server takes, left out) and the endpoints' ``HOST:PORT``."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    settings.set_draft(
        "storage", {"vendor": 1, "local_folder": "", "endpoint": "https://store.example.com"}
    )
    local, s3 = int(StorageVendor.LOCAL), int(StorageVendor.AMAZON_S3)
    settings.set_profiles(
        [
            StorageProfile("usb", local, local_folder="/media/usb/rec"),
            StorageProfile("home", local, local_folder="~/Videos/rec"),
            StorageProfile("relative", local, local_folder="rec"),
            StorageProfile("minio", s3, bucket="rec", endpoint="http://127.0.0.1:9000"),
            StorageProfile("again", local, local_folder="/media/usb/rec"),
            StorageProfile("v6", s3, bucket="rec", endpoint="http://[::1]:9000"),
        ]
    )
    connection = ServerConnection(settings, store, fake_server)  # type: ignore[arg-type]
    await connection.start_embedded()
    assert fake_server.grants == (
        (home, Path("/media/usb/rec"), home / "Videos" / "rec"),
        ("store.example.com:443", "127.0.0.1:9000", "[::1]:9000"),
    )
    connection.health.stop()
    await connection.aclose()


async def test_the_grants_of_a_launch_are_on_the_servers_command_line_and_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's server class adds a launch's grants to those it was made with, for
    that launch only; the server then takes a folder in either root and refuses others."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    made, launch = tmp_path / "made", tmp_path / "launch"
    server = EmbeddedServer(tmp_path / "server.log", storage_roots=(made,))
    await server.start(storage_roots=(launch,), allowed_endpoints=("127.0.0.1:9",))
    try:
        assert (server.storage_roots, server.allowed_endpoints) == ((made,), ())
        if sys.platform.startswith("linux"):
            args = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode().split("\0")
            at = args.index("--storage-root")
            assert args[at : at + 6] == [
                *("--storage-root", str(made), "--storage-root", str(launch)),
                *("--allow-endpoint", "127.0.0.1:9"),
            ]
        headers = {"Authorization": f"Bearer {server.token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            for folder, ok in [(made / "a", True), (launch / "b", True), (tmp_path / "c", False)]:
                body = {
                    "storageConfig": {
                        "vendor": 100,
                        "extensionParams": {"localFolder": str(folder)},
                    }
                }
                response = await http.post("/v1/cloudrec/storage/check", json=body)
                assert response.status_code == (200 if ok else 400), response.text
                assert folder.is_dir() is ok
    finally:
        await server.stop()
