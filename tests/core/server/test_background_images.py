"""Background images (docs/rest-api.md, "Background images"): fetched over real HTTP on
127.0.0.1, checked (status, size, JPEG/PNG, decodable, host), decoded, cached; a URL
that cannot be used is an error naming the field and the URL."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import core.server.images as images_module
from core.config import TranscodingConfig
from core.errors import InvalidParameterError
from core.server.images import ImageStore, backgrounds_of
from tests.image_server import ImageServer, encode_image, halves, image_server

RED, BLUE = (220, 0, 0), (0, 0, 220)


@pytest.fixture
def served() -> Iterator[ImageServer]:
    with image_server() as server:
        yield server


def loopback(host: str, port: int) -> bool:
    return host == "127.0.0.1"


async def test_an_image_is_fetched_once_decoded_and_kept(served: ImageServer) -> None:
    url = served.add("/red-blue.png", encode_image(halves(RED, BLUE, (64, 48))))
    store = ImageStore(loopback)
    frame = await store.image("backgroundImage", url)
    rgb = frame.to_ndarray(format="rgb24")
    assert (frame.width, frame.height) == (64, 48)
    assert tuple(rgb[10, 5]) == RED and tuple(rgb[10, 60]) == BLUE
    again = await store.image("backgroundImage", url)
    assert again is frame and store.fetches == 1 and served.asked == ["/red-blue.png"]
    jpeg = served.add(
        "/red.jpg", encode_image(halves(RED, RED, (32, 32)), "jpg"), kind="image/jpeg"
    )
    decoded = (await store.image("backgroundImage", jpeg)).to_ndarray(format="rgb24")
    assert np.abs(decoded[16, 16].astype(int) - RED).max() <= 8


@pytest.mark.parametrize(
    ("body", "status", "why"),
    [
        (b"not found", 404, "the host answered 404"),
        (b"<html>an error page</html>", 200, "it is not a JPEG or PNG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 200, "it does not decode as an image"),
        (b"", 302, "the host answered 302"),  # redirects are not followed
    ],
)
async def test_a_url_that_is_not_a_usable_image_is_named_with_why(
    served: ImageServer, body: bytes, status: int, why: str
) -> None:
    url = served.add("/picture.png", body, status=status)
    with pytest.raises(InvalidParameterError) as raised:
        await ImageStore(loopback).image("backgroundImage", url)
    error = raised.value
    assert error.field == "backgroundImage" and error.value == url
    assert error.allowed.endswith(f": {why}"), error.allowed
    assert url in str(error)


async def test_too_large_and_too_many_pixels(
    served: ImageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = served.add("/big.png", encode_image(halves(RED, BLUE, (64, 48))))
    monkeypatch.setattr(images_module, "MAX_IMAGE_BYTES", 100)
    with pytest.raises(InvalidParameterError, match="larger than 100 bytes"):
        await ImageStore(loopback).image("backgroundImage", big)
    monkeypatch.setattr(images_module, "MAX_IMAGE_BYTES", 10**6)
    monkeypatch.setattr(images_module, "MAX_IMAGE_SIDE", 60)
    with pytest.raises(InvalidParameterError, match="it is 64x48 pixels"):
        await ImageStore(loopback).image("backgroundImage", big)


async def test_loopback_is_fetched_only_when_the_operator_allows_it(served: ImageServer) -> None:
    url = served.add("/red.png", encode_image(halves(RED, RED, (8, 8))))
    with pytest.raises(InvalidParameterError, match="not a public one"):
        await ImageStore(lambda host, port: False).image("backgroundImage", url)
    assert served.asked == []  # refused before any request
    with pytest.raises(InvalidParameterError, match="cannot be fetched"):
        await ImageStore(lambda host, port: True).image(
            "backgroundImage", "http://127.0.0.1:9/x.png"
        )


async def test_a_layouts_images_by_field(served: ImageServer) -> None:
    canvas = served.add("/canvas.png", encode_image(halves(RED, BLUE, (64, 36))))
    user = served.add("/user.png", encode_image(halves(BLUE, BLUE, (16, 16))))
    config = TranscodingConfig(
        background_image=canvas,
        default_user_background_image=user,
        background_config=[{"uid": "7", "image_url": user, "render_mode": 1}],
    )
    store = ImageStore(loopback)
    backgrounds = await backgrounds_of(config, store)
    assert backgrounds.canvas is not None and backgrounds.canvas.width == 64
    assert backgrounds.default_user is backgrounds.users[7][0]  # one URL, fetched once
    assert int(backgrounds.users[7][1]) == 1 and store.fetches == 2
    missing = TranscodingConfig(background_config=[{"uid": 3, "image_url": f"{served.url}/no.png"}])
    with pytest.raises(InvalidParameterError) as raised:
        await backgrounds_of(missing, store, "recordingConfig.transcodingConfig.")
    assert raised.value.field == "recordingConfig.transcodingConfig.backgroundConfig[0].image_url"
