"""The layout preview with its title and the number of sample users."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from core.config import TranscodingConfig
from gui.widgets.layout_preview import LayoutPreview

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

MAX_SAMPLE_USERS = 20


class PreviewPanel(QWidget):
    """ "Layout preview", the sample users spin box, and the preview itself."""

    def __init__(self, users: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel(translate("MainWindow", "<b>Layout preview</b>")))
        top.addStretch(1)
        top.addWidget(QLabel(translate("MainWindow", "Sample users")))
        self.users = QSpinBox()
        """How many sample users the preview places."""
        self.users.setObjectName("preview_users")
        self.users.setRange(0, MAX_SAMPLE_USERS)
        self.users.setValue(users)
        top.addWidget(self.users)
        layout.addLayout(top)
        self.preview = LayoutPreview()
        self.preview.setToolTip(
            translate(
                "MainWindow",
                "The layout the recorder will compose; ★ marks the max-resolution user.",
            )
        )
        layout.addWidget(self.preview, 1)
        self.users.valueChanged.connect(self.preview.set_users)
        self.preview.set_users(users)

    def show_config(self, config: TranscodingConfig) -> None:
        """Preview the layout, canvas and max-resolution user of ``config``."""
        self.preview.set_layout(
            config.layout,
            config.width,
            config.height,
            config.max_resolution_uid,
            config.background_color,
        )
