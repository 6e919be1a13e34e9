"""The new-recording panel: seed defaults, validation as you type, recommended bitrate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

from core.bitrate import recommended_bitrate
from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
from core.enums import (
    DEMO_CHANNEL,
    SANDBOX_APP_ID,
    ChannelType,
    DecryptionMode,
    MixedVideoLayout,
    StorageVendor,
)
from core.errors import InvalidParameterError
from core.regions import regions_of
from core.validation import check_app_id, check_channel_name, check_uid
from gui.forms.allowed_zh import allowed_in_chinese
from gui.forms.config_form import ERROR_STYLE, HINT_STYLE, ConfigForm, field_message
from gui.forms.new_recording import (
    RECORDING_FIELDS,
    STORAGE_FIELDS,
    TRANSCODING_FIELDS,
    UID_LISTS,
    NewRecordingPanel,
)


@pytest.fixture
def panel(qtbot: Any) -> NewRecordingPanel:
    widget = NewRecordingPanel()
    qtbot.addWidget(widget)
    return widget


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


def _set(form: ConfigForm, name: str, value: Any) -> None:
    widget = form.widget(name)
    if isinstance(widget, QComboBox):
        widget.setCurrentIndex(widget.findData(int(value)))
    elif isinstance(widget, QSpinBox):
        widget.setValue(value)
    else:
        assert isinstance(widget, QLineEdit)
        widget.setText(value)


def _message(build: Callable[[], object]) -> str:
    """What the form shows under the field for the model's error (no field name)."""
    with pytest.raises(InvalidParameterError) as info:
        build()
    return field_message(info.value)


@pytest.mark.parametrize(
    ("model", "fields", "form_name"),
    [
        (RecordingConfig, RECORDING_FIELDS, "recording_form"),
        (TranscodingConfig, TRANSCODING_FIELDS, "transcoding_form"),
        (CloudStorageConfig, STORAGE_FIELDS, "storage_form"),
    ],
)
def test_defaults_shown_are_the_seeds(
    panel: NewRecordingPanel, model: Any, fields: tuple[str, ...], form_name: str
) -> None:
    form: ConfigForm = getattr(panel, form_name)
    for name in fields:
        if not form.is_shown(name):  # the LOCAL vendor hides the cloud-only fields
            continue
        default = _plain(model.field_help(name).default)
        shown = form.editors[name].value()
        if default is None:
            assert shown in (None, ""), name
        else:
            assert shown == default, name


def test_identity_defaults_and_start_enabled(panel: NewRecordingPanel) -> None:
    assert panel.identity["app_id"].text() == SANDBOX_APP_ID
    assert panel.identity["channel"].text() == DEMO_CHANNEL
    assert panel.is_valid()
    assert panel.start_button.isEnabled()
    request = panel.request()
    assert request is not None
    assert request.recording == RecordingConfig()
    assert request.storage == CloudStorageConfig()


def _cloud(panel: NewRecordingPanel) -> None:
    _set(panel.storage_form, "vendor", StorageVendor.AMAZON_S3)


def _aes(panel: NewRecordingPanel) -> None:
    _set(panel.recording_form, "decryption_mode", DecryptionMode.AES_128_XTS)


S3 = StorageVendor.AMAZON_S3
INVALID_CASES: list[tuple[str, str, Callable[[NewRecordingPanel], None], Callable[[], object]]] = [
    (
        "transcoding_form",
        "width",
        lambda p: _set(p.transcoding_form, "width", 361),
        lambda: TranscodingConfig(width=361),
    ),
    (
        "transcoding_form",
        "height",
        lambda p: (
            _set(p.transcoding_form, "width", 1920),
            _set(p.transcoding_form, "height", 1920),
        ),
        lambda: TranscodingConfig(width=1920, height=1920),
    ),
    (
        "transcoding_form",
        "background_color",
        lambda p: _set(p.transcoding_form, "background_color", "red"),
        lambda: TranscodingConfig(background_color="red"),
    ),
    (
        "transcoding_form",
        "max_resolution_uid",
        lambda p: _set(p.transcoding_form, "max_resolution_uid", "abc"),
        lambda: TranscodingConfig(max_resolution_uid="abc"),
    ),
    (
        "transcoding_form",
        "max_resolution_uid",
        lambda p: _set(p.transcoding_form, "max_resolution_uid", "4294967296"),
        lambda: TranscodingConfig(max_resolution_uid=4294967296),
    ),
    (
        "recording_form",
        "secret",
        _aes,
        lambda: RecordingConfig(decryption_mode=DecryptionMode.AES_128_XTS),
    ),
    (
        "recording_form",
        "secret",
        lambda p: (_aes(p), _set(p.recording_form, "secret", "short")),
        lambda: RecordingConfig(decryption_mode=DecryptionMode.AES_128_XTS, secret="short"),
    ),
    (
        "storage_form",
        "bucket",
        _cloud,
        lambda: CloudStorageConfig(vendor=S3, access_key="a", secret_key="b"),
    ),
    (
        "storage_form",
        "bucket",
        lambda p: (_cloud(p), _set(p.storage_form, "bucket", "Bad_Bucket")),
        lambda: CloudStorageConfig(vendor=S3, bucket="Bad_Bucket", access_key="a", secret_key="b"),
    ),
    (
        "storage_form",
        "access_key",
        _cloud,
        lambda: CloudStorageConfig(vendor=S3, bucket="good-bucket", secret_key="b"),
    ),
    (
        "storage_form",
        "secret_key",
        _cloud,
        lambda: CloudStorageConfig(vendor=S3, bucket="good-bucket", access_key="a"),
    ),
    (
        "storage_form",
        "endpoint",
        lambda p: _set(p.storage_form, "endpoint", "ftp://x"),
        lambda: CloudStorageConfig(endpoint="ftp://x"),
    ),
    (
        "storage_form",
        "file_name_prefix",
        lambda p: _set(p.storage_form, "file_name_prefix", "ok/not-ok"),
        lambda: CloudStorageConfig(file_name_prefix=("ok", "not-ok")),
    ),
]


@pytest.mark.parametrize(
    ("form_name", "field", "apply", "build"),
    INVALID_CASES,
    ids=[f"{c[1]}-{i}" for i, c in enumerate(INVALID_CASES)],
)
def test_each_invalid_field_shows_its_message_and_disables_start(
    panel: NewRecordingPanel,
    form_name: str,
    field: str,
    apply: Callable[[NewRecordingPanel], None],
    build: Callable[[], object],
) -> None:
    if field == "endpoint" and not panel.storage_form.is_shown("endpoint"):
        _cloud(panel)
        for name, value in (("bucket", "good-bucket"), ("access_key", "a"), ("secret_key", "b")):
            _set(panel.storage_form, name, value)
    apply(panel)
    form: ConfigForm = getattr(panel, form_name)
    assert form.error_text(field) == _message(build)
    assert not panel.start_button.isEnabled()
    assert panel.request() is None


@pytest.mark.parametrize(
    ("field", "text", "check"),
    [
        ("app_id", "not-an-app-id", lambda: check_app_id("not-an-app-id")),
        ("channel", "", lambda: check_channel_name("")),
        ("uid", "0", lambda: check_uid(0)),
        ("uid", "4294967296", lambda: check_uid(4294967296)),
        ("uid", "abc", lambda: check_uid("abc")),
    ],
)
def test_invalid_identity_shows_its_message(
    panel: NewRecordingPanel, field: str, text: str, check: Callable[[], object]
) -> None:
    panel.identity[field].setText(text)
    label = panel.identity_errors[field]
    assert not label.isHidden()
    assert label.text() == _message(check)
    assert not panel.start_button.isEnabled()


def test_fixing_the_field_enables_start_again(panel: NewRecordingPanel) -> None:
    _set(panel.transcoding_form, "width", 361)
    assert not panel.start_button.isEnabled()
    _set(panel.transcoding_form, "width", 362)
    assert panel.transcoding_form.error_text("width") == ""
    assert panel.start_button.isEnabled()
    assert panel.request() is not None
    assert panel.request().recording.transcoding_config.width == 362  # type: ignore[union-attr]


def test_every_offending_field_is_reported_at_once(panel: NewRecordingPanel) -> None:
    _cloud(panel)
    assert sorted(panel.errors) == ["access_key", "bucket", "secret_key"]
    for name, message in panel.errors.items():
        assert panel.storage_form.error_text(name) == message != ""


def test_cloud_storage_config_is_built_with_region(panel: NewRecordingPanel) -> None:
    _cloud(panel)
    for name, value in (("bucket", "my-bucket"), ("access_key", "AK"), ("secret_key", "SK")):
        _set(panel.storage_form, name, value)
    _set(panel.storage_form, "region", 7)
    request = panel.request()
    assert request is not None
    assert request.storage.vendor is StorageVendor.AMAZON_S3
    assert request.storage.region == 7
    assert request.storage.secret_key.get_secret_value() == "SK"


def test_recommended_bitrate_fills_in(panel: NewRecordingPanel) -> None:
    _set(panel.transcoding_form, "width", 1280)
    _set(panel.transcoding_form, "height", 720)
    _set(panel.transcoding_form, "fps", 30)
    expected = recommended_bitrate(1280, 720, 30, ChannelType.COMMUNICATION)
    assert panel.recommended_label.text() == f"recommended: {expected} kbps"
    assert panel.use_bitrate.isEnabled()
    panel.use_bitrate.click()
    assert panel.transcoding_form.editors["bitrate"].value() == expected
    assert not panel.use_bitrate.isEnabled()
    _set(panel.recording_form, "channel_type", ChannelType.LIVE)
    live = recommended_bitrate(1280, 720, 30, ChannelType.LIVE)
    assert live != expected
    assert panel.recommended_label.text() == f"recommended: {live} kbps"
    panel.use_bitrate.click()
    assert panel.request().recording.transcoding_config.bitrate == live  # type: ignore[union-attr]


def test_region_combo_follows_the_vendor_and_local_hides_cloud_fields(
    panel: NewRecordingPanel,
) -> None:
    form = panel.storage_form
    for hidden in ("region", "bucket", "access_key", "secret_key"):
        assert not form.is_shown(hidden)
    assert form.is_shown("local_folder")
    for vendor in (StorageVendor.QINIU, StorageVendor.AMAZON_S3, StorageVendor.ALIYUN):
        _set(form, "vendor", vendor)
        combo = form.widget("region")
        assert isinstance(combo, QComboBox)
        table = regions_of(vendor)
        assert combo.count() == len(table)
        for i, region in enumerate(table):
            assert region.label in combo.itemText(i)
            assert combo.itemData(i) == region.index
        assert form.is_shown("bucket")
        assert not form.is_shown("local_folder")


def test_tooltips_carry_the_help_in_the_window_language(qtbot: Any) -> None:
    english = NewRecordingPanel(chinese=False)
    chinese = NewRecordingPanel(chinese=True)
    qtbot.addWidget(english)
    qtbot.addWidget(chinese)
    for name in ("width", "fps", "layout"):
        info = TranscodingConfig.field_help(name)
        assert info.help_en and info.help_zh and info.allowed
        # the help in the window's language, then what is allowed (no translator loaded)
        # (in Chinese from gui.forms.allowed_zh)
        allowed = f"Allowed: {info.allowed}"
        assert english.transcoding_form.widget(name).toolTip() == f"{info.help_en}\n\n{allowed}"
        allowed_zh = f"Allowed: {allowed_in_chinese(info.allowed)}"
        assert chinese.transcoding_form.widget(name).toolTip() == f"{info.help_zh}\n\n{allowed_zh}"
    spin = english.recording_form.widget("max_idle_time")
    assert isinstance(spin, QSpinBox)
    help_ = RecordingConfig.field_help("max_idle_time")
    assert (spin.minimum(), spin.maximum()) == (help_.minimum, help_.maximum)


def test_layout_choice_reaches_the_preview_signal(panel: NewRecordingPanel, qtbot: Any) -> None:
    with qtbot.waitSignal(panel.transcoding_changed) as blocker:
        _set(panel.transcoding_form, "layout", MixedVideoLayout.VERTICAL)
    assert blocker.args[0].layout is MixedVideoLayout.VERTICAL


def test_subscription_lists_are_typed_as_uids_and_checked_as_the_model_checks_them(
    panel: NewRecordingPanel,
) -> None:
    """Issue 17: the Recording tab holds Agora's stream selection; empty is "not set"
    (everyone), a list is typed as uids separated by commas or spaces, and a combination
    the rules forbid shows the model's own message under the field it names."""
    form = panel.recording_form
    _set(form, "subscribe_video_uids", "1, 2")
    _set(form, "subscribe_audio_uids", " 3 ")
    request = panel.request()
    assert request is not None
    assert request.recording.subscribe_video_uids == ("1", "2")
    assert request.recording.subscribe_audio_uids == ("3",)
    assert request.recording.unsubscribe_audio_uids is None
    assert panel.drafts()["recording"]["subscribe_video_uids"] == ("1", "2")

    _set(form, "unsubscribe_audio_uids", "4")  # together with subscribe_audio_uids
    expected = _message(
        lambda: RecordingConfig(subscribe_audio_uids=("3",), unsubscribe_audio_uids=("4",))
    )
    shown = [form.error_text(name) for name in RECORDING_FIELDS if form.error_text(name)]
    assert shown == [expected]
    assert not panel.start_button.isEnabled() and panel.request() is None

    _set(form, "unsubscribe_audio_uids", "")  # not set again
    _set(form, "subscribe_video_uids", "1 0")  # 0 is no uid
    assert not panel.start_button.isEnabled()
    expected = _message(lambda: RecordingConfig(subscribe_video_uids=("1", "0")))
    assert form.error_text("subscribe_video_uids") == expected
    _set(form, "subscribe_video_uids", "#allstream#")
    assert panel.start_button.isEnabled()
    assert panel.request().recording.subscribe_video_uids == ("#allstream#",)  # type: ignore[union-attr]


def test_the_update_button_needs_a_running_recording_and_valid_lists(
    panel: NewRecordingPanel, qtbot: Any
) -> None:
    """Issue 17: each uid list has a Pick… button (it asks the window for the roster);
    Update applies the lists to the selected running recording, so it is enabled only
    with one and only while the lists are valid."""
    form = panel.recording_form
    for name in UID_LISTS:
        with qtbot.waitSignal(panel.pick_requested) as picked:
            panel.pick_buttons[name].click()
        assert picked.args == [name]
    assert not panel.update_button.isEnabled()
    panel.set_update_target(True)
    assert panel.update_button.isEnabled()
    _set(form, "subscribe_audio_uids", "3")
    _set(form, "unsubscribe_audio_uids", "4")  # both lists of one kind: invalid
    assert not panel.update_button.isEnabled()
    _set(form, "unsubscribe_audio_uids", "")
    assert panel.update_button.isEnabled()
    assert panel.uid_lists() == {
        "subscribe_audio_uids": ("3",),
        "unsubscribe_audio_uids": None,
        "subscribe_video_uids": None,
        "unsubscribe_video_uids": None,
    }
    with qtbot.waitSignal(panel.update_requested):
        panel.update_button.click()
    panel.set_uid_list("subscribe_audio_uids", ["5", "6"])
    assert form.values()["subscribe_audio_uids"] == ("5", "6")
    panel.set_update_target(False)
    assert not panel.update_button.isEnabled()


async def test_the_roster_dialog_keeps_chosen_uids_and_says_why_a_roster_is_missing(
    qtbot: Any,
) -> None:
    """Issue 17: the uids already in a list are checked, those not in the channel now
    stay listed, a refresh keeps what is checked, and a roster that cannot be read says
    why and leaves the list as it was."""
    from core.errors import CloudRecordingError, ErrorCode
    from gui.dialogs.roster_dialog import RosterDialog

    answers: list[Any] = [
        [
            {"uid": 21, "role": "host", "tracks": ["audio", "video"]},
            {"uid": 22, "role": "host"},
            {"uid": 4321, "role": "recorder", "tracks": []},
        ],  # a recorder: not listed
        CloudRecordingError("HTTP 401: the roster needs a token", ErrorCode.CONNECT_ERROR),
    ]

    async def load() -> list[dict[str, Any]]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return list(answer)

    dialog = RosterDialog("Show pictures of", "demo", ["22", "99"], load)
    qtbot.addWidget(dialog)
    # before the roster is read: the list's own uids, checked
    assert dialog.listed() == ["#allstream#", "22", "99"] and dialog.chosen() == ["22", "99"]
    await dialog.refresh()
    assert dialog.listed() == ["#allstream#", "21", "22", "99"]
    assert dialog.chosen() == ["22", "99"]
    assert dialog.users.item(1).text() == "21 (host; publishes audio, video)"
    assert dialog.users.item(3).text() == "99 (not in the channel now)"
    assert dialog.status.text() == "2 user(s) in the channel."
    dialog.users.item(1).setCheckState(Qt.CheckState.Checked)
    await dialog.refresh()  # cannot be read now: the list stays as it was
    assert dialog.status.text() == (
        "Cannot read the channel's users: HTTP 401: the roster needs a token"
    )
    assert dialog.chosen() == ["21", "22", "99"]
    for row in range(dialog.users.count()):
        dialog.users.item(row).setCheckState(Qt.CheckState.Unchecked)
    assert not dialog.ok_button.isEnabled()  # nothing checked is no list


def test_the_mp4_box_asks_for_mp4_beside_hls_and_is_kept_in_the_drafts(
    panel: NewRecordingPanel, qtbot: Any
) -> None:
    """Unchecked (the default): HLS only, Agora's default; checked: ["hls", "mp4"], what
    the REST start then sends as recordingFileConfig; a draft remembers the choice."""
    from core.wire import start_request

    assert panel.recording is not None
    assert panel.recording.recording_file_config.av_file_type == ("hls",)
    panel.mp4_check.setChecked(True)
    assert panel.recording is not None and panel.recording.recording_file_config.mp4
    assert panel.storage is not None
    sent = start_request(panel.recording, panel.storage)
    assert sent["recordingFileConfig"]["avFileType"] == ["hls", "mp4"]
    drafts = panel.drafts()
    again = NewRecordingPanel()
    qtbot.addWidget(again)
    again.load_drafts(drafts)
    assert again.mp4_check.isChecked()
    assert again.recording is not None and again.recording.recording_file_config.mp4


def test_the_snapshot_interval_asks_for_snapshots_and_is_kept_in_the_drafts(
    panel: NewRecordingPanel, qtbot: Any
) -> None:
    """Off (the default): no snapshotConfig; a number of seconds: Agora's snapshotConfig
    with it; with audio only it is refused under the field (Start disabled) until video is
    recorded again or the interval is off; a draft remembers the interval."""
    from core.enums import RecordingStreamType
    from core.wire import start_request

    assert panel.recording is not None and panel.recording.snapshot_config is None
    assert panel.snapshot_interval.text() == "off"
    panel.snapshot_interval.setValue(5)
    assert panel.recording is not None and panel.recording.snapshot_config is not None
    assert panel.storage is not None
    sent = start_request(panel.recording, panel.storage)
    assert sent["snapshotConfig"] == {"captureInterval": 5, "fileType": ["jpg"]}
    panel.recording_form.set_values({"recording_stream_types": RecordingStreamType.AUDIO_ONLY})
    panel.revalidate()
    assert panel.recording is None and not panel.start_button.isEnabled()
    assert not panel.snapshot_error.isHidden()
    assert panel.snapshot_error.text().startswith("Not allowed: no snapshot_config")
    assert "AUDIO_ONLY" in panel.snapshot_error.text()
    panel.snapshot_interval.setValue(0)  # off: an audio-only recording is fine again
    assert panel.recording is not None and panel.snapshot_error.isHidden()
    panel.recording_form.set_values({"recording_stream_types": RecordingStreamType.AUDIO_VIDEO})
    panel.snapshot_interval.setValue(12)
    drafts = panel.drafts()
    again = NewRecordingPanel()
    qtbot.addWidget(again)
    again.load_drafts(drafts)
    assert again.snapshot_interval.value() == 12
    assert again.recording is not None and again.recording.snapshot_config is not None
    assert again.recording.snapshot_config.capture_interval == 12


def test_individual_mode_turns_off_the_mix_only_choices(panel: NewRecordingPanel) -> None:
    """Individual recording (the Recording tab's Mode): the Transcoding tab and MP4 are
    off (unchecked, disabled), snapshots stay (of each user), the start request asks for
    it; back to mix, they are there again."""
    from core.enums import RecordingMode
    from core.wire import start_request

    panel.mp4_check.setChecked(True)
    panel.snapshot_interval.setValue(10)
    changed: list[bool] = []
    panel.individual_changed.connect(changed.append)
    _set(panel.recording_form, "recording_mode", RecordingMode.INDIVIDUAL)
    assert changed == [True]
    transcoding = panel.tabs.indexOf(panel.transcoding_page)
    assert not panel.tabs.isTabEnabled(transcoding)
    assert not panel.mp4_check.isEnabled() and not panel.mp4_check.isChecked()
    assert panel.snapshot_interval.isEnabled() and panel.snapshot_interval.value() == 10
    assert panel.is_valid() and panel.start_button.isEnabled()
    request = panel.request()
    assert request is not None
    assert request.recording.recording_mode is RecordingMode.INDIVIDUAL
    assert request.recording.snapshot_config is not None
    assert "mode" not in start_request(request.recording, request.storage)["recordingConfig"]
    _set(panel.recording_form, "recording_mode", RecordingMode.MIX)
    assert panel.tabs.isTabEnabled(transcoding)
    assert panel.mp4_check.isEnabled()
    request = panel.request()
    assert request is not None and request.recording.recording_mode is RecordingMode.MIX
    assert changed == [True, False]


def test_a_number_out_of_range_is_refused_in_words_not_silently(
    panel: NewRecordingPanel,
) -> None:
    """Issue 28, item 10: typing width 1 (the range starts at 16) and pressing Enter
    keeps the width it had, and says so under the field instead of nothing."""
    from PySide6.QtTest import QTest

    form = panel.transcoding_form
    spin = form.widget("width")
    assert isinstance(spin, QSpinBox)
    before = spin.value()
    edit = spin.lineEdit()
    edit.selectAll()
    QTest.keyClicks(edit, "1")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert spin.value() == before
    assert form.error_text("width") == (
        f"1 is not allowed; {spin.minimum()} to {spin.maximum()}. Kept {before}."
    )
    # a number it takes says nothing
    edit.selectAll()
    QTest.keyClicks(edit, "640")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert spin.value() == 640 and form.error_text("width") == ""


def test_a_field_not_reached_yet_says_what_it_needs_in_grey(panel: NewRecordingPanel) -> None:
    """Issue 28, item 9: choosing S3 leaves bucket and keys empty; under each the form
    says what it needs in its own words (no internal name, no "<hidden, 0 characters>")
    in grey until the operator types there; an entry typed and erased is an error."""
    _cloud(panel)
    form = panel.storage_form
    access = form.editors["access_key"]
    assert form.error_text("access_key").startswith("Required: ")
    assert "access_key" not in form.error_text("access_key")
    assert "<hidden" not in form.error_text("access_key")
    assert access.error.styleSheet() == HINT_STYLE
    edit = form.widget("access_key")
    assert isinstance(edit, QLineEdit)
    edit.setText("a")
    edit.textEdited.emit("a")  # as typing does (setText does not emit textEdited)
    edit.setText("")
    assert form.error_text("access_key").startswith("Required: ")
    assert access.error.styleSheet() == ERROR_STYLE
