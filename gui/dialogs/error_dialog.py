"""The error dialog: the code's name, the message, the seed's remedy, and buttons that do it.

The remedy comes from ``ErrorCode.info`` (core): ``RELEASE`` offers
"Release" (``release(cancel=False)``); ``RELEASE_CANCEL_AND_RESTART`` offers
"Cancel and start again" (``release(cancel=True)`` and the same start once more);
the other remedies ask the operator to check something, and offer "Release" to free
the failed recorder. The texts are the operator's, not the SDK's (which names
``release(cancel=True)``): an uploader that could not start (UPLOADER_INIT: a wrong
key, bucket or region) offers "Check storage…", which opens the Storage tab and runs
Test storage, instead of starting again with the same settings.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import ErrorCode, ErrorInfo, Remedy


class RemedyAction(Enum):
    """What the operator chose in the error dialog."""

    NONE = "none"
    RELEASE = "release"  # release(cancel=False)
    CANCEL_AND_RESTART = "cancel_and_restart"  # release(cancel=True), then start again
    CHECK_STORAGE = "check_storage"  # the Storage tab, and Test storage


class ErrorDialog(QDialog):
    """Shows one error of a recording and the seed's remedy."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        channel: str = "",
        chinese: bool = False,
        can_restart: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("error_dialog")
        self.code = ErrorCode(code)
        self.action = RemedyAction.NONE
        info = self.code.info
        self.setWindowTitle(self.tr("Recording error"))
        layout = QVBoxLayout(self)

        title = QLabel(f"<b>{self.code.name}</b> ({int(self.code)})")
        title.setObjectName("error_code")
        layout.addWidget(title)
        description = info.description_zh if chinese else info.description
        if channel:
            description = self.tr("Channel {0}: {1}").format(channel, description)
        layout.addWidget(QLabel(description))
        if message:
            text = QLabel(message)
            text.setObjectName("error_message")
            text.setWordWrap(True)
            layout.addWidget(text)
        remedy = QLabel(self.tr("What to do: {0}").format(self._remedy_text(info, chinese)))
        remedy.setObjectName("error_remedy")
        remedy.setWordWrap(True)
        layout.addWidget(remedy)

        buttons = QDialogButtonBox()
        self.buttons: dict[RemedyAction, QPushButton] = {}
        if self.code is ErrorCode.UPLOADER_INIT:
            self._add(buttons, RemedyAction.CHECK_STORAGE, self.tr("Check storage…"))
        elif info.remedy is Remedy.RELEASE_CANCEL_AND_RESTART and can_restart:
            self._add(buttons, RemedyAction.CANCEL_AND_RESTART, self.tr("Cancel and start again"))
        if info.remedy is not Remedy.NONE:
            self._add(buttons, RemedyAction.RELEASE, self.tr("Release"))
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def _remedy_text(self, info: ErrorInfo, chinese: bool) -> str:
        """What the operator can do in the window (the SDK's remedy names its calls)."""
        if self.code is ErrorCode.UPLOADER_INIT:
            return self.tr(
                "check the storage settings on the Storage tab (vendor, region, bucket, "
                "access key and secret key) and test them; then start the recording again"
            )
        remedy = info.remedy
        if remedy is Remedy.RELEASE_CANCEL_AND_RESTART:
            return self.tr("cancel this recording and start it again (Cancel and start again)")
        if remedy is Remedy.RELEASE:
            return self.tr("release the recording (Release) to free it in this window")
        return info.remedy_text_zh if chinese else info.remedy_text

    def _add(self, box: QDialogButtonBox, action: RemedyAction, text: str) -> None:
        button = box.addButton(text, QDialogButtonBox.ButtonRole.AcceptRole)
        button.setObjectName(f"remedy_{action.value}")
        button.clicked.connect(lambda: self._choose(action))
        self.buttons[action] = button

    def _choose(self, action: RemedyAction) -> None:
        self.action = action
        self.accept()
