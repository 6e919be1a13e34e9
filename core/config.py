"""Configuration models of the seed: RecordingConfig, TranscodingConfig, CloudStorageConfig.

Configs are immutable data. Each field carries the seed's default, its allowed range
and its help text in English and Simplified Chinese (``field_help``), so validation,
the REST wire format, the window's forms and the docs all derive from one place.
Constructing a config with a bad value raises :class:`InvalidParameterError` naming
the field, the value given and what is allowed. Secrets are ``SecretStr`` and never
appear in ``repr`` or in error messages.

Fields marked ``extension`` go beyond the seed (cloudrec additions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Self, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from core.enums import (
    AudioProfile,
    ChannelType,
    DecryptionMode,
    MixedVideoLayout,
    RecordingMode,
    RecordingStreamType,
    RenderMode,
    StorageVendor,
    StreamMode,
    VideoStreamType,
)
from core.errors import InvalidParameterError
from core.layout import MAX_REGIONS, LayoutSpec, Region
from core.regions import regions_of
from core.selection import (
    UID_GROUPS,
    UID_LIST_ALLOWED,
    WIRE_NAMES,
    StreamSelection,
    check_lists,
    check_uid_list,
)
from core.stream_urls import MAX_DESTINATIONS, URL_ALLOWED, check_url, mask_url

MAX_LONG_SIDE = 1920
MAX_SHORT_SIDE = 1080
MIN_SIDE = 16
MAX_UID = 2**32 - 1
SECRET_LENGTHS = (8, 128)
_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9]+$")


def _help(
    en: str, zh: str, allowed: str, *, extension: bool = False, wire: str | None = None
) -> dict[str, Any]:
    return {"zh": zh, "allowed": allowed, "extension": extension, "wire": wire}


@dataclass(frozen=True)
class FieldHelp:
    """What a form or a doc needs to know about one config field."""

    name: str
    help_en: str
    help_zh: str
    allowed: str
    extension: bool
    default: Any
    minimum: int | None
    maximum: int | None


def _redacted_input(loc: tuple[Any, ...], value: Any) -> bool:
    return any(str(part) in SECRET_FIELDS for part in loc)


class ConfigModel(BaseModel):
    """Base of the config models: frozen, strict about unknown fields, seed-style errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _as_invalid_parameter(type(self), exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _as_invalid_parameter(cls, exc) from None

    @field_validator("*", mode="before")
    @classmethod
    def _enum_by_name(cls, value: Any, info: Any) -> Any:
        """Accept enum members by name too ("LIVE", "best_fit"), as config files use."""
        field = cls.model_fields.get(info.field_name)
        annotation = getattr(field, "annotation", None)
        if (
            isinstance(value, str)
            and isinstance(annotation, type)
            and issubclass(annotation, IntEnum | StrEnum)
        ):
            member = annotation.__members__.get(value.strip().upper().replace("-", "_"))
            if member is not None:
                return member
        return value

    @classmethod
    def field_help(cls, name: str) -> FieldHelp:
        """Help text, range and default of one field, for forms and docs."""
        field = cls.model_fields[name]
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        minimum = maximum = None
        for meta in field.metadata:
            minimum = getattr(meta, "ge", minimum)
            maximum = getattr(meta, "le", maximum)
        return FieldHelp(
            name=name,
            help_en=field.description or "",
            help_zh=str(extra.get("zh", "")),
            allowed=str(extra.get("allowed", "")),
            extension=bool(extra.get("extension", False)),
            default=field.get_default(call_default_factory=True),
            minimum=minimum,
            maximum=maximum,
        )


def _as_invalid_parameter(model: type[ConfigModel], exc: ValidationError) -> InvalidParameterError:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, InvalidParameterError):
        return cause.within(".".join(str(p) for p in loc))
    name = ".".join(str(p) for p in loc) or model.__name__
    allowed = error["msg"]
    owner: type[BaseModel] | None = model
    for part in loc:  # find the field's model to read its documented range
        if owner is None or not isinstance(part, str) or part not in owner.model_fields:
            break
        extra = owner.model_fields[part].json_schema_extra
        if isinstance(extra, dict) and extra.get("allowed"):
            allowed = str(extra["allowed"])
        annotation = owner.model_fields[part].annotation
        owner = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    value = error.get("input")
    if error.get("type") == "missing":  # the input is the object that lacks the field
        return InvalidParameterError(name, "(missing)", f"required: {allowed}")
    return InvalidParameterError(name, value, allowed, redact=_redacted_input(loc, value))


REGIONS_ALLOWED = (
    f"1 to {MAX_REGIONS} regions, each uid at most once, with mixedVideoLayout 3 (CUSTOM)"
)
_FRACTION = "a number from 0 to 1 (a fraction of the canvas, to six decimals)"
_SIZE_FRACTION = "a number above 0, up to 1 (a fraction of the canvas, to six decimals)"


class LayoutRegion(ConfigModel):
    """One region of the CUSTOM layout (an item of Agora's ``layoutConfig``)."""

    uid: int | None = Field(
        None,
        ge=1,
        le=MAX_UID,
        description="The user shown in the region; none: the next user no region names, in join order.",
        json_schema_extra=_help(
            "",
            "该区域显示的用户 ID；不填则按加入频道的顺序分配给未被指定的用户。",
            "a uid from 1 to 4294967295, or none",
            wire="uid",
        ),
    )
    x_axis: float = Field(
        ...,
        ge=0,
        le=1,
        description="Left edge of the region, as a fraction of the canvas width.",
        json_schema_extra=_help("", "区域左上角的横坐标（相对画布宽度，0 到 1）。", _FRACTION),
    )
    y_axis: float = Field(
        ...,
        ge=0,
        le=1,
        description="Top edge of the region, as a fraction of the canvas height.",
        json_schema_extra=_help("", "区域左上角的纵坐标（相对画布高度，0 到 1）。", _FRACTION),
    )
    width: float = Field(
        ...,
        gt=0,
        le=1,
        description="Width of the region, as a fraction of the canvas width (clipped at the canvas edge).",
        json_schema_extra=_help("", "区域宽度（相对画布宽度）。", _SIZE_FRACTION),
    )
    height: float = Field(
        ...,
        gt=0,
        le=1,
        description="Height of the region, as a fraction of the canvas height (clipped at the canvas edge).",
        json_schema_extra=_help("", "区域高度（相对画布高度）。", _SIZE_FRACTION),
    )
    alpha: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Opacity of the region: 1 opaque (default), 0 transparent; blended over what is under it.",
        json_schema_extra=_help(
            "", "透明度：1 不透明（默认），0 完全透明。", "a number from 0 to 1"
        ),
    )
    render_mode: RenderMode = Field(
        RenderMode.CROP,
        description="CROP (0, default): the picture fills the region, cut to fit; FIT (1): all of it, with bars.",
        json_schema_extra=_help("", "0：裁剪（默认），1：缩放以完整显示。", "CROP (0) or FIT (1)"),
    )

    @field_validator("x_axis", "y_axis", "width", "height", "alpha")
    @classmethod
    def _six_decimals(cls, value: float) -> float:
        return round(value, 6)

    @property
    def region(self) -> Region:
        """The region as :func:`core.layout.compute_windows` takes it."""
        return Region(
            self.x_axis,
            self.y_axis,
            self.width,
            self.height,
            self.uid,
            self.alpha,
            self.render_mode,
        )


IMAGE_URL_ALLOWED = "an http:// or https:// URL of at most 1024 characters (a JPEG or PNG image)"
USER_BACKGROUNDS_ALLOWED = f"at most {MAX_REGIONS} users' images, each uid at most once"


def _image_url(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or len(value) > 1024
        or not value.lower().startswith(("http://", "https://"))
        or any(ch.isspace() for ch in value)
    ):
        raise InvalidParameterError(field, value, IMAGE_URL_ALLOWED)
    return value


def _per_user_list(field: str, value: Any, items: str, allowed: str) -> Any:
    """A JSON list of at most :data:`MAX_REGIONS` objects (``None``: empty), for
    ``layoutConfig`` and ``backgroundConfig``."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InvalidParameterError(field, value, allowed)
    if len(value) > MAX_REGIONS:
        raise InvalidParameterError(field, f"{len(value)} {items}", allowed)
    return value


def _each_uid_once(field: str, uids: list[int], allowed: str) -> None:
    """Refuse a list that names a uid twice, naming the smallest such uid."""
    twice = sorted({uid for uid in uids if uids.count(uid) > 1})
    if twice:
        raise InvalidParameterError(field, f"uid {twice[0]} twice", allowed)


class UserBackground(ConfigModel):
    """One item of Agora's ``backgroundConfig``: a user's image, shown in its window
    while it shows no video."""

    uid: int = Field(
        ...,
        ge=1,
        le=MAX_UID,
        description="The user whose window shows the image.",
        json_schema_extra=_help("", "用户 ID。", "a uid from 1 to 4294967295", wire="uid"),
    )
    image_url: str = Field(
        ...,
        description="The image (JPEG or PNG), fetched once when the call that names it arrives.",
        json_schema_extra=_help("", "背景图的 URL（JPEG 或 PNG）。", IMAGE_URL_ALLOWED),
    )
    render_mode: RenderMode = Field(
        RenderMode.CROP,
        description="CROP (0, default): the image fills the window, cut to fit; FIT (1): all of it, with bars.",
        json_schema_extra=_help("", "0：裁剪（默认），1：缩放以完整显示。", "CROP (0) or FIT (1)"),
    )

    @field_validator("image_url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        return _image_url("image_url", value)


class TranscodingConfig(ConfigModel):
    """How the mixed video is composed and encoded (seed: ``TranscodingConfig``)."""

    width: int = Field(
        360,
        ge=MIN_SIDE,
        le=MAX_LONG_SIDE,
        description="Width of the mixed video in pixels. At most 1080p (1920x1080 either way).",
        json_schema_extra=_help(
            "",
            "合流宽度，单位 pixels，默认值为 360。最大分辨率为 1080p，超过最大分辨率会报错。",
            "an even number of pixels from 16 to 1920; at most 1920x1080 in either orientation",
            wire="width",
        ),
    )
    height: int = Field(
        640,
        ge=MIN_SIDE,
        le=MAX_LONG_SIDE,
        description="Height of the mixed video in pixels. At most 1080p (1920x1080 either way).",
        json_schema_extra=_help(
            "",
            "合流高度，单位 pixels，默认值为 640。最大分辨率为 1080p，超过最大分辨率会报错。",
            "an even number of pixels from 16 to 1920; at most 1920x1080 in either orientation",
            wire="height",
        ),
    )
    fps: int = Field(
        15,
        ge=1,
        le=30,
        description="Frame rate of the mixed video (fps).",
        json_schema_extra=_help(
            "", "视频帧率，单位 fps，默认值为 15。", "an integer from 1 to 30 fps", wire="fps"
        ),
    )
    bitrate: int = Field(
        500,
        ge=50,
        le=10_000,
        description="Video bitrate in kbps. See the recommended bitrate for the size and frame rate.",
        json_schema_extra=_help(
            "",
            "视频码率，单位 Kbps，默认值为 500。",
            "an integer from 50 to 10000 kbps",
            wire="bitrate",
        ),
    )
    max_resolution_uid: int = Field(
        0,
        ge=0,
        le=MAX_UID,
        description="With the VERTICAL layout, the uid shown in the large window (0: the first user).",
        json_schema_extra=_help(
            "",
            "如果 layout 设为垂直布局，用该参数设置显示大流画面的用户 ID。",
            "a uid from 0 to 4294967295 (0: the first user to join)",
            wire="maxResolutionUid",
        ),
    )
    layout: MixedVideoLayout = Field(
        MixedVideoLayout.FLOAT,
        description=(
            "Mixed video layout. FLOAT (default): the first user fills the canvas, the others are "
            "small windows from the bottom up, 4 rows of 4 at most. BEST_FIT: equal tiles sized by "
            "the number of users. VERTICAL: one user large on the left, the others small on the "
            "right in up to 2 columns of 8. At most 17 windows."
        ),
        json_schema_extra=_help(
            "",
            "视频合流布局。悬浮布局（默认）：第一个加入频道的用户铺满整个画布，其他用户为小视窗，从下到上水平排列，"
            "最多 4 行，每行 4 个。自适应布局：根据用户数量调整画面大小，大小一致。垂直布局：指定一个用户在左侧显示大视窗，"
            "其他用户在右侧垂直排列，最多两列，一列 8 个。最多 17 个画面。",
            "FLOAT (0), BEST_FIT (1), VERTICAL (2) or CUSTOM (3, with layoutConfig)",
            wire="mixedVideoLayout",
        ),
    )
    layout_config: tuple[LayoutRegion, ...] = Field(
        (),
        description=(
            "The regions of the CUSTOM layout (mixedVideoLayout 3), drawn in their order, "
            "at most 17. Ignored by the other layouts."
        ),
        json_schema_extra=_help(
            "",
            "自定义布局（mixedVideoLayout 为 3）的区域，按顺序绘制，最多 17 个。其他布局忽略此参数。",
            REGIONS_ALLOWED,
            wire="layoutConfig",
        ),
    )
    render_mode: RenderMode = Field(
        RenderMode.CROP,
        description=(
            "How the FLOAT, BEST_FIT and VERTICAL layouts fill a window whose shape differs "
            "from the picture: CROP (0, default, as Agora) or FIT (1, bars beside it) "
            "(cloudrec extension; CUSTOM regions have their own)."
        ),
        json_schema_extra=_help(
            "",
            "预设布局中画面与窗口比例不同时的处理：0 裁剪（默认，与 Agora 相同），1 完整显示并加边（cloudrec 扩展）。",
            "CROP (0) or FIT (1)",
            extension=True,
            wire="renderMode",
        ),
    )
    background_color: str = Field(
        "#000000",
        description="Background colour of the canvas as #RRGGBB (cloudrec extension, as Agora's REST API).",
        json_schema_extra=_help(
            "",
            "画布背景颜色，格式 #RRGGBB（cloudrec 扩展）。",
            "a colour as #RRGGBB",
            extension=True,
            wire="backgroundColor",
        ),
    )

    active_speaker: bool = Field(
        False,
        description=(
            "With FLOAT or VERTICAL: the large window goes to the user who spoke most over "
            "the last 2 s (cloudrec extension); a max_resolution_uid in the channel keeps it."
        ),
        json_schema_extra=_help(
            "",
            "悬浮或垂直布局中，大窗口给最近 2 秒说话最多的用户（cloudrec 扩展）；maxResolutionUid 在频道中时固定为该用户。",
            "true or false; true only with FLOAT (0) or VERTICAL (2)",
            extension=True,
            wire="activeSpeaker",
        ),
    )
    background_image: str | None = Field(
        None,
        description="An image (JPEG or PNG URL) that fills the canvas under the windows, cropped to fit.",
        json_schema_extra=_help(
            "",
            "画布背景图的 URL（JPEG 或 PNG），裁剪铺满画布。",
            IMAGE_URL_ALLOWED,
            wire="backgroundImage",
        ),
    )
    default_user_background_image: str | None = Field(
        None,
        description=(
            "An image (JPEG or PNG URL) shown in a user's window while the user shows no video "
            "(none yet, or none for 3.5 s), unless background_config names one for the user."
        ),
        json_schema_extra=_help(
            "",
            "用户默认背景图的 URL：用户没有视频（尚无或已停止 3.5 秒）时在其窗口显示。",
            IMAGE_URL_ALLOWED,
            wire="defaultUserBackgroundImage",
        ),
    )
    background_config: tuple[UserBackground, ...] = Field(
        (),
        description="Images of particular users, shown in their windows while they show no video.",
        json_schema_extra=_help(
            "",
            "指定用户的背景图，在该用户没有视频时显示。",
            USER_BACKGROUNDS_ALLOWED,
            wire="backgroundConfig",
        ),
    )

    @field_validator("background_image", "default_user_background_image", mode="before")
    @classmethod
    def _image(cls, value: Any, info: Any) -> Any:
        return _image_url(info.field_name, value)

    @field_validator("background_config", mode="before")
    @classmethod
    def _user_backgrounds(cls, value: Any) -> Any:
        return _per_user_list("background_config", value, "images", USER_BACKGROUNDS_ALLOWED)

    @model_validator(mode="after")
    def _one_image_per_user(self) -> Self:
        uids = [b.uid for b in self.background_config]
        _each_uid_once("background_config", uids, USER_BACKGROUNDS_ALLOWED)
        return self

    @property
    def image_urls(self) -> dict[str, str]:
        """Each image URL the layout names, by the wire field that names it (for errors)."""
        urls: dict[str, str] = {}
        if self.background_image:
            urls["backgroundImage"] = self.background_image
        if self.default_user_background_image:
            urls["defaultUserBackgroundImage"] = self.default_user_background_image
        for i, item in enumerate(self.background_config):
            urls[f"backgroundConfig[{i}].image_url"] = item.image_url
        return urls

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int, info: Any) -> int:
        if value % 2:
            raise InvalidParameterError(
                info.field_name, value, "an even number of pixels (H.264 uses 4:2:0 chroma)"
            )
        return value

    @field_validator("background_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _HEX_COLOUR.match(value):
            raise InvalidParameterError("background_color", value, "a colour as #RRGGBB")
        return value.upper()

    @field_validator("layout_config", mode="before")
    @classmethod
    def _region_list(cls, value: Any) -> Any:
        return _per_user_list("layout_config", value, "regions", REGIONS_ALLOWED)

    @model_validator(mode="after")
    def _regions(self) -> Self:
        uids = [r.uid for r in self.layout_config if r.uid is not None]
        _each_uid_once("layout_config", uids, REGIONS_ALLOWED)
        if self.layout is MixedVideoLayout.CUSTOM and not self.layout_config:
            raise InvalidParameterError("layout_config", [], REGIONS_ALLOWED)
        if self.active_speaker and self.layout not in (
            MixedVideoLayout.FLOAT,
            MixedVideoLayout.VERTICAL,
        ):
            raise InvalidParameterError(
                "active_speaker",
                True,
                f"false with {self.layout.name} ({int(self.layout)}): the active speaker "
                "takes the large window of FLOAT (0) or VERTICAL (2)",
            )
        return self

    @property
    def layout_spec(self) -> LayoutSpec:
        """The layout as :class:`core.layout.LayoutSpec` (what the compositor draws)."""
        return LayoutSpec(
            self.layout,
            self.max_resolution_uid,
            tuple(r.region for r in self.layout_config),
            self.render_mode,
            self.active_speaker,
        )

    @model_validator(mode="after")
    def _at_most_1080p(self) -> Self:
        if min(self.width, self.height) > MAX_SHORT_SIDE:
            name = "height" if self.height <= self.width else "width"
            raise InvalidParameterError(
                name,
                getattr(self, name),
                f"at most 1080p: {self.width}x{self.height} exceeds 1920x1080 in either orientation",
            )
        return self

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        """The background colour as (r, g, b)."""
        c = self.background_color
        return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


AV_FILE_TYPES_ALLOWED = '["hls"] (the default) or ["hls", "mp4"]: MP4 only beside HLS, as Agora'
SNAPSHOT_FILE_TYPES_ALLOWED = '["jpg"]'
MP4_MAX_SECONDS = 2 * 3600
"""Agora's MP4 files end at about 2 hours (or 2 GB) and the next one starts."""


def _strings(field: str, value: Any, allowed: str) -> tuple[str, ...]:
    """A JSON list of strings, exactly (pydantic would read a string as characters)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidParameterError(field, value, allowed)
    return tuple(value)


class RecordingFileConfig(ConfigModel):
    """Which files a recording writes (Agora's ``clientRequest.recordingFileConfig``)."""

    av_file_type: tuple[str, ...] = Field(
        ("hls",),
        description='Files to write: ["hls"] (default: M3U8 playlist and TS slices) or ["hls", "mp4"] (also MP4 files, each up to 2 hours or 2 GB).',
        json_schema_extra=_help(
            "",
            '录制生成的文件类型：["hls"]（默认，M3U8 和 TS 文件）或 ["hls", "mp4"]（另生成 MP4 文件，每个最长约 2 小时或 2 GB）。',
            AV_FILE_TYPES_ALLOWED,
            wire="avFileType",
        ),
    )
    mp4_max_seconds: int = Field(
        MP4_MAX_SECONDS,
        ge=10,
        le=MP4_MAX_SECONDS,
        description="Seconds after which an MP4 file ends at the next keyframe and the next one starts (cloudrec extension; Agora: about 2 hours, also at about 2 GB).",
        json_schema_extra=_help(
            "",
            "MP4 文件达到该秒数后在下一个关键帧处结束并开始下一个文件（cloudrec 扩展；Agora 约 2 小时，或约 2 GB）。",
            f"an integer number of seconds from 10 to {MP4_MAX_SECONDS}",
            extension=True,
            wire="mp4MaxSeconds",
        ),
    )

    @field_validator("av_file_type", mode="before")
    @classmethod
    def _file_types(cls, value: Any) -> tuple[str, ...]:
        types = _strings("av_file_type", value, AV_FILE_TYPES_ALLOWED)
        if len(types) != len(set(types)) or set(types) not in ({"hls"}, {"hls", "mp4"}):
            raise InvalidParameterError("av_file_type", list(types), AV_FILE_TYPES_ALLOWED)
        return types

    @property
    def mp4(self) -> bool:
        """Whether MP4 files are written beside the HLS playlist."""
        return "mp4" in self.av_file_type


class SnapshotConfig(ConfigModel):
    """JPEG snapshots of the recording (Agora's ``clientRequest.snapshotConfig``)."""

    capture_interval: int = Field(
        10,
        ge=1,
        le=3600,
        description="Seconds between snapshots (default 10; 1 to 3600).",
        json_schema_extra=_help(
            "",
            "截图周期，单位为秒（默认 10，1 到 3600）。",
            "an integer number of seconds from 1 to 3600",
            wire="captureInterval",
        ),
    )
    file_type: tuple[str, ...] = Field(
        ("jpg",),
        description='Snapshot file types: ["jpg"], the only one.',
        json_schema_extra=_help(
            "",
            '截图的文件格式：["jpg"]（唯一支持的格式）。',
            SNAPSHOT_FILE_TYPES_ALLOWED,
            wire="fileType",
        ),
    )

    @field_validator("file_type", mode="before")
    @classmethod
    def _file_type(cls, value: Any) -> tuple[str, ...]:
        types = _strings("file_type", value, SNAPSHOT_FILE_TYPES_ALLOWED)
        if types != ("jpg",):
            raise InvalidParameterError("file_type", list(types), SNAPSHOT_FILE_TYPES_ALLOWED)
        return types


class StreamOutput(ConfigModel):
    """One live stream destination (Agora's ``rtmpPublishConfig.outputs[]``)."""

    rtmp_url: SecretStr = Field(
        description="The stream's URL with its key: rtmp://host/app/key, rtmps://host/app/key or srt://host:port?streamid=... (cloudrec: for mix recordings too).",
        json_schema_extra=_help(
            "",
            "推流地址（含推流密钥）：rtmp://主机/应用/密钥、rtmps://主机/应用/密钥 或 srt://主机:端口?streamid=...（cloudrec：合流录制也可推流）。",
            URL_ALLOWED,
            wire="rtmpUrl",
        ),
    )

    @field_validator("rtmp_url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        try:
            check_url(url)
        except ValueError:
            raise InvalidParameterError("rtmp_url", mask_url(url), URL_ALLOWED) from None
        return value


class RtmpPublishConfig(ConfigModel):
    """Live streams of the recording (Agora's ``clientRequest.rtmpPublishConfig``, which
    Agora has for web page recording; cloudrec pushes a mix recording's own picture and
    sound: docs/streaming.md)."""

    outputs: tuple[StreamOutput, ...] = Field(
        (),
        description=f"Up to {MAX_DESTINATIONS} destinations, each pushed the recording's own encoded picture and sound.",
        json_schema_extra=_help(
            "",
            f"最多 {MAX_DESTINATIONS} 个推流目标，推送录制文件本身编码后的画面和声音。",
            f"a list of up to {MAX_DESTINATIONS} objects {{rtmpUrl}}, each URL once",
            wire="outputs",
        ),
    )

    @field_validator("outputs", mode="before")
    @classmethod
    def _output_list(cls, value: Any) -> Any:
        # Agora's objects {rtmpUrl}: their wire name is the field's
        allowed = f"a list of up to {MAX_DESTINATIONS} objects {{rtmpUrl}}"
        if not isinstance(value, list | tuple):
            raise InvalidParameterError("outputs", value, allowed)
        return [
            {"rtmp_url": item["rtmpUrl"], **{k: v for k, v in item.items() if k != "rtmpUrl"}}
            if isinstance(item, dict) and "rtmpUrl" in item
            else item
            for item in value
        ]

    @model_validator(mode="after")
    def _outputs(self) -> Self:
        urls = [o.rtmp_url.get_secret_value() for o in self.outputs]
        allowed = f"up to {MAX_DESTINATIONS} destinations, each URL once"
        if len(urls) > MAX_DESTINATIONS or len(set(urls)) != len(urls):
            raise InvalidParameterError("outputs", [mask_url(u) for u in urls], allowed)
        return self


class RecordingConfig(ConfigModel):
    """What to record and how (seed: ``RecordingConfig``)."""

    recording_mode: RecordingMode = Field(
        RecordingMode.MIX,
        description="MIX (default): every user in one composed recording; INDIVIDUAL: each user's audio and video in files of their own, video as it came (Agora's individual mode).",
        json_schema_extra=_help(
            "",
            "录制模式：合流录制（默认），频道内所有用户合成一个录制文件；单流录制，每个用户的音频和视频分别录制为单独的文件，视频不转码（Agora 的单流录制模式）。",
            "MIX (1) or INDIVIDUAL (0); in Agora's REST paths mode/mix or mode/individual",
            extension=True,
            wire="mode",
        ),
    )
    stream_mode: StreamMode = Field(
        StreamMode.DEFAULT,
        description="Individual mode's files: DEFAULT (audio transcoded to AAC, video as sent) or ORIGINAL (nothing transcoded: Opus audio as sent, in MPEG-TS); STANDARD is not built. Mix mode does not use it.",
        json_schema_extra=_help(
            "",
            "单流录制的文件：default（默认），音频转码为 AAC，视频不转码；original，均不转码，音频按发送端的 Opus 写入 TS 文件；standard 暂不支持。合流录制不使用此参数。",
            '"default", "standard" (refused in individual mode: not built) or "original"',
            wire="streamMode",
        ),
    )
    recording_stream_types: RecordingStreamType = Field(
        RecordingStreamType.AUDIO_VIDEO,
        description="Media to record: AUDIO_VIDEO (default), AUDIO_ONLY or VIDEO_ONLY.",
        json_schema_extra=_help(
            "",
            "录制的媒体流类型：录制音频和视频（默认）、仅录制音频、仅录制视频。",
            "AUDIO_ONLY (0), VIDEO_ONLY (1) or AUDIO_VIDEO (2)",
            wire="streamTypes",
        ),
    )
    decryption_mode: DecryptionMode = Field(
        DecryptionMode.NONE,
        description="Decryption scheme; must match the channel's encryption. NONE (default), AES_128_XTS, AES_128_ECB or AES_256_XTS.",
        json_schema_extra=_help(
            "",
            "解密方案。解密方式必须与频道设置的加密方式一致。无（默认）、AES128XTS、AES128ECB、AES256XTS。",
            "NONE (0), AES_128_XTS (1), AES_128_ECB (2) or AES_256_XTS (3)",
            wire="decryptionMode",
        ),
    )
    secret: SecretStr | None = Field(
        None,
        description="The decryption secret, when a decryption mode is set (8 to 128 printable ASCII characters).",
        json_schema_extra=_help(
            "",
            "启用解密模式后，设置的解密密码（8 到 128 个可打印 ASCII 字符）。",
            "8 to 128 printable ASCII characters, required when decryption_mode is not NONE",
            wire="secret",
        ),
    )
    channel_type: ChannelType = Field(
        ChannelType.COMMUNICATION,
        description="Channel profile: COMMUNICATION (default, everyone may talk) or LIVE (hosts and audience; only hosts are recorded). Must match the clients' profile.",
        json_schema_extra=_help(
            "",
            "频道模式：通信模式（默认），频道内任何用户可以自由说话；直播模式，有主播和观众两种角色，只有主播可以自由发言。频道模式必须与 Agora Native/Web SDK 一致。",
            "COMMUNICATION (0) or LIVE (1)",
            wire="channelType",
        ),
    )
    audio_profile: AudioProfile = Field(
        AudioProfile.MUSIC_STANDARD,
        description="Audio: MUSIC_STANDARD (default, 48 kHz mono ~48 kbps), MUSIC_HIGH_QUALITY (48 kHz mono ~128 kbps) or MUSIC_HIGH_QUALITY_STEREO (48 kHz stereo ~192 kbps).",
        json_schema_extra=_help(
            "",
            "设置音频采样率、码率、编码模式和声道数：48 KHz 单声道约 48 Kbps（默认）；48 KHz 单声道约 128 Kbps；48 KHz 双声道约 192 Kbps。",
            "MUSIC_STANDARD (0), MUSIC_HIGH_QUALITY (1) or MUSIC_HIGH_QUALITY_STEREO (2)",
            wire="audioProfile",
        ),
    )
    video_stream_type: VideoStreamType = Field(
        VideoStreamType.HIGH,
        description="Which video stream to record: HIGH (default, high resolution and bitrate) or LOW. AUTO (extension) picks LOW for small tiles.",
        json_schema_extra=_help(
            "",
            "视频流类型：视频大流（默认），即高分辨率高码率的视频流；视频小流，即低分辨率低码率的视频流。AUTO（扩展）为小视窗选择小流。",
            "HIGH (0), LOW (1) or AUTO (2, cloudrec extension)",
            wire="videoStreamType",
        ),
    )
    max_idle_time: int = Field(
        30,
        ge=5,
        le=2_592_000,
        description="Seconds the channel may stay without users before the recording exits by itself (default 30, at least 5).",
        json_schema_extra=_help(
            "",
            "最长空闲频道时间。默认值为 30 秒，该值需大于等于 5。如果频道内无用户的状态持续超过该时间，录制程序会自动退出。",
            "an integer number of seconds from 5 to 2592000",
            wire="maxIdleTime",
        ),
    )
    transcoding_config: TranscodingConfig = Field(
        default_factory=TranscodingConfig,
        description="Video composition and encoding settings.",
        json_schema_extra=_help(
            "", "视频转码的详细设置。", "a TranscodingConfig", wire="transcodingConfig"
        ),
    )
    progress_interval: int = Field(
        60,
        ge=1,
        le=3600,
        description="Seconds between upload progress callbacks (cloudrec extension; the seed reports every minute).",
        json_schema_extra=_help(
            "",
            "上传进度回调的间隔秒数（cloudrec 扩展；SDK 默认每分钟一次）。",
            "an integer number of seconds from 1 to 3600",
            extension=True,
            wire="progressInterval",
        ),
    )
    slice_duration: int = Field(
        4,
        ge=1,
        le=60,
        description="Target duration of each HLS slice in seconds; slices are cut on keyframes (cloudrec extension).",
        json_schema_extra=_help(
            "",
            "每个 HLS 切片的目标时长（秒），在关键帧处切分（cloudrec 扩展）。",
            "an integer number of seconds from 1 to 60",
            extension=True,
            wire="sliceDuration",
        ),
    )

    recording_file_config: RecordingFileConfig = Field(
        default_factory=RecordingFileConfig,
        description="Which files to write: HLS, or HLS and MP4 (on the REST wire beside recordingConfig, as Agora's clientRequest.recordingFileConfig).",
        json_schema_extra=_help(
            "",
            "录制文件的设置：HLS，或 HLS 和 MP4（REST 接口中与 recordingConfig 并列，即 Agora 的 clientRequest.recordingFileConfig）。",
            "a RecordingFileConfig",
            wire="recordingFileConfig",
        ),
    )
    snapshot_config: SnapshotConfig | None = Field(
        None,
        description="JPEG snapshots of the composed picture every capture_interval seconds; None (default): no snapshots (on the REST wire beside recordingConfig, as Agora's clientRequest.snapshotConfig).",
        json_schema_extra=_help(
            "",
            "每隔 capture_interval 秒对合成画面截图（JPEG）；None（默认）：不截图（REST 接口中与 recordingConfig 并列，即 Agora 的 clientRequest.snapshotConfig）。",
            "a SnapshotConfig, or None",
            wire="snapshotConfig",
        ),
    )

    subscribe_audio_uids: tuple[str, ...] | None = Field(
        None,
        description="Only these users' audio is recorded (uids as strings; '#allstream#': everyone). None: see the stream selection rules (docs/rest-api.md).",
        json_schema_extra=_help(
            "",
            "指定订阅哪几个 UID 的音频流（UID 为字符串；'#allstream#'：所有用户）。不可与 unsubscribe_audio_uids 同时设置。",
            UID_LIST_ALLOWED,
            wire="subscribeAudioUids",
        ),
    )
    unsubscribe_audio_uids: tuple[str, ...] | None = Field(
        None,
        description="Every user's audio but these users' is recorded; not together with subscribe_audio_uids.",
        json_schema_extra=_help(
            "",
            "指定不订阅哪几个 UID 的音频流；不可与 subscribe_audio_uids 同时设置。",
            UID_LIST_ALLOWED,
            wire="unSubscribeAudioUids",
        ),
    )
    subscribe_video_uids: tuple[str, ...] | None = Field(
        None,
        description="Only these users get a window in the mix (uids as strings; '#allstream#': everyone). A list for one kind only records nothing of the other kind.",
        json_schema_extra=_help(
            "",
            "指定订阅哪几个 UID 的视频流（UID 为字符串；'#allstream#'：所有用户）。只设置一种媒体的名单时，不订阅另一种媒体。",
            UID_LIST_ALLOWED,
            wire="subscribeVideoUids",
        ),
    )
    unsubscribe_video_uids: tuple[str, ...] | None = Field(
        None,
        description="Every user but these users gets a window in the mix; not together with subscribe_video_uids.",
        json_schema_extra=_help(
            "",
            "指定不订阅哪几个 UID 的视频流；不可与 subscribe_video_uids 同时设置。",
            UID_LIST_ALLOWED,
            wire="unSubscribeVideoUids",
        ),
    )
    rtmp_publish_config: RtmpPublishConfig | None = Field(
        None,
        description="Live streams of a mix recording's own picture and sound (cloudrec extension of Agora's rtmpPublishConfig).",
        json_schema_extra=_help(
            "",
            "合流录制的推流设置：推送录制文件本身的画面和声音（cloudrec 扩展，沿用 Agora 的 rtmpPublishConfig）。",
            "an RtmpPublishConfig (mix mode)",
            extension=True,
            wire="rtmpPublishConfig",
        ),
    )
    subscribe_uid_group: int | None = Field(
        None,
        ge=0,
        le=max(UID_GROUPS),
        description="Expected peak number of subscribed users: 0 (1-2), 1 (3-7), 2 (8-12), 3 (13-17), 4 (18-32), 5 (33-49). Agora uses it in individual mode only; in mix mode it is checked and has no effect.",
        json_schema_extra=_help(
            "",
            "预估的订阅人数峰值：0（1-2 个）、1（3-7 个）、2（8-12 个）、3（13-17 个）、4（18-32 个）、5（33-49 个）。仅单流录制模式使用；合流模式下只做校验。",
            "an integer from 0 to 5 (Agora's subscribeUidGroup)",
            wire="subscribeUidGroup",
        ),
    )

    @field_validator(*WIRE_NAMES)
    @classmethod
    def _uid_list(cls, value: tuple[str, ...] | None, info: Any) -> tuple[str, ...] | None:
        return None if value is None else check_uid_list(info.field_name, value)

    @field_validator(*WIRE_NAMES, mode="before")
    @classmethod
    def _uid_list_shape(cls, value: Any, info: Any) -> Any:
        # A list of strings only: pydantic would read a string as a sequence of characters.
        if value is not None and not isinstance(value, list | tuple):
            raise InvalidParameterError(info.field_name, value, UID_LIST_ALLOWED)
        return value

    @model_validator(mode="after")
    def _lists_combine(self) -> Self:
        check_lists(
            self.recording_stream_types,
            subscribe_audio_uids=self.subscribe_audio_uids,
            unsubscribe_audio_uids=self.unsubscribe_audio_uids,
            subscribe_video_uids=self.subscribe_video_uids,
            unsubscribe_video_uids=self.unsubscribe_video_uids,
        )
        return self

    @property
    def stream_selection(self) -> StreamSelection:
        """Whose audio and whose video this recording takes (core.selection's rules)."""
        return StreamSelection.of(
            self.subscribe_audio_uids,
            self.unsubscribe_audio_uids,
            self.subscribe_video_uids,
            self.unsubscribe_video_uids,
        )

    @model_validator(mode="after")
    def _streams_of_a_mix(self) -> Self:
        if self.rtmp_publish_config is not None and self.recording_mode is RecordingMode.INDIVIDUAL:
            raise InvalidParameterError(
                "rtmp_publish_config",
                {"outputs": len(self.rtmp_publish_config.outputs)},
                "no rtmpPublishConfig in individual mode: a live stream is of the mixed "
                "picture and sound (mode mix)",
            )
        return self

    @model_validator(mode="after")
    def _individual_files(self) -> Self:
        # Agora's individual mode writes HLS only (its reference: use avFileType's
        # default there).
        if self.recording_mode is not RecordingMode.INDIVIDUAL:
            return self
        if self.stream_mode is StreamMode.STANDARD:
            raise InvalidParameterError(
                "stream_mode",
                str(self.stream_mode),
                '"default" (audio transcoded to AAC, video as sent) or "original" (nothing '
                'transcoded) in individual mode; "standard" is not built',
            )
        if self.recording_file_config.mp4:
            raise InvalidParameterError(
                "recording_file_config",
                list(self.recording_file_config.av_file_type),
                'av_file_type ["hls"] in individual mode: its files are each user\'s HLS '
                'playlists (Agora\'s individual mode writes no MP4); ["hls", "mp4"] in mix mode',
            )
        return self

    @model_validator(mode="after")
    def _snapshots_need_video(self) -> Self:
        # A snapshot is a picture of the composed video: an audio-only recording has none
        # (Agora's snapshotConfig likewise needs streamTypes 1 or 2).
        if self.snapshot_config is not None and not self.recording_stream_types.has_video:
            raise InvalidParameterError(
                "snapshot_config",
                {"capture_interval": self.snapshot_config.capture_interval},
                "no snapshot_config (snapshotConfig) when recording_stream_types is "
                "AUDIO_ONLY (streamTypes 0): snapshots are pictures of the video; record "
                "VIDEO_ONLY (1) or AUDIO_VIDEO (2) to take them",
            )
        return self

    @model_validator(mode="after")
    def _secret_matches_mode(self) -> Self:
        if self.decryption_mode is DecryptionMode.NONE:
            return self
        secret = self.secret.get_secret_value() if self.secret is not None else ""
        low, high = SECRET_LENGTHS
        if not secret:
            raise InvalidParameterError(
                "secret",
                secret,
                f"a secret of {low} to {high} characters is required when decryption_mode is "
                f"{self.decryption_mode.name}",
                redact=True,
            )
        if not low <= len(secret) <= high or not all(" " <= ch <= "~" for ch in secret):
            raise InvalidParameterError(
                "secret",
                secret,
                f"{low} to {high} printable ASCII characters for {self.decryption_mode.name}",
                redact=True,
            )
        return self


class CloudStorageConfig(ConfigModel):
    """Where recordings go (seed: ``CloudStorageConfig``); LOCAL and the extras are extensions."""

    vendor: StorageVendor = Field(
        StorageVendor.LOCAL,
        description="Storage vendor: QINIU (0), AMAZON_S3 (1), ALIYUN (2), or LOCAL (a folder on the recording server; cloudrec extension, the embedded default).",
        json_schema_extra=_help(
            "",
            "第三方云存储：七牛云 (0)、Amazon S3 (1)、阿里云 (2)，或 LOCAL（录制服务器上的本地文件夹；cloudrec 扩展，默认）。",
            "QINIU (0), AMAZON_S3 (1), ALIYUN (2) or LOCAL (100)",
            wire="vendor",
        ),
    )
    region: int = Field(
        0,
        ge=0,
        description="Region index in the vendor's table (Qiniu 0-3, Amazon S3 0-17, Aliyun 0-18).",
        json_schema_extra=_help(
            "",
            "第三方云存储指定的地区信息（七牛云 0-3，Amazon S3 0-17，阿里云 0-18）。",
            "an index of the vendor's region table",
            wire="region",
        ),
    )
    bucket: str = Field(
        "",
        description="Bucket name (3-63 lowercase letters, digits, dots and hyphens).",
        json_schema_extra=_help(
            "",
            "第三方云存储 bucket。",
            "3 to 63 lowercase letters, digits, '.' and '-', required for cloud vendors",
            wire="bucket",
        ),
    )
    access_key: SecretStr = Field(
        SecretStr(""),
        description="Access key of the storage account.",
        json_schema_extra=_help(
            "",
            "第三方云存储 access key。",
            "a non-empty access key, required for cloud vendors",
            wire="accessKey",
        ),
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Secret key of the storage account (kept in the OS keyring by the window).",
        json_schema_extra=_help(
            "",
            "第三方云存储 secret key。",
            "a non-empty secret key, required for cloud vendors",
            wire="secretKey",
        ),
    )
    file_name_prefix: tuple[str, ...] = Field(
        (),
        description="Folders the files are stored under, e.g. ('recordings', '2026') (cloudrec extension, as Agora's REST API).",
        json_schema_extra=_help(
            "",
            "录制文件在存储中的目录，例如 ('recordings', '2026')（cloudrec 扩展）。",
            "letters and digits only per folder, 128 characters in all",
            extension=True,
            wire="fileNamePrefix",
        ),
    )
    endpoint: str = Field(
        "",
        description="Endpoint override for any S3-compatible store, e.g. http://127.0.0.1:9000; its host must be one the recording server allows (cloudrec extension).",
        json_schema_extra=_help(
            "",
            "任意 S3 兼容存储的服务地址，例如 http://127.0.0.1:9000；其主机须为录制服务器允许的主机（cloudrec 扩展）。",
            "empty, or http(s)://host[:port]",
            extension=True,
            wire="endpoint",
        ),
    )
    local_folder: str = Field(
        "",
        description="Folder on the recording server for the LOCAL vendor (empty: the server's recordings folder); it must lie inside the server's storage roots (cloudrec extension).",
        json_schema_extra=_help(
            "",
            "LOCAL 存储在录制服务器上的文件夹（空：服务器的默认录制文件夹），须位于服务器允许的存储根目录内（cloudrec 扩展）。",
            "empty, or an absolute folder path inside the recording server's storage roots",
            extension=True,
            wire="localFolder",
        ),
    )

    @field_validator("file_name_prefix")
    @classmethod
    def _prefix(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for part in value:
            if not _PREFIX_PART.match(part):
                raise InvalidParameterError(
                    "file_name_prefix", part, "letters and digits only in each folder name"
                )
        if len("/".join(value)) > 128:
            raise InvalidParameterError("file_name_prefix", value, "at most 128 characters in all")
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if value and not re.match(r"^https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?/?$", value):
            raise InvalidParameterError("endpoint", value, "empty, or http(s)://host[:port]")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _vendor_fields(self) -> Self:
        if not self.vendor.is_cloud:
            if self.region != 0:
                raise InvalidParameterError("region", self.region, "0 for the LOCAL vendor")
            return self
        table = regions_of(self.vendor)
        if self.region >= len(table):
            raise InvalidParameterError(
                "region",
                self.region,
                f"0 to {len(table) - 1} for {self.vendor.name} "
                f"({', '.join(f'{r.index} {r.name}' for r in table)})",
            )
        if not _BUCKET.match(self.bucket):
            raise InvalidParameterError(
                "bucket",
                self.bucket,
                f"3 to 63 lowercase letters, digits, '.' and '-' (required for {self.vendor.name})",
            )
        for name in ("access_key", "secret_key"):
            if not getattr(self, name).get_secret_value():
                raise InvalidParameterError(
                    name, "", f"a non-empty key (required for {self.vendor.name})", redact=True
                )
        return self

    @property
    def region_label(self) -> str:
        """The human name of the region (empty for LOCAL)."""
        table = regions_of(self.vendor)
        return table[self.region].label if table else ""

    @property
    def object_prefix(self) -> str:
        """The folder path the files go under, ending in '/' unless empty."""
        return "".join(f"{p}/" for p in self.file_name_prefix)


def _secret_fields(*models: type[ConfigModel]) -> frozenset[str]:
    return frozenset(
        name
        for model in models
        for name, info in model.model_fields.items()
        if info.annotation is SecretStr or SecretStr in get_args(info.annotation)
    )


SECRET_FIELDS: frozenset[str] = _secret_fields(
    TranscodingConfig, RecordingConfig, CloudStorageConfig, StreamOutput
)
"""The config fields that hold secrets (their type is ``SecretStr``): masked in error
texts, left out of stored and displayed configs, never written to settings files."""
