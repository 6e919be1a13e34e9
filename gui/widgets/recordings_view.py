"""The recordings table with its toolbar, and what can be done with a row's playlist.

The view renders :class:`RecordingsModel` (the upload column as a progress bar) and
says which row is selected; open folder, play and copy act on that row's playlist.
Recorder commands (stop, release) belong to the recordings controller.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QPoint, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.models.recordings import THUMBNAIL_SIZE, RecordingRow, RecordingsModel, local_path
from gui.widgets.progress_delegate import ProgressBarDelegate

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate


class RecordingsView(QWidget):
    """Title, row actions toolbar and the recordings table."""

    selection_changed = Signal()
    """Another row (or none) is selected, or the selected row changed."""
    message = Signal(str, bool)
    """(text, is an error) for the event log: what Copy put on the clipboard, or that
    no application of this computer opens a playlist or folder (issue 28, item 14)."""

    def __init__(
        self,
        model: RecordingsModel,
        row_actions: Sequence[QAction],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.row_actions = tuple(row_actions)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(translate("MainWindow", "<b>Recordings</b>")))
        self.toolbar = QToolBar()
        self.toolbar.addActions(list(self.row_actions))
        layout.addWidget(self.toolbar)
        self.table = HintedTableView()
        self.table.setObjectName("recordings_table")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(RecordingsModel.UPLOAD, ProgressBarDelegate(self.table))
        self.table.horizontalHeader().setSectionResizeMode(
            RecordingsModel.LAST_EVENT, QHeaderView.ResizeMode.Stretch
        )
        self.table.verticalHeader().setVisible(False)
        # A row with a snapshot shows its thumbnail beside the channel: rows grow to it.
        self.table.setIconSize(QSize(*THUMBNAIL_SIZE))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.table, 1)
        self.table.selectionModel().selectionChanged.connect(self.selection_changed)
        model.dataChanged.connect(self.selection_changed)

    def selected_row(self) -> RecordingRow | None:
        """The selected recording, or None."""
        indexes = self.table.selectionModel().selectedRows()
        return self.model.row_at(indexes[0].row()) if indexes else None

    def _context_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        menu.addActions(list(self.row_actions))
        menu.popup(self.table.viewport().mapToGlobal(position))

    def open_url(self, url: QUrl) -> bool:
        """Open ``url`` with the system's application; False when none did."""
        return bool(QDesktopServices.openUrl(url))

    def open_folder(self) -> None:
        """Show the folder of the selected row's local playlist."""
        row = self.selected_row()
        path = local_path(row.location) if row else None
        if path is not None and not self.open_url(QUrl.fromLocalFile(str(path.parent))):
            self.message.emit(
                translate(
                    "MainWindow", "No application on this computer opens the folder {0}."
                ).format(path.parent),
                True,
            )

    def play(self) -> None:
        """Play the selected row's playlist (an individual recording's first video
        track) in the system's player."""
        # PySide6-Essentials has no QtMultimedia: the system's player plays the HLS playlist.
        row = self.selected_row()
        if row is None or not row.playlist:
            return
        path = local_path(row.location)
        if not self.open_url(QUrl.fromLocalFile(str(path)) if path else QUrl(row.location)):
            self.message.emit(
                translate(
                    "MainWindow",
                    "No application on this computer opens {0}: play it in a player that "
                    "plays HLS playlists, such as VLC or ffplay (Copy playlist location gives its "
                    "address).",
                ).format(path or row.location),
                True,
            )

    def copy_location(self) -> None:
        """Put the selected row's playlist location on the clipboard (an individual
        recording's: every track's, one a line)."""
        row = self.selected_row()
        if row is not None and row.playlist:
            locations = row.locations
            QGuiApplication.clipboard().setText("\n".join(locations))
            self.message.emit(
                translate("MainWindow", "Copied to the clipboard: {0}").format(locations[0])
                if len(locations) == 1
                else translate(
                    "MainWindow", "Copied the locations of {0} playlists to the clipboard."
                ).format(len(locations)),
                False,
            )


# ------------------------------------------------------------------ first-run hint
class HintedTableView(QTableView):
    """A table view that shows a hint in its viewport while its model has no rows
    (the first-run hint, ``gui/first_run.py``)."""

    HINT_MARGIN = 24
    """Pixels between the hint and the viewport's edges."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hint = ""

    def hint(self) -> str:
        """The hint text ("" for none)."""
        return self._hint

    def set_hint(self, text: str) -> None:
        """Show ``text`` while the table is empty ("": no hint)."""
        self._hint = text
        self.viewport().update()

    def hint_shown(self) -> bool:
        """Whether the viewport draws the hint now: there is one and no row."""
        model = self.model()
        return bool(self._hint) and (model is None or model.rowCount() == 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.hint_shown():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().placeholderText().color())
        margin = self.HINT_MARGIN
        area = self.viewport().rect().adjusted(margin, margin, -margin, -margin)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        painter.drawText(area, int(flags), self._hint)
        painter.end()
