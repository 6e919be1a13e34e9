"""End-to-end frame encryption: the scheme, aiortc's encoders with it, the channel's pass-through."""

from __future__ import annotations

import argparse
import asyncio
import fractions
import itertools
import os
import random
import sys
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from aiortc.codecs.h264 import H264Encoder, h264_depayload
from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload

from core.channel.e2ee import (
    MIN_UNIT_OVERHEAD,
    Codec,
    DecryptError,
    E2eeKeys,
    FrameDecryptor,
    FrameEncryptor,
    escape,
    split_annexb,
    unescape,
)
from core.channel.streams import EncodedFrame
from core.commands.bots import SECRET_ENV, add_arguments, run
from core.enums import SANDBOX_APP_ID, DecryptionMode
from core.errors import InvalidParameterError
from core.participants.bots import BotOptions, run_bots
from core.participants.e2ee_sender import encrypting_encoder
from core.participants.synthetic import render_tile, uid_colour

MODES = [DecryptionMode.AES_128_XTS, DecryptionMode.AES_128_ECB, DecryptionMode.AES_256_XTS]
SECRET = "correct horse battery"


def annexb(*nals: bytes) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + nal for nal in nals)


# --- the cipher against IEEE 1619 ---------------------------------------------------

PTX_512 = bytes(range(256)) * 2
IEEE_1619 = [
    # (vector, key1 | key2, tweak (first 8 bytes; the rest is zero), plaintext, ciphertext)
    (
        2,
        "11" * 16 + "22" * 16,
        "3333333333000000",
        bytes.fromhex("44" * 32),
        "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0",
    ),
    (
        3,
        "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" + "22" * 16,
        "3333333333000000",
        bytes.fromhex("44" * 32),
        "af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89",
    ),
    (
        4,
        "2718281828459045235360287471352631415926535897932384626433832795",
        "0000000000000000",
        PTX_512[:64],
        "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c"
        "c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412",
    ),
    (
        10,
        "2718281828459045235360287471352662497757247093699959574966967627"
        "3141592653589793238462643383279502884197169399375105820974944592",
        "ff00000000000000",
        PTX_512[:64],
        "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
        "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd",
    ),
]


@pytest.mark.parametrize(("vector", "key", "tweak", "plain", "cipher"), IEEE_1619)
def test_xts_is_ieee_1619(vector: int, key: str, tweak: str, plain: bytes, cipher: str) -> None:
    """The XTS the scheme uses (key = data key | tweak key, tweak = iv | 0^8) is IEEE 1619's."""
    raw = bytes.fromhex(key)
    mode = DecryptionMode.AES_128_XTS if len(raw) == 32 else DecryptionMode.AES_256_XTS
    keys = E2eeKeys(mode, raw, bytes(32))
    encryptor = keys._cipher(bytes.fromhex(tweak)).encryptor()
    assert (encryptor.update(plain) + encryptor.finalize()).hex() == cipher, vector


def test_keys_per_mode() -> None:
    keys = {mode: E2eeKeys.derive(mode, SECRET) for mode in MODES}
    assert [len(k.cipher_key) for k in keys.values()] == [32, 16, 64]
    assert all(len(k.mac_key) == 32 for k in keys.values())
    # Each mode derives unrelated keys from the same secret (info = the mode's name).
    assert len({k.cipher_key[:16] for k in keys.values()}) == 3
    assert E2eeKeys.derive(MODES[0], SECRET) == keys[MODES[0]]
    assert E2eeKeys.derive(MODES[0], SECRET + "!") != keys[MODES[0]]
    for k in keys.values():
        assert SECRET not in repr(k) and k.cipher_key.hex() not in repr(k)
    with pytest.raises(ValueError):
        E2eeKeys.derive(DecryptionMode.NONE, SECRET)


# --- frames -------------------------------------------------------------------------


def vp8_frame(keyframe: bool, size: int) -> bytes:
    tag = bytes([0x10 if keyframe else 0x11])  # bit 0: 0 = key frame
    return (tag + os.urandom(max(0, size - 1)))[:size]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 9, 10, 11, 15, 16, 17, 31, 32, 33, 1500, 20000])
def test_round_trip_every_codec_and_length(mode: DecryptionMode, size: int) -> None:
    keys = E2eeKeys.derive(mode, SECRET)
    encryptor, decryptor = FrameEncryptor(keys), FrameDecryptor(keys)
    frames = {
        (Codec.VP8, "key"): vp8_frame(True, size),
        (Codec.VP8, "delta"): vp8_frame(False, size),
        (Codec.OPUS, ""): os.urandom(size),
    }
    for (codec, _), frame in frames.items():
        sealed = encryptor.encrypt(codec, frame)
        # One to sixteen bytes of padding, the trailer: no frame is too short to encrypt.
        assert MIN_UNIT_OVERHEAD - 15 <= len(sealed) - len(frame) <= MIN_UNIT_OVERHEAD
        assert decryptor.decrypt(codec, sealed) == frame
    # valid NAL units, escaped as an encoder writes them: unescaped, the zeros and the
    # random bytes can hold a start code of their own (a loaded run drew one at 20000)
    nals = [
        b"\x67" + escape(bytes(size)),
        b"\x68" + escape(os.urandom(size)),
        b"\x65" + escape(os.urandom(size)),
    ]
    frame = annexb(*nals)
    assert decryptor.decrypt(Codec.H264, encryptor.encrypt(Codec.H264, frame)) == frame


def test_clear_headers_stay_readable() -> None:
    """Packetisers and keyframe detection read only bytes that stay clear."""
    keys = E2eeKeys.derive(DecryptionMode.AES_128_XTS, SECRET)
    encryptor = FrameEncryptor(keys)
    key, delta, opus = vp8_frame(True, 500), vp8_frame(False, 500), os.urandom(80)
    sealed_key = encryptor.encrypt(Codec.VP8, key)
    assert sealed_key[:10] == key[:10] and sealed_key[10:26] != key[10:26]
    sealed_delta = encryptor.encrypt(Codec.VP8, delta)
    assert sealed_delta[:3] == delta[:3] and sealed_delta[3:19] != delta[3:19]
    assert encryptor.encrypt(Codec.OPUS, opus)[:1] == opus[:1]
    # Each unit ends in its tag, 0xA0 | mode.
    assert sealed_key[-1] == 0xA1 and encryptor.encrypt(Codec.OPUS, b"")[-1] == 0xA1

    # H.264: same NAL units, same headers, no start code inside an encrypted NAL unit,
    # also when the plaintext is full of zeros (emulation prevention). The plaintext is a
    # valid NAL unit, escaped as an encoder writes it: unescaped random bytes would hold
    # a start code of their own (1 run in 256: the first random byte 0x01 after zeros).
    nals = [
        b"\x67" + escape(bytes(40)),
        b"\x68\xce\x3c\x80",
        b"\x65" + escape(bytes(3000) + os.urandom(3000)),
    ]
    sealed = encryptor.encrypt(Codec.H264, annexb(*nals))
    split = list(H264Encoder._split_bitstream(sealed))
    assert [n[:1] for n in split] == [n[:1] for n in nals]
    assert list(split_annexb(sealed)) == split


def test_escape_never_leaves_a_start_code() -> None:
    rng = random.Random(7)
    cases = [bytes(rng.choice([0, 0, 0, 1, 2, 3, 4, 0xFF]) for _ in range(64)) for _ in range(500)]
    for data in [b"", b"\x00\x00", b"\x00\x00\x00", b"\x00\x00\x03", *cases]:
        escaped = escape(data)
        assert unescape(escaped) == data
        assert not any(b"\x00\x00" + bytes([x]) in escaped for x in range(3))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_secret_mode_mismatch_and_plain_frames_are_told_apart(mode: DecryptionMode) -> None:
    keys = E2eeKeys.derive(mode, SECRET)
    sealed = FrameEncryptor(keys).encrypt(Codec.VP8, vp8_frame(True, 300))

    with pytest.raises(DecryptError) as wrong:
        FrameDecryptor(E2eeKeys.derive(mode, "not the secret")).decrypt(Codec.VP8, sealed)
    assert wrong.value.reason == DecryptError.BAD_KEY
    assert str(wrong.value) == f"frames do not decrypt with {mode.name} and this secret"

    other = next(m for m in MODES if m is not mode)
    with pytest.raises(DecryptError) as mismatch:
        FrameDecryptor(E2eeKeys.derive(other, SECRET)).decrypt(Codec.VP8, sealed)
    assert mismatch.value.reason == DecryptError.MODE_MISMATCH
    assert mismatch.value.found is mode
    assert f"encrypted with {mode.name}, not {other.name}" in str(mismatch.value)

    with pytest.raises(DecryptError) as plain:
        FrameDecryptor(keys).decrypt(Codec.VP8, vp8_frame(True, 300)[:-1] + b"\x00")
    assert plain.value.reason == DecryptError.NOT_ENCRYPTED

    tampered = bytearray(sealed)
    tampered[20] ^= 1
    with pytest.raises(DecryptError) as damaged:
        FrameDecryptor(keys).decrypt(Codec.VP8, bytes(tampered))
    assert damaged.value.reason == DecryptError.BAD_KEY
    for error in (wrong, mismatch, plain, damaged):
        assert SECRET not in str(error.value)


def test_same_frame_encrypts_differently() -> None:
    """XTS tweaks and MACs change with every unit (iv = salt | counter)."""
    keys = E2eeKeys.derive(DecryptionMode.AES_128_XTS, SECRET)
    encryptor = FrameEncryptor(keys)
    frame = vp8_frame(False, 200)
    a, b = encryptor.encrypt(Codec.VP8, frame), encryptor.encrypt(Codec.VP8, frame)
    assert a[3:19] != b[3:19]
    assert FrameEncryptor(keys).encrypt(Codec.VP8, frame) != a  # another random salt


def test_bot_options_never_show_the_secret() -> None:
    options = BotOptions(encryption=DecryptionMode.AES_128_ECB, secret=SECRET)
    assert SECRET not in repr(options)
    assert options.keys() == E2eeKeys.derive(DecryptionMode.AES_128_ECB, SECRET)
    with pytest.raises(InvalidParameterError) as short:
        BotOptions(encryption=DecryptionMode.AES_128_ECB, secret="short")
    assert "short" not in short.value.message
    with pytest.raises(InvalidParameterError):
        BotOptions(encryption=DecryptionMode.AES_256_XTS)


# --- aiortc's encoders with encryption ---------------------------------------------


def tile_frame(pts: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(render_tile(5, (160, 120)), format="rgb24")
    frame = frame.reformat(format="yuv420p")
    frame.pts, frame.time_base = pts, fractions.Fraction(1, 90_000)
    return frame


@pytest.mark.parametrize(
    ("codec", "depayload", "decoder"),
    [("VP8", vp8_depayload, "libvpx"), ("H264", h264_depayload, "h264")],
)
def test_encrypting_video_encoder_round_trip(codec: str, depayload: object, decoder: str) -> None:
    """Encode + seal + packetise as the sender does, then depacketise, open and decode."""
    keys = E2eeKeys.derive(DecryptionMode.AES_256_XTS, SECRET)
    encoder = encrypting_encoder(codec, keys)
    decryptor = FrameDecryptor(keys)
    context = av.CodecContext.create(decoder, "r")
    pictures = []
    for i in range(6):
        payloads, _ = encoder.encode(tile_frame(i * 6000), force_keyframe=i == 3)
        data = b"".join(depayload(p) for p in payloads)  # type: ignore[operator]
        plain = decryptor.decrypt(Codec.of(codec), data)
        pictures += context.decode(av.Packet(plain))
    assert len(pictures) >= 5
    rgb = pictures[-1].to_ndarray(format="rgb24")
    assert np.abs(np.median(rgb.reshape(-1, 3), axis=0) - uid_colour(5)).max() < 12
    assert isinstance(encoder, Vp8Encoder | H264Encoder)


def test_encrypting_opus_encoder_round_trip() -> None:
    keys = E2eeKeys.derive(DecryptionMode.AES_128_ECB, SECRET)
    encoder = encrypting_encoder("opus", keys)
    decryptor = FrameDecryptor(keys)
    context = av.AudioCodecContext.create("libopus", "r")
    t = np.arange(960 * 10) / 48_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    decoded = []
    for i in range(10):
        frame = av.AudioFrame.from_ndarray(
            tone[i * 960 : (i + 1) * 960].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = 48_000, i * 960
        payloads, _ = encoder.encode(frame)
        for payload in payloads:
            assert payload[-1] == 0xA2
            decoded += context.decode(av.Packet(decryptor.decrypt(Codec.OPUS, payload)))
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in decoded[3:]])
    assert 0.1 < np.abs(samples).max() / 32768 < 0.5


# --- the channel forwards encrypted frames ------------------------------------------


async def test_channel_passes_encrypted_frames_through(channel_server: object) -> None:
    channel = channel_server.registry.channel(SANDBOX_APP_ID, "opaque")  # type: ignore[attr-defined]
    sub = channel.subscribe(9001)
    try:
        async with run_bots(
            channel_server.url,  # type: ignore[attr-defined]
            channel="opaque",
            uids=[11],
            size=(160, 120),
            encryption=DecryptionMode.AES_128_XTS,
            secret=SECRET,
        ):
            (info,) = [p for p in channel.participants() if p.uid == 11]
            assert info.encryption == "aes_128_xts" and info.has_low_video
            video, audio = sub.video(11), sub.audio(11)
            assert video is not None and audio is not None
            async with asyncio.timeout(10):
                frames = [await anext(video) for _ in range(20)]
                sound = await anext(audio)
            encoded = [rf.frame for rf in frames]
            assert all(isinstance(f, EncodedFrame) and f.codec == "VP8" for f in encoded)
            assert isinstance(sound.frame, EncodedFrame) and sound.frame.codec == "OPUS"
            # The subscription asked for a keyframe: one arrives soon after the first frame.
            assert any(f.keyframe for f in encoded)  # type: ignore[union-attr]
            decryptor = FrameDecryptor(E2eeKeys.derive(DecryptionMode.AES_128_XTS, SECRET))
            for f in encoded:
                assert f.data[-1] == 0xA1  # type: ignore[union-attr]
                decryptor.decrypt(Codec.VP8, f.data)  # type: ignore[union-attr]
            times = [rf.time for rf in frames]
            assert all(b > a for a, b in itertools.pairwise(times))

            async with httpx.AsyncClient() as client:
                roster = (
                    await client.get(f"{channel_server.url}/channels/{SANDBOX_APP_ID}/opaque")
                ).json()  # type: ignore[attr-defined]
                assert roster["users"][0]["encryption"] == "aes_128_xts"
                bad = await client.post(
                    channel_server.whip_url("opaque", 12, encryption="aes_512"),  # type: ignore[attr-defined]
                    content=b"v=0\r\n",
                    headers={"Content-Type": "application/sdp"},
                )
                assert bad.status_code == 400 and "encryption='aes_512'" in bad.text
    finally:
        await sub.close()


# --- cloudrec bots --encryption-mode ------------------------------------------------

REPO = Path(__file__).resolve().parents[3]


def test_command_needs_a_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).encryption_mode is DecryptionMode.NONE
    assert parser.parse_args(["--encryption-mode", "AES_128_ECB"]).encryption_mode is (
        DecryptionMode.AES_128_ECB
    )
    assert run(parser.parse_args(["--encryption-mode", "aes_128_xts"])) == 2
    assert "secret" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["--encryption-mode", "rot13"])
    assert "rot13" in capsys.readouterr().err


async def test_command_encrypts_with_the_secret_from_the_environment(
    channel_server: object,
) -> None:
    command = [sys.executable, "-m", "core.cli", "bots", "--server", channel_server.url]  # type: ignore[attr-defined]
    command += ["--channel", "clienc", "--users", "1", "--size", "160x120", "--no-low-stream"]
    command += ["--encryption-mode", "aes_256_xts", "--duration", "3"]
    env = {**os.environ, "PYTHONWARNINGS": "error", SECRET_ENV: SECRET}
    room = channel_server.registry.channel(SANDBOX_APP_ID, "clienc")  # type: ignore[attr-defined]
    sub = room.subscribe(4243)
    process = await asyncio.create_subprocess_exec(
        *command, cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(20):
            while (publisher := room.publisher(1001)) is None:
                await asyncio.sleep(0.05)
        assert publisher.encryption is DecryptionMode.AES_256_XTS
        video = sub.video(1001)
        assert video is not None
        decryptor = FrameDecryptor(E2eeKeys.derive(DecryptionMode.AES_256_XTS, SECRET))
        async with asyncio.timeout(10):
            frame = (await anext(video)).frame
        assert isinstance(frame, EncodedFrame)
        decryptor.decrypt(Codec.VP8, frame.data)
        async with asyncio.timeout(20):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert "encrypted with AES_256_XTS" in out.decode()
        assert SECRET not in out.decode() + err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await sub.close()
