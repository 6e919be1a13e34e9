"""The one door to aiortc's internals: every private name the channel relies on.

aiortc moves fast and its private API changes without notice, yet the channel needs
a few things aiortc keeps to itself: the receiver's decoder queue (decoding on
demand, :mod:`core.channel.decoding`; encrypted frames passed through,
:mod:`core.channel.e2ee_rtp`), the RTP timestamp of sender reports and of a track's
first frame (lip sync, :mod:`core.channel.rtcp_sync`), keyframe requests (PLI), and
the sender's encoder (end-to-end encryption). Every such access is a named function
of this module; no other module of ``core`` touches an aiortc private name.

:data:`HOOKS` is the table (data) of what these functions need from aiortc: the
class, the name, and its kind (an attribute every instance gets in its constructor,
a method, or a name a module exports). :func:`check_hooks` looks every row up when
the channel server starts (:class:`~core.channel.registry.ChannelRegistry`) and
raises :class:`~core.channel.errors.UnsupportedAiortcError` naming what is missing
and the supported range :data:`SUPPORTED_AIORTC` (the pin of ``pyproject.toml``;
a test checks that they agree and finds every row on a real receiver and sender).

When aiortc changes: run ``tests/core/channel/test_aiortc_hooks.py`` against the
new version, adapt the functions whose rows are missing, then widen
:data:`SUPPORTED_AIORTC` and the pin together (``docs/channel.md``).
"""

from __future__ import annotations

import asyncio
import dis
import enum
import importlib
import logging
import queue
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aiortc import RTCRtpCodecParameters, RTCRtpReceiver, RTCRtpSender
from av.frame import Frame
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion

from core.channel.errors import UnsupportedAiortcError

logger = logging.getLogger(__name__)

SUPPORTED_AIORTC = ">=1.16,<1.17"
"""The aiortc versions these hooks are written and tested for (``pyproject.toml``
pins exactly this). Every row of :data:`HOOKS` exists unchanged since 1.9, but 1.16
is the version the suite runs on (and the first that keeps a decoder's state after a
frame that failed to decode and asks for a keyframe instead, which
:class:`~core.channel.decoding.DecodeGate` mirrors); any minor release may rename a
private name, so the next one is excluded until checked."""


def aiortc_version() -> str:
    """The installed aiortc's version (``"unknown"`` if it does not say)."""
    import aiortc

    return str(getattr(aiortc, "__version__", "unknown"))


def _unsupported(lacking: str) -> UnsupportedAiortcError:
    """The error for an aiortc that lacks ``lacking``, naming the supported range."""
    return UnsupportedAiortcError(
        f"aiortc {aiortc_version()} has no {lacking}: core/channel/aiortc_hooks.py "
        f"supports aiortc{SUPPORTED_AIORTC}"
    )


try:  # internal modules of aiortc: a clear error rather than an ImportError deep inside
    from aiortc.codecs import get_decoder
    from aiortc.codecs.base import Decoder, Encoder
    from aiortc.codecs.h264 import H264Encoder
    from aiortc.codecs.opus import OpusEncoder
    from aiortc.codecs.vpx import Vp8Encoder
    from aiortc.rtcrtpreceiver import TimestampMapper
    from aiortc.rtp import RtcpSrPacket
except ImportError as _exc:  # pragma: no cover - only on an unsupported aiortc
    raise _unsupported(str(_exc.name or _exc)) from _exc

__all__ = ["Decoder", "Encoder"]


# --- the table ----------------------------------------------------------------------


class Kind(enum.Enum):
    """How a hook point is found on its owner."""

    INSTANCE_ATTRIBUTE = "instance attribute"
    """Assigned by the owner's constructor (found on an instance, or in the
    constructor's code when only the class is at hand)."""
    METHOD = "method"
    """A callable attribute of the class (or instance)."""
    MODULE_NAME = "module name"
    """A function or class the owner module defines."""


@dataclass(frozen=True)
class Hook:
    """One thing this module needs from aiortc, and which of its functions need it."""

    owner: str
    """``module:Class`` (or just ``module`` for :attr:`Kind.MODULE_NAME`)."""
    name: str
    kind: Kind
    used_by: tuple[str, ...]
    """The functions of this module that rely on it."""

    @property
    def label(self) -> str:
        """``Class.name (kind)``, as errors and docs name it."""
        owner = self.owner.split(":")[-1]
        return f"{owner}.{self.name} ({self.kind.value})"


RECEIVER = "aiortc.rtcrtpreceiver:RTCRtpReceiver"
TRACK = "aiortc.rtcrtpreceiver:RemoteStreamTrack"
MAPPER = "aiortc.rtcrtpreceiver:TimestampMapper"
SENDER = "aiortc.rtcrtpsender:RTCRtpSender"
JITTER_FRAME = "aiortc.jitterbuffer:JitterFrame"
SR_PACKET = "aiortc.rtp:RtcpSrPacket"
RTP_PACKET = "aiortc.rtp:RtpPacket"
SENDER_INFO = "aiortc.rtp:RtcpSenderInfo"
VP8_ENCODER = "aiortc.codecs.vpx:Vp8Encoder"
H264_ENCODER = "aiortc.codecs.h264:H264Encoder"
OPUS_ENCODER = "aiortc.codecs.opus:OpusEncoder"

_I, _M, _N = Kind.INSTANCE_ATTRIBUTE, Kind.METHOD, Kind.MODULE_NAME

DECODER_QUEUE = Hook(RECEIVER, "_RTCRtpReceiver__decoder_queue", _I, ("replace_decoder_queue",))
"""``queue.Queue``: ``put((codec parameters, JitterFrame))`` on the event loop for
every reassembled frame, ``put(None)`` when the receiver stops (its decoder thread
then ends the track)."""
TIMESTAMP_MAPPER = Hook(RECEIVER, "_RTCRtpReceiver__timestamp_mapper", _I, ("report_rtp_origin",))
RTX_SSRC = Hook(RECEIVER, "_RTCRtpReceiver__rtx_ssrc", _I, ("rtx_ssrcs", "request_keyframe"))
"""``dict``: RTX SSRC -> media SSRC, filled (never replaced) when the receiver starts."""
HANDLE_RTCP = Hook(RECEIVER, "_handle_rtcp_packet", _M, ("observe_sender_reports",))
HANDLE_RTP = Hook(RECEIVER, "_handle_rtp_packet", _M, ("observe_rtp_packets",))
"""``async (packet, arrival_time_ms)``: every RTP packet the transport routed to the
receiver, as the transport read it."""
SEND_PLI = Hook(RECEIVER, "_send_rtcp_pli", _M, ("request_keyframe",))
TRACK_QUEUE = Hook(TRACK, "_queue", _I, ("track_queue",))
"""``asyncio.Queue`` of the frames ``recv()`` returns (``None``: the track ended)."""
SENDER_ENCODER = Hook(SENDER, "_RTCRtpSender__encoder", _I, ("replace_encoder",))
"""The sender's encoder, created from the negotiated codec when ``None``."""
NEXT_ENCODED_FRAME = Hook(SENDER, "_next_encoded_frame", _M, ("replace_encoder",))

HOOKS: tuple[Hook, ...] = (
    DECODER_QUEUE,
    Hook(JITTER_FRAME, "data", _I, ("replace_decoder_queue",)),
    Hook(JITTER_FRAME, "timestamp", _I, ("replace_decoder_queue",)),
    TRACK_QUEUE,
    TIMESTAMP_MAPPER,
    Hook(MAPPER, "map", _M, ("report_rtp_origin",)),
    Hook(MAPPER, "_origin", _I, ("report_rtp_origin",)),
    RTX_SSRC,
    HANDLE_RTCP,
    HANDLE_RTP,
    Hook(RTP_PACKET, "ssrc", _I, ("observe_rtp_packets",)),
    Hook(RTP_PACKET, "timestamp", _I, ("observe_rtp_packets",)),
    Hook(SR_PACKET, "ssrc", _I, ("observe_sender_reports",)),
    Hook(SR_PACKET, "sender_info", _I, ("observe_sender_reports",)),
    Hook(SENDER_INFO, "rtp_timestamp", _I, ("observe_sender_reports",)),
    Hook(SENDER_INFO, "ntp_timestamp", _I, ("observe_sender_reports",)),
    SEND_PLI,
    SENDER_ENCODER,
    NEXT_ENCODED_FRAME,
    Hook(VP8_ENCODER, "_packetize", _M, ("sealing_encoder",)),
    Hook(H264_ENCODER, "_packetize", _M, ("sealing_encoder",)),
    Hook(OPUS_ENCODER, "encode", _M, ("sealing_encoder",)),
    Hook("aiortc.codecs", "get_decoder", _N, ("new_decoder",)),
)
"""Everything the functions of this module need from aiortc (checked at start-up)."""


# --- the start-up check -------------------------------------------------------------


def _constructor_assigns(cls: type, name: str) -> bool:
    """Whether constructing ``cls`` assigns ``self.<name>``: its ``__init__``, and the
    ones it reaches through ``super()`` up the MRO, store that attribute."""
    for klass in cls.__mro__:
        code = getattr(vars(klass).get("__init__"), "__code__", None)
        if code is None:  # no constructor of its own: the next class's runs
            continue
        for instruction in dis.get_instructions(code):
            if instruction.opname == "STORE_ATTR" and instruction.argval == name:
                return True
        if "super" not in code.co_names:  # the chain of constructors ends here
            return False
    return False


def _resolve(owner: str) -> object | None:
    module_name, _, qualname = owner.partition(":")
    try:
        found: object = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in filter(None, qualname.split(".")):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


def _present(hook: Hook, owner: object) -> bool:
    if hook.kind is Kind.MODULE_NAME:
        return isinstance(owner, ModuleType) and hasattr(owner, hook.name)
    if hook.kind is Kind.METHOD:
        return callable(getattr(owner, hook.name, None))
    if isinstance(owner, type):  # only the class: look into its constructors
        return _constructor_assigns(owner, hook.name)
    return hasattr(owner, hook.name)


def missing_hooks(
    owners: Mapping[str, object] | None = None, hooks: Iterable[Hook] = HOOKS
) -> list[Hook]:
    """The rows of ``hooks`` that aiortc lacks.

    Each row is looked up on ``owners[row.owner]`` when given (a class, or a real
    instance such as a receiver of a peer connection), else on the class or module
    the row names.
    """
    given = owners or {}
    missing = []
    for hook in hooks:
        owner = given[hook.owner] if hook.owner in given else _resolve(hook.owner)
        if owner is None or not _present(hook, owner):
            missing.append(hook)
    return missing


def supports_version(version: str, spec: str = SUPPORTED_AIORTC) -> bool:
    """Whether ``version`` is inside ``spec`` (a PEP 440 specifier such as the pin's)."""
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidVersion:
        return False


def check_hooks(owners: Mapping[str, object] | None = None, version: str | None = None) -> None:
    """Fail at start-up, naming every missing internal and the supported range.

    ``owners`` and ``version`` default to the installed aiortc (tests pass their own).
    An aiortc outside the range that still has every hook point only logs a warning.
    """
    version = version or aiortc_version()
    missing = missing_hooks(owners)
    if missing:
        names = "; ".join(f"{h.label} for {', '.join(h.used_by)}" for h in missing)
        raise UnsupportedAiortcError(
            f"aiortc {version} lacks what the channel hooks into: {names}. "
            f"Install aiortc{SUPPORTED_AIORTC} (the range core/channel/aiortc_hooks.py "
            "supports), or adapt that module to this version"
        )
    if not supports_version(version):
        logger.warning(
            "aiortc %s is outside the supported range %s; every hook point was found, "
            "but this version is untested",
            version,
            SUPPORTED_AIORTC,
        )


def _missing(hook: Hook) -> UnsupportedAiortcError:
    return _unsupported(f"{hook.label}, needed by {', '.join(hook.used_by)}")


def _require(obj: object, hook: Hook) -> None:
    """The per-call check: ``obj`` must have ``hook`` (raises naming it and the range)."""
    if not hasattr(obj, hook.name):
        raise _missing(hook)


# --- receiving ----------------------------------------------------------------------


def replace_decoder_queue(receiver: RTCRtpReceiver, replacement: queue.Queue[Any]) -> None:
    """Make ``receiver`` hand its reassembled frames to ``replacement`` instead of its
    decoder thread. Call before the receiver starts.

    ``replacement.put`` runs on the event loop with ``(codec parameters, frame)`` for
    every frame (``frame.data``: the encoded bytes, ``frame.timestamp``: the ``pts``
    aiortc mapped from RTP), and with ``None`` when the receiver stops: pass that on
    to ``queue.Queue.put``, and aiortc's idle decoder thread ends the track.
    """
    _require(receiver, DECODER_QUEUE)
    setattr(receiver, DECODER_QUEUE.name, replacement)


def track_queue(track: object) -> asyncio.Queue[Any]:
    """The queue a received track's ``recv()`` reads (frames put here are received)."""
    found: asyncio.Queue[Any] | None = getattr(track, TRACK_QUEUE.name, None)
    if found is None:
        raise _missing(TRACK_QUEUE)
    return found


def new_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    """aiortc's decoder for ``codec`` (``decode(frame)`` takes a decoder-queue frame)."""
    return get_decoder(codec)


class _OriginTimestampMapper(TimestampMapper):
    """aiortc's mapper, reporting the first RTP timestamp it sees."""

    def __init__(self, on_origin: Callable[[int], None]) -> None:
        super().__init__()
        self._on_origin = on_origin

    def map(self, timestamp: int) -> int:
        if self._origin is None:
            self._on_origin(timestamp)
        result: int = super().map(timestamp)
        return result


def report_rtp_origin(receiver: RTCRtpReceiver, on_origin: Callable[[int], None]) -> None:
    """Call ``on_origin(rtp_timestamp)`` with the first RTP timestamp ``receiver`` maps
    (the origin of its frames' ``pts``). Call before the receiver gets any packet."""
    _require(receiver, TIMESTAMP_MAPPER)
    setattr(receiver, TIMESTAMP_MAPPER.name, _OriginTimestampMapper(on_origin))


def rtx_ssrcs(receiver: RTCRtpReceiver) -> Mapping[int, int]:
    """``receiver``'s retransmission SSRCs -> media SSRCs (a live view: filled when the
    receiver starts)."""
    _require(receiver, RTX_SSRC)
    found: dict[int, int] = getattr(receiver, RTX_SSRC.name)
    return found


def observe_sender_reports(
    receiver: RTCRtpReceiver, on_report: Callable[[int, int, int], None]
) -> None:
    """Call ``on_report(ssrc, rtp_timestamp, ntp_timestamp)`` for every RTCP sender
    report ``receiver`` gets, before aiortc handles it (which it still does).

    Wraps this instance's handler only: other receivers are untouched.
    """
    _require(receiver, HANDLE_RTCP)
    handle: Callable[[Any], Awaitable[None]] = receiver._handle_rtcp_packet

    async def handle_rtcp_packet(packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            info = packet.sender_info
            on_report(packet.ssrc, info.rtp_timestamp, info.ntp_timestamp)
        await handle(packet)

    receiver._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def observe_rtp_packets(receiver: RTCRtpReceiver, on_packet: Callable[[int, int], None]) -> None:
    """Call ``on_packet(ssrc, rtp_timestamp)`` for every RTP packet ``receiver`` gets,
    as the transport hands it over and before aiortc handles it (which it still does).

    Wraps this instance's handler only: other receivers are untouched.
    """
    _require(receiver, HANDLE_RTP)
    handle: Callable[[Any, int], Awaitable[None]] = receiver._handle_rtp_packet

    async def handle_rtp_packet(packet: Any, arrival_time_ms: int) -> None:
        on_packet(packet.ssrc, packet.timestamp)
        await handle(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the sender of ``receiver``'s media for a keyframe (RTCP PLI per media SSRC)."""
    rtx: Mapping[int, int] = getattr(receiver, RTX_SSRC.name, {})
    send_pli: Callable[[int], Awaitable[None]] | None = getattr(receiver, SEND_PLI.name, None)
    if send_pli is None:
        raise _missing(SEND_PLI)
    for source in receiver.getSynchronizationSources():
        if source.source not in rtx:
            await send_pli(source.source)


# --- sending ------------------------------------------------------------------------


def replace_encoder(sender: RTCRtpSender, make_encoder: Callable[[str], Encoder]) -> None:
    """Make ``sender`` encode with ``make_encoder(codec name)`` instead of aiortc's
    encoder for the negotiated codec. Call before it starts sending.

    aiortc creates a sender's encoder lazily when the first frame is to be sent; the
    sender's ``_next_encoded_frame`` is wrapped (this instance only) to install ours
    first. aiortc's bitrate changes (REMB) and keyframe requests (PLI/FIR) then reach
    ours as they would its own.
    """
    _require(sender, SENDER_ENCODER)
    _require(sender, NEXT_ENCODED_FRAME)
    next_encoded_frame: Callable[[RTCRtpCodecParameters], Awaitable[Any]]
    next_encoded_frame = sender._next_encoded_frame

    async def wrapped(codec: RTCRtpCodecParameters) -> Any:
        if getattr(sender, SENDER_ENCODER.name) is None:
            setattr(sender, SENDER_ENCODER.name, make_encoder(codec.name))
        return await next_encoded_frame(codec)

    sender._next_encoded_frame = wrapped  # type: ignore[method-assign]


class _SealingVp8Encoder(Vp8Encoder):
    def __init__(self, seal: Callable[[bytes], bytes]) -> None:
        super().__init__()
        self._seal = seal

    def _packetize(self, buffer: bytes, picture_id: int) -> list[bytes]:  # type: ignore[override]
        if not buffer:
            return []
        return super()._packetize(self._seal(buffer), picture_id)


class _SealingH264Encoder(H264Encoder):
    def __init__(self, seal: Callable[[bytes], bytes]) -> None:
        super().__init__()
        self._seal = seal

    def _packetize(self, packages: Iterable[bytes]) -> list[bytes]:  # type: ignore[override]
        return super()._packetize([self._seal(nal) for nal in packages if nal])


class _SealingOpusEncoder(OpusEncoder):
    def __init__(self, seal: Callable[[bytes], bytes]) -> None:
        super().__init__()
        self._seal = seal

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        payloads, timestamp = super().encode(frame, force_keyframe)
        return [self._seal(p) for p in payloads], timestamp


_SEALING_ENCODERS: dict[str, Callable[[Callable[[bytes], bytes]], Encoder]] = {
    "vp8": _SealingVp8Encoder,
    "h264": _SealingH264Encoder,
    "opus": _SealingOpusEncoder,
}


def sealing_encoder(codec_name: str, seal: Callable[[bytes], bytes]) -> Encoder:
    """aiortc's encoder for ``codec_name`` (VP8, H264, Opus; any case) whose output
    passes through ``seal`` between encoding and packetising: each VP8 frame, each
    H.264 NAL unit, each Opus packet. aiortc's encoder settings, bitrate changes and
    keyframe requests keep working."""
    try:
        make = _SEALING_ENCODERS[codec_name.lower()]
    except KeyError:
        raise ValueError(f"no sealing encoder for codec {codec_name!r}") from None
    return make(seal)
