"""cloudrec core: the Cloud Recording SDK of the seed in Python, and its engine.

This package never imports Qt: the window lives in ``gui``.
"""

from core.bitrate import recommended_bitrate
from core.config import (
    CloudStorageConfig,
    LayoutRegion,
    RecordingConfig,
    TranscodingConfig,
    UserBackground,
)
from core.enums import (
    AliyunRegion,
    AmazonS3Region,
    AudioProfile,
    ChannelType,
    DecryptionMode,
    MixedVideoLayout,
    QiniuRegion,
    RecordingMode,
    RecordingStreamType,
    RenderMode,
    StorageVendor,
    StreamMode,
    VideoStreamType,
)
from core.errors import CloudRecordingError, ErrorCode, InvalidParameterError
from core.layout import Rect, Region, compute_layout, compute_windows
from core.sdk.observer import CloudRecorderObserver
from core.sdk.recorder import CloudRecorder, create_cloud_recorder

__all__ = [
    "AliyunRegion",
    "AmazonS3Region",
    "AudioProfile",
    "ChannelType",
    "CloudRecorder",
    "CloudRecorderObserver",
    "CloudRecordingError",
    "CloudStorageConfig",
    "DecryptionMode",
    "ErrorCode",
    "InvalidParameterError",
    "LayoutRegion",
    "MixedVideoLayout",
    "QiniuRegion",
    "RecordingConfig",
    "RecordingMode",
    "RecordingStreamType",
    "Rect",
    "Region",
    "RenderMode",
    "StorageVendor",
    "StreamMode",
    "TranscodingConfig",
    "UserBackground",
    "VideoStreamType",
    "compute_layout",
    "compute_windows",
    "create_cloud_recorder",
    "recommended_bitrate",
]
