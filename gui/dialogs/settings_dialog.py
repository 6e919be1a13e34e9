"""Settings: language override, which recording server to use, webhook endpoints.

A remote server's token is entered here and stored in the keyring (:meth:`save`);
the field shows nothing that was stored before (secrets are never shown back). The
Webhooks tab is :class:`gui.dialogs.webhooks_page.WebhooksPage`.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.dialogs.webhooks_page import WebhooksPage
from gui.keyring_store import KeyringStore, server_entry
from gui.settings import AppSettings, ServerChoice


class SettingsDialog(QDialog):
    """Edit the language and the server choice; read the result after ``accepted``."""

    def __init__(
        self,
        language: str,
        server: ServerChoice,
        parent: QWidget | None = None,
        *,
        webhooks: WebhooksPage | None = None,
        keyring_persistent: bool | None = True,
        token_stored: bool = False,
    ) -> None:
        """``keyring_persistent``: whether secrets reach the OS keyring (KeyringStore's
        ``persistent``); ``token_stored``: whether the chosen remote server has a token
        kept already (the field then keeps it when left empty)."""
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle(self.tr("Settings"))
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs)
        general = QWidget()
        layout = QVBoxLayout(general)
        self.tabs.addTab(general, self.tr("General"))
        self.webhooks = webhooks
        if webhooks is not None:
            self.tabs.addTab(webhooks, self.tr("Webhooks"))

        ui = QGroupBox(self.tr("Language"))
        ui_form = QFormLayout(ui)
        self.language = QComboBox()
        self.language.addItem(self.tr("System default"), "")
        self.language.addItem("English", "en")
        self.language.addItem("简体中文", "zh_CN")
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        ui_form.addRow(self.tr("Language"), self.language)
        ui_form.addRow(QLabel(self.tr("A new language applies the next time the window starts.")))
        layout.addWidget(ui)

        box = QGroupBox(self.tr("Recording server"))
        form = QFormLayout(box)
        self.embedded = QRadioButton(self.tr("Embedded server on this computer"))
        self.remote = QRadioButton(self.tr("Remote server"))
        group = QButtonGroup(self)
        group.addButton(self.embedded)
        group.addButton(self.remote)
        (self.remote if server.remote else self.embedded).setChecked(True)
        self.url = QLineEdit(server.url)
        self.url.setPlaceholderText("https://recorder.example.com:8080")
        # room for a whole URL of that length (issue 28, item 13: it showed "…ps://recor")
        self.url.setMinimumWidth(
            self.url.fontMetrics().horizontalAdvance("https://recorder.example.com:8080") + 24
        )
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        # what an empty field means (issue 28, item 8): the stored token, or none at all
        self.token.setPlaceholderText(self.tr("unchanged") if token_stored else self.tr("not set"))
        form.addRow(self.embedded)
        form.addRow(self.remote)
        form.addRow(self.tr("URL"), self.url)
        form.addRow(self.tr("Token"), self.token)
        self.token_note = QLabel(
            self.tr("The token is kept in the OS keyring.")
            if keyring_persistent is not False
            else self.tr(
                "No OS keyring is available: the token is kept only until the window closes."
            )
        )
        self.token_note.setWordWrap(True)
        form.addRow(self.token_note)
        layout.addWidget(box)
        self.remote.toggled.connect(self._update)
        self._update()
        layout.addStretch(1)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def _update(self) -> None:
        self.url.setEnabled(self.remote.isChecked())
        self.token.setEnabled(self.remote.isChecked())
        if self.webhooks is not None:
            self.webhooks.set_remote(self.remote.isChecked())

    def chosen_language(self) -> str:
        return str(self.language.currentData())

    def chosen_server(self) -> ServerChoice:
        return ServerChoice(remote=self.remote.isChecked(), url=self.url.text().strip())

    def new_token(self) -> str:
        """The token typed in, or "" to keep the stored one."""
        return self.token.text()

    async def save(self, settings: AppSettings, keyring_store: KeyringStore) -> None:
        """Keep the choices in ``settings``, a new remote token and webhook secrets in the
        keyring."""
        settings.set_language(self.chosen_language())
        choice = self.chosen_server()
        settings.set_server(choice)
        token = self.new_token()
        if choice.remote and choice.url and token:
            await keyring_store.set(server_entry(choice.url), token)
        if self.webhooks is not None:
            await self.webhooks.save(settings, keyring_store)
