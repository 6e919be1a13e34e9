"""Images for layouts, served over real HTTP on 127.0.0.1 (background images of
docs/rest-api.md): each path answers what :attr:`ImageServer.routes` holds for it
(status, body, content type); anything else is 404. PNGs and JPEGs are encoded by
FFmpeg (PyAV) from numpy pictures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.helpers import serve_in_thread


def encode_image(rgb: npt.NDArray[np.uint8], kind: str = "png") -> bytes:
    """``rgb`` (height x width x 3) as a PNG or a JPEG file."""
    codec, pixel_format = {"png": ("png", "rgb24"), "jpg": ("mjpeg", "yuvj420p")}[kind]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    context = av.CodecContext.create(codec, "w")
    context.width, context.height = frame.width, frame.height
    context.pix_fmt = pixel_format
    context.time_base = Fraction(1, 25)
    if kind == "jpg":
        context.options = {"qmin": "1", "qmax": "2"}  # near lossless: colours measurable
    packets = context.encode(frame.reformat(format=pixel_format)) + context.encode(None)
    return b"".join(bytes(p) for p in packets)


def halves(
    left: tuple[int, int, int], right: tuple[int, int, int], size: tuple[int, int]
) -> npt.NDArray[np.uint8]:
    """A picture whose left half is one colour and right half another."""
    width, height = size
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[:, : width // 2] = left
    rgb[:, width // 2 :] = right
    return rgb


@dataclass
class ImageServer:
    """What each path answers, and the paths asked for."""

    url: str = ""
    routes: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def add(self, path: str, body: bytes, *, status: int = 200, kind: str = "image/png") -> str:
        """Serve ``body`` at ``path``; its URL."""
        self.routes[path] = (status, body, kind)
        return f"{self.url}{path}"

    async def _answer(self, request: Request) -> Response:
        path = request.url.path
        self.asked.append(path)
        status, body, kind = self.routes.get(path, (404, b"not found", "text/plain"))
        headers = {"Location": f"{self.url}/elsewhere.png"} if 300 <= status < 400 else None
        return Response(body, status_code=status, media_type=kind, headers=headers)


@contextlib.contextmanager
def image_server() -> Iterator[ImageServer]:
    """An :class:`ImageServer` listening on 127.0.0.1 until the block ends."""
    server = ImageServer()
    app = Starlette(routes=[Route("/{path:path}", server._answer)])
    with serve_in_thread(app) as url:
        server.url = url
        yield server
