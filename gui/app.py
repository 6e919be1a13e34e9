"""The window's entry point: ``cloudrec`` with no subcommand calls :func:`main`.

This is the only place an event loop starts: one ``qasync.QEventLoop`` runs Qt and
asyncio together for the whole life of the window.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

import qasync
from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from gui import paths
from gui.dialogs import crash
from gui.keyring_store import KeyringStore
from gui.main_window import MainWindow
from gui.settings import APPLICATION, ORGANIZATION, AppSettings


def effective_language(override: str) -> str:
    """``zh_CN`` or ``en``: the override, else the system locale."""
    if override:
        return override
    return "zh_CN" if QLocale.system().name().startswith("zh") else "en"


def install_translators(app: QApplication, language: str) -> list[QTranslator]:
    """Load the window's and Qt's own translations for ``language``; returns them."""
    installed: list[QTranslator] = []
    if language == "en":
        return installed
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, folder in (
        (f"qtbase_{language}", qt_dir),
        (f"cloudrec_{language}", str(paths.TRANSLATIONS_DIR)),
    ):
        translator = QTranslator(app)
        if translator.load(name, folder):
            app.installTranslator(translator)
            installed.append(translator)
    return installed


def no_display_reason() -> str | None:
    """Why no window can open here (a Linux session without X11 or Wayland), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"


def main(argv: Sequence[str]) -> int:
    """Open the window; returns the process exit code."""
    reason = no_display_reason()
    if reason is not None:
        print(
            f"cloudrec: cannot open the window: {reason}.\n"
            "Run it in a desktop session, or use the headless commands: `cloudrec demo` "
            "records 3 bots into ./recordings, `cloudrec server` runs the recording server, "
            "`cloudrec record` records a channel.",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    QApplication.setOrganizationName(ORGANIZATION)
    QApplication.setApplicationName(APPLICATION)
    app = QApplication.instance() or QApplication(list(argv))
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the window decides when it has closed
    settings = AppSettings()
    language = effective_language(settings.language())
    install_translators(app, language)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(settings, KeyringStore(), chinese=language.startswith("zh"))
    crash.install(lambda: window, loop)
    window.show()
    with loop:
        return int(loop.run_until_complete(window.run()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv))
