"""Asked when a recording of an empty channel on the built-in server is about to start.

Nobody in the channel means nothing to record: the recording would wait its idle time
and end with no users. The question offers to start demo participants (``cloudrec
bots``) in the channel first, to record anyway, or to cancel; "Don't ask again" ends
the question for good (``gui/first_run.py`` decides when it is asked).
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget


class OfferChoice(Enum):
    PARTICIPANTS = "participants"  # start demo participants, then the recording
    RECORD = "record"  # start the recording as it is
    CANCEL = "cancel"  # start nothing


class DemoOfferDialog(QMessageBox):
    """Start demo participants and record, record anyway, or cancel."""

    def __init__(self, channel: str, users: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demo_offer")
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("The channel is empty"))
        self.setText(
            self.tr(
                "Channel {0} is empty: nothing would be recorded. "
                "Start {1} demo participants in it?"
            ).format(channel, users)
        )
        self.setInformativeText(
            self.tr(
                "Demo participants run on this computer, each sending a coloured, "
                "numbered tile and a tone; Recordings > Stop demo participants ends them."
            )
        )
        self.choice = OfferChoice.CANCEL
        """The operator's answer (Cancel also when the dialog is closed)."""
        self.dont_ask = QCheckBox(self.tr("Don't ask again"))
        self.dont_ask.setObjectName("demo_offer_dont_ask")
        self.setCheckBox(self.dont_ask)
        self.participants_button = self.addButton(
            self.tr("Start participants and record"), QMessageBox.ButtonRole.AcceptRole
        )
        self.record_button = self.addButton(
            self.tr("Record anyway"), QMessageBox.ButtonRole.ActionRole
        )
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.participants_button.setObjectName("demo_offer_participants")
        self.record_button.setObjectName("demo_offer_record")
        self.cancel_button.setObjectName("demo_offer_cancel")
        self.participants_button.clicked.connect(lambda: self._set(OfferChoice.PARTICIPANTS))
        self.record_button.clicked.connect(lambda: self._set(OfferChoice.RECORD))
        self.cancel_button.clicked.connect(lambda: self._set(OfferChoice.CANCEL))
        self.setDefaultButton(self.participants_button)
        self.setEscapeButton(self.cancel_button)
        self.dont_ask_again = False
        """Whether "Don't ask again" was checked when a button was clicked."""

    def _set(self, choice: OfferChoice) -> None:
        # Kept in Python attributes: the answer is read after the dialog has closed,
        # when a dialog closed with its window is already deleted.
        self.choice = choice
        self.dont_ask_again = self.dont_ask.isChecked()
