"""What a field allows, in Chinese (issue 28, item 9).

The config models and checks in ``core`` say what a field allows in English
(``InvalidParameterError.allowed``, ``FieldHelp.allowed``): the SDK's and the REST
API's callers read those. The window shows them under its fields and in their
tooltips; in the Chinese window it shows them in Chinese, from this table. Enum
member names (``AMAZON_S3``, ``CUSTOM``), wire names (``layoutConfig``) and URL
shapes stay as they are: they are what the user types or reads in Agora's docs.

Texts with numbers or names in them (a vendor, a layout, a size) are patterns; a
text the table does not know is shown in English rather than guessed at
(``tests/gui/test_forms.py`` checks that every field's and every check's text is
here).
"""

from __future__ import annotations

import re

_NUMBER = r"(\d+)"
_NAME = r"([A-Z0-9_]+)"

_FIXED = {
    # core.config: what each field allows (FieldHelp.allowed)
    "a uid from 1 to 4294967295, or none": "1 到 4294967295 的 uid，或留空",
    "a number from 0 to 1 (a fraction of the canvas, to six decimals)": (
        "0 到 1 的数（占画布的比例，最多六位小数）"
    ),
    "a number above 0, up to 1 (a fraction of the canvas, to six decimals)": (
        "大于 0、不超过 1 的数（占画布的比例，最多六位小数）"
    ),
    "a number from 0 to 1": "0 到 1 的数",
    "CROP (0) or FIT (1)": "CROP（0，裁剪铺满）或 FIT（1，缩放显示完整画面）",
    "a uid from 1 to 4294967295": "1 到 4294967295 的 uid",
    "an http:// or https:// URL of at most 1024 characters (a JPEG or PNG image)": (
        "以 http:// 或 https:// 开头、不超过 1024 个字符的 URL（JPEG 或 PNG 图片）"
    ),
    "an even number of pixels from 16 to 1920; at most 1920x1080 in either orientation": (
        "16 到 1920 之间的偶数像素；横屏或竖屏均不超过 1920x1080"
    ),
    "an integer from 1 to 30 fps": "1 到 30 的整数（fps）",
    "an integer from 50 to 10000 kbps": "50 到 10000 的整数（Kbps）",
    "a uid from 0 to 4294967295 (0: the first user to join)": (
        "0 到 4294967295 的 uid（0：第一个加入的用户）"
    ),
    "FLOAT (0), BEST_FIT (1), VERTICAL (2) or CUSTOM (3, with layoutConfig)": (
        "FLOAT（0，悬浮）、BEST_FIT（1，自适应）、VERTICAL（2，垂直）"
        "或 CUSTOM（3，自定义，需 layoutConfig）"
    ),
    "a colour as #RRGGBB": "#RRGGBB 形式的颜色",
    "true or false; true only with FLOAT (0) or VERTICAL (2)": (
        "true 或 false；只有 FLOAT（0）或 VERTICAL（2）布局可为 true"
    ),
    '["hls"] (the default) or ["hls", "mp4"]: MP4 only beside HLS, as Agora': (
        '["hls"]（默认）或 ["hls", "mp4"]：MP4 只与 HLS 一起录制，与 Agora 相同'
    ),
    '["jpg"]': '["jpg"]（JPEG 图片）',
    "rtmp://host/app/key, rtmps://host/app/key or srt://host:port?streamid=...": (
        "rtmp://主机/应用/推流码、rtmps://主机/应用/推流码 或 srt://主机:端口?streamid=..."
    ),
    "MIX (1) or INDIVIDUAL (0); in Agora's REST paths mode/mix or mode/individual": (
        "MIX（1，合流）或 INDIVIDUAL（0，单流）；Agora REST 路径中为 mode/mix 或 mode/individual"
    ),
    '"default", "standard" (refused in individual mode: not built) or "original"': (
        '"default"、"standard"（单流模式下不接受：未实现）或 "original"'
    ),
    "AUDIO_ONLY (0), VIDEO_ONLY (1) or AUDIO_VIDEO (2)": (
        "AUDIO_ONLY（0，仅音频）、VIDEO_ONLY（1，仅视频）或 AUDIO_VIDEO（2，音视频）"
    ),
    "NONE (0), AES_128_XTS (1), AES_128_ECB (2) or AES_256_XTS (3)": (
        "NONE（0，不解密）、AES_128_XTS（1）、AES_128_ECB（2）或 AES_256_XTS（3）"
    ),
    "8 to 128 printable ASCII characters, required when decryption_mode is not NONE": (
        "8 到 128 个可打印 ASCII 字符；解密方式不为 NONE 时必填"
    ),
    "COMMUNICATION (0) or LIVE (1)": "COMMUNICATION（0，通信）或 LIVE（1，直播）",
    "MUSIC_STANDARD (0), MUSIC_HIGH_QUALITY (1) or MUSIC_HIGH_QUALITY_STEREO (2)": (
        "MUSIC_STANDARD（0，标准）、MUSIC_HIGH_QUALITY（1，高音质）"
        "或 MUSIC_HIGH_QUALITY_STEREO（2，高音质立体声）"
    ),
    "HIGH (0), LOW (1) or AUTO (2, cloudrec extension)": (
        "HIGH（0，大流）、LOW（1，小流）或 AUTO（2，cloudrec 扩展）"
    ),
    "a TranscodingConfig": "一个 TranscodingConfig（转码设置）",
    "a RecordingFileConfig": "一个 RecordingFileConfig（录制文件设置）",
    "a SnapshotConfig, or None": "一个 SnapshotConfig（截图设置），或不设置",
    "an RtmpPublishConfig (mix mode)": "一个 RtmpPublishConfig（仅合流模式）",
    "an integer from 0 to 5 (Agora's subscribeUidGroup)": (
        "0 到 5 的整数（Agora 的 subscribeUidGroup）"
    ),
    "QINIU (0), AMAZON_S3 (1), ALIYUN (2) or LOCAL (100)": (
        "QINIU（0，七牛云）、AMAZON_S3（1）、ALIYUN（2，阿里云）或 LOCAL（100，本地文件夹）"
    ),
    "an index of the vendor's region table": "所选厂商区域表中的序号",
    "3 to 63 lowercase letters, digits, '.' and '-', required for cloud vendors": (
        "3 到 63 个小写字母、数字、'.' 和 '-'；云存储必填"
    ),
    "a non-empty access key, required for cloud vendors": "非空的访问密钥；云存储必填",
    "a non-empty secret key, required for cloud vendors": "非空的私有密钥；云存储必填",
    "letters and digits only per folder, 128 characters in all": (
        "每级文件夹名只含字母和数字，总长不超过 128 个字符"
    ),
    "empty, or http(s)://host[:port]": "留空，或 http(s)://主机[:端口]",
    "empty, or an absolute folder path inside the recording server's storage roots": (
        "留空，或录制服务器存储根目录之内的绝对路径"
    ),
    # core.config: what its checks say when a value is refused
    "an even number of pixels (H.264 uses 4:2:0 chroma)": "偶数像素（H.264 使用 4:2:0 色度采样）",
    "no rtmpPublishConfig in individual mode: a live stream is of the mixed picture and sound "
    "(mode mix)": "单流模式下不能推流：直播推的是合流后的画面和声音（合流模式）",
    '"default" (audio transcoded to AAC, video as sent) or "original" (nothing transcoded) in '
    'individual mode; "standard" is not built': (
        '单流模式下为 "default"（音频转码为 AAC，视频保持发送时的编码）或 "original"（都不转码）；'
        '"standard" 未实现'
    ),
    'av_file_type ["hls"] in individual mode: its files are each user\'s HLS playlists '
    '(Agora\'s individual mode writes no MP4); ["hls", "mp4"] in mix mode': (
        '单流模式下 av_file_type 为 ["hls"]：它的文件是每个用户的 HLS 播放列表'
        '（Agora 的单流模式不生成 MP4）；["hls", "mp4"] 用于合流模式'
    ),
    "no snapshot_config (snapshotConfig) when recording_stream_types is AUDIO_ONLY "
    "(streamTypes 0): snapshots are pictures of the video; record VIDEO_ONLY (1) or "
    "AUDIO_VIDEO (2) to take them": (
        "录制类型为 AUDIO_ONLY（streamTypes 0）时不能截图（snapshotConfig）：截图是视频画面；"
        "要截图请录制 VIDEO_ONLY（1）或 AUDIO_VIDEO（2）"
    ),
    "letters and digits only in each folder name": "每级文件夹名只含字母和数字",
    "at most 128 characters in all": "总长不超过 128 个字符",
    "0 for the LOCAL vendor": "本地文件夹（LOCAL）为 0",
    # core.validation: the identifiers start() takes
    "32 hexadecimal characters (0-9, a-f)": "32 个十六进制字符（0-9、a-f）",
}

_PATTERNS = [
    (rf"an integer number of seconds from {_NUMBER} to {_NUMBER}", r"\1 到 \2 的整数秒"),
    (
        rf"1 to {_NUMBER} regions, each uid at most once, with mixedVideoLayout 3 \(CUSTOM\)",
        r"1 到 \1 个区域，每个 uid 至多一个；mixedVideoLayout 为 3（CUSTOM）时使用",
    ),
    (
        rf"at most {_NUMBER} users' images, each uid at most once",
        r"最多 \1 个用户的图片，每个 uid 至多一张",
    ),
    (
        rf"a list of up to {_NUMBER} objects \{{rtmpUrl\}}, each URL once",
        r"最多 \1 个 {rtmpUrl} 对象的列表，每个 URL 只出现一次",
    ),
    (rf"a list of up to {_NUMBER} objects \{{rtmpUrl\}}", r"最多 \1 个 {rtmpUrl} 对象的列表"),
    (rf"up to {_NUMBER} destinations, each URL once", r"最多 \1 个推流地址，每个 URL 只出现一次"),
    (
        rf"a list of at most {_NUMBER} uids as decimal strings from '1' to '4294967295', "
        r"or '#allstream#' for every uid",
        r"最多 \1 个 uid 的列表（'1' 到 '4294967295' 的十进制字符串），或 '#allstream#' 表示所有用户",
    ),
    (
        rf"false with {_NAME} \({_NUMBER}\): the active speaker takes the large window of "
        r"FLOAT \(0\) or VERTICAL \(2\)",
        r"\1（\2）布局下须为 false：只有 FLOAT（0）和 VERTICAL（2）有给发言人的大窗口",
    ),
    (
        rf"at most 1080p: {_NUMBER}x{_NUMBER} exceeds 1920x1080 in either orientation",
        r"最高 1080p：\1x\2 横屏或竖屏都超出了 1920x1080",
    ),
    (
        rf"a secret of {_NUMBER} to {_NUMBER} characters is required when decryption_mode is "
        rf"{_NAME}",
        r"解密方式为 \3 时必须填写 \1 到 \2 个字符的密钥",
    ),
    (
        rf"{_NUMBER} to {_NUMBER} printable ASCII characters for {_NAME}",
        r"\3 需要 \1 到 \2 个可打印 ASCII 字符",
    ),
    (rf"0 to {_NUMBER} for {_NAME} \((.*)\)", r"\2 为 0 到 \1（\3）"),
    (
        rf"3 to 63 lowercase letters, digits, '\.' and '-' \(required for {_NAME}\)",
        r"3 到 63 个小写字母、数字、'.' 和 '-'（\1 必填）",
    ),
    (rf"a non-empty key \(required for {_NAME}\)", r"非空的密钥（\1 必填）"),
    (rf"an integer from 1 to {_NUMBER} \(0 is reserved\)", r"1 到 \1 的整数（0 为保留值）"),
    (r"1 to 64 bytes from (.*)", r"1 到 64 个字节，字符取自 \1"),
]
_COMPILED = [(re.compile(pattern), template) for pattern, template in _PATTERNS]


def allowed_in_chinese(text: str) -> str | None:
    """``text`` (what a field allows, in core's English) in Chinese; None if unknown."""
    if text in _FIXED:
        return _FIXED[text]
    if text.startswith("required: "):  # a missing field (core.config)
        rest = allowed_in_chinese(text.removeprefix("required: "))
        return None if rest is None else f"必填：{rest}"
    refused, sep, rest = text.partition(" may not be used; ")  # a channel name's characters
    if sep:
        allowed = allowed_in_chinese(rest)
        return None if allowed is None else f"不能使用 {refused}；{allowed}"
    for pattern, template in _COMPILED:
        match = pattern.fullmatch(text)
        if match:
            return match.expand(template)
    return None


def allowed_text(text: str, chinese: bool) -> str:
    """What a field allows as the window shows it: in Chinese when it can, else as given."""
    if not chinese:
        return text
    return allowed_in_chinese(text) or text
