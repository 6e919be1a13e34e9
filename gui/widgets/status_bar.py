"""The window's status bar: one label per fact about the recording server.

Server URL and kind, its state, active recordings, upload backlog, the server's CPU
share, while it records whether its recorders keep up, and, while a webhook endpoint
has notices waiting or fails, the webhooks' backlog and error. The bar only renders what
it is given: the server's state from :class:`gui.server_connection.ServerConnection`,
the server's status report (``GET /v1/cloudrec/status``), and the window's own counts
for servers that send no report.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from gui.embedded_server import ServerState
from gui.server_connection import cpu_share

# The strings were written in the window and its translation catalogue keeps them in
# the "MainWindow" context; lupdate reads these literal calls.
translate = QCoreApplication.translate

RENDER_LAG_WARNING = 1.0
"""Seconds a recorder may run behind real time (beyond its latency window) before the
status bar warns: a short burst catches up, a second behind means it is short of CPU."""
RED, AMBER, GREEN, GREY = "#b3261e", "#8a5300", "#1b7f3b", "#555555"


def state_text(state: ServerState) -> str:
    """The translated word for a server state."""
    texts = {
        ServerState.STOPPED: translate("MainWindow", "stopped"),
        ServerState.STARTING: translate("MainWindow", "starting…"),
        ServerState.RUNNING: translate("MainWindow", "running"),
        ServerState.UNREACHABLE: translate("MainWindow", "unreachable"),
        ServerState.FAILED: translate("MainWindow", "failed to start"),
        ServerState.DETACHED: translate("MainWindow", "running in background"),
    }
    return texts[state]


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    return label


class StatusBar(QStatusBar):
    """Server, state, active recordings, upload backlog, server CPU, recorder health."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.server_url = _label("status_url")
        self.server_state = _label("status_state")
        self.active = _label("status_active")
        self.backlog = _label("status_backlog")
        self.cpu = _label("status_cpu")
        self.render_health = _label("status_render")
        self.render_health.hide()  # shown while the server records
        self.webhooks = _label("status_webhooks")
        self.webhooks.setTextFormat(Qt.TextFormat.PlainText)
        self.webhooks.hide()  # shown while an endpoint has a backlog or fails
        self._last_report: Mapping[str, Any] | None = None  # the server's previous status
        # The server's own counts win over the window's once it has sent them: it also
        # knows the recordings this window released or never started.
        self._server_counts: tuple[int, int] | None = None
        labels = (self.server_url, self.server_state, self.active, self.backlog, self.cpu)
        for label in (*labels, self.render_health, self.webhooks):
            self.addPermanentWidget(label)
        self.show_server(None, embedded=True, state=ServerState.STOPPED)
        self.show_window_counts(0, 0)

    def show_server(self, url: str | None, *, embedded: bool, state: ServerState) -> None:
        """Which server the window uses and what it knows of its state."""
        kind = (
            translate("MainWindow", "embedded") if embedded else translate("MainWindow", "remote")
        )
        shown = url or translate("MainWindow", "none")
        self.server_url.setText(translate("MainWindow", "Server ({0}): {1}").format(kind, shown))
        self.server_state.setText(state_text(state))
        colour = {
            ServerState.RUNNING: GREEN,
            ServerState.UNREACHABLE: RED,
            ServerState.FAILED: RED,
        }.get(state, GREY)
        self.server_state.setStyleSheet(f"color: {colour};")

    def show_window_counts(self, active: int, backlog: int) -> None:
        """The window's own counts, shown until the server reports its own."""
        self._show_counts(*(self._server_counts or (active, backlog)))

    def _show_counts(self, active: int, backlog: int) -> None:
        self.active.setText(translate("MainWindow", "Active: {0}").format(active))
        self.backlog.setText(translate("MainWindow", "Upload backlog: {0}").format(backlog))

    def show_server_status(self, status: Mapping[str, Any]) -> None:
        """Render one status report: CPU share since the last one, counts, recorder health."""
        share = cpu_share(self._last_report, status) if self._last_report is not None else None
        if share is not None:
            self.cpu.setText(translate("MainWindow", "Server CPU: {0:.0f} %").format(100 * share))
        self._last_report = status
        self._server_counts = (int(status["activeRecordings"]), int(status["uploadBacklog"]))
        self._show_counts(*self._server_counts)
        self.show_render_health(status)
        self.show_webhooks(status.get("webhooks"))

    def show_render_health(self, status: Mapping[str, Any]) -> None:
        """Whether the server's recorders keep up: lag behind real time, frames lost."""
        if "renderLag" not in status or not int(status["activeRecordings"]):
            self.render_health.hide()
            return
        lag = float(status["renderLag"])
        dropped, late = int(status["droppedFrames"]), int(status["lateFrames"])
        behind = lag >= RENDER_LAG_WARNING
        text = (
            translate("MainWindow", "Recorders: {0:.1f} s behind").format(lag)
            if behind
            else translate("MainWindow", "Recorders: on time")
        )
        if dropped + late:
            text += translate("MainWindow", ", {0} frames lost").format(dropped + late)
        self.render_health.setText(text)
        self.render_health.setStyleSheet(
            f"color: {RED};" if behind else f"color: {AMBER};" if dropped + late else ""
        )
        self.render_health.setToolTip(
            translate(
                "MainWindow",
                "Input frames dropped: {0}, arrived too late: {1}. Lost frames and a growing "
                "lag mean the recording server is short of CPU: record fewer channels or "
                "smaller canvases on it, or give it more cores.",
            ).format(dropped, late)
        )
        self.render_health.show()

    def show_webhooks(self, entries: object) -> None:
        """The webhook endpoints' backlog and failures (the status report's
        ``webhooks``); hidden with no endpoint, or when all is delivered and none fails."""
        endpoints = (
            [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []
        )
        backlog = sum(int(e.get("backlog") or 0) for e in endpoints)
        failing = [e for e in endpoints if _failing(e)]
        if not backlog and not failing:
            self.webhooks.hide()
            return
        text = translate("MainWindow", "Webhooks: {0} waiting").format(backlog)
        if len(failing) == 1:
            error = str(failing[0].get("lastError") or "")
            if len(error) > ERROR_CHARS:
                error = error[: ERROR_CHARS - 1] + "…"
            text += translate("MainWindow", ", failing: {0}").format(error)
        elif failing:
            text += translate("MainWindow", ", {0} endpoints failing").format(len(failing))
        self.webhooks.setText(text)
        self.webhooks.setStyleSheet(f"color: {RED};" if failing else "")
        self.webhooks.setToolTip("\n".join(_webhook_line(e) for e in endpoints))
        self.webhooks.show()


ERROR_CHARS = 48
"""Characters of a webhook error the bar shows; the tooltip has all of it."""


def _failing(entry: Mapping[str, Any]) -> bool:
    """Whether an endpoint fails now: recordings being retried, or an error newer than
    its last delivery (the status keeps the last error after a success)."""
    if int(entry.get("retrying") or 0):
        return True
    if not entry.get("lastError"):
        return False
    delivered = entry.get("lastDeliveryMs")
    return delivered is None or int(entry.get("lastErrorMs") or 0) > int(delivered)


def _clock(ms: object) -> str:
    return time.strftime("%H:%M:%S", time.localtime(int(str(ms)) / 1000))


def _webhook_line(entry: Mapping[str, Any]) -> str:
    """One endpoint in the tooltip: backlog, retries, last error and last delivery."""
    line = translate("MainWindow", "{0}: {1} waiting, {2} recordings retrying").format(
        entry.get("endpoint", ""), int(entry.get("backlog") or 0), int(entry.get("retrying") or 0)
    )
    if entry.get("lastError"):
        line += translate("MainWindow", "; last error at {0}: {1}").format(
            _clock(entry.get("lastErrorMs") or 0), entry["lastError"]
        )
    if entry.get("lastDeliveryMs"):
        line += translate("MainWindow", "; last delivered at {0}").format(
            _clock(entry["lastDeliveryMs"])
        )
    return line
