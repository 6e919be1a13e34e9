"""The recordings table with its toolbar, and what can be done with a row's playlist.

The view renders :class:`RecordingsModel` (the upload column as a progress bar) and
says which row is selected; open folder, play and copy act on that row's playlist.
Recorder commands (stop, release) belong to the recordings controller.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QPoint, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
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
        self.table = QTableView()
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

    def open_folder(self) -> None:
        """Show the folder of the selected row's local playlist."""
        row = self.selected_row()
        path = local_path(row.location) if row else None
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

    def play(self) -> None:
        """Play the selected row's playlist in the system's player."""
        # PySide6-Essentials has no QtMultimedia: the system's player plays the HLS playlist.
        row = self.selected_row()
        if row is None or not row.playlist:
            return
        path = local_path(row.location)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)) if path else QUrl(row.location))

    def copy_location(self) -> None:
        """Put the selected row's playlist location on the clipboard."""
        row = self.selected_row()
        if row is not None and row.playlist:
            QGuiApplication.clipboard().setText(row.location)
