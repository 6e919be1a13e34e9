"""The window's actions, its menus, and when the row actions are enabled.

One :class:`QAction` per command, shared by the menu bar, the recordings toolbar and
the table's context menu, so the three always agree on text, shortcut and state. The
window connects their ``triggered`` signals; this module knows no controller.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

from gui.models.recordings import RecordingRow, RowState, can_download, local_path

REMOVABLE = (RowState.UPLOADED, RowState.FAILED, RowState.RELEASED)
"""Rows Remove from list takes away: recordings that write and store nothing more."""

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate


class WindowActions:
    """Every action of the main window; their parent is the window (for shortcuts)."""

    def __init__(self, parent: QObject) -> None:
        def action(text: str, name: str, shortcut: str = "") -> QAction:
            made = QAction(text, parent)
            made.setObjectName(name)
            if shortcut:
                made.setShortcut(QKeySequence(shortcut))
            return made

        # Shortcuts for the frequent commands (issue 28, item 14); none for releasing or
        # cancelling a recording, which a slip of the fingers should not do.
        self.settings = action(translate("MainWindow", "&Settings…"), "act_settings", "Ctrl+,")
        self.servers = action(translate("MainWindow", "Se&rvers…"), "act_servers")
        self.quit = action(translate("MainWindow", "&Quit"), "act_quit", "Ctrl+Q")
        self.start = action(translate("MainWindow", "&Start recording"), "act_start", "Ctrl+R")
        self.stop = action(translate("MainWindow", "S&top"), "act_stop", "Ctrl+.")
        self.release = action(
            translate("MainWindow", "&Release (keep recording in background)"), "act_release"
        )
        self.cancel = action(translate("MainWindow", "Release and ca&ncel"), "act_cancel")
        self.folder = action(translate("MainWindow", "Open &folder"), "act_folder", "Ctrl+Shift+O")
        self.play = action(translate("MainWindow", "&Play"), "act_play", "Ctrl+P")
        self.copy = action(
            translate("MainWindow", "&Copy playlist location"), "act_copy", "Ctrl+Shift+C"
        )
        self.download = action(translate("MainWindow", "Do&wnload…"), "act_download", "Ctrl+D")
        self.remove = action(translate("MainWindow", "Remove from &list"), "act_remove", "Del")
        self.demo = action(translate("MainWindow", "Start &demo participants…"), "act_demo")
        self.demo_stop = action(translate("MainWindow", "Stop demo participants"), "act_demo_stop")
        self.about = action(translate("MainWindow", "&About cloudrec"), "act_about", "F1")
        self.demo_stop.setEnabled(False)  # enabled while demo participants run
        self.row_actions = (
            self.stop,
            self.release,
            self.cancel,
            self.folder,
            self.play,
            self.copy,
            self.download,
            self.remove,
        )
        """The actions on the selected recording (toolbar and context menu)."""

    def fill_menu_bar(self, menu_bar: QMenuBar) -> QMenu:
        """Add File, Recordings, View and Help; returns View (the window adds docks)."""
        file_menu = menu_bar.addMenu(translate("MainWindow", "&File"))
        file_menu.addAction(self.settings)
        file_menu.addAction(self.servers)
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        recordings_menu = menu_bar.addMenu(translate("MainWindow", "&Recordings"))
        recordings_menu.addAction(self.start)
        recordings_menu.addSeparator()
        recordings_menu.addActions(list(self.row_actions))
        recordings_menu.addSeparator()
        recordings_menu.addAction(self.demo)
        recordings_menu.addAction(self.demo_stop)
        view_menu = menu_bar.addMenu(translate("MainWindow", "&View"))
        help_menu = menu_bar.addMenu(translate("MainWindow", "&Help"))
        help_menu.addAction(self.about)
        return view_menu

    def enable_for(self, row: RecordingRow | None, *, attached: bool) -> None:
        """Enable the row actions for the selected row (None: nothing selected).

        ``attached``: the window holds the row's recorder (stop and release need it).
        Open folder needs a local playlist; play and copy any playlist; download one in a
        bucket, all stored, that this window started (it knows the storage's keys).
        """
        recording = attached and row is not None and row.state is RowState.RECORDING
        self.stop.setEnabled(recording)
        # keeping a recording in the background, or cancelling it, means one that records
        self.release.setEnabled(recording)
        self.cancel.setEnabled(recording)
        has_playlist = row is not None and bool(row.playlist)
        is_local = row is not None and has_playlist and local_path(row.location) is not None
        self.folder.setEnabled(is_local)
        self.play.setEnabled(has_playlist)
        self.copy.setEnabled(has_playlist)
        self.download.setEnabled(can_download(row))
        # a finished row this window holds no recorder for: its files stay where they are
        self.remove.setEnabled(not attached and row is not None and row.state in REMOVABLE)
