"""The observer protocol of the seed (``ICloudRecorderObserver``).

Every method is optional: subclass :class:`CloudRecorderObserver` and override what
you need, or pass any object with some of these methods. The SDK calls them on the
asyncio loop that runs the recorder, never from another thread. A method may be a
plain function or a coroutine function; coroutines are awaited in order.
"""

from __future__ import annotations

from core.errors import ErrorCode

OBSERVER_METHODS = (
    "on_recording_connecting",
    "on_recording_started",
    "on_recording_stopped",
    "on_recording_uploaded",
    "on_recording_backed_up",
    "on_recording_uploading_progress",
    "on_recorder_failure",
    "on_uploader_failure",
    "on_recording_fatal_error",
    "on_recording_snapshot",
    "on_stream_state",
)
"""The seed's callbacks, then cloudrec's extensions (after them, never renaming one)."""


class CloudRecorderObserver:
    """Callbacks of a recording; the defaults do nothing."""

    def on_recording_connecting(self, recording_id: str) -> None:
        """The SDK is connecting to the cloud recording server."""

    def on_recording_started(self, recording_id: str) -> None:
        """The recording has started."""

    def on_recording_stopped(self, recording_id: str) -> None:
        """The recording has stopped."""

    def on_recording_uploaded(self, recording_id: str, file_name: str) -> None:
        """Every file of the recording is in the storage; ``file_name`` is the playlist."""

    def on_recording_backed_up(self, recording_id: str, file_name: str) -> None:
        """Some files could not be uploaded yet and are kept in the backup, still retried."""

    def on_recording_uploading_progress(
        self, recording_id: str, progress: int, playlist: str
    ) -> None:
        """``progress`` percent of what is recorded is stored (by bytes)."""

    def on_recorder_failure(self, recording_id: str, code: ErrorCode, msg: str) -> None:
        """The recording component reported a problem (no action needed)."""

    def on_uploader_failure(self, recording_id: str, code: ErrorCode, msg: str) -> None:
        """The upload component reported a problem (no action needed)."""

    def on_recording_fatal_error(self, recording_id: str, code: ErrorCode) -> None:
        """An unrecoverable error; ``code.remedy`` says what to do."""

    # --- cloudrec's extensions (not in the seed) ---------------------------------------

    def on_recording_snapshot(self, recording_id: str, file_name: str) -> None:
        """A snapshot of the composed picture is in the storage (``snapshot_config``;
        Agora's notice 45); ``file_name`` is ``<fileNamePrefix>/<file name>``, as the
        playlist's key is written."""

    def on_stream_state(self, recording_id: str, url: str, state: str, error: str) -> None:
        """A live stream destination (``rtmp_publish_config``; its ``url`` masked)
        changed ``state``: ``connecting``, ``live``, ``retrying`` (``error`` says why) or
        ``stopped`` (docs/streaming.md)."""
