"""Every field of Agora's documented request bodies, and what cloudrec does with it.

Agora's RESTful Cloud Recording reference (acquire, start, updateLayout, stop; mix mode)
documents the fields of each ``clientRequest``. cloudrec honours a field, refuses it
with a 400 that names it and says cloudrec does not support it yet, or accepts it where
it means nothing on one server (the note says why). Nothing is accepted and then
ignored. A key Agora does not document (a typo, a made-up key) is refused too, with
Agora's code 2 ("a parameter is spelt wrong; parameters are case sensitive"): a
misspelt ``subscribeAudioUids`` must not record everyone. ``docs/rest-api.md``, "Agora's
fields", is this table in prose; :func:`table_rows` gives it to the docs test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

HONOURED = "honoured"
REFUSED = "refused"
MEANINGLESS = "accepted, meaningless"
EXTENSION = "cloudrec extension"

CODE_UNKNOWN_FIELD = 2
"""Agora's code for a parameter spelt wrong (its common errors page)."""

CODE_UNSUPPORTED = 432
"""Agora's "the parameter in the request is incorrect"; the SDK's INVALID_PARAMETER."""


class FieldRefused(Exception):
    """A request field cloudrec refuses: answer 400 with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class AgoraField:
    """One documented field of a ``clientRequest`` (``path`` is dotted under it)."""

    path: str
    methods: tuple[str, ...]
    status: str
    note: str
    supported: Callable[[Any], bool] | None = None
    """For an honoured field: whether cloudrec honours this value (others are refused)."""
    supported_text: str = ""
    opaque: bool = False
    """Its content is checked by the code that honours it (not walked here)."""


START = ("start",)
ACQUIRE = ("acquire",)
STOP = ("stop",)
LAYOUT = ("updateLayout",)
START_LAYOUT = ("start", "updateLayout")


def _decryption_ok(value: Any) -> bool:
    return not (isinstance(value, int) and not isinstance(value, bool) and 4 <= value <= 8)


def _vendor_ok(value: Any) -> bool:
    return value not in (3, 5, 6, 7, 8, 11)


def _scene_ok(value: Any) -> bool:
    return value in (None, 0)


def _false(value: Any) -> bool:
    return value is False or value is None


_START = "Agora's start reference (docs.agora.io, Cloud Recording RESTful API, start)"
_ACQ = "Agora's acquire reference"
_SEL = "stream selection (issue 17, items 1-2): its own checks"

FIELDS: tuple[AgoraField, ...] = (
    # --- acquire -----------------------------------------------------------------
    AgoraField(
        "scene",
        ACQUIRE,
        HONOURED,
        "0 (real-time recording) is what cloudrec does; "
        "1 (web page recording) and 2 (postponed transcoding) are refused",
        _scene_ok,
        "0 (real-time audio and video recording)",
    ),
    AgoraField(
        "resourceExpiredHour",
        ACQUIRE,
        HONOURED,
        "an integer from 1 to 720 (default "
        "72), else 400 code 2 `Acquire: invalid resourceExpiredHour value!` as Agora's; "
        "counted from start: after it, query, update, updateLayout and stop answer 400 code 433 "
        "(the resource expired)",
    ),
    AgoraField(
        "excludeResourceIds",
        ACQUIRE,
        MEANINGLESS,
        "asks Agora for a server in another region than these resources'; cloudrec is one server",
    ),
    AgoraField(
        "region",
        ACQUIRE,
        MEANINGLESS,
        "restricts Agora's service to a region (CN, AP, EU, NA); cloudrec runs where it is started",
    ),
    AgoraField(
        "startParameter",
        ACQUIRE,
        MEANINGLESS,
        "a load-balancing hint holding start's "
        "clientRequest; cloudrec is one server and checks the fields at start",
        opaque=True,
    ),
    # --- start: clientRequest ------------------------------------------------------
    AgoraField(
        "token", START, HONOURED, "checked for an app with a certificate (docs/security.md)"
    ),
    AgoraField("recordingConfig", START, HONOURED, _START),
    AgoraField("recordingConfig.channelType", START, HONOURED, "0 communication, 1 live"),
    AgoraField(
        "recordingConfig.decryptionMode",
        START,
        HONOURED,
        "0-3; 4-8 (SM4_128_ECB, AES_128_GCM, AES_256_GCM, AES_128_GCM2, AES_256_GCM2) are refused",
        _decryption_ok,
        "0 none, 1 AES_128_XTS, 2 AES_128_ECB or 3 AES_256_XTS",
    ),
    AgoraField("recordingConfig.secret", START, HONOURED, "the key of decryptionMode"),
    AgoraField(
        "recordingConfig.salt",
        START,
        REFUSED,
        "only for modes 7 and 8, which cloudrec does not support yet",
    ),
    AgoraField("recordingConfig.maxIdleTime", START, HONOURED, "5 to 2592000 s"),
    AgoraField("recordingConfig.streamTypes", START, HONOURED, "0 audio, 1 video, 2 both"),
    AgoraField("recordingConfig.videoStreamType", START, HONOURED, "0 high, 1 low"),
    AgoraField("recordingConfig.audioProfile", START, HONOURED, "0, 1 or 2"),
    AgoraField("recordingConfig.subscribeAudioUids", START, HONOURED, _SEL, opaque=True),
    AgoraField("recordingConfig.subscribeVideoUids", START, HONOURED, _SEL, opaque=True),
    AgoraField("recordingConfig.unsubscribeAudioUids", START, HONOURED, _SEL, opaque=True),
    AgoraField("recordingConfig.unsubscribeVideoUids", START, HONOURED, _SEL, opaque=True),
    AgoraField(
        "recordingConfig.unSubscribeAudioUids",
        START,
        HONOURED,
        _SEL + " (the older spelling of Agora's docs)",
        opaque=True,
    ),
    AgoraField(
        "recordingConfig.unSubscribeVideoUids",
        START,
        HONOURED,
        _SEL + " (the older spelling of Agora's docs)",
        opaque=True,
    ),
    AgoraField("recordingConfig.subscribeUidGroup", START, HONOURED, _SEL, opaque=True),
    AgoraField(
        "recordingConfig.streamMode",
        START,
        HONOURED,
        'individual mode: "default" (each user\'s audio playlist, AAC, and video '
        'playlist, as sent) and "original" (nothing transcoded: the audio playlist holds '
        'the Opus packets as sent, in MPEG-TS); "standard" is refused (not built); in mix '
        "mode it is checked and, as in Agora's service, not used",
    ),
    AgoraField(
        "recordingConfig.privateParams",
        START,
        REFUSED,
        "undocumented settings agreed with Agora's support",
    ),
    AgoraField(
        "recordingConfig.progressInterval",
        START,
        EXTENSION,
        "seconds between progress notices (docs/rest-api.md)",
    ),
    AgoraField("recordingConfig.sliceDuration", START, EXTENSION, "target HLS slice length"),
    AgoraField("recordingConfig.transcodingConfig", START, HONOURED, "the mix's video"),
    AgoraField("recordingConfig.transcodingConfig.width", START, HONOURED, "pixels"),
    AgoraField("recordingConfig.transcodingConfig.height", START, HONOURED, "pixels"),
    AgoraField("recordingConfig.transcodingConfig.fps", START, HONOURED, "frames a second"),
    AgoraField("recordingConfig.transcodingConfig.bitrate", START, HONOURED, "kbps"),
    AgoraField(
        "recordingConfig.transcodingConfig.maxResolutionUid",
        START,
        HONOURED,
        "the large window of the vertical layout",
    ),
    AgoraField(
        "recordingConfig.transcodingConfig.mixedVideoLayout",
        START,
        HONOURED,
        "0 float, 1 best fit, 2 vertical, 3 custom (with layoutConfig)",
    ),
    AgoraField(
        "recordingConfig.transcodingConfig.activeSpeaker",
        START,
        EXTENSION,
        "true: the large window of FLOAT or VERTICAL follows who speaks (docs/rest-api.md)",
    ),
    AgoraField(
        "recordingConfig.transcodingConfig.renderMode",
        START,
        EXTENSION,
        "crop (0, default) or fit (1) in the preset layouts' windows",
    ),
    AgoraField("recordingConfig.transcodingConfig.backgroundColor", START, HONOURED, "#RRGGBB"),
    AgoraField(
        "recordingConfig.transcodingConfig.backgroundImage",
        START,
        HONOURED,
        "the canvas's image (JPEG or PNG URL, cropped to cover), fetched at start",
    ),
    AgoraField(
        "recordingConfig.transcodingConfig.defaultUserBackgroundImage",
        START,
        HONOURED,
        "the image in a window without video (after 3.5 s without a frame), fetched at start",
    ),
    AgoraField(
        "recordingConfig.transcodingConfig.layoutConfig",
        START,
        HONOURED,
        "the custom layout's regions (mixedVideoLayout 3): uid, x_axis, y_axis, width, "
        "height, alpha, render_mode; ignored by the preset layouts",
        opaque=True,
    ),
    AgoraField(
        "recordingConfig.transcodingConfig.backgroundConfig",
        START,
        HONOURED,
        "per-user images (uid, image_url, render_mode), fetched at start",
        opaque=True,
    ),
    AgoraField("recordingFileConfig", START, HONOURED, _START),
    AgoraField(
        "recordingFileConfig.avFileType",
        START,
        HONOURED,
        '["hls"] (the default) or ["hls","mp4"]: MP4 files beside the playlist, '
        "named <sid>_<cname>_<index>.mp4, a new one after about 2 hours or 2 GB; "
        'fileList then comes as JSON (fileListMode "json"); ["mp4"] alone is refused, '
        "as Agora refuses it",
    ),
    AgoraField(
        "recordingFileConfig.mp4MaxSeconds",
        START,
        EXTENSION,
        "seconds after which an MP4 file ends at the next keyframe (10 to 7200; "
        "default 7200, Agora's 2 hours)",
    ),
    AgoraField(
        "snapshotConfig",
        START,
        HONOURED,
        "JPEG snapshots: of each user in individual mode, as Agora's; of the composed "
        "picture in mix mode (Agora takes none there); refused for streamTypes 0 (no video)",
    ),
    AgoraField(
        "snapshotConfig.captureInterval",
        START,
        HONOURED,
        "seconds between snapshots, 1 to 3600 (default 10); the first at one interval "
        "into the recording",
    ),
    AgoraField(
        "snapshotConfig.fileType",
        START,
        HONOURED,
        '["jpg"], the only type (as Agora); files <sid>_<cname>_<UTC yyyyMMddHHmmssSSS>.jpg '
        "beside the playlist, each announced by notice 45 once uploaded",
    ),
    AgoraField(
        "rtmpPublishConfig",
        START,
        HONOURED,
        "Agora's for web page recording; cloudrec pushes a mix recording's own picture and "
        "sound live (docs/streaming.md); refused in individual mode; update replaces it",
        opaque=True,
    ),
    AgoraField("extensionServiceConfig", START, REFUSED, "web page recording and CDN push"),
    AgoraField("appsCollection", START, REFUSED, "postponed transcoding (individual mode)"),
    AgoraField("transcodeOptions", START, REFUSED, "postponed transcoding (individual mode)"),
    AgoraField("storageConfig", START, HONOURED, _START),
    AgoraField(
        "storageConfig.vendor",
        START,
        HONOURED,
        "0 Qiniu, 1 Amazon S3, 2 Aliyun (and "
        "cloudrec's 100, a local folder); 3, 5, 6, 7, 8 and 11 are refused",
        _vendor_ok,
        "0 (Qiniu), 1 (Amazon S3), 2 (Aliyun) or 100 (a local folder, cloudrec)",
    ),
    AgoraField("storageConfig.region", START, HONOURED, "the vendor's region table"),
    AgoraField("storageConfig.bucket", START, HONOURED, "the bucket"),
    AgoraField("storageConfig.accessKey", START, HONOURED, "kept encrypted, never shown"),
    AgoraField("storageConfig.secretKey", START, HONOURED, "kept encrypted, never shown"),
    AgoraField("storageConfig.stsToken", START, REFUSED, "temporary credentials"),
    AgoraField("storageConfig.stsExpiration", START, REFUSED, "temporary credentials"),
    AgoraField("storageConfig.fileNamePrefix", START, HONOURED, "folders of the objects"),
    AgoraField("storageConfig.extensionParams", START, HONOURED, _START),
    AgoraField(
        "storageConfig.extensionParams.endpoint",
        START,
        HONOURED,
        "an S3-compatible endpoint (the hosts the operator allows)",
    ),
    AgoraField(
        "storageConfig.extensionParams.localFolder",
        START,
        EXTENSION,
        "vendor 100's folder, inside the server's storage roots",
    ),
    AgoraField("storageConfig.extensionParams.sse", START, REFUSED, "server-side encryption"),
    AgoraField("storageConfig.extensionParams.tag", START, REFUSED, "object tags"),
    # --- updateLayout ---------------------------------------------------------------
    AgoraField("mixedVideoLayout", LAYOUT, HONOURED, "0 float, 1 best fit, 2 vertical, 3 custom"),
    AgoraField("renderMode", LAYOUT, EXTENSION, "crop (0, default) or fit (1); omitted: crop"),
    AgoraField("activeSpeaker", LAYOUT, EXTENSION, "true or false; omitted: false"),
    AgoraField("maxResolutionUid", LAYOUT, HONOURED, "the large window of the vertical layout"),
    AgoraField("backgroundColor", LAYOUT, HONOURED, "#RRGGBB; omitted: black again"),
    AgoraField("backgroundImage", LAYOUT, HONOURED, "the canvas's image; omitted: none"),
    AgoraField(
        "defaultUserBackgroundImage", LAYOUT, HONOURED, "a user's default image; omitted: none"
    ),
    AgoraField(
        "layoutConfig",
        LAYOUT,
        HONOURED,
        "the custom layout's regions (mixedVideoLayout 3); omitted: none",
        opaque=True,
    ),
    AgoraField("backgroundConfig", LAYOUT, HONOURED, "per-user images; omitted: none", opaque=True),
    # --- stop ---------------------------------------------------------------------
    AgoraField(
        "async_stop",
        STOP,
        HONOURED,
        "false (the default): stop answers once the "
        "last slice and the playlist are stored, as Agora's synchronous stop; true "
        "(answer at once) is refused",
        _false,
        "false",
    ),
)

_BY_KEY: dict[tuple[str, str], AgoraField] = {
    (method, f.path): f for f in FIELDS for method in f.methods
}
_TOP_LEVEL = frozenset({"cname", "uid", "clientRequest"})


def check_request(method: str, body: dict[str, Any]) -> None:
    """Refuse what cloudrec does not honour in a request body of ``method`` (``acquire``,
    ``start``, ``updateLayout``, ``stop``): raises :class:`FieldRefused` naming the field."""
    for key in body:
        if key not in _TOP_LEVEL:
            raise _unknown(str(key))
    client_request = body.get("clientRequest")
    if isinstance(client_request, dict):
        _walk(method, client_request, "")


def _walk(method: str, obj: dict[str, Any], prefix: str) -> None:
    for key, value in obj.items():
        path = f"{prefix}{key}"
        field = _BY_KEY.get((method, path))
        if field is None:
            raise _unknown(f"clientRequest.{path}")
        if field.status == REFUSED:
            raise FieldRefused(
                CODE_UNSUPPORTED,
                f"clientRequest.{path}: cloudrec does not support this field yet "
                f'({field.note}); leave it out (docs/rest-api.md, "Agora\'s fields")',
            )
        if field.supported is not None and not field.supported(value):
            raise FieldRefused(
                CODE_UNSUPPORTED,
                f"clientRequest.{path}: {_shown(value)} is not supported by cloudrec yet; "
                f"{field.supported_text}",
            )
        if method == "acquire" and path == "resourceExpiredHour":
            expired_hour(value)
        if isinstance(value, dict) and not field.opaque:
            _walk(method, value, f"{path}.")


def _unknown(path: str) -> FieldRefused:
    return FieldRefused(
        CODE_UNKNOWN_FIELD,
        f"invalid request: {path}: no such field of Agora's API (names are case sensitive; "
        'docs/rest-api.md, "Agora\'s fields", lists them)',
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"


DEFAULT_EXPIRED_HOUR = 72
"""Agora's default ``resourceExpiredHour``."""


def expired_hour(value: Any) -> int:
    """``resourceExpiredHour`` of acquire: an integer from 1 to 720, else Agora's own
    answer (400, code 2, ``Acquire: invalid resourceExpiredHour value!``)."""
    if value is None:
        return DEFAULT_EXPIRED_HOUR
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 720:
        return value
    raise FieldRefused(
        CODE_UNKNOWN_FIELD,
        "Acquire: invalid resourceExpiredHour value! (clientRequest.resourceExpiredHour: "
        f"{_shown(value)}; an integer from 1 to 720 hours)",
    )


def table_rows() -> Iterator[tuple[str, str, str, str]]:
    """(field, methods, status, note) of every documented field, for the docs' table."""
    for field in FIELDS:
        yield f"clientRequest.{field.path}", ", ".join(field.methods), field.status, field.note


def refused_paths(method: str) -> list[str]:
    """The dotted paths under ``clientRequest`` that ``method`` refuses outright."""
    return [f.path for f in FIELDS if method in f.methods and f.status == REFUSED]
