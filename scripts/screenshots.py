"""Screenshots of an operator's first recording (docs/screenshots/), taken as a user
would go: the window on its embedded defaults (built-in server, sandbox app, channel
``demo``, the server's own folder), Start, accept the offer of demo participants, 20 s
of recording with the live picture selected, Stop, the recording found on disk; then
File > Servers... with a second server added and the "Record on" chooser it brings.
``--zh`` takes them with the Chinese translation (``*-zh.png``).

The window is the real one (the embedded server, ``cloudrec bots``, the OS keyring);
only the clicks are made by this script. Run it under an X server with a D-Bus
session and an unlocked Secret Service, from the project root, e.g.::

    xvfb-run -s "-screen 0 1400x900x24" dbus-run-session -- bash -c \\
      'eval "$(echo -n pw | gnome-keyring-daemon --unlock --components=secrets \\
               | sed "s/^/export /")"; .venv/bin/python scripts/screenshots.py docs/screenshots'

Settings, keyring entries and the server's data go to a fresh temporary folder, so a
run starts as a new user does. Prints where the recording is.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORD_SECONDS = 20.0
SUFFIX = "-en"
"""The file names' language part: ``-en``, or ``-zh`` with ``--zh``."""


async def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: {what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def drive(window: object, out: Path) -> int:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow
    from gui.models.recordings import RowState

    assert isinstance(window, MainWindow)

    async def shot(name: str) -> None:
        await asyncio.sleep(0.7)  # let the last changes paint
        screen = QGuiApplication.primaryScreen()
        screen.grabWindow(0).save(str(out / name))
        print(f"screenshots: {out / name}")

    run = asyncio.ensure_future(window.run())
    await until(lambda: window.connection.url is not None, 60, "the embedded server's start")
    await shot(f"first-run{SUFFIX}.png")

    start = asyncio.ensure_future(window.on_start_clicked())
    await until(
        lambda: window.findChild(QMessageBox, "demo_offer") is not None, 20, "the demo offer"
    )
    offer = window.findChild(QMessageBox, "demo_offer")
    await shot(f"demo-offer{SUFFIX}.png")
    offer.participants_button.click()  # type: ignore[union-attr]
    await start
    model = window.recordings.model

    def recording() -> bool:
        row = model.row_at(0)
        return row is not None and row.state is RowState.RECORDING

    await until(recording, 60, "the recording")
    window.recordings_view.table.selectRow(0)
    await asyncio.sleep(RECORD_SECONDS)
    await shot(f"recording-live{SUFFIX}.png")

    await window.on_stop()
    await until(lambda: model.row_at(0).state is RowState.UPLOADED, 60, "the upload")  # type: ignore[union-attr]
    await window.demo.stop()
    window.recordings_view.table.selectRow(0)
    await shot(f"recording-found{SUFFIX}.png")
    row = model.row_at(0)
    assert row is not None
    print(f"screenshots: the recording is {row.location} ({row.slices_stored} slices)")
    await servers(window, shot)
    window.close()
    return int(await run)


async def servers(window: object, shot: Callable[[str], Awaitable[None]]) -> None:
    """File > Servers...: a second server (a ``cloudrec server`` of its own, standing in
    for a remote one) added with its URL and token, then the chooser above Start."""
    from core.sdk.embedded import EmbeddedServer
    from gui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    other = EmbeddedServer(Path(tempfile.mkdtemp(prefix="cloudrec-screenshots-remote-")))
    await other.start()
    try:
        opened = asyncio.ensure_future(window.on_servers())
        await until(lambda: window.servers_dialog is not None, 10, "the servers dialog")
        dialog = window.servers_dialog
        assert dialog is not None
        dialog.url.setText(other.url)
        dialog.token.setText(other.token)
        await dialog.on_add()
        (added,) = window.servers.others()
        await until(lambda: added.load is not None, 20, "the second server's load")
        await shot(f"servers{SUFFIX}.png")
        dialog.reject()
        await opened
        await shot(f"servers-chooser{SUFFIX}.png")
        await window.servers.remove(other.url)
    finally:
        await other.stop()


def main(argv: list[str]) -> int:
    global SUFFIX
    chinese = "--zh" in argv
    argv = [a for a in argv if a != "--zh"]
    SUFFIX = "-zh" if chinese else "-en"
    out = Path(argv[1] if len(argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="cloudrec-screenshots-"))
    os.environ["XDG_DATA_HOME"] = str(home / "data")
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.app import install_translators
    from gui.keyring_store import KeyringStore
    from gui.main_window import MainWindow
    from gui.settings import AppSettings

    app = QApplication(argv)
    if chinese:
        install_translators(app, "zh_CN")
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = AppSettings(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
    if chinese:
        settings.set_language("zh_CN")
    window = MainWindow(settings, KeyringStore(), chinese=chinese)
    window.resize(1400, 900)
    window.show()
    with loop:
        return loop.run_until_complete(drive(window, out))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
