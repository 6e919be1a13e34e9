"""Background images of the mixed layout: fetched once, checked, decoded, cached.

Agora's ``transcodingConfig`` (and ``updateLayout``) name images by URL:
``backgroundImage`` (the canvas), ``defaultUserBackgroundImage`` and
``backgroundConfig[].image_url`` (a user's window while it shows no video). The server
fetches each URL when the call that names it arrives, before it answers, so a URL that
cannot be fetched or is not an image is a 400 naming the field and the URL, and
nothing is recorded with a wrong picture. The renderer never waits for the network: it
gets decoded frames.

Checks (docs/rest-api.md, "Background images"):

- ``http`` or ``https``; the host must be one the server may call: a host the operator
  allows (``cloudrec server --allow-endpoint``, as for S3 endpoints), or one whose every
  address is a global (public) one, so a REST client cannot make the server fetch from
  its own loopback or private network (docs/security.md, "Confinement").
- At most :data:`MAX_IMAGE_BYTES`, answered within :data:`FETCH_TIMEOUT` seconds, with
  status 200; redirects are not followed (the target would escape the host check).
- The bytes are a JPEG or a PNG (their signatures), that FFmpeg decodes, of at most
  :data:`MAX_IMAGE_SIDE` pixels a side.

Decoded images are kept by URL (the :data:`CACHED_IMAGES` most recently used), so a
recording that names the same image at start and in each ``updateLayout`` fetches it
once.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
from collections import OrderedDict
from collections.abc import Callable

import av
import httpx

from core.config import TranscodingConfig
from core.errors import InvalidParameterError
from core.media.compositor import Backgrounds

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_SIDE = 4096
FETCH_TIMEOUT = 10.0
CACHED_IMAGES = 32

_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
_DEFAULT_PORTS = {"http": 80, "https": 443}

IMAGE_ALLOWED = (
    f"the http(s) URL of a JPEG or PNG image of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB "
    f"and {MAX_IMAGE_SIDE} pixels a side, on a public host or one the server's operator "
    "allows (cloudrec server --allow-endpoint)"
)


class ImageError(Exception):
    """Why an image URL cannot be used (the reason, without the URL)."""


class ImageStore:
    """Fetches, checks and decodes background images; keeps the latest by URL."""

    def __init__(
        self,
        host_allowed: Callable[[str, int], bool],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._host_allowed = host_allowed
        self._transport = transport
        self._cache: OrderedDict[str, av.VideoFrame] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0
        """Fetches made (a cached URL is not fetched again)."""

    async def image(self, field: str, url: str) -> av.VideoFrame:
        """The decoded image at ``url``; :class:`InvalidParameterError` naming ``field``,
        the URL and why when it cannot be used."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            cached = self._cache.get(url)
            if cached is not None:
                self._cache.move_to_end(url)
                return cached
            try:
                frame = await self._fetch(url)
            except ImageError as exc:
                raise InvalidParameterError(field, url, f"{IMAGE_ALLOWED}: {exc}") from None
            finally:
                self._locks.pop(url, None)
            self._cache[url] = frame
            while len(self._cache) > CACHED_IMAGES:
                self._cache.popitem(last=False)
            return frame

    async def _fetch(self, url: str) -> av.VideoFrame:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError):
            raise ImageError("not a URL") from None
        if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
            raise ImageError("not an http or https URL")
        host = parsed.host.lower()
        port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
        if not self._host_allowed(host, port) and not await _public(host, port):
            raise ImageError("its host is not a public one and not allowed by the operator")
        self.fetches += 1
        try:
            async with (
                httpx.AsyncClient(
                    transport=self._transport, timeout=FETCH_TIMEOUT, follow_redirects=False
                ) as client,
                client.stream("GET", parsed) as answer,
            ):
                if answer.status_code != 200:
                    raise ImageError(f"the host answered {answer.status_code}")
                data = bytearray()
                async for chunk in answer.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_IMAGE_BYTES:
                        raise ImageError(f"it is larger than {MAX_IMAGE_BYTES} bytes")
        except httpx.HTTPError as exc:
            raise ImageError(f"it cannot be fetched ({type(exc).__name__})") from None
        return await asyncio.to_thread(decode_image, bytes(data))


def decode_image(data: bytes) -> av.VideoFrame:
    """A JPEG or PNG as a frame; :class:`ImageError` if it is neither or does not decode."""
    if not any(data.startswith(signature) for signature in _SIGNATURES):
        raise ImageError("it is not a JPEG or PNG image")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if max(width, height) > MAX_IMAGE_SIDE:
                raise ImageError(f"it is {width}x{height} pixels")
            frame = next(container.decode(stream))
    except (av.FFmpegError, IndexError, StopIteration, ValueError):
        raise ImageError("it does not decode as an image") from None
    if frame.width < 2 or frame.height < 2:
        raise ImageError(f"it is {frame.width}x{frame.height} pixels")
    # one conversion now, so the renderer scales from a plain format
    return frame.reformat(format="rgb24")


async def _public(host: str, port: int) -> bool:
    """True when every address ``host`` resolves to is a global one."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(str(address).split("%")[0]).is_global for address in addresses
    )


async def backgrounds_of(
    config: TranscodingConfig, store: ImageStore, prefix: str = ""
) -> Backgrounds:
    """The images ``config`` names, fetched (or taken from the cache) and decoded;
    :class:`InvalidParameterError` naming the first that cannot be used (its wire
    field after ``prefix``)."""
    frames = {
        field: await store.image(prefix + field, url) for field, url in config.image_urls.items()
    }
    return Backgrounds(
        canvas=frames.get("backgroundImage"),
        default_user=frames.get("defaultUserBackgroundImage"),
        users={
            item.uid: (frames[f"backgroundConfig[{i}].image_url"], item.render_mode)
            for i, item in enumerate(config.background_config)
        },
    )
