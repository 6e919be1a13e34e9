"""Notification events of a recording, shaped as Agora's webhook notices.

The server appends one notice per event to each recording's log; the SDK reads the
log as a server-sent event stream (or derives the same notices from polling
``query``) and turns notices into observer callbacks, and the server pushes them to
webhook endpoints. Event type numbers, ``msgName`` values, ``serviceType`` and each
event's ``details`` fields are those of Agora's Notification Center Service for Cloud
Recording (docs/webhooks.md, "Events"); ``payload.sequence`` counts from 0. Agora's
receivers take new fields and ignore unknown event types, which is where cloudrec's
additions go: a few extra ``details`` fields, and event 2001 (a slice stored).
"""

from __future__ import annotations

import time
import uuid
from enum import IntEnum
from typing import Any

RECORDER_SERVICE = "cloudrec_recorder"
"""``serviceName`` of cloudrec's own entry in ``query``'s ``extensionServiceState``
(Agora's array of ``{serviceName, payload}``): the recording's progress and health."""


def service_state(server_response: dict[str, Any], name: str = RECORDER_SERVICE) -> dict[str, Any]:
    """The ``payload`` of the ``extensionServiceState`` entry named ``name`` in a ``query``
    answer's ``serverResponse`` ({} when there is none, e.g. from Agora's service)."""
    entries = server_response.get("extensionServiceState")
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and entry.get("serviceName") == name:
                payload = entry.get("payload")
                return dict(payload) if isinstance(payload, dict) else {}
    return {}


class EventType(IntEnum):
    """Agora Cloud Recording notification event types that cloudrec sends (and its own)."""

    ERROR = 1  # cloud_recording_error: module, errorLevel, errorCode, stat, errorMsg
    WARNING = 2  # cloud_recording_warning: module, warnCode
    STATUS_UPDATE = 3  # cloud_recording_status_update: status, recordingMode, fileList
    FILE_INFOS = 4  # cloud_recording_file_infos: fileList (the playlist's name), once
    SESSION_EXIT = 11  # session_exit: exitStatus
    UPLOADER_STARTED = 30  # uploader_started: status
    UPLOADED = 31  # uploaded: every file is in the third-party storage; status, fileList
    BACKUPED = 32  # backuped: some files are in the backup and still being retried
    UPLOADING_PROGRESS = 33  # uploading_progress: details.progress in 1/10000
    RECORDER_STARTED = 40  # recorder_started: status
    RECORDER_LEAVE = 41  # recorder_leave: leaveCode (a bit mask, LEAVE_*)
    RECORDER_SLICE_START = 42  # recorder_slice_start: once, at the first slice
    RECORDER_SNAPSHOT_FILE = 45  # recorder_snapshot_file: fileName, each snapshot uploaded
    SLICE_STORED = 2001  # cloudrec's: one slice stored (fileName, bytes, duration)
    STREAM_STATE = 2002  # cloudrec's: a live stream's state (url masked, state, error)


MSG_NAMES: dict[EventType, str] = {
    EventType.ERROR: "cloud_recording_error",
    EventType.WARNING: "cloud_recording_warning",
    EventType.STATUS_UPDATE: "cloud_recording_status_update",
    EventType.FILE_INFOS: "cloud_recording_file_infos",
    EventType.SESSION_EXIT: "session_exit",
    EventType.UPLOADER_STARTED: "uploader_started",
    EventType.UPLOADED: "uploaded",
    EventType.BACKUPED: "backuped",
    EventType.UPLOADING_PROGRESS: "uploading_progress",
    EventType.RECORDER_STARTED: "recorder_started",
    EventType.RECORDER_LEAVE: "recorder_leave",
    EventType.RECORDER_SLICE_START: "recorder_slice_start",
    EventType.RECORDER_SNAPSHOT_FILE: "recorder_snapshot_file",
    EventType.SLICE_STORED: "cloudrec_slice_stored",
    EventType.STREAM_STATE: "cloudrec_stream_state",
}

SERVICE_TYPES: dict[EventType, int] = {
    EventType.UPLOADER_STARTED: 2,
    EventType.UPLOADED: 2,
    EventType.BACKUPED: 2,
    EventType.UPLOADING_PROGRESS: 2,
    EventType.RECORDER_STARTED: 1,
    EventType.RECORDER_LEAVE: 1,
    EventType.RECORDER_SLICE_START: 1,
    EventType.RECORDER_SNAPSHOT_FILE: 1,
    EventType.SLICE_STORED: 1,
    EventType.STREAM_STATE: 1,
}
"""``payload.serviceType`` (Agora: 0 the cloud recording service, 1 the recorder module,
2 the uploader module); events not listed are the service's (0)."""

MODULE_RECORDER = 0
MODULE_UPLOADER = 1
MODULE_SERVICE = 2
"""``details.module`` of errors and warnings (Agora: 0 recorder, 1 uploader, 2 the cloud
recording service)."""

LEAVE_INIT = 0
"""``leaveCode`` of recorder_leave, Agora's bit mask: the recorder could not start."""
LEAVE_SIGNAL = 2
"""The service ended the recorder (Agora: SIGINT): cloudrec's server stopped or
restarted while recording, or the recorder failed."""
LEAVE_NO_USERS = 4
"""Nobody was in the channel for ``maxIdleTime``: the recorder left by itself."""
LEAVE_CLIENT = 16
"""The recorder left on request (``stop``)."""

ERROR_LEVEL_MEDIUM = 3
ERROR_LEVEL_FATAL = 5
"""``errorLevel`` of error notices (Agora: 1 debug ... 5 fatal): cloudrec's errors are
3 (the recording goes on, or ended as reported by recorder_leave) or 5 (fatal: the
recording could not start, or ends now)."""

WARN_UPLOADS_RECOVERED = 1001
WARN_LOW_DISK = 1002
"""cloudrec's ``warnCode`` values (Agora's 31/32 are re-uploads, which cloudrec reports
as uploader errors while it retries): uploads work again; the data folder runs low."""


def track_type(has_audio: bool, has_video: bool) -> str:
    """Agora's ``trackType`` of a file: ``audio``, ``video`` or ``audio_and_video``."""
    if has_audio and has_video:
        return "audio_and_video"
    return "audio" if has_audio else "video"


def mixed_file(name: str, track: str, start_ms: int) -> dict[str, Any]:
    """One ``fileList`` entry of uploaded/backuped for the mixed recording (``uid`` "0":
    every user)."""
    return {
        "fileName": name,
        "trackType": track,
        "uid": "0",
        "mixedAllUser": True,
        "isPlayable": True,
        "sliceStartTime": start_ms,
    }


def track_file(name: str, kind: str, uid: int, start_ms: int) -> dict[str, Any]:
    """One ``fileList`` entry of an individual recording: the playlist of ``uid``'s
    ``audio`` or ``video``."""
    return {
        "fileName": name,
        "trackType": kind,
        "uid": str(uid),
        "mixedAllUser": False,
        "isPlayable": True,
        "sliceStartTime": start_ms,
    }


def make_notice(
    event_type: EventType, *, sid: str, cname: str, uid: int, sequence: int, details: dict[str, Any]
) -> dict[str, Any]:
    """One notice as Agora's webhook sends it (``productId`` 3 is cloud recording)."""
    now_ms = int(time.time() * 1000)
    return {
        "noticeId": uuid.uuid4().hex,
        "productId": 3,
        "eventType": int(event_type),
        "notifyMs": now_ms,
        "payload": {
            "cname": cname,
            "uid": str(uid),
            "sid": sid,
            "sequence": sequence,
            "sendts": now_ms,
            "serviceType": SERVICE_TYPES.get(event_type, 0),
            "details": {"msgName": MSG_NAMES[event_type], **details},
        },
    }


class Status(IntEnum):
    """``serverResponse.status`` of ``query``, Agora's numbers."""

    NOT_STARTED = 0
    INITIALIZING = 1
    STARTING_COMPONENTS = 2
    PARTIALLY_STARTED = 3
    STARTED = 4
    RECORDING = 5
    STOP_RECEIVED = 6
    STOPPED = 7
    EXITING = 8
    EXITED_ABNORMALLY = 20
