"""Demo participants: ``cloudrec bots`` publishing into a channel, as a ``QProcess``.

Its output goes to the event log line by line; it is terminated on quit (killed when
it has not exited after 5 s). One run at a time: starting again replaces the last.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QCoreApplication, QObject, QProcess, Signal

from core.sdk.embedded import bots_command
from gui import paths

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate

STOP_WAIT = 5.0
"""Seconds a terminated run may take to exit cleanly before it is killed."""


class DemoParticipants(QObject):
    """Starts and stops the ``cloudrec bots`` process."""

    message = Signal(str, bool)
    """(text, is an error) for the event log."""
    running_changed = Signal(bool)
    """True once a run started, False once it ended or was stopped."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        """The current run, None when there is none."""

    def start(self, server_url: str, channel: str, users: int) -> None:
        """Run ``cloudrec bots --server URL --channel NAME --users N``."""
        if self.process is not None:
            self.process.kill()
        program, *arguments = bots_command(server_url, channel, users)
        process = QProcess(self)
        process.setProgram(program)
        process.setArguments(arguments)
        process.setWorkingDirectory(str(paths.PROJECT_ROOT))
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._finished)
        process.start()
        self.process = process
        self.running_changed.emit(True)
        self.message.emit(
            translate("MainWindow", "Started {0} demo participants in channel {1}").format(
                users, channel
            ),
            False,
        )

    def _read_output(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")
        for line in text.splitlines():
            if line.strip():
                self.message.emit(translate("MainWindow", "bots: {0}").format(line.strip()), False)

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        self.message.emit(
            translate("MainWindow", "Demo participants ended (code {0})").format(code),
            code not in (0, 15, -15),  # 15: ended by our SIGTERM
        )
        self.running_changed.emit(False)

    async def stop(self) -> None:
        """Terminate the run, without blocking the loop while it exits."""
        process, self.process = self.process, None
        if process is None or process.state() == QProcess.ProcessState.NotRunning:
            return
        process.terminate()
        for _ in range(int(STOP_WAIT * 10)):
            if process.state() == QProcess.ProcessState.NotRunning:
                break
            await asyncio.sleep(0.1)
        else:
            process.kill()
        self.running_changed.emit(False)
