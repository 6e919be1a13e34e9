"""The one door to aiortc's internals: every hook point exists on a real receiver and
sender, the hooks work on a live connection, the start-up check names what is missing
and the supported range, and the pin in pyproject.toml is the range the hooks state."""

from __future__ import annotations

import asyncio
import queue
import tomllib
from pathlib import Path
from typing import Any

import aiortc
import pytest
from aiortc import (
    AudioStreamTrack,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    VideoStreamTrack,
)
from aiortc.codecs.base import Encoder

import core.channel.ice  # noqa: F401 - host candidates on 127.0.0.1 only
from core.channel import aiortc_hooks as hooks
from core.channel.errors import UnsupportedAiortcError
from core.channel.ice import rtc_configuration

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


class _RecordingQueue(queue.Queue[Any]):
    """A decoder-queue replacement that keeps what aiortc puts (frames stay undecoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Any] = []

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stops: the idle decoder thread ends the track
            super().put(None, block, timeout)
        else:
            self.items.append(item)


async def _wait_for(condition: Any, what: str, seconds: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, f"no {what} within {seconds} s"
        await asyncio.sleep(0.05)


def test_pin_in_pyproject_is_the_supported_range() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    dependencies = project["optional-dependencies"]["server"]
    pins = [d for d in dependencies if d.split("[")[0].split("<")[0].split(">")[0] == "aiortc"]
    assert pins == [f"aiortc{hooks.SUPPORTED_AIORTC}"]
    assert hooks.supports_version(aiortc.__version__), aiortc.__version__


def test_supported_range_reads_like_the_pin() -> None:
    assert hooks.supports_version("1.16.0", ">=1.16,<1.17")
    assert hooks.supports_version("1.16.3", ">=1.16,<1.17")
    assert not hooks.supports_version("1.15.0", ">=1.16,<1.17")
    assert not hooks.supports_version("1.17.0", ">=1.16,<1.17")


def test_installed_aiortc_has_every_hook_point() -> None:
    assert hooks.missing_hooks() == []
    hooks.check_hooks()  # what the channel registry runs at start-up


async def test_every_hook_point_on_a_real_receiver_and_sender() -> None:
    """A loopback peer-connection pair: every row of the table is found on the real
    objects, and the hooks see real frames, sender reports and a keyframe request."""
    sender_pc = RTCPeerConnection(rtc_configuration())
    receiver_pc = RTCPeerConnection(rtc_configuration())
    try:
        audio_sender = sender_pc.addTrack(AudioStreamTrack())
        video_sender = sender_pc.addTrack(VideoStreamTrack())
        sealed: list[bytes] = []

        def make_encoder(codec_name: str) -> Encoder:
            def seal(data: bytes) -> bytes:
                sealed.append(data)
                return data  # identity: the receiving side sees what was encoded

            return hooks.sealing_encoder(codec_name, seal)

        hooks.replace_encoder(video_sender, make_encoder)
        await sender_pc.setLocalDescription(await sender_pc.createOffer())
        await receiver_pc.setRemoteDescription(sender_pc.localDescription)

        receivers: dict[str, RTCRtpReceiver] = {}
        frames: dict[str, _RecordingQueue] = {}
        origins: dict[str, list[int]] = {}
        reports: dict[str, list[tuple[int, int, int]]] = {}
        packets: dict[str, list[tuple[int, int]]] = {}
        for transceiver in receiver_pc.getTransceivers():
            receiver = transceiver.receiver
            kind = receiver.track.kind
            receivers[kind] = receiver
            frames[kind] = _RecordingQueue()
            origins[kind] = []
            reports[kind] = []
            packets[kind] = []
            assert hooks.track_queue(receiver.track) is not None
            assert hooks.rtx_ssrcs(receiver) == {}  # filled when the receiver starts
            hooks.replace_decoder_queue(receiver, frames[kind])
            hooks.report_rtp_origin(receiver, origins[kind].append)
            hooks.observe_sender_reports(
                receiver, lambda *report, kind=kind: reports[kind].append(report)
            )
            hooks.observe_rtp_packets(
                receiver, lambda *packet, kind=kind: packets[kind].append(packet)
            )
        assert set(receivers) == {"audio", "video"}

        await receiver_pc.setLocalDescription(await receiver_pc.createAnswer())
        await sender_pc.setRemoteDescription(receiver_pc.localDescription)

        video = receivers["video"]
        await _wait_for(lambda: all(frames[k].items for k in frames), "frame of each kind")
        await _wait_for(lambda: all(reports[k] for k in reports), "sender report of each kind")
        await hooks.request_keyframe(video)  # a PLI to the video sender: must not raise

        codec, jitter_frame = frames["video"].items[0]
        assert codec.name == "VP8"
        assert bytes(jitter_frame.data) and sealed  # our encoder's frames arrived
        assert all(len(origins[k]) == 1 for k in origins)  # the first RTP timestamp, once
        # every packet was seen before aiortc handled it: the first mapped timestamp is
        # a packet's, and the packets carry the track's media SSRC
        for kind in packets:
            assert origins[kind][0] in {ts for _, ts in packets[kind]}, kind
            ssrcs = {s.source for s in receivers[kind].getSynchronizationSources()}
            assert {ssrc for ssrc, _ in packets[kind]} <= ssrcs | set(
                hooks.rtx_ssrcs(receivers[kind])
            )
        media_ssrcs = {s.source for s in video.getSynchronizationSources()}
        assert {ssrc for ssrc, _, _ in reports["video"]} <= media_ssrcs | set(
            hooks.rtx_ssrcs(video)
        )

        owners: dict[str, object] = {
            hooks.RECEIVER: video,
            hooks.TRACK: video.track,
            hooks.MAPPER: getattr(video, hooks.TIMESTAMP_MAPPER.name),
            hooks.SENDER: video_sender,
            hooks.JITTER_FRAME: jitter_frame,
            hooks.VP8_ENCODER: getattr(video_sender, hooks.SENDER_ENCODER.name),
        }
        assert hooks.missing_hooks(owners) == []
        assert hooks.missing_hooks({hooks.RECEIVER: receivers["audio"]}) == []
        assert hooks.missing_hooks({hooks.SENDER: audio_sender}) == []
        # every owner the table names was looked up on a real object or its class
        assert {h.owner for h in hooks.HOOKS} - set(owners) <= {
            hooks.SR_PACKET,
            hooks.RTP_PACKET,
            hooks.SENDER_INFO,
            hooks.H264_ENCODER,
            hooks.OPUS_ENCODER,
            "aiortc.codecs",
        }
    finally:
        await sender_pc.close()
        await receiver_pc.close()


def test_every_hook_function_is_in_the_table() -> None:
    used = {name for hook in hooks.HOOKS for name in hook.used_by}
    for name in used:
        assert callable(getattr(hooks, name)), name
    assert {
        "replace_decoder_queue",
        "track_queue",
        "new_decoder",
        "report_rtp_origin",
        "rtx_ssrcs",
        "observe_sender_reports",
        "request_keyframe",
        "replace_encoder",
        "sealing_encoder",
    } <= used


class _ReceiverWithoutDecoderQueue(RTCRtpReceiver):
    """A receiver class whose constructor never creates the decoder queue."""

    def __init__(self) -> None:
        pass


class _SenderWithoutNextEncodedFrame(RTCRtpSender):
    _next_encoded_frame = None  # type: ignore[assignment]


def test_start_up_check_names_the_missing_internal_and_the_supported_range() -> None:
    with pytest.raises(UnsupportedAiortcError) as info:
        hooks.check_hooks({hooks.RECEIVER: _ReceiverWithoutDecoderQueue}, version="9.9.9")
    message = str(info.value)
    assert "RTCRtpReceiver._RTCRtpReceiver__decoder_queue (instance attribute)" in message
    assert "replace_decoder_queue" in message
    assert f"aiortc{hooks.SUPPORTED_AIORTC}" in message
    assert "aiortc 9.9.9" in message
    assert isinstance(info.value, RuntimeError)  # as before the hooks had one module


def test_start_up_check_names_a_missing_method() -> None:
    with pytest.raises(UnsupportedAiortcError) as info:
        hooks.check_hooks({hooks.SENDER: _SenderWithoutNextEncodedFrame})
    message = str(info.value)
    assert "RTCRtpSender._next_encoded_frame (method) for replace_encoder" in message
    assert "RTCRtpSender._RTCRtpSender__encoder" not in message  # inherited constructor
    assert f"aiortc{hooks.SUPPORTED_AIORTC}" in message


def test_a_hook_on_an_object_without_its_internal_names_it_and_the_range() -> None:
    with pytest.raises(UnsupportedAiortcError) as info:
        hooks.track_queue(object())
    assert "RemoteStreamTrack._queue" in str(info.value)
    assert f"aiortc{hooks.SUPPORTED_AIORTC}" in str(info.value)
