"""The layout preview with its title and the number of sample users; while an active
recording is selected, its live picture instead."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence

import httpx
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.config import TranscodingConfig
from core.media.playlist import track_playlist_name
from gui.tasks import spawn
from gui.widgets.layout_preview import LayoutPreview, sample_uids
from gui.widgets.level_meters import LevelMeters
from gui.widgets.rate_plot import RatePlot, Sample

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

MAX_SAMPLE_USERS = 20
PREVIEW_FETCH_TIMEOUT = 5.0
PREVIEW_IMAGE_BYTES = 10 * 1024 * 1024


class PreviewPanel(QWidget):
    """ "Layout preview", the sample users spin box, and the preview itself."""

    def __init__(self, users: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget()
        """Page 0: the layout preview; page 1: the selected recording's live picture."""
        outer.addWidget(self.pages)
        sample = QWidget()
        layout = QVBoxLayout(sample)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.title = QLabel(translate("MainWindow", "<b>Layout preview</b>"))
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(QLabel(translate("MainWindow", "Sample users")))
        self.users = QSpinBox()
        """How many sample users the preview places."""
        self.users.setObjectName("preview_users")
        self.users.setRange(0, MAX_SAMPLE_USERS)
        self.users.setValue(users)
        top.addWidget(self.users)
        layout.addLayout(top)
        self._images: dict[str, QImage | None] = {}
        self._image_url: str | None = None
        self.image_fetch: asyncio.Task[None] | None = None
        """The latest background image fetch (tests await it)."""
        self.preview = LayoutPreview()
        self.preview.setToolTip(
            translate(
                "MainWindow",
                "The layout the recorder will compose; ★ marks the max-resolution user.",
            )
        )
        layout.addWidget(self.preview, 1)
        self.outputs = QLabel()
        """Instead of the layout, in individual mode: the files each sample user gets."""
        self.outputs.setObjectName("individual_outputs")
        self.outputs.setWordWrap(True)
        self.outputs.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outputs.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.outputs.setVisible(False)
        layout.addWidget(self.outputs, 1)
        self._channel: str | None = None
        self.users.valueChanged.connect(self.preview.set_users)
        self.users.valueChanged.connect(lambda _users: self._list_outputs())
        self.preview.set_users(users)
        self.pages.addWidget(sample)

        live = QWidget()
        live_layout = QVBoxLayout(live)
        live_layout.setContentsMargins(0, 0, 0, 0)
        self.live_title = QLabel()
        live_layout.addWidget(self.live_title)
        self.live = QLabel()
        """The live picture, scaled to the panel (keeping its shape)."""
        self.live.setObjectName("live_picture")
        self.live.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.live.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.live.setToolTip(
            translate("MainWindow", "What the recording writes now, refreshed every second.")
        )
        live_layout.addWidget(self.live, 1)
        self.levels = LevelMeters()
        """The recorded users and each one's audio level now, one meter each."""
        live_layout.addWidget(self.levels)
        self.plot = RatePlot()
        """Output rate and upload backlog of the last minutes."""
        live_layout.addWidget(self.plot)
        self.pages.addWidget(live)
        self._image: QImage | None = None

    def show_live(
        self,
        image: QImage | None,
        channel: str = "",
        levels: dict[int, float] | None = None,
        history: Sequence[Sample] = (),
    ) -> None:
        """Show ``image``, the live picture of the selected recording of ``channel``, its
        users' audio ``levels`` (dBFS) and the ``history`` of its output rate and upload
        backlog; with None, the layout preview again."""
        self._image = image
        if image is None:
            self.pages.setCurrentIndex(0)
            return
        self.levels.set_levels(levels or {})
        self.plot.set_samples(history)
        title = translate("MainWindow", "<b>Live: {0}</b>").format(html.escape(channel))
        self.live_title.setText(title)
        self.pages.setCurrentIndex(1)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._image is None:
            return
        self.live.setPixmap(
            QPixmap.fromImage(self._image).scaled(
                self.live.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def show_outputs(self, channel: str | None) -> None:
        """Individual recording of ``channel``: list the files each sample user gets in
        place of the layout preview; ``None``: the layout preview again."""
        self._channel = channel
        individual = channel is not None
        self.preview.setVisible(not individual)
        self.outputs.setVisible(individual)
        self.title.setText(
            translate("MainWindow", "<b>Files of each user</b>")
            if individual
            else translate("MainWindow", "<b>Layout preview</b>")
        )
        self._list_outputs()

    def _list_outputs(self) -> None:
        if self._channel is None:
            return
        lines = [
            html.escape(
                translate(
                    "MainWindow",
                    "Each user's audio (AAC) and video (as sent: H.264 in .ts, VP8 in "
                    ".webm) in playlists of their own, named as Agora names them:",
                )
            )
        ]
        for uid in sample_uids(self.users.value()):
            for kind in ("audio", "video"):
                name = track_playlist_name("<sid>", self._channel, uid, kind)
                lines.append(f"<tt>{html.escape(name)}</tt>")
        self.outputs.setText("<br>".join(lines))

    def show_config(self, config: TranscodingConfig) -> None:
        """Preview the layout, canvas and max-resolution user of ``config``, on its
        background image once the window has fetched it."""
        self.preview.set_layout(
            config.layout,
            config.width,
            config.height,
            config.max_resolution_uid,
            config.background_color,
            config.layout_spec.regions,
            config.render_mode,
        )
        self.show_background_image(config.background_image)

    def show_background_image(self, url: str | None) -> None:
        """Draw the canvas image at ``url`` (fetched once, kept by URL; none: the colour)."""
        self._image_url = url
        if url is None or url in self._images:
            self.preview.set_background_image(self._images.get(url) if url else None)
            return
        self.preview.set_background_image(None)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a test without one): the colour only
        self.image_fetch = spawn(self._fetch(url))

    async def _fetch(self, url: str) -> None:
        """Fetch ``url`` as the server would (at most 10 MB, no redirects); a URL that
        fails is remembered as no image: the server says why when the recording starts."""
        image = QImage()
        try:
            async with (
                httpx.AsyncClient(timeout=PREVIEW_FETCH_TIMEOUT) as client,
                client.stream("GET", url) as answer,
            ):
                data = bytearray()
                if answer.status_code == 200:
                    async for chunk in answer.aiter_bytes():
                        data += chunk
                        if len(data) > PREVIEW_IMAGE_BYTES:
                            data.clear()
                            break
            image = QImage.fromData(bytes(data))
        except (httpx.HTTPError, ValueError):
            pass
        self._images[url] = None if image.isNull() else image
        if self._image_url == url:
            self.preview.set_background_image(self._images[url])
