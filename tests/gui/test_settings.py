"""Settings are versioned, keep drafts and profiles, and never hold a secret."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from core.config import CloudStorageConfig, RecordingConfig
from core.enums import DecryptionMode, StorageVendor
from gui.settings import SETTINGS_VERSION, AppSettings, ServerChoice, StorageProfile


def test_version_is_written_and_newer_settings_are_kept(settings_file: Path) -> None:
    settings = AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))
    settings.sync()
    raw = QSettings(str(settings_file), QSettings.Format.IniFormat)
    assert int(raw.value("version")) == SETTINGS_VERSION
    raw.setValue("version", SETTINGS_VERSION + 1)
    raw.sync()
    AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat)).sync()
    assert (
        int(QSettings(str(settings_file), QSettings.Format.IniFormat).value("version"))
        == SETTINGS_VERSION + 1
    )


def test_drafts_drop_secrets(settings: AppSettings, settings_file: Path) -> None:
    recording = RecordingConfig(
        decryption_mode=DecryptionMode.AES_256_XTS, secret="a-very-secret-pass"
    )
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket="b-bucket",
        access_key="AKIA-SECRET",
        secret_key="SK-SECRET",
    )
    settings.set_draft(
        "recording", {**recording.model_dump(mode="json"), "secret": "a-very-secret-pass"}
    )
    settings.set_draft(
        "storage",
        {"vendor": 1, "bucket": "b-bucket", "access_key": "AKIA-SECRET", "secret_key": "SK-SECRET"},
    )
    settings.set_draft("identity", {"app_id": "x", "token": "007-channel-token"})
    settings.sync()
    text = settings_file.read_bytes()
    for secret in (b"a-very-secret-pass", b"AKIA-SECRET", b"SK-SECRET", b"007-channel-token"):
        assert secret not in text
    assert settings.draft("storage") == {"vendor": 1, "bucket": "b-bucket"}
    assert storage.bucket == "b-bucket"


def test_profiles_server_and_language_round_trip(settings: AppSettings) -> None:
    profile = StorageProfile("lab", 2, 5, "lab-bucket", "", ("rec", "2026"), "")
    settings.set_profiles([profile])
    settings.set_server(ServerChoice(remote=True, url="https://rec.example:8443"))
    settings.set_language("zh_CN")
    assert settings.profiles() == [profile]
    assert settings.server() == ServerChoice(remote=True, url="https://rec.example:8443")
    assert settings.language() == "zh_CN"
    settings.set_language("klingon")
    assert settings.language() == ""


def test_window_restores_its_drafts(window: object, settings: AppSettings) -> None:
    from gui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.panel.identity["channel"].setText("board-meeting")
    window.panel.transcoding_form.widget("fps").setValue(24)  # type: ignore[attr-defined]
    window.panel.mp4_check.setChecked(True)
    window.save_settings()
    again = MainWindow(settings, window.keyring)
    try:
        assert again.panel.identity["channel"].text() == "board-meeting"
        assert again.panel.transcoding_form.editors["fps"].value() == 24
        # every section the panel keeps comes back (the MP4 box's was once left out)
        assert again.panel.drafts() == window.panel.drafts()
        assert again.panel.mp4_check.isChecked()
    finally:
        again.close_now()
        again.deleteLater()
