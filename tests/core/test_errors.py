"""Error codes: the seed's numbers, order, descriptions and remedies."""

from __future__ import annotations

from core import CloudRecordingError, ErrorCode, InvalidParameterError
from core.errors import Remedy


def test_codes_are_ok_then_430_to_442_in_the_seeds_order() -> None:
    names = [
        "CONNECT_ERROR",
        "DISCONNECTED",
        "INVALID_PARAMETER",
        "INVALID_OPERATION",
        "NO_USERS",
        "NO_RECORDED_DATA",
        "RECORDER_INIT",
        "RECORDER_FAILED",
        "UPLOADER_INIT",
        "UPLOADER_FAILED",
        "BACKUP_FAILED",
        "RECORDER_EXIT",
        "GENERAL_ERROR",
    ]
    assert ErrorCode.OK == 0
    assert [c.name for c in ErrorCode if c] == names
    assert [int(c) for c in ErrorCode if c] == list(range(430, 443))


def test_remedies_are_the_seeds() -> None:
    release = {
        ErrorCode.NO_USERS,
        ErrorCode.NO_RECORDED_DATA,
        ErrorCode.BACKUP_FAILED,
        ErrorCode.GENERAL_ERROR,
    }
    restart = {
        ErrorCode.RECORDER_INIT,
        ErrorCode.RECORDER_FAILED,
        ErrorCode.UPLOADER_INIT,
        ErrorCode.UPLOADER_FAILED,
        ErrorCode.RECORDER_EXIT,
    }
    for code in release:
        assert code.remedy is Remedy.RELEASE and "release(cancel=False)" in code.remedy_text
    for code in restart:
        assert code.remedy is Remedy.RELEASE_CANCEL_AND_RESTART
        assert "release(cancel=True)" in code.remedy_text
    assert ErrorCode.CONNECT_ERROR.remedy is Remedy.CHECK_NETWORK_AND_APP_ID
    assert ErrorCode.INVALID_OPERATION.remedy is Remedy.CHECK_CALL_ORDER
    for code in ErrorCode:
        assert code.info.description and code.info.description_zh and code.info.remedy_text_zh


def test_one_hierarchy_with_codes() -> None:
    error = InvalidParameterError("uid", 0, "1 to 4294967295")
    assert isinstance(error, CloudRecordingError) and isinstance(error, ValueError)
    assert error.code is ErrorCode.INVALID_PARAMETER
    assert CloudRecordingError("x").code is ErrorCode.GENERAL_ERROR
    assert CloudRecordingError("x", ErrorCode.NO_USERS).code is ErrorCode.NO_USERS
