"""Config models: the seed's defaults, validation naming the field, help text, wire format."""

from __future__ import annotations

import pytest

from core import (
    AudioProfile,
    ChannelType,
    CloudStorageConfig,
    DecryptionMode,
    ErrorCode,
    InvalidParameterError,
    LayoutRegion,
    MixedVideoLayout,
    RecordingConfig,
    RecordingStreamType,
    RenderMode,
    StorageVendor,
    StreamMode,
    TranscodingConfig,
    VideoStreamType,
)
from core.wire import recording_config_from_wire, storage_config_from_wire, to_wire


def test_recording_config_has_the_seed_defaults() -> None:
    config = RecordingConfig()
    assert config.recording_stream_types is RecordingStreamType.AUDIO_VIDEO
    assert config.decryption_mode is DecryptionMode.NONE
    assert config.secret is None
    assert config.channel_type is ChannelType.COMMUNICATION
    assert config.audio_profile is AudioProfile.MUSIC_STANDARD
    assert config.video_stream_type is VideoStreamType.HIGH
    assert config.max_idle_time == 30
    assert config.progress_interval == 60


def test_transcoding_config_has_the_seed_defaults() -> None:
    config = RecordingConfig().transcoding_config
    assert (config.width, config.height, config.fps, config.bitrate) == (360, 640, 15, 500)
    assert config.max_resolution_uid == 0
    assert config.layout is MixedVideoLayout.FLOAT
    assert (config.layout_config, config.render_mode) == ((), RenderMode.CROP)  # Agora's crop


def test_enum_members_are_the_seeds_with_agoras_numbers() -> None:
    assert [m.name for m in RecordingStreamType] == ["AUDIO_ONLY", "VIDEO_ONLY", "AUDIO_VIDEO"]
    # the seed's three, and Agora's custom layout (mixedVideoLayout 3)
    assert [(m.name, int(m)) for m in MixedVideoLayout] == [
        ("FLOAT", 0), ("BEST_FIT", 1), ("VERTICAL", 2), ("CUSTOM", 3)
    ]  # fmt: skip
    assert [(m.name, int(m)) for m in RenderMode] == [("CROP", 0), ("FIT", 1)]
    assert [m.name for m in DecryptionMode] == ["NONE", "AES_128_XTS", "AES_128_ECB", "AES_256_XTS"]
    assert (int(StorageVendor.QINIU), int(StorageVendor.AMAZON_S3), int(StorageVendor.ALIYUN)) == (
        0,
        1,
        2,
    )


def test_configs_are_immutable() -> None:
    config = RecordingConfig()
    with pytest.raises(Exception, match="frozen"):
        config.max_idle_time = 10  # type: ignore[misc]


BAD_RECORDING = [
    ({"max_idle_time": 4}, "max_idle_time", "from 5"),
    ({"max_idle_time": -1}, "max_idle_time", "from 5"),
    ({"transcoding_config": {"width": 2000}}, "transcoding_config.width", "1920"),
    ({"transcoding_config": {"width": 1280, "height": 1280}}, "transcoding_config.height", "1080p"),
    ({"transcoding_config": {"width": 1082, "height": 1920}}, "transcoding_config.width", "1080p"),
    ({"transcoding_config": {"height": 0}}, "transcoding_config.height", "16 to 1920"),
    ({"transcoding_config": {"width": -360}}, "transcoding_config.width", "16 to 1920"),
    ({"transcoding_config": {"width": 361}}, "transcoding_config.width", "even"),
    ({"transcoding_config": {"fps": 0}}, "transcoding_config.fps", "1 to 30"),
    ({"transcoding_config": {"fps": 61}}, "transcoding_config.fps", "1 to 30"),
    ({"transcoding_config": {"bitrate": 10}}, "transcoding_config.bitrate", "50 to 10000"),
    ({"transcoding_config": {"bitrate": 20_000}}, "transcoding_config.bitrate", "50 to 10000"),
    (
        {"transcoding_config": {"background_color": "red"}},
        "transcoding_config.background_color",
        "#RRGGBB",
    ),
    ({"channel_type": 7}, "channel_type", "COMMUNICATION (0) or LIVE (1)"),
    ({"audio_profile": "LOUD"}, "audio_profile", "MUSIC_STANDARD"),
    ({"decryption_mode": DecryptionMode.AES_128_XTS}, "secret", "required"),
    ({"decryption_mode": DecryptionMode.AES_256_XTS, "secret": "short"}, "secret", "8 to 128"),
    ({"decryption_mode": DecryptionMode.AES_128_ECB, "secret": "x" * 129}, "secret", "8 to 128"),
    ({"unknown_field": 1}, "unknown_field", "Extra inputs"),
]


@pytest.mark.parametrize(("kwargs", "field", "allowed"), BAD_RECORDING)
def test_bad_recording_values_name_the_field_value_and_range(
    kwargs: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        RecordingConfig(**kwargs)  # type: ignore[arg-type]
    error = info.value
    assert error.code is ErrorCode.INVALID_PARAMETER
    assert error.field == field
    assert str(error).startswith(f"INVALID_PARAMETER (432): {field}: ")
    assert allowed in str(error)


def test_transcoding_config_alone_names_its_own_field() -> None:
    with pytest.raises(InvalidParameterError, match=r"^INVALID_PARAMETER \(432\): width: 4000 "):
        TranscodingConfig(width=4000)


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920), (16, 16), (360, 640)])
def test_sizes_up_to_1080p_in_either_orientation_are_allowed(width: int, height: int) -> None:
    assert TranscodingConfig(width=width, height=height).width == width


def test_secrets_never_appear_in_errors_or_repr() -> None:
    with pytest.raises(InvalidParameterError) as info:
        RecordingConfig(decryption_mode=DecryptionMode.AES_128_XTS, secret="hunter")
    assert "hunter" not in str(info.value)
    assert "<hidden, 6 characters>" in str(info.value)
    config = RecordingConfig(decryption_mode=DecryptionMode.AES_128_XTS, secret="correct horse")
    assert "correct horse" not in repr(config)
    storage = CloudStorageConfig(
        vendor=StorageVendor.AMAZON_S3,
        bucket="abc",
        access_key="AKIDEXAMPLE",
        secret_key="s3cr3t-key",
    )
    assert "s3cr3t-key" not in repr(storage) and "AKIDEXAMPLE" not in repr(storage)


S3 = {
    "vendor": StorageVendor.AMAZON_S3,
    "bucket": "recordings",
    "access_key": "AK",
    "secret_key": "SK",
}

BAD_STORAGE = [
    ({**S3, "region": 18}, "region", "0 to 17 for AMAZON_S3"),
    ({**S3, "vendor": StorageVendor.QINIU, "region": 4}, "region", "0 to 3 for QINIU"),
    ({**S3, "vendor": StorageVendor.ALIYUN, "region": 19}, "region", "0 to 18 for ALIYUN"),
    ({**S3, "region": -1}, "region", "region table"),
    ({**S3, "bucket": ""}, "bucket", "3 to 63"),
    ({**S3, "bucket": "Upper_Case"}, "bucket", "3 to 63"),
    ({**S3, "access_key": ""}, "access_key", "non-empty"),
    ({**S3, "secret_key": ""}, "secret_key", "non-empty"),
    ({**S3, "endpoint": "ftp://x"}, "endpoint", "http(s)://"),
    ({**S3, "file_name_prefix": ("ok", "no/slash")}, "file_name_prefix", "letters and digits"),
    ({"vendor": StorageVendor.LOCAL, "region": 2}, "region", "0 for the LOCAL vendor"),
    ({"vendor": 5}, "vendor", "QINIU (0)"),
]


@pytest.mark.parametrize(("kwargs", "field", "allowed"), BAD_STORAGE)
def test_bad_storage_values_name_the_field(
    kwargs: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        CloudStorageConfig(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert allowed in str(info.value)


def test_every_region_of_every_vendor_is_accepted() -> None:
    from core.regions import REGION_TABLES

    for vendor, table in REGION_TABLES.items():
        for row in table:
            assert CloudStorageConfig(**{**S3, "vendor": vendor, "region": row.index}).region_label


def test_every_field_has_help_in_both_languages_and_a_range() -> None:
    for model in (RecordingConfig, TranscodingConfig, CloudStorageConfig):
        for name in model.model_fields:
            info = model.field_help(name)
            assert info.help_en and info.help_zh and info.allowed, (model.__name__, name)
    assert RecordingConfig.field_help("max_idle_time").minimum == 5
    assert TranscodingConfig.field_help("width").maximum == 1920
    assert RecordingConfig.field_help("progress_interval").extension
    assert CloudStorageConfig.field_help("endpoint").extension
    assert not RecordingConfig.field_help("max_idle_time").extension


def test_enum_fields_accept_names_as_config_files_write_them() -> None:
    config = RecordingConfig(channel_type="live", transcoding_config={"layout": "best_fit"})  # type: ignore[arg-type]
    assert config.channel_type is ChannelType.LIVE
    assert config.transcoding_config.layout is MixedVideoLayout.BEST_FIT


def test_wire_format_round_trips_with_agoras_names_and_numbers() -> None:
    recording = RecordingConfig(
        channel_type=ChannelType.LIVE,
        recording_stream_types=RecordingStreamType.AUDIO_ONLY,
        transcoding_config=TranscodingConfig(
            layout=MixedVideoLayout.VERTICAL, max_resolution_uid=7
        ),
    )
    wire = to_wire(recording)
    assert wire["channelType"] == 1 and wire["streamTypes"] == 0
    assert wire["transcodingConfig"]["mixedVideoLayout"] == 2
    assert wire["transcodingConfig"]["maxResolutionUid"] == 7
    assert recording_config_from_wire(wire) == recording
    storage = CloudStorageConfig(**{**S3, "region": 8, "endpoint": "http://127.0.0.1:9000"})
    body = to_wire(storage)
    assert body["accessKey"] == "AK" and body["extensionParams"] == {
        "endpoint": "http://127.0.0.1:9000"
    }
    assert storage_config_from_wire(body) == storage
    assert "extensionParams" not in to_wire(storage, extensions=False)
    assert "progressInterval" not in to_wire(recording, extensions=False)


def test_stream_mode_travels_as_agoras_string_and_standard_is_refused() -> None:
    """``streamMode`` is a string on Agora's wire; its default is not sent (Agora's
    default); ``standard`` is refused in individual mode, naming what is allowed."""
    from core import RecordingMode

    original = RecordingConfig(recording_mode=RecordingMode.INDIVIDUAL, stream_mode="original")  # type: ignore[arg-type]
    wire = to_wire(original, extensions=False)
    assert wire["streamMode"] == "original"
    assert recording_config_from_wire(wire, mode=RecordingMode.INDIVIDUAL) == original
    assert RecordingConfig(stream_mode="ORIGINAL").stream_mode is StreamMode.ORIGINAL  # type: ignore[arg-type]
    assert "streamMode" not in to_wire(RecordingConfig())
    assert RecordingConfig(stream_mode=StreamMode.STANDARD).stream_mode is StreamMode.STANDARD
    with pytest.raises(InvalidParameterError) as info:
        RecordingConfig(recording_mode=RecordingMode.INDIVIDUAL, stream_mode=StreamMode.STANDARD)
    assert info.value.field == "stream_mode" and '"original"' in info.value.message
    with pytest.raises(InvalidParameterError) as info:
        RecordingConfig(stream_mode="raw")  # type: ignore[arg-type]
    assert info.value.field == "stream_mode" and '"default"' in info.value.message


def test_a_custom_layout_travels_as_agoras_layout_config() -> None:
    regions = [
        {"uid": "7", "x_axis": 0.1234567, "y_axis": 0, "width": 0.5, "height": 0.5,
         "alpha": 0.5, "render_mode": 1},
        {"x_axis": 0.5, "y_axis": 0, "width": 0.5, "height": 1},
    ]  # fmt: skip
    config = TranscodingConfig(layout=MixedVideoLayout.CUSTOM, layout_config=regions)
    assert config.layout_config[0] == LayoutRegion(
        uid=7, x_axis=0.123457, y_axis=0, width=0.5, height=0.5, alpha=0.5, render_mode=1
    )  # six decimals, as Agora's
    wire = to_wire(RecordingConfig(transcoding_config=config))["transcodingConfig"]
    assert wire["mixedVideoLayout"] == 3
    assert wire["layoutConfig"] == [
        {"uid": "7", "x_axis": 0.123457, "y_axis": 0.0, "width": 0.5, "height": 0.5,
         "alpha": 0.5, "render_mode": 1},
        {"x_axis": 0.5, "y_axis": 0.0, "width": 0.5, "height": 1.0, "alpha": 1.0,
         "render_mode": 0},
    ]  # fmt: skip
    back = recording_config_from_wire({"transcodingConfig": wire}).transcoding_config
    assert back == config
    # beside a preset, no layoutConfig is sent (Agora asks for none), nor the extension
    # renderMode to Agora's hosted service
    preset = to_wire(RecordingConfig(), extensions=False)["transcodingConfig"]
    assert "layoutConfig" not in preset and "renderMode" not in preset


@pytest.mark.parametrize(
    ("fields", "field", "allowed"),
    [
        ({"layout": 3}, "layout_config", "1 to 17 regions"),
        ({"layout": 3, "layout_config": [{"x_axis": 0, "y_axis": 0, "width": 0, "height": 1}]},
         "layout_config.0.width", "a number above 0, up to 1"),
        ({"layout": 3, "layout_config": [{"x_axis": 0, "y_axis": -0.1, "width": 1, "height": 1}]},
         "layout_config.0.y_axis", "a number from 0 to 1"),
        ({"layout": 3, "layout_config": [{"x_axis": 0, "y_axis": 0, "width": 1, "height": 1,
                                          "alpha": 1.5}]},
         "layout_config.0.alpha", "a number from 0 to 1"),
        ({"layout": 3, "layout_config": [{"uid": 0, "x_axis": 0, "y_axis": 0, "width": 1,
                                          "height": 1}]},
         "layout_config.0.uid", "a uid from 1 to 4294967295"),
        ({"layout": 3, "layout_config": [{"x_axis": 0, "y_axis": 0, "width": 1}]},
         "layout_config.0.height", "required: a number above 0"),
        ({"layout": 3, "layout_config": "regions"}, "layout_config", "1 to 17 regions"),
        ({"render_mode": 2}, "render_mode", "CROP (0) or FIT (1)"),
        ({"layout": 1, "active_speaker": True}, "active_speaker", "false with BEST_FIT (1)"),
        ({"background_image": "file:///etc/passwd"}, "background_image", "an http:// or https://"),
        ({"background_config": [{"uid": 1, "image_url": "http://a/b.png"}] * 2},
         "background_config", "each uid at most once"),
    ],
)  # fmt: skip
def test_bad_regions_name_the_field_and_what_is_allowed(
    fields: dict[str, object], field: str, allowed: str
) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        TranscodingConfig(**fields)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert allowed in raised.value.allowed
