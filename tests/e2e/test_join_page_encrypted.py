"""The join page encrypts end to end in headless Chromium, and the recorder decrypts it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.channel.e2ee import Codec, E2eeKeys, FrameEncryptor
from core.config import RecordingConfig, TranscodingConfig
from core.enums import SANDBOX_APP_ID, DecryptionMode
from core.media.recorder import Recorder, RecorderEvent, RecorderFailure, RecorderStatus
from core.participants.analysis import decode_audio, iter_video, playlist_slices
from core.storage.local import LocalFolderDestination
from core.storage.playlist_writer import PlaylistWriter
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, require_browser

SECRET = "browser secret 42"
SALT = bytes([1, 2, 3, 4])

pytestmark = pytest.mark.browser


async def launch(pw: Any) -> Any:
    return await pw.chromium.launch(executable_path=CHROMIUM, headless=False, args=CHROMIUM_ARGS)


FRAMES = [
    (
        "VP8",
        bytes([0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0xA0, 0x00, 0x78, 0x00]) + bytes(range(200)),
    ),
    ("VP8", bytes([0x31, 0x02, 0x00]) + bytes(range(7))),
    ("OPUS", bytes([0xFC]) + bytes(range(100, 180))),
    ("OPUS", b""),
    (
        "H264",
        b"\x00\x00\x00\x01\x67"
        + bytes(20)
        + b"\x00\x00\x01\x68\xce\x3c\x80"
        + b"\x00\x00\x00\x01\x65"
        + bytes(range(256)) * 3,
    ),
]

JS_ENCRYPT = """async ([mode, secret, salt, frames]) => {
  const E = window.cloudrecE2ee;
  const hex = (h) => Uint8Array.from((h.match(/../g) || []).map((x) => parseInt(x, 16)));
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const keys = await E.deriveKeys(mode, secret);
  const encryptor = E.createEncryptor(keys, { salt });
  const out = [];
  for (const [codec, frame] of frames) out.push(toHex(await encryptor.encrypt(codec, hex(frame))));
  return out;
}"""

JS_VECTORS = """() => {
  const E = window.cloudrecE2ee;
  const hex = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
  const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const pt = new Uint8Array(64).map((_, i) => i);
  return {
    aes128: toHex(E.encryptBlock(E.expandKey(hex("000102030405060708090a0b0c0d0e0f")),
                                 hex("00112233445566778899aabbccddeeff"))),
    aes256: toHex(E.encryptBlock(E.expandKey(hex("000102030405060708090a0b0c0d0e0f"
                                                 + "101112131415161718191a1b1c1d1e1f")),
                                 hex("00112233445566778899aabbccddeeff"))),
    xts256: toHex(E.xtsEncrypt(
      E.expandKey(hex("2718281828459045235360287471352662497757247093699959574966967627")),
      E.expandKey(hex("3141592653589793238462643383279502884197169399375105820974944592")),
      hex("ff000000000000000000000000000000"), pt)),
  };
}"""


async def test_join_page_encryption_matches_python(channel_server: Any) -> None:
    api = require_browser()
    async with api.async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page()
            await page.goto(f"{channel_server.url}/join")
            vectors = await page.evaluate(JS_VECTORS)
            assert vectors == {
                "aes128": "69c4e0d86a7b0430d8cdb78070b4c55a",  # FIPS-197 C.1
                "aes256": "8ea2b7ca516745bfeafc49904b496089",  # FIPS-197 C.3
                "xts256": "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
                "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd",  # IEEE 1619 #10
            }
            for mode in (
                DecryptionMode.AES_128_XTS,
                DecryptionMode.AES_128_ECB,
                DecryptionMode.AES_256_XTS,
            ):
                frames = [[codec, data.hex()] for codec, data in FRAMES]
                js = await page.evaluate(
                    JS_ENCRYPT, [mode.name.lower(), SECRET, list(SALT), frames]
                )
                encryptor = FrameEncryptor(E2eeKeys.derive(mode, SECRET), salt=SALT)
                python = [encryptor.encrypt(Codec(codec), data).hex() for codec, data in FRAMES]
                assert js == python, mode.name
        finally:
            await browser.close()


@pytest.mark.parametrize("api_name", ["insertable-streams", "script-transform"])
async def test_encrypted_join_page_is_recorded(
    channel_server: Any, tmp_path: Path, api_name: str
) -> None:
    """Chromium has both encoded-transform APIs; the page prefers the insertable streams
    (createEncodedStreams) and takes RTCRtpScriptTransform (a worker) without them."""
    api = require_browser()
    mode = DecryptionMode.AES_128_XTS
    events: list[RecorderEvent] = []
    config = RecordingConfig(
        decryption_mode=mode,
        secret=SECRET,
        transcoding_config=TranscodingConfig(width=320, height=180, fps=15, bitrate=300),
    )
    out = tmp_path / "out"
    recorder = Recorder(
        channel_server.registry,
        SANDBOX_APP_ID,
        "encweb",
        4_000_000_009,
        "sidweb",
        config,
        PlaylistWriter(LocalFolderDestination(out), "sidweb_encweb.m3u8", target_duration=2),
        tmp_path / "work",
        slice_seconds=2,
        events=events.append,
    )
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "encweb")
    async with api.async_playwright() as pw:
        browser = await launch(pw)
        try:
            page = await browser.new_page()
            await page.goto(
                f"{channel_server.url}/join?channel=encweb&uid=88&encryption=aes_128_xts"
            )
            await page.wait_for_function(
                "document.getElementById('camera').options.length > 1"
                " && document.getElementById('microphone').options.length > 1"
            )
            assert await page.input_value("#encryption") == "aes_128_xts"
            if api_name == "script-transform":
                await page.evaluate("delete RTCRtpSender.prototype.createEncodedStreams")
            await page.fill("#secret", SECRET)
            await page.click("#join")
            async with asyncio.timeout(15):
                while channel.publisher(88) is None:
                    await asyncio.sleep(0.05)
            publisher = channel.publisher(88)
            assert publisher is not None and publisher.encrypted
            await page.wait_for_function(
                "document.getElementById('status').textContent.startsWith('Publishing')"
            )
            await recorder.start()
            started = time.monotonic()
            await asyncio.sleep(6)
            await recorder.stop()
            await page.click("#leave")
        finally:
            await browser.close()
    assert recorder.status is RecorderStatus.STOPPED
    assert not [e for e in events if isinstance(e, RecorderFailure)], events
    paths = [p for p, _ in playlist_slices(out / "sidweb_encweb.m3u8")]
    frames = [image for t, image in iter_video(paths)]
    assert len(frames) >= 60
    # The fake camera's moving picture fills the canvas (one user: FLOAT, full size).
    late = frames[-30:]
    assert all(float(image.std()) > 20 for image in late), [float(i.std()) for i in late]
    assert float(np.abs(late[-1].astype(int) - late[0].astype(int)).mean()) > 1  # it moves
    audio = decode_audio(paths)
    assert audio is not None and float(np.abs(audio.samples).max()) > 0.05
    print(f"recorded {time.monotonic() - started:.1f} s of an encrypted browser publisher")
