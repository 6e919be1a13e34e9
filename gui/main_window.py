"""The main window: new-recording panel, layout preview, recordings table, event log.

Slots are thin: each starts a coroutine (``asyncSlot``) that does the work and updates
the models; busy state is reset in ``finally``. The window talks to its recording
server only through the SDK (``create_cloud_recorder``); SDK callbacks arrive at a
:class:`TableObserver`, which updates the recordings model.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QProcess, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from core.config import CloudStorageConfig, TranscodingConfig
from core.errors import CloudRecordingError, ErrorCode
from core.sdk.client import Credentials, RestClient
from core.sdk.embedded import cloudrec_command
from core.sdk.recorder import CloudRecorder, create_cloud_recorder
from gui import paths
from gui.dialogs.ask import ask
from gui.dialogs.close_dialog import CloseChoice, CloseDialog
from gui.dialogs.demo_dialog import DemoDialog
from gui.dialogs.error_dialog import ErrorDialog, RemedyAction
from gui.dialogs.settings_dialog import SettingsDialog
from gui.embedded_server import (
    EmbeddedServer,
    EmbeddedServerError,
    ServerState,
    process_alive,
    reachable,
)
from gui.forms.new_recording import NewRecordingPanel, StartRequest
from gui.forms.storage_profiles import StorageCheckUnavailable, StorageProfiles
from gui.keyring_store import EMBEDDED_SERVER_ENTRY, KeyringStore, server_entry
from gui.models.observer import TableObserver
from gui.models.recordings import RecordingRow, RecordingsModel, RowState
from gui.settings import AppSettings
from gui.widgets.layout_preview import LayoutPreview
from gui.widgets.progress_delegate import ProgressBarDelegate

RecorderFactory = Callable[..., CloudRecorder]
HEALTH_INTERVAL_MS = 5000
RENDER_LAG_WARNING = 1.0
"""Seconds a recorder may run behind real time (beyond its latency window) before the
status bar warns: a short burst catches up, a second behind means it is short of CPU."""
BANNER_STYLE = "background: #fff4ce; color: #3b2f00; padding: 6px; border: 1px solid #e0c36a;"


def local_path(location: str) -> Path | None:
    """The local file a playlist location names, or None for remote URLs and bare names."""
    if location.startswith("file://"):
        return Path(QUrl(location).toLocalFile())
    if urlsplit(location).scheme in ("http", "https", "s3"):
        return None
    path = Path(location)
    return path if path.is_absolute() else None


def _recording_size(playlist: Path) -> int | None:
    """Bytes of the playlist and its slices (``<sid>_<cname>*``) in its folder."""
    if not playlist.exists():
        return None
    stem = playlist.stem
    return sum(p.stat().st_size for p in playlist.parent.glob(f"{stem}*") if p.is_file())


class MainWindow(QMainWindow):
    """The cloudrec operator window."""

    server_changed = Signal(str)

    def __init__(
        self,
        settings: AppSettings,
        keyring_store: KeyringStore,
        *,
        chinese: bool = False,
        recorder_factory: RecorderFactory = create_cloud_recorder,
        embedded_server: EmbeddedServer | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.settings = settings
        self.keyring = keyring_store
        self.chinese = chinese
        self._recorder_factory = recorder_factory
        self.server = embedded_server or EmbeddedServer(paths.state_dir() / "server.log")
        self.server_url: str | None = None
        self.server_token: str | None = None
        self.server_state = ServerState.STOPPED
        self._owns_server = False
        self._background = False  # some recording was released to run on in the background
        self._recorders: dict[str, CloudRecorder] = {}
        self._requests: dict[str, StartRequest] = {}
        self._size_checked: dict[str, float] = {}
        self._closing = False
        self._close_done = False
        self._health_busy = False
        self._closed: asyncio.Future[int] | None = None
        self.error_dialog: ErrorDialog | None = None
        self.bots: QProcess | None = None

        self.setWindowTitle("cloudrec")
        if paths.APP_ICON.exists():
            self.setWindowIcon(QIcon(str(paths.APP_ICON)))
        self.model = RecordingsModel(self)
        self.observer = TableObserver(self.model, self)
        self._build_central()
        self._build_actions()
        self._build_dock()
        self._build_status_bar()

        self.observer.event.connect(self._on_observer_event)
        self.observer.failure.connect(self._on_failure)
        self.observer.fatal_error.connect(self.on_fatal_error)
        self.model.rowsInserted.connect(self._update_counts)
        self.model.dataChanged.connect(self._update_counts)
        self.keyring.on_availability(self._on_keyring_availability)

        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.model.tick)
        self._ticker.start()
        self._health = QTimer(self)
        self._health.setInterval(HEALTH_INTERVAL_MS)
        self._health.timeout.connect(self.on_health_tick)

        self.panel.load_drafts(
            {
                name: settings.draft(name)
                for name in ("identity", "recording", "transcoding", "storage")
            }
        )
        geometry = settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
            state = settings.window_state()
            if state is not None:
                self.restoreState(state)
        else:
            self.resize(1280, 800)

    # ------------------------------------------------------------------ building
    def _build_central(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 0)
        self.keyring_banner = QLabel(
            self.tr(
                "No usable OS keyring was found: storage secrets are kept for this session "
                "only and must be entered again next time."
            )
        )
        self.keyring_banner.setObjectName("keyring_banner")
        self.keyring_banner.setStyleSheet(BANNER_STYLE)
        self.keyring_banner.setWordWrap(True)
        self.keyring_banner.setVisible(False)
        outer.addWidget(self.keyring_banner)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.panel = NewRecordingPanel(chinese=self.chinese)
        self.profiles = StorageProfiles(
            self.panel.storage_form,
            self.settings,
            self.keyring,
            self.check_storage_destination,
            lambda: self.panel.storage,
        )
        self.panel.storage_header.addWidget(self.profiles)
        self.panel.start_requested.connect(self.on_start_clicked)
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(440)
        splitter.addWidget(scroll)

        right = QSplitter(Qt.Orientation.Vertical)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        title = QLabel(self.tr("<b>Layout preview</b>"))
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(QLabel(self.tr("Sample users")))
        self.preview_users = QSpinBox()
        self.preview_users.setObjectName("preview_users")
        self.preview_users.setRange(0, 20)
        self.preview_users.setValue(self.settings.preview_users())
        top.addWidget(self.preview_users)
        preview_layout.addLayout(top)
        self.preview = LayoutPreview()
        self.preview.setToolTip(
            self.tr("The layout the recorder will compose; ★ marks the max-resolution user.")
        )
        preview_layout.addWidget(self.preview, 1)
        self.preview_users.valueChanged.connect(self.preview.set_users)
        self.preview.set_users(self.preview_users.value())
        self.panel.transcoding_changed.connect(self._on_transcoding_changed)
        self._on_transcoding_changed(self.panel.transcoding)
        right.addWidget(preview_box)

        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(QLabel(self.tr("<b>Recordings</b>")))
        self.table_toolbar = QToolBar()
        table_layout.addWidget(self.table_toolbar)
        self.table = QTableView()
        self.table.setObjectName("recordings_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setItemDelegateForColumn(RecordingsModel.UPLOAD, ProgressBarDelegate(self.table))
        self.table.horizontalHeader().setSectionResizeMode(
            RecordingsModel.LAST_EVENT, QHeaderView.ResizeMode.Stretch
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        table_layout.addWidget(self.table, 1)
        right.addWidget(table_box)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _action(
        self, text: str, slot: Callable[..., Any], name: str, shortcut: str = ""
    ) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.act_settings = self._action(self.tr("&Settings…"), self.on_settings, "act_settings")
        self.act_quit = self._action(self.tr("&Quit"), self.close, "act_quit", "Ctrl+Q")
        self.act_start = self._action(
            self.tr("&Start recording"), self.on_start_clicked, "act_start"
        )
        self.act_stop = self._action(self.tr("S&top"), self.on_stop, "act_stop")
        self.act_release = self._action(
            self.tr("&Release (keep recording in background)"), self.on_release, "act_release"
        )
        self.act_cancel = self._action(
            self.tr("Release and &cancel"), self.on_release_cancel, "act_cancel"
        )
        self.act_folder = self._action(self.tr("Open &folder"), self.on_open_folder, "act_folder")
        self.act_play = self._action(self.tr("&Play"), self.on_play, "act_play")
        self.act_copy = self._action(self.tr("&Copy playlist location"), self.on_copy, "act_copy")
        self.act_demo = self._action(self.tr("Start &demo participants…"), self.on_demo, "act_demo")
        self.act_demo_stop = self._action(
            self.tr("Stop demo participants"), self.on_demo_stop, "act_demo_stop"
        )
        self.act_about = self._action(self.tr("&About cloudrec"), self.on_about, "act_about")
        self.act_demo_stop.setEnabled(False)
        self.row_actions = (
            self.act_stop, self.act_release, self.act_cancel, self.act_folder, self.act_play, self.act_copy,
        )  # fmt: skip

        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        file_menu.addAction(self.act_settings)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        rec_menu = menu.addMenu(self.tr("&Recordings"))
        rec_menu.addAction(self.act_start)
        rec_menu.addSeparator()
        for action in self.row_actions:
            rec_menu.addAction(action)
        rec_menu.addSeparator()
        rec_menu.addAction(self.act_demo)
        rec_menu.addAction(self.act_demo_stop)
        self.view_menu = menu.addMenu(self.tr("&View"))
        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(self.act_about)

        for action in self.row_actions:
            self.table_toolbar.addAction(action)
        self.table.selectionModel().selectionChanged.connect(self._update_row_actions)
        self.model.dataChanged.connect(self._update_row_actions)
        self._update_row_actions()

    def _build_dock(self) -> None:
        self.event_log = QPlainTextEdit()
        self.event_log.setObjectName("event_log")
        self.event_log.setReadOnly(True)
        self.event_log.setMaximumBlockCount(5000)
        dock = QDockWidget(self.tr("Event log"), self)
        dock.setObjectName("event_log_dock")
        dock.setWidget(self.event_log)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        self.event_dock = dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_url = QLabel()
        self.status_url.setObjectName("status_url")
        self.status_state = QLabel()
        self.status_state.setObjectName("status_state")
        self.status_active = QLabel()
        self.status_active.setObjectName("status_active")
        self.status_backlog = QLabel()
        self.status_backlog.setObjectName("status_backlog")
        self.status_cpu = QLabel()
        self.status_cpu.setObjectName("status_cpu")
        self.status_render = QLabel()
        self.status_render.setObjectName("status_render")
        self.status_render.hide()  # shown while the server records
        self._last_cpu: tuple[float, float] | None = None  # (server CPU s, server clock s)
        self._server_counts: tuple[int, int] | None = None  # (active, backlog) on the server
        for label in (
            self.status_url, self.status_state, self.status_active, self.status_backlog,
            self.status_cpu, self.status_render,
        ):  # fmt: skip
            bar.addPermanentWidget(label)
        self._set_server_state(ServerState.STOPPED)
        self._update_counts()

    # ------------------------------------------------------------------ status
    def _state_text(self, state: ServerState) -> str:
        texts = {
            ServerState.STOPPED: self.tr("stopped"),
            ServerState.STARTING: self.tr("starting…"),
            ServerState.RUNNING: self.tr("running"),
            ServerState.UNREACHABLE: self.tr("unreachable"),
            ServerState.FAILED: self.tr("failed to start"),
            ServerState.DETACHED: self.tr("running in background"),
        }
        return texts[state]

    def _set_server_state(self, state: ServerState) -> None:
        self.server_state = state
        url = self.server_url or self.tr("none")
        kind = (
            self.tr("embedded")
            if self._owns_server or not self.settings.server().remote
            else self.tr("remote")
        )
        self.status_url.setText(self.tr("Server ({0}): {1}").format(kind, url))
        self.status_state.setText(self._state_text(state))
        colour = {"running": "#1b7f3b", "unreachable": "#b3261e", "failed": "#b3261e"}.get(
            state.value, "#555555"
        )
        self.status_state.setStyleSheet(f"color: {colour};")

    def _update_counts(self, *_: object) -> None:
        active, backlog = self._server_counts or (
            self.model.active_count(),
            self.model.backlog_count(),
        )
        self.status_active.setText(self.tr("Active: {0}").format(active))
        self.status_backlog.setText(self.tr("Upload backlog: {0}").format(backlog))

    async def _refresh_server_status(self) -> None:
        """Read the server's CPU, active recordings and upload backlog (slices) for the bar."""
        assert self.server_url is not None
        client = RestClient(self.server_url, Credentials(bearer=self.server_token))
        try:
            status = await client.status()
        except CloudRecordingError:
            return  # an older server or Agora's service: the bar keeps the window's counts
        finally:
            await client.aclose()
        cpu, clock = float(status["cpuSeconds"]), float(status["monotonic"])
        if self._last_cpu is not None and clock > self._last_cpu[1]:
            share = (cpu - self._last_cpu[0]) / (clock - self._last_cpu[1])
            self.status_cpu.setText(self.tr("Server CPU: {0:.0f} %").format(100 * share))
        self._last_cpu = (cpu, clock)
        self._server_counts = (int(status["activeRecordings"]), int(status["uploadBacklog"]))
        self._update_counts()
        self._show_render_health(status)

    def _show_render_health(self, status: dict[str, Any]) -> None:
        """Whether the server's recorders keep up: lag behind real time, frames lost."""
        if "renderLag" not in status or not int(status["activeRecordings"]):
            self.status_render.hide()
            return
        lag = float(status["renderLag"])
        dropped, late = int(status["droppedFrames"]), int(status["lateFrames"])
        behind = lag >= RENDER_LAG_WARNING
        text = (
            self.tr("Recorders: {0:.1f} s behind").format(lag)
            if behind
            else self.tr("Recorders: on time")
        )
        if dropped + late:
            text += self.tr(", {0} frames lost").format(dropped + late)
        self.status_render.setText(text)
        self.status_render.setStyleSheet(
            "color: #b3261e;" if behind else "color: #8a5300;" if dropped + late else ""
        )
        self.status_render.setToolTip(
            self.tr(
                "Input frames dropped: {0}, arrived too late: {1}. Lost frames and a growing "
                "lag mean the recording server is short of CPU: record fewer channels or "
                "smaller canvases on it, or give it more cores."
            ).format(dropped, late)
        )
        self.status_render.show()

    def log_event(self, text: str, *, error: bool = False) -> None:
        stamp = time.strftime("%H:%M:%S")
        line = html.escape(f"{stamp}  {text}")
        self.event_log.appendHtml(f'<span style="color:#b3261e">{line}</span>' if error else line)

    def _on_keyring_availability(self, persistent: bool) -> None:
        self.keyring_banner.setVisible(not persistent)

    def _on_transcoding_changed(self, config: TranscodingConfig) -> None:
        self.preview.set_layout(
            config.layout,
            config.width,
            config.height,
            config.max_resolution_uid,
            config.background_color,
        )

    # ------------------------------------------------------------------ life cycle
    async def run(self) -> int:
        """Connect to the server, then live until the window has closed."""
        self._closed = asyncio.get_running_loop().create_future()
        if self.settings.window_state() is None:  # first start: a modest event log
            self.resizeDocks([self.event_dock], [150], Qt.Orientation.Vertical)
        # The keyring may wait for the operator to unlock it: never hold up the window.
        probe = asyncio.ensure_future(self.keyring.probe())
        probe.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)
        await self.connect_server()
        return await self._closed

    async def connect_server(self) -> None:
        """Use the remote server of the settings, reattach, or start the embedded one."""
        choice = self.settings.server()
        if choice.remote and choice.url:
            self.server_url = choice.url.rstrip("/")
            self.server_token = await self.keyring.get(server_entry(self.server_url))
            self._owns_server = False
            self._set_server_state(ServerState.STARTING)
            self.log_event(self.tr("Using the remote server {0}").format(self.server_url))
            await self._check_health()
            self._health.start()
            await self.reattach_recordings()
            return
        left = self.settings.embedded_server()
        if left is not None:
            url, pid = left
            token = await self.keyring.get(EMBEDDED_SERVER_ENTRY)
            if token and process_alive(pid) and await reachable(url):
                self.server_url, self.server_token = url, token
                self._owns_server = False
                self._set_server_state(ServerState.DETACHED)
                self.log_event(
                    self.tr(
                        "Reattached to the embedded server {0} left recording in the background"
                    ).format(url)
                )
                self._health.start()
                await self.reattach_recordings()
                return
            self.settings.set_embedded_server(None)
        await self.start_embedded_server()

    async def reattach_recordings(self) -> None:
        """Show again the recordings the server still runs or still uploads."""
        if self.server_url is None:
            return
        client = RestClient(self.server_url, Credentials(bearer=self.server_token))
        try:
            listed = await client.recordings()
        except CloudRecordingError as exc:
            self.log_event(
                self.tr("Cannot list the server's recordings: {0}").format(exc), error=True
            )
            return
        finally:
            await client.aclose()
        known = {getattr(r, "sid", None) for r in self._recorders.values()}
        for item in listed:
            if item.get("finished") or item["sid"] in known:
                continue
            recorder = self._recorder_factory(
                self.observer, server=self.server_url, token=self.server_token
            )
            rid = recorder.recording_id
            self._recorders[rid] = recorder
            self.model.add(RecordingRow(rid, item["cname"]))
            try:
                await recorder.attach(
                    item["appId"], item["resourceId"], item["sid"], item["cname"], int(item["uid"])
                )
            except CloudRecordingError as exc:
                self.model.update(rid, state=RowState.FAILED, failed=True, last_event=str(exc))
                continue
            self.log_event(
                self.tr("Reattached to the recording of channel {0}").format(item["cname"])
            )

    async def start_embedded_server(self) -> None:
        self._set_server_state(ServerState.STARTING)
        self.log_event(self.tr("Starting the embedded server…"))
        try:
            url = await self.server.start()
        except EmbeddedServerError as exc:
            self._set_server_state(ServerState.FAILED)
            self.log_event(
                self.tr("The embedded server did not start: {0}").format(exc), error=True
            )
            return
        self.server_url, self.server_token = url, self.server.token
        self._owns_server = True
        self._set_server_state(ServerState.RUNNING)
        self.log_event(self.tr("Embedded server running at {0}").format(url))
        self.server_changed.emit(url)
        self._health.start()

    @asyncSlot()
    async def on_health_tick(self) -> None:
        await self._check_health()

    async def _check_health(self) -> None:
        if self._health_busy or self.server_url is None:
            return
        self._health_busy = True
        try:
            if self._owns_server and self.server.exit_code() is not None:
                code = self.server.exit_code()
                self._set_server_state(ServerState.FAILED)
                self.log_event(
                    self.tr("The embedded server exited (code {0})").format(code), error=True
                )
                self._health.stop()
                return
            ok = await reachable(self.server_url)
            if ok:
                await self._refresh_server_status()
            if ok and self.server_state is ServerState.DETACHED:
                return
            self._set_server_state(ServerState.RUNNING if ok else ServerState.UNREACHABLE)
        finally:
            self._health_busy = False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._close_done:
            event.accept()
            return
        event.ignore()
        self.on_close_requested()

    @asyncSlot()
    async def on_close_requested(self) -> None:
        if self._closing:
            return
        self._closing = True
        try:
            if await self.shutdown():
                self._close_done = True
                self.close()
                if self._closed is not None and not self._closed.done():
                    self._closed.set_result(0)
        finally:
            self._closing = False

    async def shutdown(self) -> bool:
        """Ask about active recordings and end what must end; False when cancelled."""
        active = [
            rid
            for rid in self._recorders
            if (row := self.model.row(rid)) is not None and row.state.active
        ]
        if active:
            dialog = CloseDialog(len(active), self)
            await ask(dialog)
            if dialog.choice is CloseChoice.CANCEL:
                return False
            for rid in active:
                await self.release(rid, cancel=dialog.choice is CloseChoice.STOP)
        for rid in list(self._recorders):
            await self.release(rid, cancel=False)
        self._health.stop()
        self._ticker.stop()
        await self._stop_bots()
        self._save_settings()
        if self._owns_server:
            if self._background:
                assert self.server_url is not None and self.server_token is not None
                await self.keyring.set(EMBEDDED_SERVER_ENTRY, self.server_token)
                self.settings.set_embedded_server(self.server_url, self.server.pid or 0)
                await self._server_exits_when_done()
                self.server.detach()
                self.log_event(self.tr("The embedded server keeps recording in the background."))
            else:
                await self.server.stop()
                self.settings.set_embedded_server(None)
        self.settings.sync()
        return True

    async def _server_exits_when_done(self) -> None:
        """The background server ends itself once its recordings are uploaded."""
        assert self.server_url is not None
        client = RestClient(self.server_url, Credentials(bearer=self.server_token))
        try:
            await client.exit_when_done()
        except CloudRecordingError as exc:
            self.log_event(self.tr("The server cannot stop by itself: {0}").format(exc), error=True)
        finally:
            await client.aclose()

    def _save_settings(self) -> None:
        self.settings.set_geometry(self.saveGeometry(), self.saveState())
        for name, values in self.panel.drafts().items():
            self.settings.set_draft(name, values)
        self.settings.set_preview_users(self.preview_users.value())

    # ------------------------------------------------------------------ recording
    @asyncSlot()
    async def on_start_clicked(self) -> None:
        request = self.panel.request()
        if request is not None:
            await self.start_recording(request)

    async def start_recording(self, request: StartRequest) -> str | None:
        """Start one recording; on failure show the error dialog. Returns the recording id."""
        if self.server_url is None:
            self.log_event(self.tr("No recording server is available."), error=True)
            return None
        self.panel.set_busy(True)
        failure: CloudRecordingError | None = None
        try:
            recorder = self._recorder_factory(
                self.observer, server=self.server_url, token=self.server_token
            )
            rid = recorder.recording_id
            self._recorders[rid] = recorder
            self._requests[rid] = request
            self.model.add(RecordingRow(rid, request.channel, storage=request.storage))
            self._save_settings()
            self.log_event(self.tr("Starting a recording of channel {0}").format(request.channel))
            try:
                await recorder.start(
                    request.app_id, request.channel, request.token, request.uid,
                    request.recording, request.storage,
                )  # fmt: skip
            except CloudRecordingError as exc:
                failure = exc
                self.model.update(
                    rid,
                    state=RowState.FAILED,
                    failed=True,
                    error_code=int(exc.code),
                    last_event=str(exc),
                )
                self.log_event(self.tr("Start failed: {0}").format(exc), error=True)
        finally:
            self.panel.set_busy(False)
        if failure is not None:
            await self.handle_error(rid, failure.code, failure.message)
        return rid

    async def handle_error(self, rid: str, code: ErrorCode, message: str) -> None:
        """Show the error with the seed's remedy and carry out the operator's choice."""
        row = self.model.row(rid)
        dialog = ErrorDialog(
            code,
            message,
            channel=row.channel if row else "",
            chinese=self.chinese,
            can_restart=rid in self._requests,
            parent=self,
        )
        self.error_dialog = dialog
        try:
            await ask(dialog)
        finally:
            self.error_dialog = None
        if dialog.action is RemedyAction.RELEASE:
            await self.release(rid, cancel=False)
        elif dialog.action is RemedyAction.CANCEL_AND_RESTART:
            request = self._requests.get(rid)
            await self.release(rid, cancel=True)
            if request is not None:
                await self.start_recording(request)

    @asyncSlot(str, int)
    async def on_fatal_error(self, rid: str, code: int) -> None:
        self.log_event(
            self.tr("Fatal error in recording {0}: {1}").format(rid, ErrorCode(code).name),
            error=True,
        )
        await self.handle_error(rid, ErrorCode(code), ErrorCode(code).description)

    def _on_failure(self, rid: str, kind: str, code: int, message: str) -> None:
        name = ErrorCode(code).name
        text = (
            self.tr("Recorder failure in {0}: {1}: {2}")
            if kind == "recorder"
            else self.tr("Uploader failure in {0}: {1}: {2}")
        )
        self.log_event(text.format(rid, name, message), error=True)

    def _on_observer_event(self, rid: str, text: str) -> None:
        self.log_event(f"{rid[:8]}  {text}")
        row = self.model.row(rid)
        if row is None or not row.playlist:
            return
        now = time.monotonic()
        final = row.state in (RowState.UPLOADED, RowState.BACKED_UP)  # the last size counts
        if final or now - self._size_checked.get(rid, 0.0) >= 2.0:
            self._size_checked[rid] = now
            task = asyncio.ensure_future(self._refresh_size(rid, row.location))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _refresh_size(self, rid: str, playlist: str) -> None:
        path = local_path(playlist)
        if path is None:
            return
        size = await asyncio.get_running_loop().run_in_executor(None, _recording_size, path)
        if size is not None:
            self.model.update(rid, size_bytes=size)

    async def release(self, rid: str, *, cancel: bool) -> None:
        """``release(cancel)`` one recorder; the row says what became of the recording."""
        recorder = self._recorders.pop(rid, None)
        if recorder is None:
            return
        row = self.model.row(rid)
        was_active = row is not None and row.state in (RowState.RECORDING, RowState.CONNECTING)
        try:
            await recorder.release(cancel=cancel)
        except CloudRecordingError as exc:
            self.model.update(rid, failed=True, last_event=str(exc))
            self.log_event(self.tr("Release failed: {0}").format(exc), error=True)
            return
        if not cancel and was_active:
            self._background = True
            self.model.update(
                rid, state=RowState.BACKGROUND, last_event=self.tr("released; recording on")
            )
        elif row is not None and row.state not in (
            RowState.UPLOADED,
            RowState.BACKED_UP,
            RowState.FAILED,
        ):
            self.model.update(
                rid,
                state=RowState.RELEASED,
                ended_at=row.ended_at or time.monotonic(),
                last_event=self.tr("released and cancelled") if cancel else self.tr("released"),
            )
        self._update_row_actions()

    # ------------------------------------------------------------------ row actions
    def selected_row(self) -> RecordingRow | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.row_at(indexes[0].row()) if indexes else None

    def _update_row_actions(self, *_: object) -> None:
        row = self.selected_row()
        attached = row is not None and row.recording_id in self._recorders
        self.act_stop.setEnabled(attached and row is not None and row.state is RowState.RECORDING)
        self.act_release.setEnabled(attached)
        self.act_cancel.setEnabled(attached)
        has_playlist = row is not None and bool(row.playlist)
        is_local = has_playlist and row is not None and local_path(row.location) is not None
        self.act_folder.setEnabled(is_local)
        self.act_play.setEnabled(has_playlist)
        self.act_copy.setEnabled(has_playlist)

    def _context_menu(self, position: Any) -> None:
        menu = QMenu(self)
        for action in self.row_actions:
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(position))

    @asyncSlot()
    async def on_stop(self) -> None:
        row = self.selected_row()
        recorder = self._recorders.get(row.recording_id) if row else None
        if row is None or recorder is None:
            return
        self.model.update(row.recording_id, state=RowState.STOPPING)
        try:
            await recorder.stop()
        except CloudRecordingError as exc:
            self.model.update(row.recording_id, state=RowState.RECORDING, last_event=str(exc))
            await self.handle_error(row.recording_id, exc.code, exc.message)

    @asyncSlot()
    async def on_release(self) -> None:
        row = self.selected_row()
        if row is not None:
            await self.release(row.recording_id, cancel=False)

    @asyncSlot()
    async def on_release_cancel(self) -> None:
        row = self.selected_row()
        if row is not None:
            await self.release(row.recording_id, cancel=True)

    def on_open_folder(self) -> None:
        row = self.selected_row()
        path = local_path(row.location) if row else None
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

    def on_play(self) -> None:
        # PySide6-Essentials has no QtMultimedia: the system's player plays the HLS playlist.
        row = self.selected_row()
        if row is None or not row.playlist:
            return
        path = local_path(row.location)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)) if path else QUrl(row.location))

    def on_copy(self) -> None:
        row = self.selected_row()
        if row is not None and row.playlist:
            QGuiApplication.clipboard().setText(row.location)

    # ------------------------------------------------------------------ storage check
    async def check_storage_destination(self, storage: CloudStorageConfig) -> None:
        """Ask the recording server to check ``storage`` (a small write and delete).

        Raises ``CloudRecordingError`` (UPLOADER_INIT) naming what is wrong, and
        :class:`StorageCheckUnavailable` when there is no server or it has no such
        check (Agora's hosted service).
        """
        if self.server_url is None:
            raise StorageCheckUnavailable("")
        client = RestClient(self.server_url, Credentials(bearer=self.server_token))
        try:
            ok, reason = await client.check_storage(storage)
        except CloudRecordingError as exc:
            if "HTTP 404" in exc.message:
                raise StorageCheckUnavailable(self.server_url) from None
            raise
        finally:
            await client.aclose()
        if not ok:
            raise CloudRecordingError(reason, ErrorCode.UPLOADER_INIT)

    # ------------------------------------------------------------------ demo participants
    @asyncSlot()
    async def on_demo(self) -> None:
        if self.server_url is None:
            self.log_event(self.tr("No recording server is available."), error=True)
            return
        channel = self.panel.identity["channel"].text() or "demo"
        dialog = DemoDialog(channel, self.settings.demo_users(), self)
        if not await ask(dialog):
            return
        self.settings.set_demo_users(dialog.users.value())
        self.start_bots(dialog.channel.text(), dialog.users.value())

    def start_bots(self, channel: str, users: int) -> None:
        """Run ``cloudrec bots --server URL --channel NAME --users N``."""
        if self.bots is not None:
            self.bots.kill()
        assert self.server_url is not None
        program, *prefix = cloudrec_command()
        process = QProcess(self)
        process.setProgram(program)
        process.setArguments(
            [
                *prefix,
                "bots",
                "--server",
                self.server_url,
                "--channel",
                channel,
                "--users",
                str(users),
            ]
        )
        process.setWorkingDirectory(str(paths.PROJECT_ROOT))
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_bots)
        process.finished.connect(self._bots_finished)
        process.start()
        self.bots = process
        self.act_demo_stop.setEnabled(True)
        self.log_event(
            self.tr("Started {0} demo participants in channel {1}").format(users, channel)
        )

    def _read_bots(self) -> None:
        if self.bots is None:
            return
        text = bytes(self.bots.readAllStandardOutput().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self.log_event(self.tr("bots: {0}").format(line.strip()))

    def _bots_finished(self, code: int, _status: object) -> None:
        self.log_event(
            self.tr("Demo participants ended (code {0})").format(code),
            error=code not in (0, 15, -15),
        )
        self.act_demo_stop.setEnabled(False)

    @asyncSlot()
    async def on_demo_stop(self) -> None:
        await self._stop_bots()

    async def _stop_bots(self) -> None:
        process, self.bots = self.bots, None
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        process.terminate()
        for _ in range(50):  # up to 5 s for a clean exit, without blocking the loop
            if process.state() == QProcess.ProcessState.NotRunning:
                break
            await asyncio.sleep(0.1)
        else:
            process.kill()
        self.act_demo_stop.setEnabled(False)

    # ------------------------------------------------------------------ settings, about
    @asyncSlot()
    async def on_settings(self) -> None:
        dialog = SettingsDialog(self.settings.language(), self.settings.server(), self)
        if not await ask(dialog):
            return
        self.settings.set_language(dialog.chosen_language())
        choice = dialog.chosen_server()
        self.settings.set_server(choice)
        token = dialog.new_token()
        if choice.remote and choice.url and token:
            await self.keyring.set(server_entry(choice.url), token)
        self.log_event(self.tr("Settings saved; a new server choice applies at the next start."))

    def on_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("About cloudrec"))
        box.setText(
            self.tr(
                "<b>cloudrec</b><br>Cloud recording of real-time audio/video channels.<br>"
                "Settings: {0}"
            ).format(html.escape(self.settings.file_name()))
        )
        box.open()

    # ------------------------------------------------------------------ testing aids
    def recorder(self, rid: str) -> CloudRecorder | None:
        return self._recorders.get(rid)
