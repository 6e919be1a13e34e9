"""Storage profile secrets go to the OS keyring, never to the settings file.

The keyring is the real Secret Service (``secret_service`` in conftest: this test's own
service name; or keyring's default backend itself, as the app uses it). Fake backends
appear only where a test injects a keyring fault, each saying what it models.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QComboBox, QLineEdit

from core.enums import StorageVendor
from gui.forms.config_form import ERROR_STYLE
from gui.forms.new_recording import NewRecordingPanel
from gui.forms.storage_profiles import StorageProfiles
from gui.keyring_store import SERVICE, KeyringStore, profile_entry
from gui.settings import AppSettings
from gui.widgets.keyring_banner import BANNER_STYLE
from tests.helpers import require_secret_service, wait_until

from .conftest import ScopedSecretService

NO_KEYRING_BANNER = (
    "No usable OS keyring was found: storage secrets are kept for this session "
    "only and must be entered again next time."
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
    qtbot: Any, settings: AppSettings, settings_file: Path, secret_service: ScopedSecretService
) -> None:
    store = KeyringStore(secret_service)
    access_key, secret_key = await _save_and_reload(qtbot, settings, settings_file, store, "office")
    stored = secret_service.get_password(SERVICE, profile_entry("office"))
    assert stored is not None  # one entry holds both keys, as JSON
    assert json.loads(stored) == {"access_key": access_key, "secret_key": secret_key}
    assert store.persistent is True


async def test_profile_secrets_in_the_real_secret_service(
    qtbot: Any, settings: AppSettings, settings_file: Path
) -> None:
    """The app's own path: ``KeyringStore()`` on keyring's default backend, service
    ``cloudrec``, under a profile name no one else uses (deleted at the end)."""
    require_secret_service()
    backend = keyring.get_keyring()
    assert not isinstance(backend, fail.Keyring), "a D-Bus session but no usable keyring backend"
    store = KeyringStore()
    name = f"test-{uuid.uuid4().hex[:8]}"
    try:
        access_key, secret_key = await _save_and_reload(qtbot, settings, settings_file, store, name)
        assert store.persistent is True
        raw = keyring.get_password(SERVICE, profile_entry(name))
        assert raw is not None
        assert json.loads(raw) == {"access_key": access_key, "secret_key": secret_key}
    finally:
        await store.delete_profile_keys(name)
    assert keyring.get_password(SERVICE, profile_entry(name)) is None


async def test_without_keyring_secrets_stay_in_the_session_and_a_banner_says_so(
    window: Any, settings: AppSettings, settings_file: Path
) -> None:
    """Fault: no keyring backend at all (keyring's fail backend, as on a machine with no
    Secret Service, Keychain or Credential Manager)."""
    store = KeyringStore(fail.Keyring())
    window.keyring = store
    window.profiles.keyring = store
    store.on_availability(window.keyring_banner.show_availability)
    assert window.keyring_banner.isHidden()
    assert await store.probe() is False
    assert store.persistent is False
    assert not window.keyring_banner.isHidden()
    assert window.keyring_banner.text() == NO_KEYRING_BANNER
    assert window.keyring_banner.styleSheet() == BANNER_STYLE
    await store.set("x", "the-secret")
    assert await store.get("x") == "the-secret"
    await store.delete("x")
    assert await store.get("x") is None


class _LockedKeyring(keyring.backend.KeyringBackend):
    """Fault: a keyring that answers reads but refuses writes, as a Secret Service whose
    collection is locked and whose unlock prompt the operator dismissed."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, refuse_reads: bool) -> None:
        super().__init__()
        self.refuse_reads = refuse_reads
        self.writes = 0

    def get_password(self, service: str, username: str) -> str | None:
        if self.refuse_reads:
            raise keyring.errors.KeyringLocked("the collection is locked")
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes += 1
        raise keyring.errors.KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


@pytest.mark.parametrize("refuse_reads", [True, False], ids=["locked", "read-only"])
async def test_a_keyring_that_errors_keeps_secrets_in_the_session(
    qtbot: Any, refuse_reads: bool
) -> None:
    """A backend that errors is no usable keyring: the banner shows, secrets are kept
    in memory for the session (docs/gui.md, Secrets)."""
    from gui.widgets.keyring_banner import KeyringBanner

    backend = _LockedKeyring(refuse_reads)
    store = KeyringStore(backend)
    banner = KeyringBanner()
    qtbot.addWidget(banner)
    seen: list[bool] = []
    store.on_availability(seen.append)
    store.on_availability(banner.show_availability)
    # Locked: the probe already fails. Read-only: the probe passes, the first write fails.
    await store.set_profile_keys("office", "AK", "SK")
    assert store.persistent is False
    assert seen == ([False] if refuse_reads else [True, False])
    assert backend.writes == (0 if refuse_reads else 1)
    assert not banner.isHidden() and banner.text() == NO_KEYRING_BANNER
    assert await store.profile_keys("office") == ("AK", "SK")
    await store.delete_profile_keys("office")
    assert await store.profile_keys("office") == ("", "")


async def test_profile_delete_removes_its_keys(
    qtbot: Any, settings: AppSettings, secret_service: ScopedSecretService
) -> None:
    store = KeyringStore(secret_service)
    panel, bar = _profiles(qtbot, settings, store)
    _fill_cloud(panel, "a-key", "s-key")
    await bar.save("gone")
    stored = secret_service.get_password(SERVICE, profile_entry("gone"))
    assert stored is not None
    assert json.loads(stored) == {"access_key": "a-key", "secret_key": "s-key"}
    await bar.delete("gone")
    assert secret_service.get_password(SERVICE, profile_entry("gone")) is None
    assert [p.name for p in settings.profiles()] == []


async def test_test_storage_without_a_server_says_not_available(window: Any) -> None:
    window.connection.use(None, None, owned=False)
    await window.profiles.test()
    assert window.profiles.status.text() == "Test storage is not available on this server."
    assert window.profiles.test_button.isEnabled()  # busy state was reset


async def test_test_storage_reports_an_unreachable_server(window: Any) -> None:
    await window.profiles.test()  # the window's pretend server at 127.0.0.1:9 answers nothing
    assert window.profiles.status.text() == (
        "Storage check failed: cannot connect to the recording server at "
        "http://127.0.0.1:9: ConnectError"
    )
    assert window.profiles.status.styleSheet() == ERROR_STYLE  # a failure reads as one
    assert window.profiles.test_button.isEnabled()


async def test_test_storage_gives_the_focus_back_to_its_button(window: Any) -> None:
    """Issue 28, item 14: the button is disabled while the check runs, which moved the
    focus to the preview's Sample users; it comes back to the button."""
    window.show()
    window.activateWindow()
    button = window.profiles.test_button
    window.panel.tabs.setCurrentWidget(window.panel.storage_page)
    button.setFocus()
    await wait_until(button.hasFocus)
    await window.profiles.test()
    assert button.hasFocus()


async def test_a_test_result_goes_when_the_storage_settings_change(window: Any) -> None:
    """A result is of the settings tested (issue 28, item 7): once a field changes, the
    line no longer says what it said about the old ones."""
    profiles = window.profiles
    await profiles.test()
    assert profiles.status.text().startswith("Storage check failed")
    bucket = window.panel.storage_form.widget("bucket")
    assert isinstance(bucket, QLineEdit)
    bucket.setText(bucket.text() + "x")
    assert profiles.status.text() == "" and profiles.status.styleSheet() == ""


async def test_a_saved_profiles_keys_are_in_the_form_after_a_restart(
    qtbot: Any, settings: AppSettings, store: KeyringStore, window: Any
) -> None:
    """The window saved a cloud profile (keys to the keyring); a new window on the same
    settings and keyring shows that profile with its keys, Start enabled, without the
    operator choosing it again (issue 28, item 1)."""
    from gui.main_window import MainWindow
    from tests.gui.conftest import FakeRecorderFactory, FakeServer

    access_key, secret_key = f"AKID-{uuid.uuid4().hex}", f"SECRET-{uuid.uuid4().hex}"
    _fill_cloud(window.panel, access_key, secret_key)
    await window.profiles.save("office")
    window.save_settings()  # as the window does when it closes: the drafts, no keys
    settings.sync()
    again = MainWindow(settings, store, recorder_factory=FakeRecorderFactory(),
                       embedded_server=FakeServer())  # type: ignore[arg-type]  # fmt: skip
    try:
        assert again.profiles.current_name() == "office"
        values = again.panel.storage_form.values()
        assert values["access_key"] == "" and not again.panel.is_valid()  # before the keyring
        await again.restore_secrets()
        values = again.panel.storage_form.values()
        assert (values["access_key"], values["secret_key"]) == (access_key, secret_key)
        assert again.panel.is_valid() and again.panel.start_button.isEnabled()
    finally:
        again.close_now()
        again.deleteLater()


async def test_deleting_a_profile_asks_first(
    qtbot: Any, settings: AppSettings, store: KeyringStore
) -> None:
    """Delete asks (its keys leave the keyring for good): Cancel keeps the profile and its
    keys, Yes deletes both (issue 28, item 12)."""
    from PySide6.QtWidgets import QMessageBox

    panel, bar = _profiles(qtbot, settings, store)
    _fill_cloud(panel, "AKID-delete", "SECRET-delete")
    await bar.save("gone")
    for answer, kept in ((QMessageBox.StandardButton.Cancel, True),
                         (QMessageBox.StandardButton.Yes, False)):  # fmt: skip
        bar.on_delete_clicked()
        await wait_until(lambda: bar.confirmation is not None and bar.confirmation.isVisible())
        assert bar.confirmation is not None and "gone" in bar.confirmation.text()
        bar.confirmation.done(answer)
        await wait_until(lambda: bar.confirmation is not None and not bar.confirmation.isVisible())
        await asyncio.sleep(0.2)  # the deletion, if any, on the keyring's thread
        names = [p.name for p in settings.profiles()]
        assert ("gone" in names) is kept
        assert (await store.profile_keys("gone") != ("", "")) is kept
