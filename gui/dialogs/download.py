"""Download a recording from its bucket into a folder the operator chooses.

The folder is asked for with a window-modal file dialog (:func:`gui.dialogs.ask.ask`,
no nested event loop); the files come with :func:`core.storage.download.download_recording`
under a progress dialog whose Cancel stops the download. The storage config is the one
the window started the recording with (its keys from the keyring): a recording the
window did not start has none, and is not offered for download (docs/gui.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from core.storage.download import Downloaded, download_recording
from gui.dialogs.ask import ask
from gui.models.recordings import RecordingRow

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate


async def choose_folder(parent: QWidget) -> Path | None:
    """The folder the operator chose, None when cancelled."""
    dialog = QFileDialog(parent, translate("MainWindow", "Download the recording into"))
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    if await ask(dialog) != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])


async def download_with_progress(
    parent: QWidget, row: RecordingRow, folder: Path
) -> Downloaded | None:
    """Fetch ``row``'s playlist and slices into ``folder`` under a progress dialog; None
    when the operator cancelled. Raises ``StorageError`` when the bucket refused."""
    assert row.storage is not None
    progress = QProgressDialog(
        translate("MainWindow", "Downloading {0}…").format(", ".join(row.playlists)),
        translate("MainWindow", "Cancel"),
        0,
        0,  # busy until the playlist says how many files there are
        parent,
    )
    progress.setObjectName("download_progress")
    progress.setWindowTitle(translate("MainWindow", "Download"))
    progress.setMinimumDuration(0)
    progress.setAutoClose(False)
    progress.setAutoReset(False)

    def advance(done: int, total: int) -> None:
        progress.setMaximum(total)
        progress.setValue(done)

    storage, names = row.storage, row.playlists

    async def fetch_all() -> Downloaded:
        """Each playlist in turn (an individual recording's tracks), as one download."""
        got = [await download_recording(storage, name, folder, progress=advance) for name in names]
        files = tuple(f for g in got for f in g.files) + tuple(g.playlist for g in got[1:])
        return Downloaded(got[0].playlist, files, sum(g.bytes for g in got))

    task = asyncio.ensure_future(fetch_all())
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        task.cancel()

    progress.canceled.connect(stop)
    progress.show()
    try:
        return await task
    except asyncio.CancelledError:
        if stopped:  # the operator's Cancel, not the window's own end
            return None
        raise
    finally:
        progress.canceled.disconnect(stop)
        progress.close()
        progress.deleteLater()
