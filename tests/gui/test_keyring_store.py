"""Storage profile secrets go to the OS keyring, never to the settings file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QComboBox, QLineEdit

from core.enums import StorageVendor
from gui.forms.new_recording import NewRecordingPanel
from gui.forms.storage_profiles import StorageProfiles
from gui.keyring_store import SERVICE, KeyringStore, profile_entry
from gui.settings import AppSettings

from .conftest import MemoryKeyring

needs_dbus = pytest.mark.skipif(
    not os.environ.get("DBUS_SESSION_BUS_ADDRESS"),
    reason="no D-Bus session: the Secret Service keyring needs one (scripts/test.sh starts it)",
)


def _read(path: Path) -> bytes:
    return path.read_bytes()


async def _never_called(config: object) -> None:
    raise AssertionError("not used")


def _profiles(
    qtbot: Any, settings: AppSettings, store: KeyringStore
) -> tuple[NewRecordingPanel, StorageProfiles]:
    panel = NewRecordingPanel()
    qtbot.addWidget(panel)
    bar = StorageProfiles(panel.storage_form, settings, store, _never_called, lambda: panel.storage)
    qtbot.addWidget(bar)
    return panel, bar


def _fill_cloud(panel: NewRecordingPanel, access_key: str, secret_key: str) -> None:
    form = panel.storage_form
    vendor = form.widget("vendor")
    assert isinstance(vendor, QComboBox)
    vendor.setCurrentIndex(vendor.findData(int(StorageVendor.ALIYUN)))
    region = form.widget("region")
    assert isinstance(region, QComboBox)
    region.setCurrentIndex(3)
    for name, value in (
        ("bucket", "my-bucket"),
        ("access_key", access_key),
        ("secret_key", secret_key),
    ):
        widget = form.widget(name)
        assert isinstance(widget, QLineEdit)
        widget.setText(value)
    assert panel.storage is not None


async def _save_and_reload(
    qtbot: Any, settings: AppSettings, settings_file: Path, store: KeyringStore, name: str
) -> tuple[str, str]:
    access_key = f"AKID-{uuid.uuid4().hex}"
    secret_key = f"SECRET-{uuid.uuid4().hex}"
    panel, bar = _profiles(qtbot, settings, store)
    _fill_cloud(panel, access_key, secret_key)
    await bar.save(name)
    settings.sync()
    stored = _read(settings_file)
    assert access_key.encode() not in stored
    assert secret_key.encode() not in stored
    assert name.encode() in stored  # the profile itself is in the settings
    assert b"my-bucket" in stored

    # a fresh form loads the profile, keys from the keyring
    other, other_bar = _profiles(qtbot, settings, store)
    other_bar.combo.setCurrentIndex(other_bar.combo.findData(name))
    await other_bar.load(name)
    values = other.storage_form.values()
    assert values["vendor"] == int(StorageVendor.ALIYUN)
    assert values["region"] == 3
    assert values["access_key"] == access_key
    assert values["secret_key"] == secret_key
    return access_key, secret_key


async def test_profile_secrets_go_to_the_keyring_not_the_settings(
    qtbot: Any, settings: AppSettings, settings_file: Path, memory_keyring: MemoryKeyring
) -> None:
    store = KeyringStore(memory_keyring)
    access_key, secret_key = await _save_and_reload(qtbot, settings, settings_file, store, "office")
    stored = memory_keyring.items[(SERVICE, profile_entry("office"))]
    assert access_key in stored and secret_key in stored
    assert store.persistent is True


@needs_dbus
async def test_profile_secrets_in_the_real_secret_service(
    qtbot: Any, settings: AppSettings, settings_file: Path
) -> None:
    backend = keyring.get_keyring()
    assert not isinstance(backend, fail.Keyring), "a D-Bus session but no usable keyring backend"
    store = KeyringStore()
    name = f"test-{uuid.uuid4().hex[:8]}"
    try:
        access_key, secret_key = await _save_and_reload(qtbot, settings, settings_file, store, name)
        assert store.persistent is True
        raw = keyring.get_password(SERVICE, profile_entry(name))
        assert raw is not None and access_key in raw and secret_key in raw
    finally:
        await store.delete_profile_keys(name)
    assert keyring.get_password(SERVICE, profile_entry(name)) is None


async def test_without_keyring_secrets_stay_in_the_session_and_a_banner_says_so(
    window: Any, settings: AppSettings, settings_file: Path
) -> None:
    store = KeyringStore(fail.Keyring())
    window.keyring = store
    window.profiles.keyring = store
    store.on_availability(window.keyring_banner.show_availability)
    assert await store.probe() is False
    assert not window.keyring_banner.isHidden()
    assert "session" in window.keyring_banner.text()
    await store.set("x", "the-secret")
    assert await store.get("x") == "the-secret"
    await store.delete("x")
    assert await store.get("x") is None


async def test_profile_delete_removes_its_keys(
    qtbot: Any, settings: AppSettings, memory_keyring: MemoryKeyring
) -> None:
    store = KeyringStore(memory_keyring)
    panel, bar = _profiles(qtbot, settings, store)
    _fill_cloud(panel, "a-key", "s-key")
    await bar.save("gone")
    assert (SERVICE, profile_entry("gone")) in memory_keyring.items
    await bar.delete("gone")
    assert (SERVICE, profile_entry("gone")) not in memory_keyring.items
    assert [p.name for p in settings.profiles()] == []


async def test_test_storage_without_a_server_says_not_available(window: Any) -> None:
    window.connection.use(None, None, owned=False)
    await window.profiles.test()
    assert "not available on this server" in window.profiles.status.text()
    assert window.profiles.test_button.isEnabled()  # busy state was reset


async def test_test_storage_reports_an_unreachable_server(window: Any) -> None:
    await window.profiles.test()  # the window's pretend server at 127.0.0.1:9 answers nothing
    text = window.profiles.status.text()
    assert text.startswith("Storage check failed:") and "127.0.0.1:9" in text
    assert window.profiles.test_button.isEnabled()
