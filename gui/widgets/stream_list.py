"""The Recording tab's live streams: up to five stream URLs, their keys never shown.

A URL is typed into a password field and added to the list, which shows it masked
(``core.stream_urls.mask_url``: the stream key and any query hidden); a URL that is
not a stream URL is refused under the field, naming what is allowed. The window keeps
the list in the OS keyring, never in its settings (``gui/keyring_store.py``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.stream_urls import MAX_DESTINATIONS, URL_ALLOWED, check_url, mask_url
from gui.forms.allowed_zh import allowed_text
from gui.forms.config_form import ERROR_STYLE


class StreamList(QWidget):
    """Stream URLs to push a mix recording to (``rtmpPublishConfig``)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, chinese: bool = False) -> None:
        super().__init__(parent)
        self.chinese = chinese
        self._urls: list[str] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.field = QLineEdit()
        self.field.setObjectName("stream_url")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText("rtmp://host/app/key")
        self.field.setToolTip(
            self.tr(
                "A stream URL with its key: rtmp://host/app/key, rtmps://host/app/key or "
                "srt://host:port?streamid=…; kept in the keyring, shown masked"
            )
        )
        self.field.returnPressed.connect(self.add_typed)
        row.addWidget(self.field, 1)
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.setObjectName("add_stream")
        self.add_button.clicked.connect(self.add_typed)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.error = QLabel()
        self.error.setObjectName("error_stream_url")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout.addWidget(self.error)
        self.list = QListWidget()
        self.list.setObjectName("stream_list")
        self.list.setMaximumHeight(90)
        layout.addWidget(self.list)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("remove_stream")
        self.remove_button.clicked.connect(self.remove_selected)
        layout.addWidget(self.remove_button)
        self._refresh()

    def urls(self) -> list[str]:
        """The stream URLs, keys included (for the recording and the keyring only)."""
        return list(self._urls)

    def set_urls(self, urls: list[str]) -> None:
        """Show these URLs (the valid ones, at most five) without announcing a change."""
        kept: list[str] = []
        for url in urls:
            try:
                check_url(url)
            except ValueError:
                continue
            if url not in kept and len(kept) < MAX_DESTINATIONS:
                kept.append(url)
        self._urls = kept
        self._refresh()

    def add_typed(self) -> None:
        """Add the typed URL, or say under the field why not."""
        url = self.field.text().strip()
        if not url:
            return
        try:
            try:
                check_url(url)
            except ValueError as exc:
                if not self.chinese:
                    raise
                raise ValueError(
                    self.tr("{0} is not a stream URL; {1}").format(
                        mask_url(url), allowed_text(URL_ALLOWED, True)
                    )
                ) from exc
            if url in self._urls:
                raise ValueError(self.tr("{0} is in the list already").format(mask_url(url)))
            if len(self._urls) >= MAX_DESTINATIONS:
                raise ValueError(self.tr("at most {0} live streams").format(MAX_DESTINATIONS))
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return
        self.error.setVisible(False)
        self.field.clear()
        self._urls.append(url)
        self._refresh()
        self.changed.emit()

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._urls):
            del self._urls[row]
            self._refresh()
            self.changed.emit()

    def _refresh(self) -> None:
        self.list.clear()
        self.list.addItems([mask_url(url) for url in self._urls])
        self.remove_button.setEnabled(bool(self._urls))
        self.add_button.setEnabled(len(self._urls) < MAX_DESTINATIONS)
