"""``CloudRecorder``: the seed's ``ICloudRecorder`` over the REST API.

Lifecycle (each wrong call order raises INVALID_OPERATION):

    CREATED --start()--> RECORDING --stop()--> STOPPED --release()--> RELEASED
       \\----------------- release() from any state ------------------/

``start()`` validates its arguments before any network traffic, calls
``on_recording_connecting``, acquires a resource and starts the recording, and calls
``on_recording_started`` once the server is recording. A failed start raises the
error and leaves the recorder CREATED-but-failed: only ``release()`` is allowed then.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from pydantic import SecretStr

from core.config import (
    CloudStorageConfig,
    LayoutRegion,
    RecordingConfig,
    RtmpPublishConfig,
    StreamOutput,
    TranscodingConfig,
    UserBackground,
)
from core.enums import MixedVideoLayout, RecordingMode, RecordingStreamType, RenderMode
from core.errors import (
    CloudRecordingError,
    ErrorCode,
    InvalidOperationError,
    InvalidParameterError,
)
from core.sdk.client import Credentials, RestClient, RestError
from core.sdk.events import NoEventStream, NoticeHandler, QueryPoller, follow_events
from core.selection import check_lists, check_uid_list
from core.validation import check_app_id, check_channel_name, check_uid
from core.wire import to_wire

logger = logging.getLogger(__name__)

START_TIMEOUT = 20.0
"""Seconds ``start()`` waits for the server's recorder_started notice."""

STOPPED_TIMEOUT = 10.0
"""Seconds ``stop()`` waits for the recorder_leave notice before reporting stopped itself."""


class RecorderState(Enum):
    """Where a :class:`CloudRecorder` is in its lifecycle."""

    CREATED = "created"
    STARTING = "starting"
    RECORDING = "recording"
    FAILED = "failed"
    STOPPING = "stopping"
    STOPPED = "stopped"
    RELEASED = "released"


class CloudRecorder:
    """One recording, driven through a recording server (``ICloudRecorder``)."""

    def __init__(self, observer: object, client: RestClient) -> None:
        self._observer = observer
        self._client = client
        self._recording_id = uuid.uuid4().hex
        self._state = RecorderState.CREATED
        self.app_id: str | None = None
        self.channel_name: str | None = None
        self.uid: int | None = None
        self.resource_id: str | None = None
        self.sid: str | None = None
        self._handler = NoticeHandler(self._dispatch)
        self._events: asyncio.Task[None] | None = None
        self._poller: QueryPoller | None = None
        self._stream_types = RecordingStreamType.AUDIO_VIDEO  # of the recording started
        self.mode = RecordingMode.MIX
        """The recording's mode (MIX or INDIVIDUAL), which its REST paths name."""

    @property
    def recording_id(self) -> str:
        """The unique id of this recording (``GetRecordingId``)."""
        return self._recording_id

    @property
    def state(self) -> RecorderState:
        return self._state

    async def _dispatch(self, method: str, args: tuple[Any, ...]) -> None:
        await self._notify(method, *args)

    async def _notify(self, method: str, *args: Any) -> None:
        callback = getattr(self._observer, method, None)
        if callback is None:
            return
        try:
            result = callback(self._recording_id, *args)
            if inspect.isawaitable(result):
                await result
        except Exception:  # the application's bug: logged, the recording goes on
            logger.exception("the observer's %s raised; the recording goes on", method)

    def _require(self, *states: RecorderState, action: str) -> None:
        if self._state is RecorderState.RELEASED:
            raise InvalidOperationError(f"{action}: the recorder was released; create a new one")
        if self._state not in states:
            allowed = " or ".join(s.value for s in states)
            raise InvalidOperationError(
                f"{action} is not possible while the recorder is {self._state.value} "
                f"(only when {allowed})"
            )

    async def start(
        self,
        app_id: str,
        channel_name: str,
        token: str | None,
        uid: int,
        recording_config: RecordingConfig | None = None,
        storage_config: CloudStorageConfig | None = None,
    ) -> None:
        """Join the channel as ``uid`` and start recording (``StartCloudRecording``)."""
        self._require(RecorderState.CREATED, action="start()")
        check_uid(uid)
        check_app_id(app_id)
        check_channel_name(channel_name)
        recording = recording_config if recording_config is not None else RecordingConfig()
        storage = storage_config if storage_config is not None else CloudStorageConfig()
        self.app_id, self.channel_name, self.uid = app_id, channel_name, uid
        self._stream_types = recording.recording_stream_types
        self.mode = recording.recording_mode
        self._state = RecorderState.STARTING
        await self._notify("on_recording_connecting")
        try:
            self.resource_id = await self._client.acquire(app_id, channel_name, uid)
            self.sid = await self._client.start(
                app_id, self.resource_id, channel_name, uid, token, recording, storage
            )
        except CloudRecordingError:
            self._state = RecorderState.FAILED
            raise
        self._state = RecorderState.RECORDING
        self._follow()
        await self._wait_started()

    def _events_path(self) -> str:
        assert self.sid
        return f"/v1/cloudrec/recordings/{self.sid}/events"  # cloudrec's extension

    def _follow(self) -> None:
        self._events = asyncio.create_task(self._follow_or_poll())

    async def _follow_or_poll(self) -> None:
        try:
            await follow_events(
                self._client.http, self._events_path(), self._handler, self._dispatch
            )
        except NoEventStream:
            assert self.app_id and self.resource_id and self.sid
            app_id, rid, sid = self.app_id, self.resource_id, self.sid
            self._poller = QueryPoller(self._handler, self._dispatch)
            mode = self.mode
            await self._poller.poll(lambda: self._client.query(app_id, rid, sid, mode))

    async def _wait_started(self) -> None:
        started = asyncio.create_task(self._handler.started.wait())
        exited = asyncio.create_task(self._handler.exited.wait())
        _, pending = await asyncio.wait(
            {started, exited}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if self._handler.started.is_set():
            return
        self._state = RecorderState.FAILED
        if self._handler.fatal is not None:
            code, message = self._handler.fatal
            raise CloudRecordingError(message, code)
        raise CloudRecordingError(
            f"the recording server did not report the recorder started within {START_TIMEOUT:.0f} s",
            ErrorCode.RECORDER_INIT,
        )

    async def attach(
        self, app_id: str, resource_id: str, sid: str, channel_name: str, uid: int
    ) -> None:
        """Reattach to a recording started earlier (by this or another client).

        Every notice of the recording is replayed as callbacks, then live ones follow.
        (A cloudrec extension of the seed's API, used after ``release(cancel=False)``.)
        """
        self._require(RecorderState.CREATED, action="attach()")
        self.app_id, self.resource_id, self.sid = app_id, resource_id, sid
        self.channel_name, self.uid = channel_name, uid
        # raises if the server does not know it; Agora's query answers 404 for a recording
        # that ended, cloudrec's extension answers for ended ones too (their notices replay)
        if self._client.extensions:
            listing = await self._client.recording(sid)
            self.mode = RecordingMode[str(listing.get("mode", "mix")).upper()]
        else:
            await self._client.query(app_id, resource_id, sid, self.mode)
        self._state = RecorderState.RECORDING
        self._follow()

    async def update_layout(
        self,
        layout: MixedVideoLayout,
        max_resolution_uid: int = 0,
        background_color: str = "#000000",
        layout_config: Sequence[LayoutRegion | Mapping[str, Any]] = (),
        render_mode: RenderMode = RenderMode.CROP,
        active_speaker: bool = False,
        background_image: str | None = None,
        default_user_background_image: str | None = None,
        background_config: Sequence[UserBackground | Mapping[str, Any]] = (),
    ) -> None:
        """Change the mixed layout of the running recording (``updateLayout``).

        The arguments mean what they mean in :class:`TranscodingConfig` (``layout_config``:
        the CUSTOM layout's regions, as :class:`LayoutRegion` or their fields;
        ``background_config`` likewise :class:`UserBackground`) and are
        checked the same way before any traffic (:class:`InvalidParameterError` naming
        the field). As Agora's call, it replaces all of them: ``max_resolution_uid`` 0 is
        the first user to join, the background returns to black unless given again, the
        regions to none, the presets' render mode to crop, the active speaker to off,
        the images to none (the server fetches the ones named before it answers: a URL
        it cannot use is an :class:`InvalidParameterError` naming it).
        The recording shows the new layout from the server's next output frame on. Only
        while recording.
        """
        self._require(RecorderState.RECORDING, action="update_layout()")
        checked = TranscodingConfig(
            layout=layout,
            max_resolution_uid=max_resolution_uid,
            background_color=background_color,
            layout_config=[r if isinstance(r, LayoutRegion) else dict(r) for r in layout_config],
            render_mode=render_mode,
            active_speaker=active_speaker,
            background_image=background_image,
            default_user_background_image=default_user_background_image,
            background_config=[
                b if isinstance(b, UserBackground) else dict(b) for b in background_config
            ],
        )
        regions = [to_wire(region) for region in checked.layout_config]
        wire = to_wire(checked)
        images: dict[str, Any] = {
            name: wire[name]
            for name in ("backgroundImage", "defaultUserBackgroundImage", "backgroundConfig")
            if name in wire
        }
        assert self.app_id and self.resource_id and self.sid and self.channel_name and self.uid
        await self._client.update_layout(
            self.app_id,
            self.resource_id,
            self.sid,
            self.channel_name,
            self.uid,
            checked.layout,
            checked.max_resolution_uid,
            checked.background_color,
            regions,
            int(checked.render_mode),
            checked.active_speaker,
            images,
        )

    async def update_subscription(
        self,
        subscribe_audio_uids: Sequence[str] | None = None,
        unsubscribe_audio_uids: Sequence[str] | None = None,
        subscribe_video_uids: Sequence[str] | None = None,
        unsubscribe_video_uids: Sequence[str] | None = None,
    ) -> None:
        """Replace whose audio and whose video the running recording takes (Agora's
        ``update`` with ``streamSubscribe``).

        The lists mean what they mean in :class:`RecordingConfig` (uids as strings,
        ``"#allstream#"`` for everyone) and combine by the same rules: per kind a
        subscribe or an unsubscribe list, and a list for one kind only takes nothing of
        the other kind; at least one list. They are checked before any traffic
        (:class:`InvalidParameterError` naming the field). From the server's next output
        frame on, a user taken out loses window and voice and a user taken in gets them.
        Only while recording.
        """
        self._require(RecorderState.RECORDING, action="update_subscription()")
        lists = {
            name: None if value is None else check_uid_list(name, value)
            for name, value in (
                ("subscribe_audio_uids", subscribe_audio_uids),
                ("unsubscribe_audio_uids", unsubscribe_audio_uids),
                ("subscribe_video_uids", subscribe_video_uids),
                ("unsubscribe_video_uids", unsubscribe_video_uids),
            )
        }
        if all(value is None for value in lists.values()):
            raise InvalidParameterError(
                "subscribe_audio_uids",
                None,
                "at least one subscription list: each update replaces the subscription "
                "(['#allstream#'] takes everyone)",
            )
        check_lists(self._stream_types, **lists)
        assert self.app_id and self.resource_id and self.sid and self.channel_name and self.uid
        await self._client.update_subscription(
            self.app_id,
            self.resource_id,
            self.sid,
            self.channel_name,
            self.uid,
            **lists,
            mode=self.mode,
        )

    async def update_streams(self, urls: Sequence[str]) -> None:
        """Push the recording live to exactly these stream URLs from now on (cloudrec
        extension, with Agora's ``rtmpPublishConfig``: a mix recording's own picture and
        sound; at most 5 ``rtmp://``, ``rtmps://`` or ``srt://`` URLs; an empty list stops
        every stream). Their states come to ``on_stream_state``. Only while recording."""
        self._require(RecorderState.RECORDING, action="update_streams()")
        checked = RtmpPublishConfig(outputs=tuple(StreamOutput(rtmp_url=SecretStr(url))
                                                  for url in urls))  # fmt: skip
        assert self.app_id and self.resource_id and self.sid and self.channel_name and self.uid
        await self._client.update_streams(
            self.app_id, self.resource_id, self.sid, self.channel_name, self.uid,
            [output.rtmp_url.get_secret_value() for output in checked.outputs],
        )  # fmt: skip

    async def stop(self) -> None:
        """Stop recording (``StopCloudRecording``); call ``release()`` afterwards."""
        self._require(RecorderState.RECORDING, action="stop()")
        assert self.app_id and self.resource_id and self.sid and self.channel_name and self.uid
        self._state = RecorderState.STOPPING
        try:
            response = await self._client.stop(
                self.app_id, self.resource_id, self.sid, self.channel_name, self.uid, self.mode
            )
        except RestError as exc:
            if exc.rest_code not in (49, 404):
                self._state = RecorderState.RECORDING
                raise
            # Agora's 49 (already exiting) or 404 (ended): the recording left by itself
            # (maxIdleTime, a failure) before this stop; its notices say how.
            response = {}
        except CloudRecordingError:
            self._state = RecorderState.RECORDING
            raise
        self._state = RecorderState.STOPPED
        if self._poller is not None:
            await self._poller.stopped_with(response)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._handler.stopped.wait(), STOPPED_TIMEOUT)
        await self._handler.mark_stopped()

    async def _cancel_started(self) -> None:
        """The server started the recording, but start() failed here (it never heard that
        the recorder started): stop it on the server, so that starting again works."""
        assert self.app_id and self.resource_id and self.sid and self.channel_name and self.uid
        try:
            await self._client.stop(
                self.app_id, self.resource_id, self.sid, self.channel_name, self.uid, self.mode
            )
        except CloudRecordingError as exc:
            logger.warning("release(cancel=True) could not stop recording %s: %s", self.sid, exc)

    async def wait_finished(self, timeout: float | None = None) -> None:
        """Wait until the server reports the recording's session ended (uploads done)."""
        await asyncio.wait_for(self._handler.exited.wait(), timeout)

    async def release(self, cancel: bool = False) -> None:
        """Free this instance (``Release``).

        ``cancel=False`` leaves a running recording going on the server (it keeps
        recording and uploading); ``cancel=True`` stops it first.
        """
        self._require(
            *(s for s in RecorderState if s is not RecorderState.RELEASED), action="release()"
        )
        try:
            if cancel and self._state is RecorderState.RECORDING:
                await self.stop()
                with contextlib.suppress(TimeoutError):
                    await self.wait_finished(STOPPED_TIMEOUT)
            elif cancel and self._state is RecorderState.FAILED and self.sid is not None:
                await self._cancel_started()
        finally:
            self._state = RecorderState.RELEASED
            if self._events is not None:
                self._events.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._events
            await self._client.aclose()


def create_cloud_recorder(
    observer: object,
    server: str = "http://127.0.0.1:8080",
    token: str | None = None,
    *,
    customer_id: str | None = None,
    customer_secret: str | None = None,
    transport: Any = None,
    extensions: bool = True,
) -> CloudRecorder:
    """Create a recorder talking to ``server`` (``CreateCloudRecorderInstance``).

    ``token`` is the bearer token of a cloudrec server; ``customer_id`` and
    ``customer_secret`` authenticate with Basic auth instead (Agora's hosted service, or
    a cloudrec server started with customers). ``extensions=False`` leaves cloudrec's
    extensions out of requests, for Agora's hosted service.
    """
    credentials = Credentials(
        bearer=token, customer_id=customer_id, customer_secret=customer_secret
    )
    client = RestClient(server, credentials, transport=transport, extensions=extensions)
    return CloudRecorder(observer, client)


__all__ = ["CloudRecorder", "RecorderState", "create_cloud_recorder"]
