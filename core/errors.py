"""Error codes of the seed, their remedies, and the one exception hierarchy.

Every error cloudrec raises or reports is a :class:`CloudRecordingError` carrying an
:class:`ErrorCode`; each code knows its description and the seed's remedy as data,
so the command line, the window's dialogs and the docs all say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class Remedy(Enum):
    """What the seed tells an application to do about an error."""

    NONE = "none"
    CHECK_NETWORK_AND_APP_ID = "check_network_and_app_id"
    CHECK_NETWORK = "check_network"
    CHECK_PARAMETERS = "check_parameters"
    CHECK_CALL_ORDER = "check_call_order"
    RELEASE = "release"  # release(cancel=False) to free local resources
    RELEASE_CANCEL_AND_RESTART = "release_cancel_and_restart"  # release(cancel=True), start again


@dataclass(frozen=True)
class ErrorInfo:
    """Seed documentation of one error code (English and Simplified Chinese)."""

    description: str
    description_zh: str
    remedy: Remedy
    remedy_text: str
    remedy_text_zh: str


class ErrorCode(IntEnum):
    """``RecordingErrorCode`` of the seed: OK, then 430..442 in the seed's order."""

    OK = 0
    CONNECT_ERROR = 430
    DISCONNECTED = 431
    INVALID_PARAMETER = 432
    INVALID_OPERATION = 433
    NO_USERS = 434
    NO_RECORDED_DATA = 435
    RECORDER_INIT = 436
    RECORDER_FAILED = 437
    UPLOADER_INIT = 438
    UPLOADER_FAILED = 439
    BACKUP_FAILED = 440
    RECORDER_EXIT = 441
    GENERAL_ERROR = 442

    @property
    def info(self) -> ErrorInfo:
        """Description and remedy of this code, from the seed."""
        return _INFO[self]

    @property
    def remedy(self) -> Remedy:
        return _INFO[self].remedy

    @property
    def description(self) -> str:
        return _INFO[self].description

    @property
    def remedy_text(self) -> str:
        return _INFO[self].remedy_text


_RELEASE = (
    "Call release(cancel=False) to free local resources.",
    "调用 Release (false) 来释放本地资源。",
)
_RESTART = (
    "Call release(cancel=True) and start the recording again.",
    "调用 Release (true) 并重新开始录制。",
)


def _info(desc: str, desc_zh: str, remedy: Remedy, text: tuple[str, str]) -> ErrorInfo:
    return ErrorInfo(desc, desc_zh, remedy, text[0], text[1])


_INFO: dict[ErrorCode, ErrorInfo] = {
    ErrorCode.OK: _info("No error.", "没有错误。", Remedy.NONE, ("None.", "无。")),
    ErrorCode.CONNECT_ERROR: _info(
        "Failed to connect to the cloud recording server.",
        "连接至云端录制服务器失败。",
        Remedy.CHECK_NETWORK_AND_APP_ID,
        ("Check the network and the permissions of the App ID.", "检查网络和 appid 的权限。"),
    ),
    ErrorCode.DISCONNECTED: _info(
        "The connection to the cloud recording server was interrupted.",
        "与云端录制服务器的连接中断。",
        Remedy.CHECK_NETWORK,
        ("Check the network.", "检查网络。"),
    ),
    ErrorCode.INVALID_PARAMETER: _info(
        "Invalid parameter.",
        "参数不合法。",
        Remedy.CHECK_PARAMETERS,
        ("Check the parameters.", "检查参数。"),
    ),
    ErrorCode.INVALID_OPERATION: _info(
        "The operation is not supported now.",
        "不支持当前操作。",
        Remedy.CHECK_CALL_ORDER,
        ("Check the order of the calls.", "检查调用顺序。"),
    ),
    ErrorCode.NO_USERS: _info(
        "No user in the channel.", "频道内无用户。", Remedy.RELEASE, _RELEASE
    ),
    ErrorCode.NO_RECORDED_DATA: _info(
        "No recorded data was produced.", "未生成录制数据。", Remedy.RELEASE, _RELEASE
    ),
    ErrorCode.RECORDER_INIT: _info(
        "The recorder failed to initialise.",
        "初始化异常。",
        Remedy.RELEASE_CANCEL_AND_RESTART,
        _RESTART,
    ),
    ErrorCode.RECORDER_FAILED: _info(
        "The recorder failed.", "录制异常。", Remedy.RELEASE_CANCEL_AND_RESTART, _RESTART
    ),
    ErrorCode.UPLOADER_INIT: _info(
        "The uploader failed to initialise.",
        "初始化上传组件异常。",
        Remedy.RELEASE_CANCEL_AND_RESTART,
        _RESTART,
    ),
    ErrorCode.UPLOADER_FAILED: _info(
        "The uploader failed.", "上传组件异常。", Remedy.RELEASE_CANCEL_AND_RESTART, _RESTART
    ),
    ErrorCode.BACKUP_FAILED: _info("The backup failed.", "云备份异常。", Remedy.RELEASE, _RELEASE),
    ErrorCode.RECORDER_EXIT: _info(
        "The recorder exited abnormally.",
        "退出异常。",
        Remedy.RELEASE_CANCEL_AND_RESTART,
        _RESTART,
    ),
    ErrorCode.GENERAL_ERROR: _info("Other error.", "其他错误。", Remedy.RELEASE, _RELEASE),
}


class CloudRecordingError(Exception):
    """Root of every cloudrec error: an :class:`ErrorCode` and a message a person can act on."""

    default_code = ErrorCode.GENERAL_ERROR

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        self.code = ErrorCode(code if code is not None else self.default_code)
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.code.name} ({int(self.code)}): {self.message}"


class InvalidParameterError(CloudRecordingError, ValueError):
    """A parameter is out of range; the message names the field, the value and what is allowed."""

    default_code = ErrorCode.INVALID_PARAMETER

    def __init__(self, field: str, value: object, allowed: str, *, redact: bool = False) -> None:
        self.field = field
        self.allowed = allowed
        if redact:  # secrets never appear in exception text, only their length
            self.shown = f"<hidden, {len(str(value or ''))} characters>"
            self.value: object = None
        else:
            self.shown = repr(value)
            self.value = value
        super().__init__(f"{field}: {self.shown} is not allowed; {allowed}")

    def within(self, parent: str) -> InvalidParameterError:
        """The same error for a field nested in ``parent`` (e.g. ``transcoding_config``)."""
        if not parent or self.field == parent or self.field.startswith(f"{parent}."):
            return self
        error = InvalidParameterError(f"{parent}.{self.field}", self.value, self.allowed)
        error.shown = self.shown
        error.args = (f"{error.field}: {self.shown} is not allowed; {self.allowed}",)
        error.message = error.args[0]
        return error


class InvalidOperationError(CloudRecordingError):
    """A call made in the wrong order (stop before start, start twice, use after release)."""

    default_code = ErrorCode.INVALID_OPERATION


class ConnectError(CloudRecordingError):
    """The recording server could not be reached."""

    default_code = ErrorCode.CONNECT_ERROR
