"""Enumerations of the seed API, with Agora's numbers as their values.

Member names are the seed's constants in UPPER_CASE without their ``kFoo`` prefix
(``kChannelTypeLive`` -> ``ChannelType.LIVE``); values are the numbers Agora's
REST API uses on the wire, so ``int(member)`` is the wire value.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class RecordingStreamType(IntEnum):
    """Which media to record (seed: ``recording_stream_types``)."""

    AUDIO_ONLY = 0
    VIDEO_ONLY = 1
    AUDIO_VIDEO = 2

    @property
    def has_audio(self) -> bool:
        return self is not RecordingStreamType.VIDEO_ONLY

    @property
    def has_video(self) -> bool:
        return self is not RecordingStreamType.AUDIO_ONLY


class RecordingMode(IntEnum):
    """How the channel is recorded: every user in one composed file (MIX, the seed's
    only mode) or each user's audio and video in files of their own (INDIVIDUAL, Agora's
    ``mode=individual``). The values are Agora's ``recordingMode`` in its status
    notices, as its English reference has them (its Chinese reference says the
    opposite: docs/webhooks.md)."""

    INDIVIDUAL = 0
    MIX = 1

    @property
    def path(self) -> str:
        """The mode's name in Agora's REST paths: ``mix`` or ``individual``."""
        return self.name.lower()


class StreamMode(StrEnum):
    """How individual recording writes a user's media (Agora's ``recordingConfig.streamMode``,
    a string on the wire; mix mode checks it and does not use it, as Agora's service)."""

    DEFAULT = "default"
    """Audio transcoded to AAC-LC (48 kHz, mono, 48 Kbps), video as sent."""
    STANDARD = "standard"
    """Agora's files per user made after the recording (not built: refused)."""
    ORIGINAL = "original"
    """Nothing transcoded: audio as sent (Opus in MPEG-TS, Agora's individual audio
    non-transcoding recording), video as sent."""


class DecryptionMode(IntEnum):
    """Media decryption scheme; must match the channel's encryption."""

    NONE = 0
    AES_128_XTS = 1
    AES_128_ECB = 2
    AES_256_XTS = 3


class ChannelType(IntEnum):
    """Channel profile: COMMUNICATION (everyone talks) or LIVE (hosts and audience)."""

    COMMUNICATION = 0
    LIVE = 1


class AudioProfile(IntEnum):
    """Sample rate, bitrate and channels of the recorded audio."""

    MUSIC_STANDARD = 0
    MUSIC_HIGH_QUALITY = 1
    MUSIC_HIGH_QUALITY_STEREO = 2

    @property
    def channels(self) -> int:
        return 2 if self is AudioProfile.MUSIC_HIGH_QUALITY_STEREO else 1

    @property
    def bitrate_kbps(self) -> int:
        return {0: 48, 1: 128, 2: 192}[int(self)]

    @property
    def sample_rate(self) -> int:
        return 48_000


class VideoStreamType(IntEnum):
    """Which of a publisher's video streams to record.

    HIGH and LOW are the seed's. AUTO is a cloudrec extension: LOW whenever the
    user's tile is no larger than the low stream, HIGH otherwise.
    """

    HIGH = 0
    LOW = 1
    AUTO = 2


class MixedVideoLayout(IntEnum):
    """How users are arranged in the mixed picture."""

    FLOAT = 0
    BEST_FIT = 1
    VERTICAL = 2
    CUSTOM = 3
    """Regions placed by the operator (Agora's ``mixedVideoLayout: 3`` with
    ``layoutConfig``)."""


class RenderMode(IntEnum):
    """How a picture fills a window whose aspect ratio differs from its own (Agora's
    ``render_mode``)."""

    CROP = 0
    """Scaled to cover the window, the overflow cut off evenly (Agora's default)."""
    FIT = 1
    """Scaled to lie within the window, bars in the background colour beside it."""


class StorageVendor(IntEnum):
    """Third-party cloud storage (0-2 are the seed's; LOCAL is a cloudrec extension)."""

    QINIU = 0
    AMAZON_S3 = 1
    ALIYUN = 2
    LOCAL = 100

    @property
    def is_cloud(self) -> bool:
        return self is not StorageVendor.LOCAL


class QiniuRegion(IntEnum):
    """Qiniu Kodo regions of the seed."""

    HUADONG = 0
    HUABEI = 1
    HUANAN = 2
    BEIMEI = 3


class AmazonS3Region(IntEnum):
    """Amazon S3 regions of the seed."""

    US_EAST_1 = 0
    US_EAST_2 = 1
    US_WEST_1 = 2
    US_WEST_2 = 3
    EU_WEST_1 = 4
    EU_WEST_2 = 5
    EU_WEST_3 = 6
    EU_CENTRAL_1 = 7
    AP_SOUTHEAST_1 = 8
    AP_SOUTHEAST_2 = 9
    AP_NORTHEAST_1 = 10
    AP_NORTHEAST_2 = 11
    SA_EAST_1 = 12
    CA_CENTRAL_1 = 13
    AP_SOUTH_1 = 14
    CN_NORTH_1 = 15
    CN_NORTHWEST_1 = 16
    US_GOV_WEST_1 = 17


class AliyunRegion(IntEnum):
    """Aliyun OSS regions of the seed."""

    CN_HANGZHOU = 0
    CN_SHANGHAI = 1
    CN_QINGDAO = 2
    CN_BEIJIN = 3
    CN_ZHANGJIAKOU = 4
    CN_HUHEHAOTE = 5
    CN_SHENZHEN = 6
    CN_HONGKONG = 7
    US_WEST_1 = 8
    US_EAST_1 = 9
    AP_SOUTHEAST_1 = 10
    AP_SOUTHEAST_2 = 11
    AP_SOUTHEAST_3 = 12
    AP_SOUTHEAST_5 = 13
    AP_NORTHEAST_1 = 14
    AP_SOUTH_1 = 15
    EU_CENTRAL_1 = 16
    EU_WEST_1 = 17
    EU_EAST_1 = 18


SANDBOX_APP_ID = "c10d4ec0c10d4ec0c10d4ec0c10d4ec0"
"""The embedded server's built-in app ID: no app certificate, so joining needs no token."""

DEMO_CHANNEL = "demo"
"""The channel the window and ``cloudrec demo`` use by default."""
