"""The Chinese window says what a field allows in Chinese (issue 28, items 9 and 13).

Every field's documented range and every refusal core's checks make has a Chinese
text in ``gui.forms.allowed_zh``: a new field or check without one fails here. The
forms, the layout editor and the live streams list show them; spin boxes show their
unit beside the box, so a Chinese unit is not drawn off the line of the digits.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import QLabel, QSpinBox

import core.config as config_module
from core.config import (
    CloudStorageConfig,
    ConfigModel,
    LayoutRegion,
    RecordingConfig,
    RecordingFileConfig,
    RtmpPublishConfig,
    SnapshotConfig,
    StreamOutput,
    TranscodingConfig,
    UserBackground,
)
from core.enums import (
    DecryptionMode,
    MixedVideoLayout,
    RecordingMode,
    RecordingStreamType,
    StorageVendor,
    StreamMode,
)
from core.errors import InvalidParameterError
from core.validation import check_app_id, check_channel_name, check_uid
from gui import paths
from gui.forms.allowed_zh import allowed_in_chinese
from gui.forms.new_recording import NewRecordingPanel

_HAN = re.compile(r"[\u4e00-\u9fff]")


def _models() -> list[type[ConfigModel]]:
    return [
        model
        for model in vars(config_module).values()
        if inspect.isclass(model) and issubclass(model, ConfigModel) and model is not ConfigModel
    ]


def test_every_fields_documented_range_has_a_chinese_text() -> None:
    missing = []
    for model in _models():
        for name in model.model_fields:
            allowed = model.field_help(name).allowed
            if allowed and allowed_in_chinese(allowed) is None:
                missing.append(f"{model.__name__}.{name}: {allowed}")
    assert missing == []
    assert {TranscodingConfig, RecordingConfig, CloudStorageConfig} <= set(_models())


def _s3(**fields: Any) -> CloudStorageConfig:
    given: dict[str, Any] = {
        "vendor": StorageVendor.AMAZON_S3, "region": 0, "bucket": "recordings",
        "access_key": "AKIA", "secret_key": "secret", **fields,
    }  # fmt: skip
    return CloudStorageConfig(**given)


def _region(**fields: Any) -> dict[str, Any]:
    return {"x_axis": 0, "y_axis": 0, "width": 0.5, "height": 0.5, **fields}


_STREAM = StreamOutput(rtmp_url=SecretStr("rtmp://127.0.0.1/live/key"))

REFUSALS: list[tuple[str, Callable[[], object]]] = [
    ("odd width", lambda: TranscodingConfig(width=641)),
    ("width too small", lambda: TranscodingConfig(width=8)),
    ("over 1080p", lambda: TranscodingConfig(width=1920, height=1920)),
    ("fps", lambda: TranscodingConfig(fps=31)),
    ("bitrate", lambda: TranscodingConfig(bitrate=10)),
    ("colour", lambda: TranscodingConfig(background_color="red")),
    ("image URL", lambda: TranscodingConfig(background_image="ftp://host/a.png")),
    ("custom without regions", lambda: TranscodingConfig(layout=MixedVideoLayout.CUSTOM)),
    (
        "a uid twice",
        lambda: TranscodingConfig(
            layout=MixedVideoLayout.CUSTOM,
            layout_config=[LayoutRegion(**_region(uid=5)), LayoutRegion(**_region(uid=5))],
        ),
    ),
    (
        "speaker with best fit",
        lambda: TranscodingConfig(layout=MixedVideoLayout.BEST_FIT, active_speaker=True),
    ),
    ("region x", lambda: LayoutRegion(**_region(x_axis=2))),
    ("region missing", lambda: LayoutRegion.model_validate({"x_axis": 0})),
    ("background uid", lambda: UserBackground(uid=0, image_url="https://host/a.png")),
    ("file types", lambda: RecordingFileConfig(av_file_type=("mp4",))),
    ("snapshot type", lambda: SnapshotConfig(file_type=("png",))),
    ("stream URL", lambda: StreamOutput(rtmp_url=SecretStr("http://host/live"))),
    ("same stream twice", lambda: RtmpPublishConfig(outputs=(_STREAM, _STREAM))),
    ("streams not a list", lambda: RtmpPublishConfig.model_validate({"outputs": "x"})),
    (
        "streams of an individual recording",
        lambda: RecordingConfig(
            recording_mode=RecordingMode.INDIVIDUAL,
            rtmp_publish_config=RtmpPublishConfig(outputs=(_STREAM,)),
        ),
    ),
    (
        "standard in individual mode",
        lambda: RecordingConfig(
            recording_mode=RecordingMode.INDIVIDUAL, stream_mode=StreamMode.STANDARD
        ),
    ),
    (
        "MP4 in individual mode",
        lambda: RecordingConfig(
            recording_mode=RecordingMode.INDIVIDUAL,
            recording_file_config=RecordingFileConfig(av_file_type=("hls", "mp4")),
        ),
    ),
    (
        "snapshots of audio",
        lambda: RecordingConfig(
            recording_stream_types=RecordingStreamType.AUDIO_ONLY,
            snapshot_config=SnapshotConfig(),
        ),
    ),
    ("no secret", lambda: RecordingConfig(decryption_mode=DecryptionMode.AES_128_XTS)),
    (
        "short secret",
        lambda: RecordingConfig(decryption_mode=DecryptionMode.AES_128_XTS, secret="short"),
    ),
    ("uid list", lambda: RecordingConfig(subscribe_audio_uids=("x",))),
    ("idle time", lambda: RecordingConfig(max_idle_time=1)),
    ("slice", lambda: RecordingConfig(slice_duration=0)),
    ("group", lambda: RecordingConfig(subscribe_uid_group=9)),
    ("local region", lambda: CloudStorageConfig(vendor=StorageVendor.LOCAL, region=1)),
    ("S3 region", lambda: _s3(region=99)),
    ("bucket", lambda: _s3(bucket="No_Such")),
    ("access key", lambda: _s3(access_key="")),
    ("folder name", lambda: _s3(file_name_prefix=("a-b",))),
    ("prefix length", lambda: _s3(file_name_prefix=("a" * 100, "b" * 100))),
    ("endpoint", lambda: _s3(endpoint="ftp://host")),
    ("uid", lambda: check_uid(0)),
    ("app id", lambda: check_app_id("xyz")),
    ("empty channel", lambda: check_channel_name("")),
    ("channel characters", lambda: check_channel_name("a/b")),
]


@pytest.mark.parametrize(("case", "build"), REFUSALS, ids=[c for c, _ in REFUSALS])
def test_every_refusal_has_a_chinese_text(case: str, build: Callable[[], object]) -> None:
    with pytest.raises(InvalidParameterError) as info:
        build()
    chinese = allowed_in_chinese(info.value.allowed)
    assert chinese is not None, info.value.allowed
    assert _HAN.search(chinese), chinese
    # the numbers in the text survive the translation (a size, a count, a range)
    assert sorted(re.findall(r"\d+", info.value.allowed)) == sorted(re.findall(r"\d+", chinese))


@pytest.fixture
def chinese_panel(qtbot: Any, qapp: Any) -> Iterator[NewRecordingPanel]:
    translator = QTranslator()
    assert translator.load("cloudrec_zh_CN", str(paths.TRANSLATIONS_DIR))
    QCoreApplication.installTranslator(translator)
    try:
        panel = NewRecordingPanel(chinese=True)
        qtbot.addWidget(panel)
        yield panel
    finally:
        QCoreApplication.removeTranslator(translator)


def test_the_chinese_form_says_what_is_refused_in_chinese(
    chinese_panel: NewRecordingPanel,
) -> None:
    form = chinese_panel.transcoding_form
    width, height = form.widget("width"), form.widget("height")
    assert isinstance(width, QSpinBox) and isinstance(height, QSpinBox)
    width.setValue(1920)
    height.setValue(1920)
    assert (
        form.error_text("height")
        == "不允许 1920：最高 1080p：1920x1920 横屏或竖屏都超出了 1920x1080"
    )
    assert "16 到 1920 之间的偶数像素" in width.toolTip()
    storage = chinese_panel.storage_form
    vendor = storage.widget("vendor")
    vendor.setCurrentIndex(vendor.findData(int(StorageVendor.AMAZON_S3)))  # type: ignore[attr-defined]
    bucket = storage.widget("bucket")
    bucket.setText("No_Such")  # type: ignore[attr-defined]
    assert "小写字母" in storage.error_text("bucket")
    assert "lowercase" not in storage.error_text("bucket")


def test_the_live_streams_list_refuses_a_url_in_chinese(chinese_panel: NewRecordingPanel) -> None:
    streams = chinese_panel.streams
    streams.field.setText("http://host/live/key")
    streams.add_typed()
    assert streams.error.text().startswith("http://host/live/**** 不是推流地址；应为 rtmp://主机")
    assert streams.urls() == []


def test_units_sit_beside_the_spin_boxes(chinese_panel: NewRecordingPanel) -> None:
    """Issue 28, item 13: the unit is a label centred on the row, not the box's suffix."""
    form = chinese_panel.transcoding_form
    spin = form.widget("width")
    assert isinstance(spin, QSpinBox)
    assert spin.suffix() == "" and spin.text() == str(spin.value())
    unit = form.findChild(QLabel, "unit_width")
    assert unit is not None and unit.text() == "像素"
    idle = chinese_panel.recording_form.findChild(QLabel, "unit_max_idle_time")
    assert idle is not None and idle.text() == "秒"
    # beside "off" the snapshot interval shows no unit
    snapshot_unit = chinese_panel.findChild(QLabel, "unit_snapshot_interval")
    assert snapshot_unit is not None and snapshot_unit.isHidden()
    chinese_panel.snapshot_interval.setValue(10)
    assert not snapshot_unit.isHidden() and snapshot_unit.text() == "秒"
