"""Pick uids for a stream selection list from who is in the channel now.

The dialog lists the channel's users as the recording server's roster tells
(``GET /channels/{app_id}/{channel}``, through :meth:`core.sdk.client.RestClient.roster`),
each with its role and what it publishes (recorders left out: they are never recorded), plus "everyone" (``#allstream#``). The uids
already in the list are checked, and those not in the channel now stay listed (a list
may name users who join later). Refresh reads the roster again; a roster that cannot
be read says why and leaves the list as it was, to edit by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import CloudRecordingError
from core.selection import ALL_STREAMS
from gui.tasks import async_slot

RosterLoader = Callable[[], Awaitable[list[dict[str, Any]]]]
"""Reads the channel's roster: its users as the roster endpoint answers them."""


class RosterDialog(QDialog):
    """Checkable uids of the channel (and everyone) for one selection list."""

    def __init__(
        self,
        title: str,
        channel: str,
        chosen: Sequence[str],
        load: RosterLoader,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("roster_dialog")
        self.setWindowTitle(title)
        self._load = load
        self._initial = [str(uid) for uid in chosen]
        layout = QVBoxLayout(self)
        self.heading = QLabel(self.tr("Users in channel {0}:").format(channel))
        layout.addWidget(self.heading)
        self.users = QListWidget()
        self.users.setObjectName("roster_users")
        layout.addWidget(self.users, 1)
        self.status = QLabel()
        self.status.setObjectName("roster_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setObjectName("roster_refresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        # Nothing checked is no list: the form cannot tell it from "not set" (everyone),
        # so OK needs a choice; deleting the list's text is how it is unset.
        self.users.itemChanged.connect(self._choice_changed)
        self._fill([])
        self._choice_changed()

    def _choice_changed(self) -> None:
        self.ok_button.setEnabled(bool(self.chosen()))
        self.ok_button.setToolTip(
            ""
            if self.chosen()
            else self.tr("Check at least one; to unset the list, delete its text")
        )

    def _fill(self, roster: list[dict[str, Any]]) -> None:
        """List everyone, the roster's users, then chosen uids not in the channel now;
        the chosen ones (or those checked before a refresh) checked."""
        checked = set(self.chosen()) if self.users.count() else set(self._initial)
        self.users.clear()
        self._add(ALL_STREAMS, self.tr("Everyone (#allstream#)"), checked)
        present = []
        for user in roster:
            if user.get("role") == "recorder":  # recorders are never recorded themselves
                continue
            uid = str(user.get("uid", ""))
            present.append(uid)
            tracks = ", ".join(str(t) for t in user.get("tracks") or []) or self.tr("nothing")
            role = str(user.get("role", ""))
            self._add(uid, self.tr("{0} ({1}; publishes {2})").format(uid, role, tracks), checked)
        for uid in self._initial:
            if uid != ALL_STREAMS and uid not in present:
                self._add(uid, self.tr("{0} (not in the channel now)").format(uid), checked)

    def _add(self, uid: str, text: str, checked: set[str]) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, uid)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        state = Qt.CheckState.Checked if uid in checked else Qt.CheckState.Unchecked
        item.setCheckState(state)
        self.users.addItem(item)

    def chosen(self) -> list[str]:
        """The checked uids, in list order (``#allstream#`` first when checked)."""
        found = []
        for row in range(self.users.count()):
            item = self.users.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                found.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return found

    def listed(self) -> list[str]:
        """Every uid the dialog lists (checked or not)."""
        return [
            str(self.users.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.users.count())
        ]

    @async_slot()
    async def refresh(self) -> None:
        """Read the roster again and list it, keeping what is checked."""
        self.refresh_button.setEnabled(False)
        self.status.setText(self.tr("Reading the channel's users…"))
        try:
            roster = await self._load()
        except CloudRecordingError as exc:
            self.status.setText(self.tr("Cannot read the channel's users: {0}").format(exc.message))
        else:
            self._fill(roster)
            people = [user for user in roster if user.get("role") != "recorder"]
            if people:
                self.status.setText(self.tr("%n user(s) in the channel.", "", len(people)))
            else:
                self.status.setText(self.tr("Nobody is in the channel now."))
        finally:
            self.refresh_button.setEnabled(True)
