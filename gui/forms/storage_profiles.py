"""Named storage profiles: a bar above the Storage form.

A profile keeps vendor, region, bucket, endpoint, prefix and folder in the settings
(``AppSettings.profiles``) and its access key and secret key in the OS keyring
(``KeyringStore``, one entry per profile). Loading, saving and deleting run as
coroutines; keyring work happens off the GUI thread inside ``KeyringStore``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.errors import CloudRecordingError
from gui.dialogs.ask import ask
from gui.forms.config_form import ERROR_STYLE, OK_STYLE, ConfigForm
from gui.keyring_store import KeyringStore
from gui.settings import AppSettings, StorageProfile
from gui.tasks import async_slot


class StorageCheckUnavailable(Exception):
    """The recording server offers no destination check (yet)."""


StorageChecker = Callable[[CloudStorageConfig], Awaitable[None]]


class StorageProfiles(QWidget):
    """Profile chooser with Save as…, Delete and Test storage."""

    def __init__(
        self,
        form: ConfigForm,
        settings: AppSettings,
        keyring_store: KeyringStore,
        checker: StorageChecker,
        current_config: Callable[[], CloudStorageConfig | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.form = form
        self.settings = settings
        self.keyring = keyring_store
        self.checker = checker
        self.current_config = current_config
        self.busy = False
        self.confirmation: QMessageBox | None = None
        """The open Delete question (tests answer it)."""

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Profile")))
        self.combo = QComboBox()
        self.combo.setObjectName("profile_combo")
        self.combo.setMinimumContentsLength(12)
        row.addWidget(self.combo, 1)
        self.save_button = QPushButton(self.tr("Save as…"))
        self.save_button.setObjectName("profile_save")
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("profile_delete")
        self.test_button = QPushButton(self.tr("Test storage"))
        self.test_button.setObjectName("storage_test")
        for button in (self.save_button, self.delete_button, self.test_button):
            row.addWidget(button)
        outer.addLayout(row)
        self.status = QLabel()
        self.status.setObjectName("storage_status")
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        self._tested = False  # the status shows a Test storage result
        # a result is of the settings tested: any change makes it stale (issue 28, item 7)
        form.changed.connect(self._forget_result)

        self._refill(settings.current_profile())
        self.combo.activated.connect(self._on_activated)
        self.save_button.clicked.connect(self.on_save_clicked)
        self.delete_button.clicked.connect(self.on_delete_clicked)
        self.test_button.clicked.connect(self.on_test_clicked)

    def _refill(self, current: str) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(self.tr("(not saved)"), "")
        for profile in self.settings.profiles():
            self.combo.addItem(profile.name, profile.name)
        index = self.combo.findData(current)
        self.combo.setCurrentIndex(index if index >= 0 else 0)
        self.combo.blockSignals(False)
        self.delete_button.setEnabled(bool(self.combo.currentData()))

    def current_name(self) -> str:
        return str(self.combo.currentData() or "")

    # --- slots: thin, each starts a coroutine
    def _on_activated(self, _index: int) -> None:
        self.on_profile_chosen()

    @async_slot()
    async def on_profile_chosen(self) -> None:
        await self.load(self.current_name())

    @async_slot()
    async def on_save_clicked(self) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle(self.tr("Save storage profile"))
        dialog.setLabelText(self.tr("Profile name:"))
        dialog.setTextValue(self.current_name())
        if not await ask(dialog):
            return
        name = dialog.textValue().strip()
        if name:
            await self.save(name)

    @async_slot()
    async def on_delete_clicked(self) -> None:
        name = self.current_name()
        if name and await self.confirm_delete(name):
            await self.delete(name)

    async def confirm_delete(self, name: str) -> bool:
        """Ask before deleting profile ``name``: its keys leave the keyring for good."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Delete profile"),
            self.tr(
                "Delete the storage profile {0}? Its access key and secret key are removed "
                "from the keyring; recordings already made are not touched."
            ).format(name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("confirm_delete_profile")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirmation = box
        return await ask(box) == QMessageBox.StandardButton.Yes

    @async_slot()
    async def on_test_clicked(self) -> None:
        await self.test()

    # --- the work
    async def load(self, name: str) -> None:
        """Fill the Storage form from profile ``name`` and its keys from the keyring."""
        self.settings.set_current_profile(name)
        self.delete_button.setEnabled(bool(name))
        profile = next((p for p in self.settings.profiles() if p.name == name), None)
        if profile is None:
            return
        self.form.set_values({"vendor": profile.vendor})
        values: dict[str, Any] = {
            "region": profile.region,
            "bucket": profile.bucket,
            "endpoint": profile.endpoint,
            "file_name_prefix": profile.file_name_prefix,
            "local_folder": profile.local_folder,
            "access_key": "",
            "secret_key": "",
        }
        self.form.set_values(values)
        self._set_busy(True)
        try:
            access_key, secret_key = await self.keyring.profile_keys(name)
        finally:
            self._set_busy(False)
        if self.current_name() == name:  # the operator may have chosen another meanwhile
            self.form.set_values({"access_key": access_key, "secret_key": secret_key})
        self.status.setText(self.tr("Loaded profile {0}.").format(name))

    async def restore_keys(self) -> None:
        """At start: the current profile's keys from the keyring into the form, unless
        the form has keys already (the settings never keep them)."""
        name = self.current_name()
        values = self.form.values()
        if not name or values.get("access_key") or values.get("secret_key"):
            return
        access_key, secret_key = await self.keyring.profile_keys(name)
        if self.current_name() == name and not self.form.values().get("access_key"):
            self.form.set_values({"access_key": access_key, "secret_key": secret_key})

    async def save(self, name: str) -> None:
        """Save the Storage form as profile ``name``: keys to the keyring, the rest to settings."""
        values = self.form.values()
        vendor = int(values.get("vendor", int(StorageVendor.LOCAL)))
        profile = StorageProfile(
            name=name,
            vendor=vendor,
            region=int(values.get("region") or 0),
            bucket=str(values.get("bucket", "")),
            endpoint=str(values.get("endpoint", "")),
            file_name_prefix=tuple(values.get("file_name_prefix", ())),
            local_folder=str(values.get("local_folder", "")),
        )
        keys = self.form.editors
        access_key = str(keys["access_key"].value())
        secret_key = str(keys["secret_key"].value())
        self._set_busy(True)
        try:
            await self.keyring.set_profile_keys(name, access_key, secret_key)
        finally:
            self._set_busy(False)
        profiles = [p for p in self.settings.profiles() if p.name != name] + [profile]
        self.settings.set_profiles(sorted(profiles, key=lambda p: p.name.lower()))
        self.settings.set_current_profile(name)
        self._refill(name)
        self.status.setText(self.tr("Saved profile {0}.").format(name))

    async def delete(self, name: str) -> None:
        self._set_busy(True)
        try:
            await self.keyring.delete_profile_keys(name)
        finally:
            self._set_busy(False)
        self.settings.set_profiles([p for p in self.settings.profiles() if p.name != name])
        self.settings.set_current_profile("")
        self._refill("")
        self.status.setText(self.tr("Deleted profile {0}.").format(name))

    async def test(self) -> None:
        """Ask the recording server to check the destination."""
        config = self.current_config()
        if config is None:
            self.status.setText(self.tr("Fix the storage settings first."))
            return
        # disabling the focused button sends the focus to the next widget (the preview's
        # Sample users, issue 28, item 14): it comes back when the check is done
        focused = QApplication.focusWidget()
        if focused is not None and not self.isAncestorOf(focused):
            focused = None
        self._set_busy(True)
        self._forget_result()
        self.status.setText(self.tr("Testing storage…"))
        try:
            await self.checker(config)
        except StorageCheckUnavailable:
            self.status.setText(self.tr("Test storage is not available on this server."))
        except CloudRecordingError as exc:
            self._show_result(self.tr("Storage check failed: {0}").format(exc.message), ok=False)
        else:
            self._show_result(
                self.tr("Storage works: a test file was written and deleted."), ok=True
            )
        finally:
            self._set_busy(False)
            if focused is not None:
                focused.setFocus()

    def _show_result(self, text: str, *, ok: bool) -> None:
        self.status.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.status.setText(text)
        self._tested = True

    def _forget_result(self) -> None:
        if self._tested:
            self._tested = False
            self.status.clear()
            self.status.setStyleSheet("")

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        for button in (self.save_button, self.test_button, self.combo):
            button.setEnabled(not busy)
        self.delete_button.setEnabled(not busy and bool(self.current_name()))
