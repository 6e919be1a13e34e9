"""Screenshots of the window's operator-facing messages (issue 28; docs/screenshots/):
the remedy dialog of a wrong storage key, a channel name too long, the transcoding
tab refusing 1920x1920 (units beside the spin boxes), a Test storage
result and the same form after a change, and the Settings dialog on a computer
without an OS keyring. ``--zh`` takes them in Chinese (``*-zh.png``).

The window is the real one on Qt's offscreen platform at 1280x800; no recording
server runs (Test storage asks one at 127.0.0.1:9, which answers nothing, so the
result is a real failure), and the keyring is keyring's fail backend, as on a
computer without a Secret Service. Run from the project root::

    .venv/bin/python scripts/window_shots.py docs/screenshots [--zh]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


async def take(out: Path, suffix: str, chinese: bool) -> None:
    from keyring.backends import fail
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QLineEdit, QSpinBox, QWidget

    from core.errors import ErrorCode
    from gui.dialogs.error_dialog import ErrorDialog
    from gui.dialogs.settings_dialog import SettingsDialog
    from gui.keyring_store import KeyringStore
    from gui.main_window import MainWindow
    from gui.settings import AppSettings, ServerChoice

    def save(widget: QWidget, name: str) -> None:
        for _ in range(5):  # layout requests travel up one parent per round
            QApplication.processEvents()
        path = out / f"{name}{suffix}.png"
        widget.grab().save(str(path))
        print(path)

    settings = AppSettings(
        QSettings(str(Path(tempfile.mkdtemp()) / "cloudrec.ini"), QSettings.Format.IniFormat)
    )
    store = KeyringStore(fail.Keyring())
    await store.probe()
    window = MainWindow(settings, store, chinese=chinese)
    window.connection.use("http://127.0.0.1:9", "token", owned=False)
    window.resize(1280, 800)
    window.show()
    try:
        # a channel name longer than Agora's 64 bytes: the message wraps under the field
        channel = window.panel.identity["channel"]
        channel.setText("weekly-all-hands-meeting-of-the-engineering-and-design-teams-2026")
        save(window, "long-channel")
        channel.setText("demo")

        # the transcoding tab: the units beside the spin boxes, and what a size above
        # 1080p is told (in the window's language)
        window.panel.tabs.setCurrentIndex(1)
        width = window.panel.transcoding_form.widget("width")
        height = window.panel.transcoding_form.widget("height")
        assert isinstance(width, QSpinBox) and isinstance(height, QSpinBox)
        width.setValue(1920)
        height.setValue(1920)
        save(window.panel, "transcoding-tab")
        width.setValue(640)
        height.setValue(360)

        # Test storage against a server that answers nothing, then a field changed
        window.panel.tabs.setCurrentIndex(2)
        await window.profiles.test()
        save(window, "test-storage-result")
        bucket = window.panel.storage_form.widget("bucket")
        assert isinstance(bucket, QLineEdit)
        bucket.setText("recordings-2026")
        save(window, "test-storage-after-change")

        # the remedy of a wrong secret key (UPLOADER_INIT)
        dialog = ErrorDialog(
            ErrorCode.UPLOADER_INIT,
            "AccessDenied: the access key or secret key of bucket recordings-2026 is wrong",
            channel="demo",
            chinese=chinese,
            parent=window,
        )
        dialog.show()
        save(dialog, "remedy-dialog")
        dialog.close()

        # Settings without an OS keyring
        settings_dialog = SettingsDialog(
            "", ServerChoice(remote=True, url="https://recorder.example.com:8443"),
            window, keyring_persistent=store.persistent, token_stored=False,
        )  # fmt: skip
        settings_dialog.show()
        save(settings_dialog, "settings-no-keyring")
        settings_dialog.close()
    finally:
        window.close_now()


def main() -> None:
    from PySide6.QtWidgets import QApplication
    from qasync import QEventLoop

    from gui.app import install_translators

    chinese = "--zh" in sys.argv
    out = Path(next((a for a in sys.argv[1:] if not a.startswith("--")), "docs/screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    if chinese:
        assert install_translators(app, "zh_CN"), "no Chinese translation found"
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(take(out, "-zh" if chinese else "-en", chinese))


if __name__ == "__main__":
    main()
