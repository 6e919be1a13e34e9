"""File → Servers…: the recording servers the window holds, their loads, add and remove.

The window's own server (the server choice of Settings) is listed first and stays; a
further remote server is added with its base URL and bearer token (the token goes to
the keyring, nowhere else) and removed with its token. The loads are the servers' last
status reports (every 5 s), refreshed while the dialog is open.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.forms.config_form import ERROR_STYLE
from gui.server_pool import ServerPool
from gui.tasks import async_slot


class ServersDialog(QDialog):
    """The servers table, a form to add one, and Remove for the selected further one."""

    def __init__(self, pool: ServerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.setWindowTitle(self.tr("Recording servers"))
        self.setObjectName("servers_dialog")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("servers_table")
        self.table.setHorizontalHeaderLabels([self.tr("Server"), self.tr("Load")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("remove_server")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.on_remove)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        layout.addLayout(row)

        form = QFormLayout()
        self.url = QLineEdit()
        self.url.setObjectName("server_url")
        self.url.setPlaceholderText("https://recorder.example.com:8080")
        self.token = QLineEdit()
        self.token.setObjectName("server_token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText(self.tr("the server's bearer token (kept in the keyring)"))
        form.addRow(self.tr("URL"), self.url)
        form.addRow(self.tr("Token"), self.token)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("server_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.add_button = QPushButton(self.tr("Add server"))
        self.add_button.setObjectName("add_server")
        self.add_button.clicked.connect(self.on_add)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        pool.changed.connect(self.refresh)
        self.refresh()
        self.resize(620, 360)

    def refresh(self) -> None:
        """One row per server: its name and its load (or state)."""
        connections = self.pool.connections()
        self.table.setRowCount(len(connections))
        for i, connection in enumerate(connections):
            for column, text in enumerate(self.pool.describe(connection)):
                self.table.setItem(i, column, QTableWidgetItem(text))
        self._selection_changed()

    def _selected_url(self) -> str | None:
        """The selected further server's URL (None: none, or the window's own)."""
        rows = {index.row() for index in self.table.selectedIndexes()}
        others = self.pool.others()
        if len(rows) != 1 or not 1 <= (row := rows.pop()) <= len(others):
            return None
        return others[row - 1].remote_url

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self._selected_url() is not None)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    @async_slot()
    async def on_add(self) -> None:
        """Add the typed server; a URL that is not one, or one already held, is named."""
        self.add_button.setEnabled(False)
        try:
            await self.pool.add(self.url.text(), self.token.text())
        except ValueError as exc:
            self._show_error(str(exc))
            return
        finally:
            self.add_button.setEnabled(True)
        self._show_error("")
        self.url.clear()
        self.token.clear()

    @async_slot()
    async def on_remove(self) -> None:
        """Stop holding the selected further server."""
        url = self._selected_url()
        if url is not None:
            await self.pool.remove(url)
