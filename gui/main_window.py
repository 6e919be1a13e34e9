"""The main window: new-recording panel, layout preview, recordings table, event log.

The window lays out the widgets and wires them to small objects that do the work:
:class:`ServerConnection` (which server, its health, the one client to it),
:class:`RecordingsController` (recorders and their rows), :class:`WindowActions`
(menus and enable rules), :class:`DemoParticipants` (``cloudrec bots``), :class:`FirstRun`
(demo participants for an empty channel, the empty table's hint). Its own
slots are thin: each starts a coroutine (``async_slot``) and returns; busy state is
reset in ``finally``; dialogs are awaited with ``ask`` (no nested event loop).
"""

from __future__ import annotations

import asyncio
import contextlib

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.enums import RecordingStreamType
from core.errors import CloudRecordingError, ErrorCode
from core.sdk.recorder import create_cloud_recorder
from gui import paths
from gui.actions import WindowActions
from gui.demo_participants import DemoParticipants
from gui.dialogs.about import show_about
from gui.dialogs.ask import ask
from gui.dialogs.close_dialog import CloseChoice, CloseDialog
from gui.dialogs.demo_dialog import DemoDialog
from gui.dialogs.error_dialog import ErrorDialog, RemedyAction
from gui.dialogs.roster_dialog import RosterDialog
from gui.dialogs.servers_dialog import ServersDialog
from gui.dialogs.settings_dialog import SettingsDialog
from gui.dialogs.webhooks_page import WebhooksPage
from gui.embedded_server import EmbeddedServer, ServerState
from gui.first_run import FirstRun
from gui.forms.labels import field_label
from gui.forms.new_recording import NewRecordingPanel, StartRequest
from gui.forms.storage_profiles import StorageProfiles
from gui.keyring_store import KeyringStore, server_entry
from gui.models.recordings import RowState, can_download, format_size
from gui.recordings_controller import RecorderFactory, RecordingsController
from gui.server_connection import ServerConnection
from gui.server_pool import ServerPool
from gui.settings import AppSettings
from gui.tasks import async_slot, spawn
from gui.widgets.event_log import EventLog
from gui.widgets.keyring_banner import KeyringBanner
from gui.widgets.preview_panel import PreviewPanel
from gui.widgets.recordings_view import RecordingsView
from gui.widgets.server_chooser import ServerChooser
from gui.widgets.status_bar import StatusBar


class MainWindow(QMainWindow):
    """The cloudrec operator window."""

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
        self.stream_save: asyncio.Task[None] | None = None
        """The latest save of the live stream URLs to the keyring (tests await it)."""
        self.chinese = chinese
        self.error_dialog: ErrorDialog | None = None
        self.roster_dialog: RosterDialog | None = None
        """The remedy dialog while it is open."""
        self.settings_dialog: SettingsDialog | None = None
        """The Settings dialog while it is open (its Webhooks tab: ``.webhooks``)."""
        self._closing = False
        self._close_done = False
        self._closed: asyncio.Future[int] | None = None

        self.setWindowTitle("cloudrec")
        if paths.APP_ICON.exists():
            self.setWindowIcon(QIcon(str(paths.APP_ICON)))
        server = embedded_server or EmbeddedServer(paths.state_dir() / "server.log")
        self.connection = ServerConnection(settings, keyring_store, server, parent=self)
        self.servers = ServerPool(self.connection, settings, keyring_store, self)
        """The window's servers: its own (``connection``) and further remote ones."""
        self.recordings = RecordingsController(self.connection, recorder_factory, self)
        self.recordings.servers = self.servers
        self.servers_dialog: ServersDialog | None = None
        """File → Servers… while it is open."""
        self.demo = DemoParticipants(self)
        self.first_run = FirstRun(self.connection, settings, self.demo, self)
        self.user_actions = WindowActions(self)
        self._build_central()
        view_menu = self.user_actions.fill_menu_bar(self.menuBar())
        self.event_log = EventLog()
        self.event_dock = QDockWidget(self.tr("Event log"), self)
        self.event_dock.setObjectName("event_log_dock")
        self.event_dock.setWidget(self.event_log)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.event_dock)
        view_menu.addAction(self.event_dock.toggleViewAction())
        self.status_bar = StatusBar()
        self.setStatusBar(self.status_bar)
        self._wire()

        self.panel.load_drafts({name: settings.draft(name) for name in self.panel.drafts()})
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
        self.keyring_banner = KeyringBanner()
        outer.addWidget(self.keyring_banner)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.panel = NewRecordingPanel(chinese=self.chinese)
        self.profiles = StorageProfiles(
            self.panel.storage_form,
            self.settings,
            self.keyring,
            self.connection.check_storage,
            lambda: self.panel.storage,
        )
        self.panel.storage_header.addWidget(self.profiles)
        self.server_chooser = ServerChooser(self.servers)
        self.panel.server_header.addWidget(self.server_chooser)
        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        # as wide as the form needs beside its vertical scroll bar: no horizontal one
        needed = (
            self.panel.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )
        scroll.setMinimumWidth(max(440, needed + 2 * scroll.frameWidth()))
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.panel.start_bar)  # always in sight, under the form
        splitter.addWidget(left)

        right = QSplitter(Qt.Orientation.Vertical)
        self.preview_panel = PreviewPanel(self.settings.preview_users())
        right.addWidget(self.preview_panel)
        self.recordings_view = RecordingsView(self.recordings.model, self.user_actions.row_actions)
        right.addWidget(self.recordings_view)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _wire(self) -> None:
        acts, view = self.user_actions, self.recordings_view
        for action, slot in (
            (acts.settings, self.on_settings),
            (acts.servers, self.on_servers),
            (acts.quit, self.close),
            (acts.start, self.on_start_clicked),
            (acts.stop, self.on_stop),
            (acts.release, self.on_release),
            (acts.cancel, self.on_release_cancel),
            (acts.folder, view.open_folder),
            (acts.download, self.on_download),
            (acts.play, view.play),
            (acts.copy, view.copy_location),
            (acts.remove, self.on_remove),
            (acts.demo, self.on_demo),
            (acts.demo_stop, lambda: spawn(self.demo.stop())),
            (acts.about, self.on_about),
        ):
            action.triggered.connect(slot)
        self.panel.start_requested.connect(self.on_start_clicked)
        self.panel.pick_requested.connect(self.on_pick_uids)
        self.panel.update_requested.connect(self.on_update_subscription)
        editor = self.panel.layout_editor
        editor.set_saved(self.settings.layouts())
        editor.saved_changed.connect(self.settings.set_layouts)
        editor.apply_requested.connect(self.on_apply_layout)
        self.panel.transcoding_changed.connect(self.preview_panel.show_config)
        self.preview_panel.show_config(self.panel.transcoding)
        self.panel.individual_changed.connect(self._show_mode)
        self.panel.identity["channel"].textChanged.connect(lambda _t: self._show_mode())
        view.selection_changed.connect(self._update_row_actions)
        self.recordings.attachment_changed.connect(self._update_row_actions)
        self._update_row_actions()
        for source in (
            self.connection,
            self.servers,
            self.recordings,
            self.demo,
            self.first_run,
            self.recordings_view,
        ):
            source.message.connect(self.log_event)
        self.first_run.hint_changed.connect(view.table.set_hint)
        view.table.set_hint(self.first_run.hint())
        self.recordings.fatal_error.connect(self.on_fatal_error)
        model = self.recordings.model
        model.rowsInserted.connect(self._update_counts)
        model.dataChanged.connect(self._update_counts)
        model.dataChanged.connect(self._show_live)
        view.selection_changed.connect(self._show_live)
        self.connection.state_changed.connect(self._show_server)
        self._show_server(self.connection.state)
        self._update_counts()
        self.connection.status_received.connect(self.status_bar.show_server_status)
        self.demo.running_changed.connect(acts.demo_stop.setEnabled)
        self.keyring.on_availability(self.keyring_banner.show_availability)

    # ------------------------------------------------------------------ views
    def log_event(self, text: str, error: bool = False) -> None:
        """Add a line to the event log (red for an error)."""
        self.event_log.log(text, error)

    def _show_server(self, state: ServerState) -> None:
        connection = self.connection
        self.status_bar.show_server(connection.url, embedded=connection.embedded, state=state)

    def _update_counts(self, *_: object) -> None:
        model = self.recordings.model
        self.status_bar.show_window_counts(model.active_count(), model.backlog_count())

    def _update_row_actions(self) -> None:
        row = self.recordings_view.selected_row()
        attached = row is not None and self.recordings.recorder(row.recording_id) is not None
        self.user_actions.enable_for(row, attached=attached)
        recording = attached and row is not None and row.state is RowState.RECORDING
        self.panel.set_update_target(recording)

    def _show_mode(self, *_: object) -> None:
        """Individual recording: the files each user gets in place of the layout."""
        channel = self.panel.identity["channel"].text()
        self.preview_panel.show_outputs(channel if self.panel.individual else None)

    def _show_live(self, *_: object) -> None:
        """While the selected recording records, its live picture in place of the layout
        preview; the layout preview again otherwise."""
        row = self.recordings_view.selected_row()
        if row is not None and row.state is RowState.RECORDING and row.live_picture is not None:
            self.preview_panel.show_live(row.live_picture, row.channel, row.levels, row.history)
        else:
            self.preview_panel.show_live(None)

    # ------------------------------------------------------------------ life cycle
    async def run(self) -> int:
        """Connect to the server, then live until the window has closed."""
        self._closed = asyncio.get_running_loop().create_future()
        if self.settings.window_state() is None:  # first start: a modest event log
            self.resizeDocks([self.event_dock], [150], Qt.Orientation.Vertical)
        # The keyring may wait for the operator to unlock it: never hold up the window.
        spawn(self.keyring.probe())
        spawn(self.restore_secrets())
        may_record = await self.connection.connect_server()  # remote or reattached
        await self.servers.connect_others()
        if may_record or self.servers.others():
            await self.recordings.reattach()
        return await self._closed

    async def restore_secrets(self) -> None:
        """What the keyring keeps for the form: the current storage profile's keys (the
        settings never hold them) and the live stream URLs."""
        await self.profiles.restore_keys()
        await self.load_stream_urls()

    async def load_stream_urls(self) -> None:
        """Show the live stream URLs the keyring keeps; keep each change there, one
        after the other (:attr:`stream_save` is the latest)."""
        self.panel.streams.set_urls(await self.keyring.stream_urls())
        self.panel.revalidate()
        self.panel.streams.changed.connect(self._save_stream_urls)

    def _save_stream_urls(self) -> None:
        urls, before = self.panel.streams.urls(), self.stream_save

        async def save() -> None:
            if before is not None:
                with contextlib.suppress(Exception):
                    await before
            await self.keyring.set_stream_urls(urls)

        self.stream_save = spawn(save())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._close_done:
            event.accept()
            return
        event.ignore()
        self.on_close_requested()

    def close_now(self) -> None:
        """Close without asking: the caller has ended what must end (tests, tidy-up)."""
        self._close_done = True
        self.recordings.stop_reading()
        self.close()

    @async_slot()
    async def on_close_requested(self) -> None:
        """Shut down (asking about active recordings) and close unless cancelled."""
        if self._closing:
            return
        self._closing = True
        try:
            if await self.shutdown():
                self.close_now()
                if self._closed is not None and not self._closed.done():
                    self._closed.set_result(0)
        finally:
            self._closing = False

    async def shutdown(self) -> bool:
        """Ask about active recordings and end what must end; False when cancelled."""
        active = self.recordings.active()
        if active:
            dialog = CloseDialog(
                len(active),
                self,
                demo_running=self.demo.process is not None,
                can_keep=self.keyring.persistent is not False,
            )
            await ask(dialog)
            if dialog.choice is CloseChoice.CANCEL:
                return False
            for rid in active:
                await self.recordings.release(rid, cancel=dialog.choice is CloseChoice.STOP)
        await self.recordings.release_all()
        self.connection.health.stop()
        await self.demo.stop()
        self.save_settings()
        await self.connection.leave(keep_recording=self.recordings.background)
        await self.servers.aclose()
        self.settings.sync()
        return True

    def save_settings(self) -> None:
        """Keep geometry, the panel's drafts (no secrets) and the preview's user count."""
        self.settings.set_geometry(self.saveGeometry(), self.saveState())
        for name, values in self.panel.drafts().items():
            self.settings.set_draft(name, values)
        self.settings.set_preview_users(self.preview_panel.users.value())

    # ------------------------------------------------------------------ recordings
    @async_slot()
    async def on_start_clicked(self) -> None:
        """Start a recording with the panel's request (when it is valid)."""
        request = self.panel.request()
        if request is not None:
            await self.start_recording(request)

    async def start_recording(self, request: StartRequest) -> str | None:
        """Start one recording; on failure show the error dialog. Returns the recording id,
        None when none was started. An empty channel of the built-in server's sandbox first
        offers demo participants (``gui/first_run.py``)."""
        self.panel.set_busy(True)
        try:
            connection = await self.servers.choose(self.server_chooser.chosen())
            if connection is None or connection.url is None:
                self.log_event(self.tr("No recording server is available."), error=True)
                return None
            own = connection is self.connection  # the first-run offer is the built-in's
            if own and not await self.first_run.before_start(request):  # an empty channel
                return None
            self.save_settings()
            self.first_run.recording_started()
            started = await self.recordings.start(request, connection)
        finally:
            self.panel.set_busy(False)
        if started.failure is not None:
            failure = started.failure
            await self.handle_error(started.recording_id, failure.code, failure.message)
        return started.recording_id

    async def handle_error(self, rid: str, code: ErrorCode, message: str) -> None:
        """Show the error with the seed's remedy and carry out the operator's choice."""
        row = self.recordings.model.row(rid)
        request = self.recordings.request(rid)
        dialog = ErrorDialog(
            code,
            message,
            channel=row.channel if row else "",
            chinese=self.chinese,
            can_restart=request is not None,
            parent=self,
        )
        self.error_dialog = dialog
        try:
            await ask(dialog)
        finally:
            self.error_dialog = None
        if dialog.action is RemedyAction.CHECK_STORAGE:
            await self.recordings.release(rid, cancel=True)  # nothing was uploaded
            self.panel.tabs.setCurrentWidget(self.panel.storage_page)
            await self.profiles.test()
        elif dialog.action is RemedyAction.RELEASE:
            await self.recordings.release(rid, cancel=False)
        elif dialog.action is RemedyAction.CANCEL_AND_RESTART:
            await self.recordings.release(rid, cancel=True)
            if request is not None:
                self.recordings.forget(rid)  # the new attempt's row takes its place
                await self.start_recording(request)

    @async_slot(str, int)
    async def on_fatal_error(self, rid: str, code: int) -> None:
        """A recording ended with an error: offer its remedy."""
        await self.handle_error(rid, ErrorCode(code), ErrorCode(code).description)

    @async_slot()
    async def on_stop(self) -> None:
        """Stop the selected recording."""
        row = self.recordings_view.selected_row()
        if row is None:
            return
        failure = await self.recordings.stop(row.recording_id)
        if failure is not None:
            await self.handle_error(row.recording_id, failure.code, failure.message)

    def on_remove(self) -> None:
        """Take the selected finished recording off the list (its files stay)."""
        row = self.recordings_view.selected_row()
        if row is not None and self.recordings.forget(row.recording_id):
            self.log_event(
                self.tr("Removed the recording of channel {0} from the list").format(row.channel)
            )

    @async_slot()
    async def on_release(self) -> None:
        """Release the selected recording; it records on in the background."""
        row = self.recordings_view.selected_row()
        if row is not None:
            await self.recordings.release(row.recording_id, cancel=False)

    @async_slot()
    async def on_release_cancel(self) -> None:
        """Release the selected recording and cancel it."""
        row = self.recordings_view.selected_row()
        if row is not None:
            await self.recordings.release(row.recording_id, cancel=True)

    @async_slot()
    async def on_update_subscription(self) -> None:
        """Apply the Recording tab's uid lists to the selected running recording."""
        row = self.recordings_view.selected_row()
        if row is None:
            return
        fallback = self.panel.recording_form.values().get("recording_stream_types")
        failure = await self.recordings.update_subscription(
            row.recording_id,
            self.panel.uid_lists(),
            RecordingStreamType(
                fallback if fallback is not None else RecordingStreamType.AUDIO_VIDEO
            ),
        )
        if failure is not None:
            await self.handle_error(row.recording_id, failure.code, failure.message)

    @async_slot()
    async def on_apply_layout(self) -> None:
        """Give the selected running recording the Transcoding tab's layout, with the
        editor's regions (``updateLayout``)."""
        row = self.recordings_view.selected_row()
        transcoding = self.panel.transcoding
        if row is None or transcoding is None:
            return
        failure = await self.recordings.update_layout(row.recording_id, transcoding)
        if failure is not None:
            self.panel.layout_editor.show_error(failure.message)

    @async_slot()
    async def on_download(self) -> None:
        """Download the selected recording from its bucket into a folder the operator
        chooses, with a progress dialog (gui/dialogs/download.py)."""
        from gui.dialogs.download import choose_folder, download_with_progress

        row = self.recordings_view.selected_row()
        if not can_download(row):
            return
        assert row is not None
        folder = await choose_folder(self)
        if folder is None:
            return
        try:
            got = await download_with_progress(self, row, folder)
        except CloudRecordingError as exc:
            self.log_event(self.tr("Download failed: {0}").format(exc), error=True)
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                self.tr("Download failed"),
                str(exc),
                QMessageBox.StandardButton.Ok,
                self,
            )
            await ask(box)
            return
        if got is not None:
            self.log_event(
                self.tr("Downloaded {0} files ({1}) into {2}").format(
                    len(got.files) + 1, format_size(got.bytes), got.playlist.parent
                )
            )

    # ------------------------------------------------------------------ dialogs
    @async_slot(str)
    async def on_pick_uids(self, name: str) -> None:
        """Choose the uids of list ``name`` from who is in the channel now: the selected
        running recording's channel, or else the one the form names."""
        row = self.recordings_view.selected_row()
        recorder = self.recordings.recorder(row.recording_id) if row is not None else None
        identity = self.panel.identity
        if recorder is not None and recorder.app_id and row is not None:
            app_id, channel = recorder.app_id, row.channel
        else:
            app_id, channel = identity["app_id"].text().strip(), identity["channel"].text()
        token = identity["token"].text().strip() or None
        dialog = RosterDialog(
            field_label(name),
            channel,
            list(self.panel.uid_lists()[name] or ()),
            lambda: self.connection.roster(app_id, channel, token),
            self,
        )
        self.roster_dialog = dialog
        dialog.refresh()
        try:
            if await ask(dialog):
                self.panel.set_uid_list(name, dialog.chosen())
        finally:
            self.roster_dialog = None

    @async_slot()
    async def on_demo(self) -> None:
        """Ask for a channel and a number of users; start the demo participants."""
        url = self.connection.url
        if url is None:
            self.log_event(self.tr("No recording server is available."), error=True)
            return
        channel = self.panel.identity["channel"].text() or "demo"
        dialog = DemoDialog(channel, self.settings.demo_users(), self)
        if not await ask(dialog):
            return
        self.settings.set_demo_users(dialog.users.value())
        self.demo.start(url, dialog.channel.text(), dialog.users.value())

    @async_slot()
    async def on_settings(self) -> None:
        """Language and server choice (applied at the next start); a remote server's token;
        the embedded server's webhook endpoints (applied at its next start)."""
        server = self.settings.server()
        page = WebhooksPage(self.settings.webhooks(), self.connection, remote=server.remote)
        stored = bool(server.url) and await self.keyring.get(server_entry(server.url)) is not None
        dialog = SettingsDialog(
            self.settings.language(),
            server,
            self,
            webhooks=page,
            keyring_persistent=self.keyring.persistent,
            token_stored=stored,
        )
        self.settings_dialog = dialog
        page.refresh_status()
        try:
            if not await ask(dialog):
                return
            await dialog.save(self.settings, self.keyring)
        finally:
            self.settings_dialog = None
        self.log_event(self.tr("Settings saved; a new server choice applies at the next start."))

    @async_slot()
    async def on_servers(self) -> None:
        """The servers the window holds, their loads; add or remove a remote one."""
        dialog = ServersDialog(self.servers, self)
        self.servers_dialog = dialog
        try:
            await ask(dialog)
        finally:
            self.servers_dialog = None

    def on_about(self) -> None:
        """The about box: the version, where the settings are, the server's API page."""
        show_about(self, self.settings.file_name(), self.connection.url)
