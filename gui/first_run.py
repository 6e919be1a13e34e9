"""The first run records something real: demo participants for an empty channel, and a hint.

A new operator presses Start on the seed's defaults (the sandbox app, channel
``demo``) on the built-in server, where nobody is in that channel: the recording would
wait its idle time and end with no users. So before such a start :class:`FirstRun`
reads the channel's roster and, when nobody (recorders aside) is in it, asks
(:class:`~gui.dialogs.demo_offer.DemoOfferDialog`) whether to start demo participants
there first; "Don't ask again" is kept in the settings. Until a recording was ever
started with these settings, the empty recordings table shows a hint that says so.

Only the built-in server's sandbox app is concerned: a remote server's channels are
real people's, and another app's roster may need a token the form does not have. The
roster is a courtesy: when it cannot be read in time the start goes on, unasked.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtWidgets import QWidget

from core.enums import SANDBOX_APP_ID
from core.errors import CloudRecordingError
from gui.demo_participants import DemoParticipants
from gui.dialogs.ask import ask
from gui.dialogs.demo_offer import DemoOfferDialog, OfferChoice
from gui.forms.new_recording import StartRequest
from gui.server_connection import ServerConnection
from gui.settings import AppSettings

ROSTER_WAIT = 3.0
"""Seconds the roster may take before a start goes on without the question: the
built-in server answers in milliseconds, so a slower answer means trouble that the
start itself will name."""

JOIN_WAIT = 30.0
"""Seconds to wait for the demo participants to publish video before recording anyway:
a bot joins within a few seconds of its process starting (Python start-up, ICE and
DTLS on 127.0.0.1), slower on a loaded machine; 30 s is the recording's own default
idle time, so nothing is lost by waiting that long."""

JOIN_POLL = 0.25
"""Seconds between readings of the roster while the participants join."""


def people(roster: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The roster's users who can be recorded (recorders are never recorded)."""
    return [user for user in roster if user.get("role") != "recorder"]


class FirstRun(QObject):
    """Offers demo participants for an empty channel and keeps the first-run hint."""

    message = Signal(str, bool)
    """(text, is an error) for the event log."""
    hint_changed = Signal(str)
    """The empty table's hint ("" for none)."""

    def __init__(
        self,
        connection: ServerConnection,
        settings: AppSettings,
        demo: DemoParticipants,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._window = parent
        self.connection = connection
        self.settings = settings
        self.demo = demo
        self.dialog: DemoOfferDialog | None = None
        """The question while it is open."""

    def hint(self) -> str:
        """The empty table's hint: shown until a recording was ever started."""
        if self.settings.recording_started():
            return ""
        return self.tr(
            "No recordings yet. Press Start recording: on the built-in server, an empty "
            "channel offers demo participants to record."
        )

    def recording_started(self) -> None:
        """A recording is being started: the hint is no longer needed, now or later."""
        if not self.settings.recording_started():
            self.settings.set_recording_started()
            self.hint_changed.emit("")

    async def before_start(self, request: StartRequest) -> bool:
        """Offer demo participants when ``request`` would record an empty channel of the
        built-in server's sandbox; start them if wanted. False: the operator cancelled."""
        if not await self._empty_channel(request):
            return True
        users = self.settings.demo_users()
        dialog = DemoOfferDialog(request.channel, users, self._window)
        self.dialog = dialog
        try:
            await ask(dialog)
        finally:
            self.dialog = None
        if dialog.choice is OfferChoice.CANCEL:
            return False
        if dialog.dont_ask_again:
            self.settings.set_demo_offer(False)
        if dialog.choice is OfferChoice.PARTICIPANTS:
            await self._start_participants(request, users)
        return True

    async def _empty_channel(self, request: StartRequest) -> bool:
        """Whether to ask: the built-in server's sandbox, still asked, nobody in it."""
        if not (
            self.connection.embedded
            and request.app_id == SANDBOX_APP_ID
            and self.settings.demo_offer()
        ):
            return False
        try:
            roster = await asyncio.wait_for(
                self.connection.roster(request.app_id, request.channel, request.token),
                ROSTER_WAIT,
            )
        except (CloudRecordingError, TimeoutError):
            return False  # the start goes on; if the server is at fault, the start says so
        return not people(roster)

    async def _start_participants(self, request: StartRequest, users: int) -> None:
        """Start ``users`` demo participants and wait until they publish video, so that
        the recording has their tiles from its first second."""
        url = self.connection.url
        if url is None:
            return
        self.demo.start(url, request.channel, users)
        self.message.emit(
            self.tr("Waiting for the demo participants to join channel {0}…").format(
                request.channel
            ),
            False,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + JOIN_WAIT
        while loop.time() < deadline:
            process = self.demo.process
            if process is None or process.state() == QProcess.ProcessState.NotRunning:
                return  # they ended (the event log says why): record what there is
            try:
                roster = await asyncio.wait_for(
                    self.connection.roster(request.app_id, request.channel, request.token),
                    ROSTER_WAIT,
                )
            except (CloudRecordingError, TimeoutError):
                roster = []  # read again until the deadline
            publishing = [u for u in people(roster) if "video" in (u.get("tracks") or [])]
            if len(publishing) >= users:
                return
            await asyncio.sleep(JOIN_POLL)
        self.message.emit(
            self.tr(
                "The demo participants are not all in channel {0} after {1} s; recording anyway."
            ).format(request.channel, int(JOIN_WAIT)),
            True,
        )
