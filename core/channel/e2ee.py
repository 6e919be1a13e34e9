"""End-to-end frame encryption: cloudrec's frame format v1 (``docs/encryption.md``).

Publishers encrypt every encoded media frame before it is packetised; the channel
forwards the frames as they are; the recorder decrypts them before decoding. The
channel server never holds the secret.

A frame is cut into **units** (VP8 and Opus: the whole frame; H.264: each NAL unit).
Each unit becomes::

    clear | E(body | pad) | iv (8) | mac (4) | tag (1)

* ``clear``: the bytes packetisers and depacketisers read (VP8: the 10-byte key
  frame or 3-byte delta frame header; H.264: the NAL unit header; Opus: the TOC
  byte). Shorter frames keep all their bytes clear and encrypt an empty body.
* ``pad``: PKCS#7 to a multiple of 16 bytes (1..16 bytes, so even an empty body
  encrypts to one AES block: no frame is too short).
* ``E``: AES-128-XTS / AES-256-XTS with the 16-byte tweak ``iv | 0^8``, or AES-128-ECB.
* ``iv``: a random 4-byte stream salt and a 4-byte unit counter (big endian).
* ``mac``: the first 4 bytes of HMAC-SHA256(mac key, tag | iv | clear | ciphertext):
  encrypt-then-MAC, so a wrong secret is detected before anything is decrypted.
* ``tag``: ``0xA0 | mode`` (version 1 in the high nibble, the mode in the low one),
  so a mode mismatch is reported as one.

For H.264 the encrypted part of each NAL unit (``E(...) | iv | mac | tag``) is
escaped like H.264's emulation prevention (``00 00 0x`` -> ``00 00 03 0x`` for
``x <= 3``), so packetisers that split Annex-B streams at start codes still find
exactly the original NAL units.

Keys: HKDF-SHA256 over the secret's ASCII bytes, salt ``cloudrec-e2ee-v1``, info
the mode's name (``AES_128_XTS`` ...), giving the cipher key (16, 32 or 64 bytes)
followed by a 32-byte MAC key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.enums import DecryptionMode

VERSION = 1
HKDF_SALT = b"cloudrec-e2ee-v1"
BLOCK = 16
IV_BYTES = 8
MAC_BYTES = 4
TRAILER_BYTES = IV_BYTES + MAC_BYTES + 1
MIN_UNIT_OVERHEAD = BLOCK + TRAILER_BYTES
"""Bytes a unit grows by at least (an empty body still encrypts to one block)."""

VP8_KEYFRAME_CLEAR = 10
VP8_DELTA_CLEAR = 3
OPUS_CLEAR = 1
H264_NAL_HEADER = 1

CIPHER_KEY_BYTES = {
    DecryptionMode.AES_128_XTS: 32,  # two AES-128 keys: data, tweak
    DecryptionMode.AES_128_ECB: 16,
    DecryptionMode.AES_256_XTS: 64,  # two AES-256 keys: data, tweak
}
MAC_KEY_BYTES = 32

_TAG_VERSION = 0xA0
_START_CODE = b"\x00\x00\x00\x01"


class Codec(StrEnum):
    """Codecs the frame format knows, named as in SDP (upper case)."""

    VP8 = "VP8"
    H264 = "H264"
    OPUS = "OPUS"

    @classmethod
    def of(cls, name: str) -> Codec:
        """The codec called ``name`` in SDP (``vp8``, ``H264``, ``opus``)."""
        try:
            return cls(name.upper())
        except ValueError:
            raise ValueError(f"codec {name!r} cannot be encrypted: use VP8, H264 or Opus") from None


def mode_from_name(name: str) -> DecryptionMode:
    """``aes_128_xts`` (any case) or ``1`` -> :class:`DecryptionMode`; ValueError otherwise."""
    text = name.strip()
    try:
        return DecryptionMode(int(text)) if text.isdigit() else DecryptionMode[text.upper()]
    except (KeyError, ValueError):
        names = ", ".join(m.name.lower() for m in DecryptionMode)
        raise ValueError(f"encryption mode {name!r}: use one of {names}") from None


def tag_of(mode: DecryptionMode) -> int:
    """The last byte of every unit encrypted with ``mode``."""
    return _TAG_VERSION | int(mode)


class DecryptError(ValueError):
    """A unit that does not decrypt. ``reason`` says why, for the recorder's message."""

    NOT_ENCRYPTED = "not_encrypted"
    MODE_MISMATCH = "mode_mismatch"
    BAD_KEY = "bad_key"

    def __init__(self, reason: str, message: str, found: DecryptionMode | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.found = found


@dataclass(frozen=True)
class E2eeKeys:
    """The keys of one mode derived from a secret. Never shows them (or the secret)."""

    mode: DecryptionMode
    cipher_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)

    @classmethod
    def derive(cls, mode: DecryptionMode, secret: str) -> E2eeKeys:
        """HKDF-SHA256(secret, salt ``cloudrec-e2ee-v1``, info = the mode's name)."""
        mode = DecryptionMode(mode)
        if mode is DecryptionMode.NONE:
            raise ValueError("no keys for DecryptionMode.NONE")
        if not secret:
            raise ValueError(f"{mode.name} needs a secret")
        size = CIPHER_KEY_BYTES[mode]
        okm = HKDF(
            algorithm=hashes.SHA256(),
            length=size + MAC_KEY_BYTES,
            salt=HKDF_SALT,
            info=mode.name.encode(),
        ).derive(secret.encode("utf-8"))
        return cls(mode, okm[:size], okm[size:])

    @property
    def tag(self) -> int:
        """The tag byte of this mode."""
        return tag_of(self.mode)

    def _mac(self, tag: int, iv: bytes, clear: bytes, ciphertext: bytes) -> bytes:
        msg = bytes([tag]) + iv + clear + ciphertext
        return hmac.new(self.mac_key, msg, hashlib.sha256).digest()[:MAC_BYTES]

    def _cipher(self, iv: bytes) -> Cipher[modes.XTS] | Cipher[modes.ECB]:
        if self.mode is DecryptionMode.AES_128_ECB:
            return Cipher(algorithms.AES(self.cipher_key), modes.ECB())
        return Cipher(algorithms.AES(self.cipher_key), modes.XTS(iv + bytes(BLOCK - IV_BYTES)))

    def seal(self, clear: bytes, body: bytes, iv: bytes) -> bytes:
        """One unit: ``clear | E(body | pad) | iv | mac | tag`` (no escaping)."""
        pad = BLOCK - len(body) % BLOCK
        encryptor = self._cipher(iv).encryptor()
        ciphertext = encryptor.update(body + bytes([pad]) * pad) + encryptor.finalize()
        tag = self.tag
        return clear + ciphertext + iv + self._mac(tag, iv, clear, ciphertext) + bytes([tag])

    def open(self, unit: bytes, clear_length: int) -> bytes:
        """``clear | body`` of a sealed ``unit`` whose first ``clear_length`` bytes are clear.

        Raises :class:`DecryptError`.
        """
        if len(unit) < MIN_UNIT_OVERHEAD or unit[-1] & 0xF0 != _TAG_VERSION:
            raise DecryptError(
                DecryptError.NOT_ENCRYPTED,
                "frames are not in cloudrec's encrypted frame format (not encrypted?)",
            )
        tag = unit[-1]
        if tag != self.tag:
            try:
                found: DecryptionMode | None = DecryptionMode(tag & 0x0F)
            except ValueError:
                found = None
            name = found.name if found is not None else f"unknown mode {tag & 0x0F}"
            raise DecryptError(
                DecryptError.MODE_MISMATCH,
                f"frames are encrypted with {name}, not {self.mode.name}",
                found,
            )
        clear_length = min(clear_length, len(unit) - MIN_UNIT_OVERHEAD)
        clear = unit[:clear_length]
        ciphertext = unit[clear_length:-TRAILER_BYTES]
        iv = unit[-TRAILER_BYTES : -TRAILER_BYTES + IV_BYTES]
        mac = unit[-1 - MAC_BYTES : -1]
        if len(ciphertext) % BLOCK or not hmac.compare_digest(
            mac, self._mac(tag, iv, clear, ciphertext)
        ):
            raise DecryptError(
                DecryptError.BAD_KEY,
                f"frames do not decrypt with {self.mode.name} and this secret",
            )
        decryptor = self._cipher(iv).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:  # pragma: no cover
            raise DecryptError(DecryptError.BAD_KEY, "bad padding after a valid check value")
        return clear + padded[:-pad]


# --- codec layouts ---------------------------------------------------------------


def vp8_is_keyframe(frame: bytes) -> bool:
    """Whether a VP8 frame is a key frame (RFC 6386 section 9.1: bit 0 of byte 0 is 0)."""
    return bool(frame) and frame[0] & 0x01 == 0


def vp8_clear_length(frame: bytes) -> int:
    """Bytes of a VP8 frame left clear: its frame header (10 key / 3 delta, RFC 6386 9.1)."""
    return VP8_KEYFRAME_CLEAR if vp8_is_keyframe(frame) else VP8_DELTA_CLEAR


def split_annexb(data: bytes) -> Iterator[bytes]:
    """The NAL units of an H.264 Annex-B stream, without their start codes."""
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        start = i + 3
        i = data.find(b"\x00\x00\x01", start)
        if i == -1:
            yield data[start:]
        else:
            end = i - 1 if data[i - 1] == 0 else i  # a 4-byte start code
            yield data[start:end]


def h264_is_keyframe(data: bytes) -> bool:
    """Whether an Annex-B access unit holds an IDR slice or an SPS (NAL types 5, 7)."""
    return any(nal and nal[0] & 0x1F in (5, 7) for nal in split_annexb(data))


_NEEDS_ESCAPE = re.compile(rb"\x00\x00(?=[\x00-\x03])")
_ESCAPED = re.compile(rb"\x00\x00\x03")


def escape(data: bytes) -> bytes:
    """H.264-style emulation prevention: ``00 00`` before a byte <= 3 gets a ``03``
    after it, so no ``00 00 0x`` (x <= 3) survives and no start code appears."""
    return _NEEDS_ESCAPE.sub(lambda m: b"\x00\x00\x03", data)


def unescape(data: bytes) -> bytes:
    """Undo :func:`escape`: drop every ``03`` that follows ``00 00``."""
    return _ESCAPED.sub(lambda m: b"\x00\x00", data)


def is_keyframe(codec: Codec, frame: bytes) -> bool:
    """Whether ``frame`` (encrypted or not: the bytes read are clear) starts a picture."""
    if codec is Codec.VP8:
        return vp8_is_keyframe(frame)
    if codec is Codec.H264:
        return h264_is_keyframe(frame)
    return True


class FrameEncryptor:
    """Encrypts one sender's frames: its own random salt and unit counter.

    Used from one thread at a time (aiortc encodes a track's frames one by one).
    """

    def __init__(self, keys: E2eeKeys, *, salt: bytes | None = None, counter: int = 0) -> None:
        self.keys = keys
        self._salt = os.urandom(4) if salt is None else salt
        if len(self._salt) != 4:
            raise ValueError("the salt is 4 bytes")
        self._counter = counter & 0xFFFFFFFF
        """The last unit's counter: the next unit gets ``counter + 1``."""

    def _iv(self) -> bytes:
        self._counter = (self._counter + 1) & 0xFFFFFFFF
        return self._salt + struct.pack("!I", self._counter)

    def encrypt_nal(self, nal: bytes) -> bytes:
        """One H.264 NAL unit (no start code): header clear, the rest sealed and escaped."""
        head = nal[:H264_NAL_HEADER]
        sealed = self.keys.seal(head, nal[H264_NAL_HEADER:], self._iv())
        return head + escape(sealed[len(head) :])

    def encrypt(self, codec: Codec, frame: bytes) -> bytes:
        """An encoded frame (VP8 frame, H.264 Annex-B access unit, Opus packet), sealed."""
        if codec is Codec.H264:
            return b"".join(_START_CODE + self.encrypt_nal(nal) for nal in split_annexb(frame))
        clear = vp8_clear_length(frame) if codec is Codec.VP8 else OPUS_CLEAR
        return self.keys.seal(frame[:clear], frame[clear:], self._iv())


class FrameDecryptor:
    """Decrypts frames sealed by :class:`FrameEncryptor` with the same mode and secret."""

    def __init__(self, keys: E2eeKeys) -> None:
        self.keys = keys

    def decrypt(self, codec: Codec, frame: bytes) -> bytes:
        """The original frame (H.264: with 4-byte start codes). Raises DecryptError."""
        if codec is Codec.H264:
            nals = list(split_annexb(frame))
            if not nals:
                raise DecryptError(DecryptError.NOT_ENCRYPTED, "an H.264 frame without NAL units")
            out = []
            for nal in nals:
                unit = nal[:H264_NAL_HEADER] + unescape(nal[H264_NAL_HEADER:])
                out.append(_START_CODE + self.keys.open(unit, H264_NAL_HEADER))
            return b"".join(out)
        clear = vp8_clear_length(frame) if codec is Codec.VP8 else OPUS_CLEAR
        return self.keys.open(frame, clear)
