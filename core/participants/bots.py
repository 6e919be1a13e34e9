"""Synthetic participants publishing into a channel over WHIP (``cloudrec bots`` runs them).

Each bot is one uid publishing the media of :mod:`core.participants.synthetic`: a tile in
the uid's colour with its number, a tone of its own, and a white flash with a 1 kHz
beep on every wall-clock second (for A/V-sync measurements), plus a low stream of a
quarter of the size unless disabled. All bots of a group share one capture clock.

Programmatic use (recorder tests make users join and leave mid-recording)::

    async with run_bots(server_url, uids=[1001, 1002], size=(320, 240)) as bots:
        await bots.leave(1001)
        await bots.join(1003)

Encryption: with ``--encryption-mode`` and a secret (``--secret`` or
``$CLOUDREC_ENCRYPTION_SECRET``) every bot encrypts its frames end to end
(``docs/encryption.md``) and announces the mode (never the secret) on its WHIP URL;
record such a channel with the same ``decryption_mode`` and ``secret``.

Cost: aiortc encodes every frame it sends (the flat tiles encode cheaply, but each
bot still runs an encoder per stream and aiortc's per-packet work), so keep sizes
and frame rates modest; ``--no-low-stream`` saves the second encoder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from core.channel.e2ee import E2eeKeys
from core.config import SECRET_LENGTHS
from core.enums import DEMO_CHANNEL, SANDBOX_APP_ID, DecryptionMode
from core.errors import InvalidParameterError
from core.participants.synthetic import SyntheticClock, SyntheticMedia, synthetic_media
from core.participants.whip_client import VIDEO_CODECS, WhipError, WhipSession, publish

CONNECT_TIMEOUT = 10.0
"""Seconds a bot may take from its POST until media flows."""

ROLES = ("host", "audience")
CHANNEL_TYPES = ("communication", "live")

TokenFor = Callable[[int], str | None]


@dataclass(frozen=True)
class BotOptions:
    """What every bot of a group publishes, and how it joins."""

    size: tuple[int, int] = (320, 240)
    fps: int = 15
    low_stream: bool = True
    role: str = "host"
    channel_type: str | None = None
    """``communication`` or ``live``; ``None`` leaves it to the channel (or its default)."""
    codec: str = "VP8"
    encryption: DecryptionMode = DecryptionMode.NONE
    """End-to-end encryption of every bot's frames (``docs/encryption.md``)."""
    secret: str | None = field(default=None, repr=False)
    """The encryption secret: 8 to 128 printable ASCII characters. Never shown."""

    def __post_init__(self) -> None:
        width, height = self.size
        if not (16 <= width <= 1920 and 16 <= height <= 1920):
            raise InvalidParameterError("size", f"{width}x{height}", "16..1920 on each side")
        if not 1 <= self.fps <= 60:
            raise InvalidParameterError("fps", self.fps, "1..60")
        if self.role not in ROLES:
            raise InvalidParameterError("role", self.role, "host or audience")
        if self.channel_type not in (None, *CHANNEL_TYPES):
            raise InvalidParameterError("channel_type", self.channel_type, "communication or live")
        if self.codec not in VIDEO_CODECS:
            raise InvalidParameterError("codec", self.codec, "VP8 or H264")
        if self.encryption is not DecryptionMode.NONE:
            low, high = SECRET_LENGTHS
            secret = self.secret or ""
            if not low <= len(secret) <= high or not all(" " <= ch <= "~" for ch in secret):
                raise InvalidParameterError(
                    "secret",
                    f"({len(secret)} characters)",
                    f"{low} to {high} printable ASCII characters for {self.encryption.name}",
                )

    def keys(self) -> E2eeKeys | None:
        """The keys the bots encrypt with (``None`` without encryption)."""
        if self.encryption is DecryptionMode.NONE or self.secret is None:
            return None
        return E2eeKeys.derive(self.encryption, self.secret)


@dataclass
class Bot:
    """One joined bot: its uid, its media and its WHIP session."""

    uid: int
    media: SyntheticMedia
    session: WhipSession

    async def leave(self) -> None:
        """DELETE the session and stop the media."""
        try:
            await self.session.close()
        finally:
            self.media.stop()


class Bots:
    """A group of bots in one channel, joining and leaving individually."""

    def __init__(
        self,
        server_url: str,
        *,
        app_id: str = SANDBOX_APP_ID,
        channel: str = DEMO_CHANNEL,
        options: BotOptions | None = None,
        token_for: TokenFor | None = None,
        client: httpx.AsyncClient,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.app_id = app_id
        self.channel = channel
        self.options = options or BotOptions()
        self.clock = SyntheticClock()
        self._keys = self.options.keys()
        self._token_for = token_for
        self._client = client
        self._bots: dict[int, Bot] = {}

    @property
    def uids(self) -> list[int]:
        """The uids in the channel now, in joining order."""
        return list(self._bots)

    def bot(self, uid: int) -> Bot:
        """The joined bot ``uid`` (``KeyError`` if it is not in the channel)."""
        return self._bots[uid]

    def url_for(self, uid: int) -> str:
        """The WHIP endpoint ``uid`` publishes to."""
        params = {"role": self.options.role}
        if self.options.channel_type:
            params["channel_type"] = self.options.channel_type
        if self.options.encryption is not DecryptionMode.NONE:
            params["encryption"] = self.options.encryption.name.lower()
        # Path segments percent-encoded: a channel name may hold '#', '?', '%' or spaces.
        app, channel = quote(self.app_id, safe=""), quote(self.channel, safe="")
        url = httpx.URL(f"{self.server_url}/whip/{app}/{channel}/{uid}")
        return str(url.copy_merge_params(params))

    async def join(self, uid: int) -> Bot:
        """Publish ``uid`` and wait until its media flows; raise ``WhipError`` if refused."""
        if uid in self._bots:
            raise InvalidParameterError("uid", uid, "a uid not already joined by this group")
        o = self.options
        media = synthetic_media(
            uid, size=o.size, fps=o.fps, low_stream=o.low_stream, clock=self.clock
        )
        try:
            session = await publish(
                self.url_for(uid),
                token=self._token_for(uid) if self._token_for else None,
                audio=media.audio,
                video=media.video,
                low_video=media.low_video,
                video_codec=o.codec,
                client=self._client,
                encryption=self._keys,
            )
        except BaseException:
            media.stop()
            raise
        bot = Bot(uid, media, session)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await session.wait_connected()
        except BaseException as exc:
            await bot.leave()
            if isinstance(exc, TimeoutError):
                raise WhipError(0, f"uid {uid}: no media connection", session.location) from exc
            raise
        self._bots[uid] = bot
        return bot

    async def leave(self, uid: int) -> None:
        """Make ``uid`` leave the channel (DELETE); ``KeyError`` if it is not there."""
        await self._bots.pop(uid).leave()

    async def join_all(self, uids: Iterable[int]) -> list[Bot]:
        """Join several uids at once; if any fails, the others leave again and it raises."""
        wanted = list(uids)
        results = await asyncio.gather(*(self.join(u) for u in wanted), return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            for uid, result in zip(wanted, results, strict=True):
                if isinstance(result, Bot):
                    await self.leave(uid)
            raise failure
        return [r for r in results if isinstance(r, Bot)]

    async def close(self) -> None:
        """Make every bot leave."""
        bots, self._bots = list(self._bots.values()), {}
        await asyncio.gather(*(b.leave() for b in bots), return_exceptions=True)


@contextlib.asynccontextmanager
async def run_bots(
    server_url: str,
    *,
    app_id: str = SANDBOX_APP_ID,
    channel: str = DEMO_CHANNEL,
    uids: Iterable[int] = (1001, 1002, 1003),
    size: tuple[int, int] = (320, 240),
    fps: int = 15,
    low_stream: bool = True,
    role: str = "host",
    channel_type: str | None = None,
    codec: str = "VP8",
    token_for: TokenFor | None = None,
    client: httpx.AsyncClient | None = None,
    encryption: DecryptionMode = DecryptionMode.NONE,
    secret: str | None = None,
) -> AsyncIterator[Bots]:
    """Join ``uids`` to ``channel`` on the server at ``server_url`` (its base URL).

    Yields the :class:`Bots` once every bot's media flows; on exit every bot still
    in the channel leaves. ``token_for(uid)`` gives each bot's token (``None``: none).
    With ``encryption`` and ``secret`` the bots encrypt their frames end to end.
    """
    options = BotOptions(
        size, fps, low_stream, role, channel_type, codec, DecryptionMode(encryption), secret
    )
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=httpx.Timeout(10.0)))
        bots = Bots(
            server_url,
            app_id=app_id,
            channel=channel,
            options=options,
            token_for=token_for,
            client=client,
        )
        stack.push_async_callback(bots.close)
        await bots.join_all(uids)
        yield bots
