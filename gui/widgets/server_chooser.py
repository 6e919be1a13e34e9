"""Which server a new recording goes to: "Least loaded" or one the window holds.

Shown above Start recording while the window holds more than one server
(``gui/server_pool.py``); each entry names the server and its load as last reported.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from gui.server_pool import ServerPool

LEAST_LOADED = None
"""The chooser's data for "the least loaded server" (a server's is its URL, "" the
window's own)."""


class ServerChooser(QWidget):
    """ "Record on: [Least loaded ▾]", refreshed whenever a server or its load changes."""

    def __init__(self, pool: ServerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("Record on")))
        self.combo = QComboBox()
        self.combo.setObjectName("server_chooser")
        self.combo.setToolTip(
            self.tr(
                "Least loaded: the server with the fewest recordings (then the least CPU), "
                "its load read when the recording starts."
            )
        )
        # the entries are long (a URL and its load): they must not widen the panel
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(14)
        layout.addWidget(self.combo, 1)
        pool.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """List the servers with their loads, keeping the operator's choice."""
        kept = self.chosen()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(self.tr("Least loaded"), LEAST_LOADED)
        for connection in self.pool.connections():
            name, load = self.pool.describe(connection)
            key = "" if connection is self.pool.primary else connection.remote_url or ""
            self.combo.addItem(f"{name} ({load})", key)
        index = self.combo.findData(kept) if kept is not None else 0
        self.combo.setCurrentIndex(max(0, index))
        self.combo.blockSignals(False)
        self.setVisible(len(self.pool.connections()) > 1)

    def chosen(self) -> str | None:
        """The chosen server's URL ("" the window's own), None for the least loaded."""
        data = self.combo.currentData() if self.combo.count() else None
        return None if data is None else str(data)

    def choose(self, key: str | None) -> None:
        """Select ``key`` (as :meth:`chosen` gives it)."""
        index = self.combo.findData(key) if key is not None else 0
        self.combo.setCurrentIndex(max(0, index))
