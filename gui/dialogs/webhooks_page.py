"""The Settings dialog's Webhooks page: the embedded server's webhook endpoints.

A table of endpoints (URL, event types, what the running server says of it, a **Send
test event** button) and an editor under it (URL, secret, event types) with **Add**,
**Save changes** and **Remove**. What is typed is checked with the server's own parser
(:func:`gui.webhooks.check_endpoint`) and each field's problem is shown under it in the
server's words. Changes are kept in the page until the dialog's OK (:meth:`save`): the
URL and event types go to the settings, the secret (and a URL's ``user:password``) to
the keyring, and the embedded server takes them at its next start.

**Send test event** asks the running server (``POST /v1/cloudrec/webhooks/test``) for
the endpoint's place in its status list (:func:`gui.webhooks.server_index`); an
endpoint it does not have is one added or changed since it started.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
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

from core.errors import CloudRecordingError
from gui.forms.config_form import ERROR_STYLE
from gui.keyring_store import KeyringStore
from gui.settings import AppSettings, WebhookEndpoint
from gui.tasks import async_slot
from gui.webhooks import (
    MAX_ENDPOINTS,
    check_endpoint,
    endpoint_from_fields,
    event_names,
    same_receiver,
    server_index,
    shown_url,
)

URL_COLUMN, EVENTS_COLUMN, SERVER_COLUMN, TEST_COLUMN = range(4)


class WebhookServer(Protocol):
    """What the page needs of the window's server (``ServerConnection``)."""

    @property
    def webhooks_started(self) -> tuple[str, ...]: ...

    @property
    def embedded(self) -> bool: ...

    async def webhook_status(self) -> list[dict[str, Any]] | None: ...

    async def send_webhook_test(self, index: int) -> dict[str, Any]: ...


@dataclass(frozen=True)
class _Row:
    """One endpoint of the page: as it will be saved, and what to do in the keyring."""

    endpoint: WebhookEndpoint
    original: str | None = None
    """Its URL when the page opened (None: added here): where its secret is now."""
    secret: str | None = None
    """A new secret typed in; None keeps the stored one."""
    userinfo: str | None = None
    """A new ``user:password`` typed in the URL; None keeps the stored one."""


def _clock(ms: object) -> str:
    return time.strftime("%H:%M:%S", time.localtime(int(str(ms)) / 1000)) if ms else ""


class WebhooksPage(QWidget):
    """Edit the embedded server's webhook endpoints; save them with :meth:`save`."""

    def __init__(
        self,
        endpoints: Sequence[WebhookEndpoint],
        server: WebhookServer | None = None,
        *,
        remote: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("webhooks_page")
        self.server = server
        self._rows = [_Row(e, original=e.url) for e in endpoints]
        self._removed: list[str] = []
        self._status: list[dict[str, Any]] | None = None
        layout = QVBoxLayout(self)

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("webhooks_table")
        self.table.setHorizontalHeaderLabels(
            [self.tr("URL"), self.tr("Events"), self.tr("Running server"), ""]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(URL_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SERVER_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_selected)
        layout.addWidget(self.table)

        form = QFormLayout()
        self.url = QLineEdit()
        self.url.setObjectName("webhook_url")
        self.url.setPlaceholderText("https://hooks.example.com/agora")
        self.url.setToolTip(
            self.tr(
                "The receiver's http:// or https:// URL (https beyond this computer). A "
                "user:password in it is sent as HTTP Basic auth and kept in the keyring "
                "with the secret; type it again to change it."
            )
        )
        self.secret = QLineEdit()
        self.secret.setObjectName("webhook_secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setToolTip(
            self.tr(
                "The key of the Agora-Signature and Agora-Signature-V2 headers (Agora's "
                "console calls it the Secret). Kept in the OS keyring, never shown again."
            )
        )
        self.events = QLineEdit()
        self.events.setObjectName("webhook_events")
        self.events.setPlaceholderText(self.tr("every event"))
        names = "\n".join(f"{number} {name}" for number, name in event_names())
        self.events.setToolTip(
            self.tr("Event types this endpoint takes, as 31, 32, 11; empty for every event:")
            + "\n"
            + names
        )
        self.errors: dict[str, QLabel] = {}
        for name, label, editor in (
            ("url", self.tr("URL"), self.url),
            ("secret", self.tr("Secret"), self.secret),
            ("events", self.tr("Events"), self.events),
        ):
            error = QLabel()
            error.setObjectName(f"webhook_error_{name}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.setTextFormat(Qt.TextFormat.PlainText)
            error.hide()
            self.errors[name] = error
            column = QVBoxLayout()
            column.addWidget(editor)
            column.addWidget(error)
            form.addRow(label, column)
            editor.textEdited.connect(lambda _text, name=name: self._show_error(name, None))
        layout.addLayout(form)

        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.setObjectName("webhook_add")
        self.update_button = QPushButton(self.tr("Save changes"))
        self.update_button.setObjectName("webhook_update")
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("webhook_remove")
        for button in (self.add_button, self.update_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add)
        self.update_button.clicked.connect(self.update_selected)
        self.remove_button.clicked.connect(self.remove_selected)

        self.result = QLabel()
        self.result.setObjectName("webhook_result")
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.result)
        self.note = QLabel(
            self.tr(
                "Endpoints apply at the next start of the embedded server. The secret is "
                "kept in the OS keyring."
            )
        )
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.remote_note = QLabel(
            self.tr(
                "A remote server has its own webhook endpoints, set where it runs "
                "(CLOUDREC_WEBHOOKS, docs/webhooks.md): these are the embedded server's."
            )
        )
        self.remote_note.setObjectName("webhook_remote_note")
        self.remote_note.setWordWrap(True)
        layout.addWidget(self.remote_note)
        self.set_remote(remote)
        self._render()

    # ------------------------------------------------------------------ what is shown
    def endpoints(self) -> list[WebhookEndpoint]:
        """The endpoints as they will be saved."""
        return [row.endpoint for row in self._rows]

    def set_remote(self, remote: bool) -> None:
        """Say that a remote server has its own endpoints (the dialog's server choice)."""
        self.remote_note.setVisible(remote)

    def selected(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].row() if rows else None

    def _events_text(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.events is None:
            return self.tr("every event")
        return ", ".join(str(e) for e in endpoint.events)

    def _render(self) -> None:
        chosen = self.selected()
        # Drawn again when the server's status arrives: that must not reload the editor.
        self.table.blockSignals(True)
        try:
            self._fill_table(chosen)
        finally:
            self.table.blockSignals(False)
        self.add_button.setEnabled(len(self._rows) < MAX_ENDPOINTS)
        self._update_buttons()

    def _fill_table(self, chosen: int | None) -> None:
        self.table.setRowCount(len(self._rows))
        for index, row in enumerate(self._rows):
            url = QTableWidgetItem(row.endpoint.url)
            url.setToolTip(row.endpoint.url)
            self.table.setItem(index, URL_COLUMN, url)
            self.table.setItem(
                index, EVENTS_COLUMN, QTableWidgetItem(self._events_text(row.endpoint))
            )
            self.table.setItem(index, SERVER_COLUMN, QTableWidgetItem(self.server_text(index)))
            button = QPushButton(self.tr("Send test event"))
            button.setObjectName(f"webhook_test_{index}")
            button.setEnabled(self.server is not None)
            button.clicked.connect(lambda _checked=False, index=index: self.send_test(index))
            self.table.setCellWidget(index, TEST_COLUMN, button)
        if chosen is not None and chosen < len(self._rows):
            self.table.selectRow(chosen)

    def test_button(self, index: int) -> QPushButton:
        """The Send test event button of row ``index``."""
        widget = self.table.cellWidget(index, TEST_COLUMN)
        assert isinstance(widget, QPushButton)
        return widget

    def server_text(self, index: int) -> str:
        """What the running server says of row ``index``'s endpoint."""
        if self._status is None:
            return ""
        place = self._server_place(index)
        if place is None:
            if not self._embedded():
                return self.tr("not on the remote server: it has its own endpoints")
            return self.tr("not on the running server: applies at its next start")
        entry = self._status[place]
        text = self.tr("{0} waiting").format(int(entry.get("backlog") or 0))
        if entry.get("lastError"):
            text += self.tr("; last error {0}: {1}").format(
                _clock(entry.get("lastErrorMs")), entry["lastError"]
            )
        if entry.get("lastDeliveryMs"):
            text += self.tr("; delivered {0}").format(_clock(entry["lastDeliveryMs"]))
        return text

    def _embedded(self) -> bool:
        return self.server is None or self.server.embedded

    def _server_place(self, index: int) -> int | None:
        if self._status is None or self.server is None:
            return None
        row = self._rows[index]
        if row.original != row.endpoint.url:
            return None  # changed here: the server has the old one
        return server_index(row.endpoint.url, self._status, self.server.webhooks_started)

    def _show_error(self, name: str, message: str | None) -> None:
        self.errors[name].setText(message or "")
        self.errors[name].setVisible(bool(message))

    def _on_selected(self) -> None:
        index = self.selected()
        for name in self.errors:
            self._show_error(name, None)
        if index is not None:
            endpoint = self._rows[index].endpoint
            self.url.setText(endpoint.url)
            self.events.setText("" if endpoint.events is None else self._events_text(endpoint))
            self.secret.clear()
            self.secret.setPlaceholderText(self.tr("unchanged"))
        else:
            self.secret.setPlaceholderText("")
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        self.update_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)

    # ------------------------------------------------------------------ editing
    def _checked(self, *, secret_required: bool, skip: int | None) -> bool:
        """Check the editor's fields, showing each problem under its field."""
        secret = self.secret.text()
        errors = check_endpoint(
            self.url.text(), secret if secret or secret_required else None, self.events.text()
        )
        if "url" not in errors:
            url = self.url.text().strip()
            for index, row in enumerate(self._rows):
                if index != skip and same_receiver(row.endpoint.url, url):
                    errors["url"] = self.tr(
                        "endpoint {0} has this URL already; name each receiver once (one "
                        "endpoint can take several event types)"
                    ).format(index + 1)
        for name in self.errors:
            self._show_error(name, errors.get(name))
        return not errors

    def add(self) -> None:
        """Add the editor's endpoint (a secret is required)."""
        if len(self._rows) >= MAX_ENDPOINTS:
            self._show_error("url", self.tr("at most {0} endpoints").format(MAX_ENDPOINTS))
            return
        if not self._checked(secret_required=True, skip=None):
            return
        endpoint, userinfo = endpoint_from_fields(self.url.text(), self.events.text())
        self._rows.append(_Row(endpoint, secret=self.secret.text(), userinfo=userinfo))
        self._clear_editor()
        self._render()

    def update_selected(self) -> None:
        """Replace the selected endpoint with the editor's (an empty secret keeps it)."""
        index = self.selected()
        if index is None or not self._checked(secret_required=False, skip=index):
            return
        endpoint, userinfo = endpoint_from_fields(self.url.text(), self.events.text())
        row = self._rows[index]
        self._rows[index] = replace(
            row,
            endpoint=endpoint,
            secret=self.secret.text() or row.secret,
            userinfo=userinfo or row.userinfo,
        )
        self._render()
        self.secret.clear()

    def remove_selected(self) -> None:
        index = self.selected()
        if index is None:
            return
        row = self._rows.pop(index)
        if row.original is not None:
            self._removed.append(row.original)
        self.table.clearSelection()
        self._clear_editor()
        self._render()

    def _clear_editor(self) -> None:
        for editor in (self.url, self.secret, self.events):
            editor.clear()

    # ------------------------------------------------------------------ the server
    @async_slot()
    async def refresh_status(self) -> None:
        """Read what the running server says of its endpoints."""
        if self.server is None:
            return
        self._status = await self.server.webhook_status()
        self._render()

    @async_slot(int)
    async def send_test(self, index: int) -> None:
        """Have the running server send a test event to row ``index``'s endpoint."""
        if self.server is None or not 0 <= index < len(self._rows):
            return
        self.test_button(index).setEnabled(False)
        url = shown_url(self._rows[index].endpoint.url)
        try:
            self._status = await self.server.webhook_status()
            self._render()
            self.test_button(index).setEnabled(False)
            place = self._server_place(index)
            if place is None and not self._embedded():
                self.result.setText(
                    self.tr(
                        "The remote server does not have the endpoint {0}: a remote server "
                        "has its own webhook endpoints, set where it runs."
                    ).format(url)
                )
                return
            if place is None:
                self.result.setText(
                    self.tr(
                        "The running server does not have the endpoint {0} (added or "
                        "changed since it started): it applies at the next start of the "
                        "embedded server."
                    ).format(url)
                )
                return
            self.result.setText(self.tr("Sending a test event to {0}…").format(url))
            answer = await self.server.send_webhook_test(place)
            self.result.setText(self.test_text(url, answer))
        except CloudRecordingError as exc:
            self.result.setText(self.tr("The test event was not sent: {0}").format(exc.message))
        finally:
            if index < self.table.rowCount():  # the row may be gone, or drawn again
                self.test_button(index).setEnabled(True)

    def test_text(self, url: str, answer: Mapping[str, Any]) -> str:
        """The server's answer to a test event, for a person."""
        elapsed = int(answer.get("elapsedMs") or 0)
        event = answer.get("eventType")
        if answer.get("delivered"):
            return self.tr("Test event {0} delivered to {1} in {2} ms.").format(event, url, elapsed)
        return self.tr("Test event {0} not delivered to {1}: {2} (after {3} ms).").format(
            event, url, answer.get("error") or "", elapsed
        )

    # ------------------------------------------------------------------ saving
    async def save(self, settings: AppSettings, keyring: KeyringStore) -> None:
        """Keep the endpoints in ``settings`` and their secrets in ``keyring``.

        Every stored secret is read before anything is written, so endpoints whose
        URLs were swapped or renamed keep theirs; removed endpoints' entries go."""
        rows = self._rows
        originals = {row.original for row in rows if row.original is not None}
        originals |= set(self._removed)
        stored = {url: await keyring.webhook_secret(url) for url in sorted(originals)}
        kept = {row.endpoint.url for row in rows}
        for url in sorted(originals - kept):
            await keyring.delete_webhook_secret(url)
        for row in rows:
            moved = row.original != row.endpoint.url
            if row.secret is None and row.userinfo is None and not moved:
                continue
            old_secret, old_userinfo = stored.get(row.original or "", ("", ""))
            secret = row.secret if row.secret is not None else old_secret
            if secret:  # without one the server is started without it, and says so
                userinfo = row.userinfo if row.userinfo is not None else old_userinfo
                await keyring.set_webhook_secret(row.endpoint.url, secret, userinfo)
        settings.set_webhooks([row.endpoint for row in rows])
        self._rows = [_Row(row.endpoint, original=row.endpoint.url) for row in rows]
        self._removed = []
