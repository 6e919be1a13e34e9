"""The "New recording" panel: who records which channel, and the three config forms.

Every edit validates the whole panel by constructing the config models (and the
SDK's identifier checks); each offending field shows the model's message under it,
and Start is enabled only when everything is valid. Beside the bitrate the panel
offers the seed's recommended bitrate for the size, frame rate and channel type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.bitrate import recommended_bitrate
from core.config import (
    CloudStorageConfig,
    RecordingConfig,
    RecordingFileConfig,
    RtmpPublishConfig,
    SnapshotConfig,
    StreamOutput,
    TranscodingConfig,
)
from core.enums import (
    DEMO_CHANNEL,
    SANDBOX_APP_ID,
    ChannelType,
    MixedVideoLayout,
    RecordingMode,
    StorageVendor,
)
from core.errors import InvalidParameterError
from core.regions import regions_of
from core.validation import check_app_id, check_channel_name, check_uid
from gui.forms.config_form import ERROR_STYLE, ConfigForm, field_message, validate
from gui.forms.labels import field_label
from gui.widgets.layout_editor import LayoutEditor
from gui.widgets.stream_list import StreamList

UID_LISTS = (
    "subscribe_audio_uids",
    "unsubscribe_audio_uids",
    "subscribe_video_uids",
    "unsubscribe_video_uids",
)
"""The stream selection lists of the Recording tab (each with a Pick… button)."""
RECORDING_FIELDS = (
    "recording_mode",
    "recording_stream_types",
    "channel_type",
    "audio_profile",
    "video_stream_type",
    "decryption_mode",
    "secret",
    "max_idle_time",
    "progress_interval",
    "slice_duration",
    *UID_LISTS,
)
TRANSCODING_FIELDS = (
    "width",
    "height",
    "fps",
    "bitrate",
    "layout",
    "render_mode",
    "max_resolution_uid",
    "active_speaker",
    "background_color",
    "background_image",
    "default_user_background_image",
)
STORAGE_FIELDS = (
    "vendor",
    "region",
    "bucket",
    "access_key",
    "secret_key",
    "endpoint",
    "file_name_prefix",
    "local_folder",
)
CLOUD_ONLY = ("region", "bucket", "access_key", "secret_key", "endpoint")
LOCAL_ONLY = ("local_folder",)
DEFAULT_UID = "1234"


@dataclass(frozen=True)
class StartRequest:
    """Everything ``CloudRecorder.start`` needs, validated."""

    app_id: str
    channel: str
    token: str | None
    uid: int
    recording: RecordingConfig
    storage: CloudStorageConfig


# Valid stand-ins for fields required only in some cases, so that validation can
# look past them and report every other offending field at once.
_STAND_INS: dict[str, Any] = {
    "secret": "stand-in-secret",
    "bucket": "stand-in",
    "access_key": "stand-in",
    "secret_key": "stand-in",
}


def _fallbacks(model: type[Any], names: tuple[str, ...]) -> dict[str, Any]:
    values = {name: model.field_help(name).default for name in names}
    values.update({k: v for k, v in _STAND_INS.items() if k in names})
    return values


class NewRecordingPanel(QWidget):
    """Identity fields, the Recording / Transcoding / Storage forms, and Start."""

    validity_changed = Signal(bool)
    transcoding_changed = Signal(object)
    """The current valid TranscodingConfig (for the layout preview)."""
    start_requested = Signal()
    pick_requested = Signal(str)
    """A uid list's Pick… button: the name of its field (the window opens the roster)."""
    individual_changed = Signal(bool)
    """The Recording tab's mode changed: True for individual recording."""
    update_requested = Signal()
    """Update the selected recording: apply the uid lists to it (Agora's ``update``)."""

    def __init__(self, *, chinese: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chinese = chinese
        self.transcoding: TranscodingConfig = TranscodingConfig()
        self.recording: RecordingConfig | None = RecordingConfig()
        self.storage: CloudStorageConfig | None = CloudStorageConfig()
        self.errors: dict[str, str] = {}
        self._valid = False
        self._busy = False

        layout = QVBoxLayout(self)
        layout.addLayout(self._identity_form())

        self.tabs = QTabWidget()
        self.recording_form = ConfigForm(RecordingConfig, RECORDING_FIELDS, chinese=chinese)
        self.transcoding_form = ConfigForm(TranscodingConfig, TRANSCODING_FIELDS, chinese=chinese)
        self.storage_form = ConfigForm(
            CloudStorageConfig, STORAGE_FIELDS, chinese=chinese, choices=("region",)
        )
        self.recommended_label = QLabel()
        self.recommended_label.setObjectName("recommended_bitrate")
        self.use_bitrate = QPushButton(self.tr("Use"))
        self.use_bitrate.setObjectName("use_recommended_bitrate")
        self.use_bitrate.setToolTip(self.tr("Use the recommended bitrate"))
        self.use_bitrate.clicked.connect(self.use_recommended_bitrate)
        self.transcoding_form.add_beside("bitrate", self.recommended_label)
        self.transcoding_form.add_beside("bitrate", self.use_bitrate)

        self.pick_buttons: dict[str, QPushButton] = {}
        for name in UID_LISTS:
            pick = QPushButton(self.tr("Pick…"))
            pick.setObjectName(f"pick_{name}")
            pick.setToolTip(self.tr("Choose from the users in the channel now"))
            pick.clicked.connect(lambda _=False, n=name: self.pick_requested.emit(n))
            self.recording_form.add_beside(name, pick)
            self.pick_buttons[name] = pick
        self.recording_page = QWidget()
        recording_layout = QVBoxLayout(self.recording_page)
        recording_layout.setContentsMargins(0, 0, 0, 0)
        recording_layout.addWidget(self.recording_form)
        self.mp4_check = QCheckBox(self.tr("Also write MP4 files"))
        self.mp4_check.setObjectName("mp4_check")
        self.mp4_check.setToolTip(
            self.tr(
                "Beside the HLS playlist, one MP4 file that plays anywhere, a new one every "
                '2 hours (Agora\'s avFileType ["hls", "mp4"])'
            )
        )
        self.mp4_check.toggled.connect(self.revalidate)
        recording_layout.addWidget(self.mp4_check)
        recording_layout.addLayout(self._snapshot_row())
        streams_form = QFormLayout()
        self.streams = StreamList(chinese=chinese)
        """Live streams of the recording (``rtmpPublishConfig``; kept in the keyring)."""
        self.streams.changed.connect(self.revalidate)
        streams_form.addRow(self.tr("Live streams"), self.streams)
        recording_layout.addLayout(streams_form)
        self.update_button = QPushButton(self.tr("Update the selected recording"))
        self.update_button.setObjectName("update_subscription_button")
        self.update_button.setToolTip(
            self.tr(
                "Apply these lists of voices and pictures to the recording selected in the "
                "list, while it records (Agora's update)"
            )
        )
        self.update_button.clicked.connect(self.update_requested.emit)
        self._update_target = False
        recording_layout.addWidget(self.update_button)
        recording_layout.addStretch(1)

        self.storage_page = QWidget()
        storage_layout = QVBoxLayout(self.storage_page)
        storage_layout.setContentsMargins(0, 0, 0, 0)
        self.storage_header = QVBoxLayout()  # the profile bar goes here
        storage_layout.addLayout(self.storage_header)
        storage_layout.addWidget(self.storage_form)
        storage_layout.addStretch(1)

        self.tabs.addTab(self.recording_page, self.tr("Recording"))
        self.transcoding_page = QWidget()
        transcoding_layout = QVBoxLayout(self.transcoding_page)
        transcoding_layout.setContentsMargins(0, 0, 0, 0)
        transcoding_layout.addWidget(self.transcoding_form)
        self.layout_editor = LayoutEditor(chinese=chinese)
        """The custom layout's regions (shown while the layout is Custom regions)."""
        self.layout_editor.regions_changed.connect(lambda _regions: self.revalidate())
        transcoding_layout.addWidget(self.layout_editor, 1)
        transcoding_layout.addStretch(0)
        self.tabs.addTab(self.transcoding_page, self.tr("Transcoding"))
        self.tabs.addTab(self.storage_page, self.tr("Storage"))
        layout.addWidget(self.tabs, 1)

        self.general_error = QLabel()
        self.general_error.setObjectName("general_error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.setVisible(False)
        layout.addWidget(self.general_error)
        # Start (with the window's server chooser beside it) is a bar of its own, which
        # the window keeps under the scrolled form: at the default window size the
        # form is taller than its column, and a first-time user must see Start.
        self.start_bar = QWidget()
        start_row = QHBoxLayout(self.start_bar)
        start_row.setContentsMargins(0, 0, 0, 0)
        self.server_header = QHBoxLayout()
        start_row.addLayout(self.server_header)
        self.start_button = QPushButton(self.tr("Start recording"))
        self.start_button.setObjectName("start_button")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start_requested.emit)
        start_row.addWidget(self.start_button, 1)

        for form in (self.recording_form, self.transcoding_form, self.storage_form):
            form.changed.connect(self.revalidate)
        self.storage_form.editors["vendor"].connect(self._vendor_changed)
        self._vendor_changed()
        self.revalidate()

    # --- building
    def _identity_form(self) -> QFormLayout:
        form = QFormLayout()
        self.identity: dict[str, QLineEdit] = {}
        self.identity_errors: dict[str, QLabel] = {}
        placeholders = {"token": self.tr("not needed for the sandbox app")}
        tips = {
            "app_id": self.tr("32 hexadecimal characters; the sandbox app needs no token."),
            "channel": self.tr("The channel to record (1 to 64 bytes)."),
            "token": self.tr("AccessToken2 of the recorder, for apps with a certificate."),
            "uid": self.tr(
                "The recorder's own uid in the channel: 1 to 4294967295, unique in the channel."
            ),
        }
        defaults = {
            "app_id": SANDBOX_APP_ID,
            "channel": DEMO_CHANNEL,
            "token": "",
            "uid": DEFAULT_UID,
        }
        for name in ("app_id", "channel", "token", "uid"):
            edit = QLineEdit(defaults[name])
            edit.setObjectName(f"field_{name}")
            edit.setToolTip(tips[name])
            if name in placeholders:
                edit.setPlaceholderText(placeholders[name])
            edit.textChanged.connect(self.revalidate)
            error = QLabel()
            error.setObjectName(f"error_{name}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.setVisible(False)
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(edit)
            column.addWidget(error)
            form.addRow(field_label(name), holder)
            self.identity[name] = edit
            self.identity_errors[name] = error
        return form

    def _snapshot_row(self) -> QFormLayout:
        """The snapshot interval (``snapshot_config.capture_interval``; 0: no snapshots)."""
        form = QFormLayout()
        self.snapshot_interval = QSpinBox()
        self.snapshot_interval.setObjectName("snapshot_interval")
        self.snapshot_interval.setRange(0, 3600)
        self.snapshot_interval.setSpecialValueText(self.tr("off"))
        self.snapshot_interval.setToolTip(
            self.tr(
                "A JPEG snapshot of the composed picture every this many seconds (1 to "
                "3600), stored beside the playlist and shown in the list of recordings; "
                "off: none. Not for audio-only recordings (Agora's snapshotConfig)"
            )
        )
        self.snapshot_interval.valueChanged.connect(self.revalidate)
        self.snapshot_error = QLabel()
        self.snapshot_error.setObjectName("error_snapshot_interval")
        self.snapshot_error.setStyleSheet(ERROR_STYLE)
        self.snapshot_error.setWordWrap(True)
        self.snapshot_error.setVisible(False)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.snapshot_interval, 1)
        # the unit beside the box, as the config forms show theirs; none beside "off"
        self.snapshot_unit = QLabel(self.tr(" s").strip())
        self.snapshot_unit.setObjectName("unit_snapshot_interval")
        self.snapshot_unit.setVisible(False)
        self.snapshot_interval.valueChanged.connect(
            lambda seconds: self.snapshot_unit.setVisible(seconds > 0)
        )
        row.addWidget(self.snapshot_unit)
        column.addLayout(row)
        column.addWidget(self.snapshot_error)
        form.addRow(self.tr("Snapshot every"), holder)
        return form

    def publish_config(self) -> RtmpPublishConfig | None:
        """The live streams, or None (none, or an individual recording, which has none)."""
        urls = self.streams.urls()
        if not urls or self.individual:
            return None
        return RtmpPublishConfig(outputs=tuple(StreamOutput(rtmp_url=SecretStr(u)) for u in urls))

    def snapshot_config(self) -> SnapshotConfig | None:
        """Snapshots every so many seconds, or None (off)."""
        seconds = self.snapshot_interval.value()
        return SnapshotConfig(capture_interval=seconds) if seconds else None

    def _vendor_changed(self) -> None:
        vendor = StorageVendor(self.storage_form.editors["vendor"].value())
        cloud = vendor.is_cloud
        for name in CLOUD_ONLY:
            self.storage_form.set_shown(name, cloud)
        for name in LOCAL_ONLY:
            self.storage_form.set_shown(name, not cloud)
        self.storage_form.set_choices(
            "region",
            [
                (f"{r.label_zh if self.chinese else r.label} ({r.name})", r.index)
                for r in regions_of(vendor)
            ],
        )

    # --- validation
    def revalidate(self) -> None:
        """Validate everything and show each error next to its field."""
        self._show_mode()
        errors: dict[str, str] = {}
        identity_errors: dict[str, str] = {}
        for name, check in (
            ("app_id", lambda: check_app_id(self.identity["app_id"].text().strip())),
            ("channel", lambda: check_channel_name(self.identity["channel"].text())),
            ("uid", lambda: check_uid(self._uid_value())),
        ):
            try:
                check()
            except InvalidParameterError as exc:
                identity_errors[name] = field_message(exc, chinese=self.chinese)
        for name, label in self.identity_errors.items():
            label.setText(identity_errors.get(name, ""))
            label.setVisible(name in identity_errors)

        t_values = self.transcoding_form.values()
        custom = t_values.get("layout") == MixedVideoLayout.CUSTOM
        if custom:  # the regions travel with the custom layout only (Agora's rule)
            t_values["layout_config"] = self.layout_editor.layout_config()
        transcoding, t_errors = validate(
            lambda v: TranscodingConfig(**v),
            t_values,
            {**_fallbacks(TranscodingConfig, TRANSCODING_FIELDS), "layout_config": []},
            chinese=self.chinese,
        )
        self.transcoding_form.set_errors(t_errors)
        self.layout_editor.setVisible(custom)
        self.layout_editor.show_error(t_errors.get("layout_config", ""))
        canvas = transcoding or TranscodingConfig()
        self.layout_editor.set_canvas(canvas.width, canvas.height, canvas.background_color)
        if transcoding is not None:
            self.transcoding = transcoding
            self.transcoding_changed.emit(transcoding)
        inner = transcoding if transcoding is not None else TranscodingConfig()
        self.recording, r_errors = validate(
            lambda v: RecordingConfig(
                **v, transcoding_config=inner, recording_file_config=self.file_config()
            ),
            {
                **self.recording_form.values(),
                "snapshot_config": self.snapshot_config(),
                "rtmp_publish_config": self.publish_config(),
            },
            {
                **_fallbacks(RecordingConfig, RECORDING_FIELDS),
                "snapshot_config": None,
                "rtmp_publish_config": None,
            },
            chinese=self.chinese,
        )
        self.recording_form.set_errors(r_errors)
        self.snapshot_error.setText(r_errors.get("snapshot_config", ""))
        self.snapshot_error.setVisible("snapshot_config" in r_errors)
        self.storage, s_errors = validate(
            lambda v: CloudStorageConfig(**v),
            self.storage_form.values(),
            _fallbacks(CloudStorageConfig, STORAGE_FIELDS),
            chinese=self.chinese,
        )
        self.storage_form.set_errors(s_errors)

        general = [e for e in (t_errors.get(""), r_errors.get(""), s_errors.get("")) if e]
        self.general_error.setText("\n".join(general))
        self.general_error.setVisible(bool(general))
        for found in (identity_errors, t_errors, r_errors, s_errors):
            errors.update(found)
        if transcoding is None and not r_errors and self.recording is not None:
            self.recording = None  # a recording needs a valid transcoding config too
        self.errors = errors
        self._update_recommendation()
        valid = not errors and self.recording is not None and self.storage is not None
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)
        self._update_start()

    @property
    def individual(self) -> bool:
        """Whether the Recording tab asks for individual recording."""
        mode = self.recording_form.values().get("recording_mode", RecordingMode.MIX)
        return RecordingMode(mode) is RecordingMode.INDIVIDUAL

    def _show_mode(self) -> None:
        """Individual recording copies each user's video as sent: no layout, no
        transcoding and no MP4 (docs/recorder.md, "Individual recording"); the
        Transcoding tab and MP4 are off while it is chosen (snapshots are of each user)."""
        individual = self.individual
        if individual != getattr(self, "_individual_shown", False):
            self._individual_shown = individual
            self.individual_changed.emit(individual)
        self.tabs.setTabEnabled(self.tabs.indexOf(self.transcoding_page), not individual)
        self.tabs.setTabToolTip(
            self.tabs.indexOf(self.transcoding_page),
            self.tr("Individual recording copies each user's video as sent: no layout")
            if individual
            else "",
        )
        self.mp4_check.setEnabled(not individual)
        self.streams.setEnabled(not individual)  # a live stream is of the mix
        if individual:  # read by the validation that follows (signals would recurse)
            with QSignalBlocker(self.mp4_check):
                self.mp4_check.setChecked(False)

    def _uid_value(self) -> object:
        text = self.identity["uid"].text().strip()
        return int(text) if text.isdigit() else text

    def is_valid(self) -> bool:
        return self._valid

    def set_busy(self, busy: bool) -> None:
        """While a start is in progress, Start stays disabled."""
        self._busy = busy
        self._update_start()

    def _update_start(self) -> None:
        self.start_button.setEnabled(self._valid and not self._busy)
        lists_valid = not any(name.split(".")[0] in UID_LISTS for name in self.errors)
        self.update_button.setEnabled(self._update_target and lists_valid)

    def set_update_target(self, available: bool) -> None:
        """Whether a running recording the window holds is selected (Update, and the
        layout editor's Apply, apply to it)."""
        self._update_target = available
        self.layout_editor.set_apply_target(available)
        self._update_start()

    def uid_lists(self) -> dict[str, tuple[str, ...] | None]:
        """The four stream selection lists as typed (None: not set)."""
        values = self.recording_form.values()
        return {name: values.get(name) for name in UID_LISTS}

    def set_uid_list(self, name: str, uids: list[str]) -> None:
        """Put ``uids`` in the list ``name`` (an empty pick clears it: not set)."""
        self.recording_form.set_values({name: uids or None})

    def request(self) -> StartRequest | None:
        """The validated start request, or None while something is invalid."""
        if not self._valid or self.recording is None or self.storage is None:
            return None
        token = self.identity["token"].text().strip() or None
        uid = self._uid_value()
        assert isinstance(uid, int)
        return StartRequest(
            app_id=self.identity["app_id"].text().strip(),
            channel=self.identity["channel"].text(),
            token=token,
            uid=uid,
            recording=self.recording,
            storage=self.storage,
        )

    # --- the recommended bitrate
    def recommended(self) -> int | None:
        values = self.transcoding_form.values()
        channel_type = self.recording_form.values().get("channel_type", ChannelType.COMMUNICATION)
        try:
            return recommended_bitrate(
                int(values["width"]),
                int(values["height"]),
                int(values["fps"]),
                ChannelType(channel_type),
            )
        except (ValueError, TypeError, KeyError):
            return None

    def _update_recommendation(self) -> None:
        kbps = self.recommended()
        if kbps is None:
            self.recommended_label.setText("")
            self.use_bitrate.setEnabled(False)
            return
        self.recommended_label.setText(self.tr("recommended: {0} kbps").format(kbps))
        bitrate = self.transcoding_form.widget("bitrate")
        assert isinstance(bitrate, QSpinBox)
        self.use_bitrate.setEnabled(bitrate.value() != kbps)

    def use_recommended_bitrate(self) -> None:
        kbps = self.recommended()
        if kbps is not None:
            bitrate = self.transcoding_form.widget("bitrate")
            assert isinstance(bitrate, QSpinBox)
            bitrate.setValue(kbps)

    def file_config(self) -> RecordingFileConfig:
        """Which files the recording writes: HLS, and MP4 when asked."""
        types = ("hls", "mp4") if self.mp4_check.isChecked() else ("hls",)
        return RecordingFileConfig(av_file_type=types)

    # --- drafts (secrets are dropped by AppSettings)
    def drafts(self) -> dict[str, dict[str, Any]]:
        return {
            "identity": {
                "app_id": self.identity["app_id"].text(),
                "channel": self.identity["channel"].text(),
                "uid": self.identity["uid"].text(),
            },
            "recording": {
                **self.recording_form.values(),
                "snapshot_interval": self.snapshot_interval.value(),
            },
            "files": {"mp4": self.mp4_check.isChecked()},
            "transcoding": self.transcoding_form.values(),
            "storage": self.storage_form.values(),
        }

    def load_drafts(self, drafts: dict[str, dict[str, Any]]) -> None:
        for name, value in drafts.get("identity", {}).items():
            if name in self.identity and isinstance(value, str) and name != "token":
                self.identity[name].setText(value)
        recording = drafts.get("recording", {})
        self.recording_form.set_values(recording)
        interval = recording.get("snapshot_interval", 0)
        if isinstance(interval, int) and not isinstance(interval, bool) and 0 <= interval <= 3600:
            self.snapshot_interval.setValue(interval)
        self.mp4_check.setChecked(drafts.get("files", {}).get("mp4") is True)
        self.transcoding_form.set_values(drafts.get("transcoding", {}))
        storage = drafts.get("storage", {})
        if "vendor" in storage:
            self.storage_form.set_values({"vendor": storage["vendor"]})
        self.storage_form.set_values({k: v for k, v in storage.items() if k != "vendor"})
        self.revalidate()
