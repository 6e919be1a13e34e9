"""Human labels of config fields and enum members, translated at run time.

The strings are marked with ``QT_TRANSLATE_NOOP`` so ``pyside6-lupdate`` collects
them under the ``Labels`` context; :func:`field_label` and :func:`member_label`
translate them with the installed translator. Help texts are not here: they come
from the config models' ``field_help`` (English and Chinese) in core.
"""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

_FIELDS = {
    "app_id": QT_TRANSLATE_NOOP("Labels", "App ID"),
    "channel": QT_TRANSLATE_NOOP("Labels", "Channel"),
    "token": QT_TRANSLATE_NOOP("Labels", "Token"),
    "uid": QT_TRANSLATE_NOOP("Labels", "Recorder uid"),
    "recording_mode": QT_TRANSLATE_NOOP("Labels", "Mode"),
    "recording_stream_types": QT_TRANSLATE_NOOP("Labels", "Streams"),
    "decryption_mode": QT_TRANSLATE_NOOP("Labels", "Decryption"),
    "secret": QT_TRANSLATE_NOOP("Labels", "Decryption secret"),
    "channel_type": QT_TRANSLATE_NOOP("Labels", "Channel type"),
    "audio_profile": QT_TRANSLATE_NOOP("Labels", "Audio profile"),
    "video_stream_type": QT_TRANSLATE_NOOP("Labels", "Video stream"),
    "max_idle_time": QT_TRANSLATE_NOOP("Labels", "Max idle time"),
    "progress_interval": QT_TRANSLATE_NOOP("Labels", "Progress interval"),
    "slice_duration": QT_TRANSLATE_NOOP("Labels", "Slice duration"),
    "subscribe_audio_uids": QT_TRANSLATE_NOOP("Labels", "Record voices of"),
    "unsubscribe_audio_uids": QT_TRANSLATE_NOOP("Labels", "Leave out voices of"),
    "subscribe_video_uids": QT_TRANSLATE_NOOP("Labels", "Show pictures of"),
    "unsubscribe_video_uids": QT_TRANSLATE_NOOP("Labels", "Leave out pictures of"),
    "width": QT_TRANSLATE_NOOP("Labels", "Width"),
    "height": QT_TRANSLATE_NOOP("Labels", "Height"),
    "fps": QT_TRANSLATE_NOOP("Labels", "Frame rate"),
    "bitrate": QT_TRANSLATE_NOOP("Labels", "Bitrate"),
    "max_resolution_uid": QT_TRANSLATE_NOOP("Labels", "Max-resolution uid"),
    "layout": QT_TRANSLATE_NOOP("Labels", "Layout"),
    "background_color": QT_TRANSLATE_NOOP("Labels", "Background"),
    "render_mode": QT_TRANSLATE_NOOP("Labels", "Pictures"),
    "active_speaker": QT_TRANSLATE_NOOP("Labels", "Large window follows the speaker"),
    "background_image": QT_TRANSLATE_NOOP("Labels", "Background image"),
    "default_user_background_image": QT_TRANSLATE_NOOP("Labels", "Image without video"),
    "vendor": QT_TRANSLATE_NOOP("Labels", "Vendor"),
    "region": QT_TRANSLATE_NOOP("Labels", "Region"),
    "bucket": QT_TRANSLATE_NOOP("Labels", "Bucket"),
    "access_key": QT_TRANSLATE_NOOP("Labels", "Access key"),
    "secret_key": QT_TRANSLATE_NOOP("Labels", "Secret key"),
    "file_name_prefix": QT_TRANSLATE_NOOP("Labels", "File name prefix"),
    "endpoint": QT_TRANSLATE_NOOP("Labels", "Endpoint"),
    "local_folder": QT_TRANSLATE_NOOP("Labels", "Local folder"),
}

_SUFFIXES = {
    "max_idle_time": QT_TRANSLATE_NOOP("Labels", " s"),
    "progress_interval": QT_TRANSLATE_NOOP("Labels", " s"),
    "slice_duration": QT_TRANSLATE_NOOP("Labels", " s"),
    "width": QT_TRANSLATE_NOOP("Labels", " px"),
    "height": QT_TRANSLATE_NOOP("Labels", " px"),
    "fps": QT_TRANSLATE_NOOP("Labels", " fps"),
    "bitrate": QT_TRANSLATE_NOOP("Labels", " kbps"),
}

_MEMBERS = {
    ("RecordingMode", "MIX"): QT_TRANSLATE_NOOP("Labels", "Mix: everyone in one recording"),
    ("RecordingMode", "INDIVIDUAL"): QT_TRANSLATE_NOOP(
        "Labels", "Individual: each user's audio and video in files of their own"
    ),
    ("RecordingStreamType", "AUDIO_VIDEO"): QT_TRANSLATE_NOOP("Labels", "Audio and video"),
    ("RecordingStreamType", "AUDIO_ONLY"): QT_TRANSLATE_NOOP("Labels", "Audio only"),
    ("RecordingStreamType", "VIDEO_ONLY"): QT_TRANSLATE_NOOP("Labels", "Video only"),
    ("DecryptionMode", "NONE"): QT_TRANSLATE_NOOP("Labels", "None"),
    ("DecryptionMode", "AES_128_XTS"): QT_TRANSLATE_NOOP("Labels", "AES-128-XTS"),
    ("DecryptionMode", "AES_128_ECB"): QT_TRANSLATE_NOOP("Labels", "AES-128-ECB"),
    ("DecryptionMode", "AES_256_XTS"): QT_TRANSLATE_NOOP("Labels", "AES-256-XTS"),
    ("ChannelType", "COMMUNICATION"): QT_TRANSLATE_NOOP("Labels", "Communication"),
    ("ChannelType", "LIVE"): QT_TRANSLATE_NOOP("Labels", "Live broadcast"),
    ("AudioProfile", "MUSIC_STANDARD"): QT_TRANSLATE_NOOP(
        "Labels", "Standard (48 kHz mono, ~48 kbps)"
    ),
    ("AudioProfile", "MUSIC_HIGH_QUALITY"): QT_TRANSLATE_NOOP(
        "Labels", "High quality (48 kHz mono, ~128 kbps)"
    ),
    ("AudioProfile", "MUSIC_HIGH_QUALITY_STEREO"): QT_TRANSLATE_NOOP(
        "Labels", "High quality stereo (48 kHz, ~192 kbps)"
    ),
    ("VideoStreamType", "HIGH"): QT_TRANSLATE_NOOP("Labels", "High (big stream)"),
    ("VideoStreamType", "LOW"): QT_TRANSLATE_NOOP("Labels", "Low (small stream)"),
    ("VideoStreamType", "AUTO"): QT_TRANSLATE_NOOP("Labels", "Automatic per tile"),
    ("MixedVideoLayout", "FLOAT"): QT_TRANSLATE_NOOP("Labels", "Floating"),
    ("MixedVideoLayout", "BEST_FIT"): QT_TRANSLATE_NOOP("Labels", "Best fit"),
    ("MixedVideoLayout", "VERTICAL"): QT_TRANSLATE_NOOP("Labels", "Vertical"),
    ("MixedVideoLayout", "CUSTOM"): QT_TRANSLATE_NOOP("Labels", "Custom regions"),
    ("RenderMode", "CROP"): QT_TRANSLATE_NOOP("Labels", "Crop to fill"),
    ("RenderMode", "FIT"): QT_TRANSLATE_NOOP("Labels", "Fit with bars"),
    ("StorageVendor", "QINIU"): QT_TRANSLATE_NOOP("Labels", "Qiniu Kodo"),
    ("StorageVendor", "AMAZON_S3"): QT_TRANSLATE_NOOP("Labels", "Amazon S3"),
    ("StorageVendor", "ALIYUN"): QT_TRANSLATE_NOOP("Labels", "Aliyun OSS"),
    ("StorageVendor", "LOCAL"): QT_TRANSLATE_NOOP("Labels", "Local folder"),
}


def _tr(text: object) -> str:
    # QT_TRANSLATE_NOOP returns its text unchanged, typed as object in PySide6's stubs.
    return QCoreApplication.translate("Labels", str(text))


def field_label(name: str) -> str:
    """The translated label of a form field."""
    return _tr(_FIELDS[name]) if name in _FIELDS else name.replace("_", " ").capitalize()


def field_suffix(name: str) -> str:
    """The translated unit shown after a spin box's value, or ""."""
    return _tr(_SUFFIXES[name]) if name in _SUFFIXES else ""


def member_label(member: IntEnum) -> str:
    """The translated label of an enum member (its name when there is none)."""
    key = (type(member).__name__, member.name)
    return _tr(_MEMBERS[key]) if key in _MEMBERS else member.name
