"""The recording servers the window holds: its own one and further remote ones.

The window's own server (:class:`ServerConnection` of the server choice: the embedded
one or the remote one of the settings) comes first; the further remote servers of
``AppSettings.other_servers`` follow, each with its own connection, token (keyring,
``server_entry``) and health check. A recording is started on the server the operator
chose or, by default, on the least loaded one that answers (fewest recordings, then
least CPU), and the table's row remembers its server, so its figures, pictures and
commands go there (docs/gui.md, "Many servers").
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Signal

from gui.keyring_store import KeyringStore, server_entry
from gui.server_connection import ServerConnection
from gui.settings import AppSettings
from gui.widgets.status_bar import state_text

# The strings were written in the window; the catalogue keeps them in its context.
translate = QCoreApplication.translate


class ServerPool(QObject):
    """The window's servers: ``primary`` and the further remote ones, by base URL."""

    changed = Signal()
    """A server was added or removed, or one's state or load changed."""
    message = Signal(str, bool)
    """(text, is an error) of the further servers' connections, for the event log."""

    def __init__(
        self,
        primary: ServerConnection,
        settings: AppSettings,
        keyring_store: KeyringStore,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.primary = primary
        self.settings = settings
        self.keyring = keyring_store
        self._others: dict[str, ServerConnection] = {}
        primary.state_changed.connect(self.changed)
        primary.status_received.connect(self.changed)

    def connections(self) -> list[ServerConnection]:
        """Every server's connection, the window's own first."""
        return [self.primary, *self._others.values()]

    def others(self) -> list[ServerConnection]:
        """The further remote servers' connections, in the settings' order."""
        return list(self._others.values())

    def get(self, url: str | None) -> ServerConnection | None:
        """The connection of the server at ``url``; the window's own for "" or None."""
        if not url:
            return self.primary
        url = url.rstrip("/")
        if self.primary.url == url:
            return self.primary
        return self._others.get(url)

    # ------------------------------------------------------------------ choosing
    async def least_loaded(self) -> ServerConnection:
        """The server that answers with the fewest recordings, then the least CPU, its
        load read now (the window's own wins a tie). The window's own one when it is the
        only one or none answers: its start then says what is wrong."""
        if not self._others:
            return self.primary
        best: tuple[tuple[int, float], int, ServerConnection] | None = None
        for order, connection in enumerate(self.connections()):
            if connection.url is None:
                continue
            await connection.check_health()
            load = connection.load
            if load is None:
                continue
            if best is None or (load, order) < (best[0], best[1]):
                best = (load, order, connection)
        return self.primary if best is None else best[2]

    async def choose(self, url: str | None) -> ServerConnection | None:
        """The server at ``url`` when one is named ("" the window's own; None when the
        window does not hold it), else (``url`` None) the least loaded one."""
        if url is not None:
            return self.get(url)
        return await self.least_loaded()

    def describe(self, connection: ServerConnection) -> tuple[str, str]:
        """(name, load) of a server as the window shows it: "This computer" or its URL;
        "2 recordings, CPU 15 %" or its state."""
        if connection is self.primary and connection.embedded:
            name = translate("MainWindow", "This computer (built-in server)")
        else:
            name = connection.url or connection.remote_url or "–"
        load = connection.load
        if load is None:
            return name, state_text(connection.state)
        return name, translate("MainWindow", "recordings: {0}, CPU {1:.0f} %").format(
            load[0], 100 * load[1]
        )

    # ------------------------------------------------------------------ holding
    async def connect_others(self) -> None:
        """Connect to each further remote server of the settings (as the window starts)."""
        for url in self.settings.other_servers():
            await self._connect(url)

    async def _connect(self, url: str) -> ServerConnection:
        connection = ServerConnection(
            self.settings, self.keyring, None, remote_url=url, parent=self
        )
        connection.message.connect(self._relay)
        connection.state_changed.connect(self.changed)
        connection.status_received.connect(self.changed)
        self._others[connection.remote_url or url] = connection
        await connection.connect_server()
        self.changed.emit()
        return connection

    async def add(self, url: str, token: str) -> ServerConnection:
        """Hold the remote server at ``url`` from now on (and in the settings); its
        ``token`` goes to the keyring, nowhere else."""
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                translate("MainWindow", "server URL: {0} is not an http:// or https:// URL").format(
                    url or '""'
                )
            )
        if self.get(url) is not None:
            raise ValueError(
                translate("MainWindow", "server URL: the window holds {0} already").format(url)
            )
        if token:
            await self.keyring.set(server_entry(url), token)
        self.settings.set_other_servers([*self.settings.other_servers(), url])
        return await self._connect(url)

    async def remove(self, url: str) -> None:
        """Stop holding the further remote server at ``url`` (its token leaves the keyring).
        Its recordings run on; the window no longer follows them."""
        url = url.rstrip("/")
        connection = self._others.pop(url, None)
        self.settings.set_other_servers([u for u in self.settings.other_servers() if u != url])
        await self.keyring.delete(server_entry(url))
        if connection is not None:
            connection.health.stop()
            await connection.aclose()
        self.changed.emit()

    async def aclose(self) -> None:
        """Close the further servers' connections (the window's own one closes by its
        ``leave``)."""
        for connection in self._others.values():
            connection.health.stop()
            await connection.aclose()

    def _relay(self, text: str, error: bool) -> None:
        self.message.emit(text, error)
