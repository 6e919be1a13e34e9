"""Notification events of a recording, shaped like Agora's webhook notices.

The server appends one notice per event to each recording's log; the SDK reads the
log as a server-sent event stream (or derives the same notices from polling
``query``) and turns notices into observer callbacks. Event type numbers and
``msgName`` values are Agora's Cloud Recording notification types.
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
    """Agora Cloud Recording notification event types that cloudrec sends."""

    ERROR = 1  # cloud_recording_error: details.module 0 recorder, 1 uploader, 2 storage
    WARNING = 2  # cloud_recording_warning
    STATUS_UPDATE = 3  # cloud_recording_status_update
    FILE_INFOS = 4  # cloud_recording_file_infos: the playlist and its slices
    SESSION_EXIT = 11  # session_exit: the recording service has exited
    UPLOADER_STARTED = 30  # uploader_started
    UPLOADED = 31  # uploaded: every file is in the third-party storage
    BACKUPED = 32  # backuped: some files are in the backup and still being retried
    UPLOADING_PROGRESS = 33  # uploading_progress: details.progress in 1/10000
    RECORDER_STARTED = 40  # recorder_started
    RECORDER_LEAVE = 41  # recorder_leave: details.leaveCode, details.reason
    RECORDER_SLICE_START = 42  # recorder_slice_start


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
}

MODULE_RECORDER = 0
MODULE_UPLOADER = 1
MODULE_STORAGE = 2


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
            "serviceType": 0,
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
