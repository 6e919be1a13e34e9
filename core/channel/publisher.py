"""One WHIP publisher: its peer connection, its tracks and their delivery.

A :class:`Publisher` answers the publisher's offer with a receive-only peer
connection, then runs one task per received track that drains ``recv()`` for as
long as the track lives (aiortc queues decoded frames without bound, so an
undrained track grows in memory and latency), stamps every frame with its capture
time (:mod:`core.channel.clock`) and hands it to the subscribers' bounded streams.
Until every track that sends media has its first sender report, a publisher's frames
are held and then delivered together with times from the reports
(:mod:`core.channel.hold`; at most :data:`~core.channel.clock.HOLD_LIMIT`).
A watchdog makes a publisher that vanished without DELETE leave the channel.

Media sections: the first audio section is the user's audio, the first video
section its HIGH video, the second video section its LOW (dual stream) video.

A track is decoded only while some subscriber's stream takes it
(:mod:`core.channel.decoding`): an unused LOW video, or every track while nobody
subscribes, costs the channel its packets' transport and nothing more. Frames that
arrive undecoded still count as media for the watchdog.

A publisher that announced end-to-end encryption (``?encryption=`` on its WHIP URL)
is never decoded: its receivers pass encoded frames through
(:mod:`core.channel.e2ee_rtp`) and its streams carry
:class:`~core.channel.streams.EncodedFrame` objects, stamped on the same clock.

An *encoded* stream (``Channel.subscribe(encoded=True)``: individual recording
without transcoding) gets any publisher's frames as they arrive, as
:class:`~core.channel.streams.EncodedFrame` objects from the decoder gate's tap,
stamped and held like decoded frames; it never opens a gate, so a track that only
encoded streams take is not decoded at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import av
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpreceiver import RemoteStreamTrack

from core.channel.aiortc_hooks import request_keyframe
from core.channel.clock import (
    AUDIO_BUFFER_DELAY,
    OPUS_LOOKAHEAD,
    VIDEO_BUFFER_DELAY,
    SenderClock,
    TrackClock,
)
from core.channel.decoding import DECODERS, DecodeGate, TrackDecoder, install_gate
from core.channel.e2ee_rtp import encoded_frame, pass_through_receiver
from core.channel.errors import SdpError
from core.channel.hold import SyncHold, Timed
from core.channel.ice import rtc_configuration
from core.channel.roster import LeaveReason, ParticipantInfo, Role
from core.channel.rtcp_sync import observe_receiver
from core.channel.sdp import AUDIO_CODECS, VIDEO_CODECS, OfferSummary, with_explicit_directions
from core.channel.streams import EncodedFrame, FrameStream, ReceivedFrame
from core.enums import DecryptionMode, VideoStreamType

logger = logging.getLogger(__name__)

MEDIA_TIMEOUT = 5.0
"""Seconds without any received frame after which a publisher is dropped."""

WATCH_INTERVAL = 0.5
"""Seconds between two liveness checks of a publisher."""

_CLOCK_RATES = {"audio": 48_000, "video": 90_000}
_BUFFER_DELAYS = {"audio": AUDIO_BUFFER_DELAY, "video": VIDEO_BUFFER_DELAY}
_CODEC_DELAYS = {"audio": OPUS_LOOKAHEAD, "video": 0.0}  # Opus is the channel's only audio codec
_ACCEPTED = {"audio": AUDIO_CODECS | {"rtx"}, "video": VIDEO_CODECS | {"rtx"}}

_Media = av.AudioFrame | av.VideoFrame | EncodedFrame
_Held = tuple[list[FrameStream], _Media]  # (the streams that took it when it came, frame)


def _codec_name(codec: RTCRtpCodecCapability) -> str:
    return str(codec.mimeType.split("/")[1].lower())


def _configuration(max_bundle: bool) -> RTCConfiguration:
    """The ICE configuration, with max-bundle for offers that bundle their sections.

    aiortc's default (balanced) policy gives receive-only transceivers created in
    advance one transport per kind, and its BUNDLE handling then leaves the second
    video transceiver on a stopped transport, so the LOW stream's packets end up in
    the HIGH track. Max-bundle puts every transceiver on the first one's transport.
    """
    configuration = rtc_configuration()
    if max_bundle:
        configuration.bundlePolicy = RTCBundlePolicy.MAX_BUNDLE
    return configuration


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("keyframe request failed: %s", task.exception())


class Publisher:
    """A user publishing into a channel over WHIP."""

    def __init__(
        self,
        channel_name: str,
        uid: int,
        role: Role,
        session_id: str,
        *,
        max_bundle: bool = True,
        encryption: DecryptionMode = DecryptionMode.NONE,
    ) -> None:
        self.channel_name = channel_name
        self.uid = uid
        self.role = role
        self.session_id = session_id
        self.etag = f'"{session_id[:16]}"'
        self.encryption = encryption
        """The end-to-end encryption the publisher announced (NONE: decoded here)."""
        self.pc = RTCPeerConnection(_configuration(max_bundle))
        self.joined_at = time.time()
        self.joined_monotonic = time.monotonic()
        self.last_media = self.joined_monotonic
        self.sender_clock = SenderClock()
        self._hold: SyncHold[_Held] = SyncHold(self.sender_clock)
        self._hold_timer: asyncio.TimerHandle | None = None
        self._held_since: float | None = None  # what the streams were told last
        self.audio_track: MediaStreamTrack | None = None
        self.video_tracks: dict[VideoStreamType, MediaStreamTrack] = {}
        self.audio_streams: set[FrameStream] = set()
        self.video_streams: set[FrameStream] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: list[tuple[MediaStreamTrack, VideoStreamType | None, TrackClock]] = []
        self._clocks: list[TrackClock] = []
        self._video_receivers: dict[VideoStreamType, RTCRtpReceiver] = {}
        self.gates: dict[VideoStreamType | None, DecodeGate] = {}
        """Decoder gates of a decoded publisher's tracks (``None``: audio)."""
        self._keyframe_tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._on_leave: Callable[[Publisher, LeaveReason], None] | None = None
        self.privileges_end: float | None = None
        """Unix time the publisher's token stops allowing what it does (see
        :meth:`core.channel.apps.Admission.ends_at`); the watchdog makes it leave then
        (``token_expired``). None: no end."""

    @property
    def synchronized(self) -> bool:
        """Whether every track has had a sender report (not yet in the first 0.5-1.5
        s, while frames are held for them)."""
        return bool(self._clocks) and all(c.synchronized for c in self._clocks)

    @property
    def arrival_timed(self) -> int:
        """Frames timed by arrival because their track sent no report within the hold
        limit (``docs/channel.md``, "Timing and lip sync")."""
        return self._hold.arrival_timed

    # -- negotiation -----------------------------------------------------------------

    async def answer(self, offer: str, summary: OfferSummary) -> str:
        """Apply the offer and return the SDP answer (with every ICE candidate)."""
        self._add_transceivers(summary)
        try:
            description = RTCSessionDescription(sdp=with_explicit_directions(offer), type="offer")
            await self.pc.setRemoteDescription(description)
        except Exception as exc:  # aiortc raises many kinds for SDP it cannot use
            raise SdpError(f"unusable offer: {exc or type(exc).__name__}") from exc
        self._collect_tracks()
        # aiortc gathers all candidates inside setLocalDescription: the answer is complete.
        try:
            answer = await self.pc.createAnswer()
        except Exception as exc:  # an offer aiortc took but cannot answer
            raise SdpError(f"unusable offer: {exc or type(exc).__name__}") from exc
        await self.pc.setLocalDescription(answer)
        description = self.pc.localDescription
        assert description is not None
        return str(description.sdp)

    def _add_transceivers(self, summary: OfferSummary) -> None:
        """Pre-create one receive-only transceiver per offered section, in order, so
        that aiortc answers with the channel's codecs only (Opus; VP8, H.264), in the
        order the publisher prefers them."""
        for section in summary.sections:
            if section.kind not in _ACCEPTED:
                continue
            transceiver = self.pc.addTransceiver(section.kind, direction="recvonly")
            capabilities = RTCRtpReceiver.getCapabilities(section.kind)
            assert capabilities is not None
            accepted = [c for c in capabilities.codecs if _codec_name(c) in _ACCEPTED[section.kind]]
            # Keep the publisher's order: the first codec of the answer is the one sent.
            rank = {name: i for i, name in reversed(list(enumerate(section.codecs)))}
            accepted.sort(key=lambda c: rank.get(_codec_name(c), len(rank)))
            transceiver.setCodecPreferences(accepted)

    def _collect_tracks(self) -> None:
        video_kinds = iter((VideoStreamType.HIGH, VideoStreamType.LOW))
        for transceiver in self.pc.getTransceivers():
            receiver = transceiver.receiver
            track = receiver.track
            if track is None:
                continue
            kind = track.kind
            clock = TrackClock(
                self.sender_clock, _CLOCK_RATES[kind], _BUFFER_DELAYS[kind], _CODEC_DELAYS[kind]
            )
            observe_receiver(receiver, clock, self._release_held)
            self._clocks.append(clock)
            if track.kind == "audio" and self.audio_track is None:
                self.audio_track = track
                self._pending.append((track, None, clock))
                self._intercept(receiver, None, clock)
            elif track.kind == "video":
                variant = next(video_kinds, None)
                if variant is not None:
                    self.video_tracks[variant] = track
                    self._video_receivers[variant] = receiver
                    self._pending.append((track, variant, clock))
                    self._intercept(receiver, variant, clock)

    def _intercept(
        self, receiver: RTCRtpReceiver, variant: VideoStreamType | None, clock: TrackClock
    ) -> None:
        """Encrypted media passes through undecoded (to the track, read by the pump);
        other media is decoded on the shared decoder threads while a gate lets it in,
        and delivered straight to the streams."""
        if self.encrypted:
            pass_through_receiver(receiver, variant)
            return
        kind = "audio" if variant is None else "video"
        decoder = TrackDecoder(kind, lambda frame: self._deliver(variant, clock, frame), DECODERS)
        gate = DecodeGate(
            decoder, self._media_arrived, lambda: self._send_keyframe_request(receiver)
        )
        gate.tap = lambda codec, frame: self._tap(variant, clock, codec, frame)
        install_gate(receiver, gate)
        self.gates[variant] = gate

    def _tap(
        self, variant: VideoStreamType | None, clock: TrackClock, codec: object, frame: object
    ) -> None:
        """A frame as it arrived: to the encoded streams that take it, if any."""
        if self._encoded_streams_of(variant):
            encoded = encoded_frame(codec, frame, variant, encrypted=False)
            if encoded is not None:
                self._deliver(variant, clock, encoded)

    def _media_arrived(self) -> None:
        self.last_media = time.monotonic()

    # -- subscribers' streams ----------------------------------------------------------

    def add_stream(self, stream: FrameStream) -> None:
        """Deliver this publisher's audio or video (per ``stream.kind``) to ``stream``."""
        (self.audio_streams if stream.kind == "audio" else self.video_streams).add(stream)
        stream.hold(self._hold.since)
        self.update_gates()

    def remove_stream(self, stream: FrameStream) -> None:
        """Stop delivering to ``stream``."""
        self.audio_streams.discard(stream)
        self.video_streams.discard(stream)
        stream.hold(None)
        self.update_gates()

    def update_gates(self) -> None:
        """Decode exactly the tracks some stream takes (call after a stream changed
        its ``video_stream``)."""
        wanted: set[VideoStreamType | None] = {
            self.source_of(s) for s in self.video_streams if not s.encoded
        }
        if any(not s.encoded for s in self.audio_streams):
            wanted.add(None)
        for source, gate in self.gates.items():
            if source in wanted:
                gate.open()
            else:
                gate.close()

    @property
    def encrypted(self) -> bool:
        """Whether the publisher's media is end-to-end encrypted (passed through)."""
        return self.encryption is not DecryptionMode.NONE

    def request_keyframe(self, variant: VideoStreamType) -> None:
        """Ask the publisher for a keyframe of its ``variant`` video, for encrypted media
        or an encoded stream (their subscriber decodes or stores from one). Decoded
        media needs no help: the channel's decoder asks when it needs one."""
        receiver = self._video_receivers.get(variant)
        if receiver is not None and (self.encrypted or self._encoded_streams_of(variant)):
            self._send_keyframe_request(receiver)

    def _send_keyframe_request(self, receiver: RTCRtpReceiver) -> None:
        if self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: the connection is not running either
            return
        task = loop.create_task(request_keyframe(receiver))
        self._keyframe_tasks.add(task)  # the loop keeps only weak references
        task.add_done_callback(self._keyframe_tasks.discard)
        task.add_done_callback(_log_failure)

    # -- running ---------------------------------------------------------------------

    def start(self, on_leave: Callable[[Publisher, LeaveReason], None]) -> None:
        """Start draining the tracks and watching the connection."""
        self._on_leave = on_leave
        for track, variant, clock in self._pending:
            self._tasks.append(asyncio.create_task(self._pump(track, variant, clock)))
        self._pending.clear()
        self._tasks.append(asyncio.create_task(self._watch()))

    async def _pump(
        self, track: MediaStreamTrack, variant: VideoStreamType | None, clock: TrackClock
    ) -> None:
        """Read the track until it ends (decoded tracks only ever yield their end)."""
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self._deliver(variant, clock, frame)

    def _deliver(self, variant: VideoStreamType | None, clock: TrackClock, frame: object) -> None:
        """Stamp a frame with its capture time and hand it to the streams that take it
        (through the hold while the sender's first reports are awaited)."""
        if self._closed or not isinstance(frame, _Media):
            return
        now = time.monotonic()
        self.last_media = now
        pts = frame.pts
        # The streams that take it now get it, even if held and one of them switches to
        # another video stream meanwhile (captured before the switch, it belongs to it).
        # Encrypted media is encoded for every stream; other media is decoded for the
        # decoded streams and tapped for the encoded ones.
        targets = self._streams_of(variant)
        if not self.encrypted:
            encoded = isinstance(frame, EncodedFrame)
            targets = [s for s in targets if s.encoded is encoded]
        if pts is None:  # no RTP time at all (aiortc always gives one): arrival
            self._send([Timed((targets, frame), now - clock.buffer_delay, True)])
            return
        stamp = clock.stamp(pts, now)
        if targets:
            timed = self._hold.add((targets, frame), clock, stamp)
            if not timed:  # held: its streams may look at it now
                for stream in targets:
                    if stream.on_held is not None:
                        stream.on_held(frame)
            self._send(timed)

    def _release_held(self, *, force: bool = False) -> None:
        """Deliver the frames held if their times are known now (a sender report came),
        the hold limit passed, or ``force``."""
        self._send(self._hold.release(time.monotonic(), force=force))

    def _send(self, timed: list[Timed[_Held]]) -> None:
        """Hand timed frames to the streams that take them; keep the streams' and the
        limit timer's view of the hold current."""
        if len(timed) == 1 and self._held_since is None:  # a frame as it came
            (targets, frame), when, estimated = timed[0]
            received = ReceivedFrame(frame, when, estimated)
            for stream in targets:
                stream.put(received)
        elif timed:  # held frames released together
            batches: dict[FrameStream, list[ReceivedFrame]] = {}
            for (targets, frame), when, estimated in timed:
                received = ReceivedFrame(frame, when, estimated)
                for stream in targets:
                    batches.setdefault(stream, []).append(received)
            for stream, frames in batches.items():
                stream.put_many(frames)
        since = self._hold.since
        if since == self._held_since:
            return
        self._held_since = since
        for stream in self.audio_streams | self.video_streams:
            stream.hold(since)
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        deadline = self._hold.deadline
        if deadline is not None:
            delay = max(0.0, deadline - time.monotonic())
            self._hold_timer = asyncio.get_running_loop().call_later(delay, self._hold_expired)

    def _hold_expired(self) -> None:
        self._hold_timer = None
        self._release_held()
        deadline = self._hold.deadline
        if deadline is not None and self._hold_timer is None:  # woken a little early
            delay = max(0.0, deadline - time.monotonic())
            self._hold_timer = asyncio.get_running_loop().call_later(delay, self._hold_expired)

    def _streams_of(self, variant: VideoStreamType | None) -> list[FrameStream]:
        """The streams that take the audio (``None``) or the ``variant`` video."""
        if variant is None:
            return list(self.audio_streams)
        return [s for s in self.video_streams if self.source_of(s) is variant]

    def _encoded_streams_of(self, variant: VideoStreamType | None) -> bool:
        """Whether an encoded stream takes the audio (``None``) or the ``variant`` video."""
        return any(s.encoded for s in self._streams_of(variant))

    def video_size(self, variant: VideoStreamType) -> tuple[int, int] | None:
        """The picture size of the ``variant`` video, as its latest keyframe stated
        (``None``: not known yet, not published, or end-to-end encrypted)."""
        gate = self.gates.get(variant)
        return gate.size if gate is not None else None

    def source_of(self, stream: FrameStream) -> VideoStreamType:
        """Which video track feeds ``stream``: LOW only if asked for and published."""
        if stream.video_stream is VideoStreamType.LOW and VideoStreamType.LOW in self.video_tracks:
            return VideoStreamType.LOW
        return VideoStreamType.HIGH

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            reason = self._leave_reason()
            if reason is not None:
                logger.info("uid %s leaves channel %s: %s", self.uid, self.channel_name, reason)
                await self.close(reason)
                return

    def _leave_reason(self) -> LeaveReason | None:
        if self.privileges_end is not None and time.time() >= self.privileges_end:
            return LeaveReason.TOKEN_EXPIRED
        if self.pc.connectionState in ("failed", "closed"):
            return LeaveReason.DROPPED
        pumps = self._tasks[:-1]
        if pumps and all(task.done() for task in pumps):
            return LeaveReason.ENDED
        if time.monotonic() - self.last_media > MEDIA_TIMEOUT:
            return LeaveReason.TIMEOUT
        return None

    def info(self) -> ParticipantInfo:
        """This publisher as a roster entry."""
        return ParticipantInfo(
            uid=self.uid,
            role=self.role,
            joined_at=self.joined_at,
            joined_monotonic=self.joined_monotonic,
            has_audio=self.audio_track is not None,
            has_video=VideoStreamType.HIGH in self.video_tracks,
            has_low_video=VideoStreamType.LOW in self.video_tracks,
            encryption=self.encryption.name.lower(),
        )

    # -- leaving ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self, reason: LeaveReason) -> None:
        """Leave the channel (idempotent): end the streams, stop tasks, close the PC."""
        if self._closed:
            return
        # Frames held for the sender's first reports go out before the streams end,
        # timed as well as they can be now (a user leaving within its first seconds).
        self._release_held(force=True)
        self._closed = True
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        if self._on_leave is not None:
            self._on_leave(self, reason)
        for stream in self.audio_streams | self.video_streams:
            stream.end()
        self.audio_streams.clear()
        self.video_streams.clear()
        self.update_gates()
        for gate in self.gates.values():
            gate.decoder.close()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        await self.pc.close()
        for track in [self.audio_track, *self.video_tracks.values()]:
            if isinstance(track, RemoteStreamTrack):
                track.stop()
