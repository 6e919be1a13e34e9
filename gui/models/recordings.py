"""The recordings table: one row per recording, updated from SDK callbacks.

:class:`RecordingsModel` holds :class:`RecordingRow` values; views only render it.
The upload progress column carries its percentage in :data:`PROGRESS_ROLE` for the
progress bar delegate; a row whose recorder or uploader failed is coloured.
"""

from __future__ import annotations

import contextlib
import glob
import time
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
)
from PySide6.QtGui import QColor, QImage

from core.config import CloudStorageConfig
from core.storage.locations import playlist_location

PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1
RECORDING_ID_ROLE = Qt.ItemDataRole.UserRole + 2
THUMBNAIL_SIZE = (96, 54)
"""Pixels of a snapshot's thumbnail in its row (16:9, as the default canvas; a picture
of another shape is fitted inside)."""
_Index = QModelIndex | QPersistentModelIndex


class RowState(Enum):
    """Where a recording is, as the window shows it."""

    CONNECTING = QT_TRANSLATE_NOOP("RecordingsModel", "connecting")
    RECORDING = QT_TRANSLATE_NOOP("RecordingsModel", "recording")
    STOPPING = QT_TRANSLATE_NOOP("RecordingsModel", "stopping")
    STOPPED = QT_TRANSLATE_NOOP("RecordingsModel", "stopped")
    UPLOADED = QT_TRANSLATE_NOOP("RecordingsModel", "uploaded")
    BACKED_UP = QT_TRANSLATE_NOOP("RecordingsModel", "backed up, retrying")
    FAILED = QT_TRANSLATE_NOOP("RecordingsModel", "failed")
    BACKGROUND = QT_TRANSLATE_NOOP("RecordingsModel", "recording in background")
    RELEASED = QT_TRANSLATE_NOOP("RecordingsModel", "released")

    @property
    def active(self) -> bool:
        """Still recording (or about to) on the server, and attached to this window."""
        return self in (RowState.CONNECTING, RowState.RECORDING, RowState.STOPPING)

    @property
    def label(self) -> str:
        return QCoreApplication.translate("RecordingsModel", str(self.value))


@dataclass
class RecordingRow:
    """What the table shows about one recording."""

    recording_id: str
    channel: str
    state: RowState = RowState.CONNECTING
    started_at: float | None = None  # time.monotonic() when recording started
    ended_at: float | None = None
    size_bytes: int | None = None
    progress: int | None = None  # percent uploaded of what is recorded
    playlist: str = ""
    last_event: str = ""
    failed: bool = False
    error_code: int | None = None
    storage: CloudStorageConfig | None = field(default=None, repr=False)
    """Where the recording goes, when this window started it."""
    snapshot: QImage | None = field(default=None, repr=False)
    """The thumbnail of the newest snapshot (``docs/recording-files.md``, "Snapshots")."""
    snapshot_name: str = ""
    """Its file name (the server's ``ETag`` without quotes)."""
    live_picture: QImage | None = field(default=None, repr=False)
    """The newest composed picture while it records (the server's ``preview``)."""
    live_thumbnail: QImage | None = field(default=None, repr=False)
    """That picture at :data:`THUMBNAIL_SIZE`, shown in the row instead of a snapshot."""
    picture_etag: str = ""
    """The ``ETag`` of :attr:`live_picture` (its output time in ms, in quotes)."""
    sid: str = ""
    """The server's id of the recording, which its files are named with; empty until
    the server gave one."""
    server: str = ""
    """The base URL of the further remote server it runs on (``AppSettings.other_servers``);
    empty for the window's own server."""
    files_at: str = ""
    """Where the recording's files are, as the server says (``location`` of
    ``/v1/cloudrec/recordings/{sid}``): a local folder or the URL of a bucket prefix."""
    slices_kept: int | None = None
    """Slices written so far (the uploader holds them), from the server's figures."""
    slices_stored: int | None = None
    stored_bytes: int | None = None
    """Bytes of those stored (slices and whole files such as MP4s; the server's
    ``storedBytes``), beside :attr:`size_bytes`, the bytes written."""
    """Slices of those stored in the destination."""
    bitrate_kbps: float | None = None
    """The recording's output rate over the last seconds."""
    dropped_frames: int | None = None
    """Users' frames the renderer dropped (it fell behind)."""
    levels: dict[int, float] = field(default_factory=dict)
    """Each recorded user's audio level now, dBFS (the server's ``levels``)."""
    history: tuple[tuple[float, float, int], ...] = ()
    """(monotonic s, output kb/s, upload backlog in slices) of the last minutes."""

    @property
    def playlists(self) -> list[str]:
        """The recording's playlists: its own, or an individual recording's tracks (the
        server names them comma-separated), the first video track first."""
        names = [name for name in self.playlist.split(",") if name]
        return sorted(names, key=lambda name: not name.endswith("_video.m3u8"))

    @property
    def location(self) -> str:
        """Where the operator finds the playlist (an individual recording's first video
        track): a local path or the object's URL, as the server says or from the
        storage the window started it with; else the playlist's name as the server
        reports it."""
        names = self.playlists
        return self.location_of(names[0]) if names else ""

    @property
    def locations(self) -> list[str]:
        """Where each of :attr:`playlists` is (see :attr:`location`)."""
        return [self.location_of(name) for name in self.playlists]

    def location_of(self, name: str) -> str:
        if self.files_at:
            return file_location(self.files_at, name)
        if self.storage is None:
            return name
        return playlist_location(self.storage, name)

    @property
    def upload_percent(self) -> int | None:
        """Percent of the slices stored (the uploaded callback's 100 once all is)."""
        if self.progress == 100 or not self.slices_kept or self.slices_stored is None:
            return self.progress
        return self.slices_stored * 100 // self.slices_kept

    def duration(self, now: float | None = None) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else (now or time.monotonic())
        return max(0.0, end - self.started_at)


def can_download(row: RecordingRow | None) -> bool:
    """Whether ``row`` is a recording in a bucket whose files are all stored, and whose
    storage (with its keys) the window knows: the ones it started."""
    return (
        row is not None
        and row.storage is not None
        and row.storage.vendor.is_cloud
        and bool(row.playlist)
        and row.progress == 100
    )


def file_location(folder: str, name: str) -> str:
    """The location of file ``name`` in ``folder`` (a local path or a URL)."""
    if urlsplit(folder).scheme in ("http", "https"):
        return f"{folder.rstrip('/')}/{quote(name, safe='~')}"
    return str(Path(folder) / name)


def local_path(location: str) -> Path | None:
    """The local file a playlist location names, or None for remote URLs and bare names."""
    if location.startswith("file://"):
        return Path(QUrl(location).toLocalFile())
    if urlsplit(location).scheme in ("http", "https", "s3"):
        return None
    path = Path(location)
    return path if path.is_absolute() else None


def recording_size(playlist: Path) -> int | None:
    """Bytes of the playlist and its slices (``<sid>_<cname>*``) in its folder."""
    if not playlist.exists():
        return None
    total = 0
    # a channel name may hold glob characters ("[", "*", "?"): match them literally
    for path in playlist.parent.glob(f"{glob.escape(playlist.stem)}*"):
        with contextlib.suppress(OSError):  # a file may go while we count: not an error
            if path.is_file():
                total += path.stat().st_size
    return total


def shown_thumbnail(row: RecordingRow) -> QImage | None:
    """The picture beside a row's channel: the live picture while it records (a second
    old at most), else its last snapshot, else the last live picture it had."""
    if row.state is RowState.RECORDING and row.live_thumbnail is not None:
        return row.live_thumbnail
    return row.snapshot or row.live_thumbnail


def thumbnail(jpeg: bytes) -> QImage | None:
    """A snapshot's picture scaled to :data:`THUMBNAIL_SIZE` (None if it does not decode)."""
    pictures = picture_and_thumbnail(jpeg)
    return None if pictures is None else pictures[1]


def picture_and_thumbnail(jpeg: bytes) -> tuple[QImage, QImage] | None:
    """A JPEG as a picture and its thumbnail (:data:`THUMBNAIL_SIZE`); None if it does not
    decode. Safe off the GUI thread (QImage, not QPixmap)."""
    image = QImage.fromData(jpeg)  # the format from its signature (SOI marker)
    if image.isNull():
        return None
    small = image.scaled(
        *THUMBNAIL_SIZE,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    return image, small


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_output(kbps: float | None, dropped: int | None) -> str:
    """A recording's output rate and the frames its renderer dropped, e.g.
    ``512 kb/s, 0 dropped``."""
    if kbps is None:
        return "–"
    text = QCoreApplication.translate("RecordingsModel", "{0} kb/s").format(round(kbps))
    if dropped is None:
        return text
    return QCoreApplication.translate("RecordingsModel", "{0}, {1} dropped").format(text, dropped)


def format_size(size: int | None) -> str:
    if size is None:
        return "–"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


class RecordingsModel(QAbstractTableModel):
    """A table model of recordings, keyed by recording id."""

    CHANNEL, RECORDING_ID, STATE, DURATION, SIZE, UPLOAD, OUTPUT, LAST_EVENT = range(8)
    _HEADERS = (
        QT_TRANSLATE_NOOP("RecordingsModel", "Channel"),
        QT_TRANSLATE_NOOP("RecordingsModel", "Recording ID"),
        QT_TRANSLATE_NOOP("RecordingsModel", "State"),
        QT_TRANSLATE_NOOP("RecordingsModel", "Duration"),
        QT_TRANSLATE_NOOP("RecordingsModel", "Size"),
        QT_TRANSLATE_NOOP("RecordingsModel", "Upload"),
        QT_TRANSLATE_NOOP("RecordingsModel", "Output"),
        QT_TRANSLATE_NOOP("RecordingsModel", "Last event"),
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[RecordingRow] = []

    # --- reading
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate("RecordingsModel", str(self._HEADERS[section]))
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == RECORDING_ID_ROLE:
            return row.recording_id
        if role == PROGRESS_ROLE and column == self.UPLOAD:
            return row.upload_percent
        if role == Qt.ItemDataRole.BackgroundRole and row.failed:
            return QColor(255, 221, 216)
        if role == Qt.ItemDataRole.DecorationRole and column == self.CHANNEL:
            return shown_thumbnail(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.LAST_EVENT:
                return row.last_event
            if (
                column == self.CHANNEL
                and row.snapshot_name
                and shown_thumbnail(row) is row.snapshot
            ):
                return QCoreApplication.translate("RecordingsModel", "Latest snapshot: {0}").format(
                    row.snapshot_name
                )
            if column == self.UPLOAD and (row.playlist or row.stored_bytes is not None):
                lines = [row.location] if row.playlist else []
                if row.stored_bytes is not None and row.size_bytes is not None:
                    lines.append(
                        QCoreApplication.translate("RecordingsModel", "{0} of {1} stored").format(
                            format_size(row.stored_bytes), format_size(row.size_bytes)
                        )
                    )
                return "\n".join(lines)
            if column == self.RECORDING_ID:
                return QCoreApplication.translate(
                    "RecordingsModel", "Files are named with {0}; the window's id is {1}"
                ).format(row.sid or "–", row.recording_id)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == self.CHANNEL:
            return row.channel
        if column == self.RECORDING_ID:
            return row.sid or "–"
        if column == self.STATE:
            return row.state.label
        if column == self.DURATION:
            return format_duration(row.duration())
        if column == self.SIZE:
            return format_size(row.size_bytes)
        if column == self.UPLOAD:
            if row.slices_kept is not None and row.slices_stored is not None:
                return QCoreApplication.translate("RecordingsModel", "{0}/{1} slices").format(
                    row.slices_stored, row.slices_kept
                )
            return "–" if row.progress is None else f"{row.progress}%"
        if column == self.OUTPUT:
            return format_output(row.bitrate_kbps, row.dropped_frames)
        if column == self.LAST_EVENT:
            return row.last_event
        return None

    def rows(self) -> list[RecordingRow]:
        return list(self._rows)

    def row(self, recording_id: str) -> RecordingRow | None:
        for row in self._rows:
            if row.recording_id == recording_id:
                return row
        return None

    def row_at(self, index: int) -> RecordingRow | None:
        return self._rows[index] if 0 <= index < len(self._rows) else None

    def active_count(self) -> int:
        return sum(1 for r in self._rows if r.state.active)

    def backlog_count(self) -> int:
        """Recordings whose files are not all in the storage yet."""
        return sum(
            1
            for r in self._rows
            if r.state
            in (RowState.RECORDING, RowState.STOPPING, RowState.STOPPED, RowState.BACKED_UP)
            and (r.progress or 0) < 100
        )

    # --- writing
    def add(self, row: RecordingRow) -> None:
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append(row)
        self.endInsertRows()

    def update(self, recording_id: str, **changes: Any) -> RecordingRow | None:
        """Change fields of one row and tell the views."""
        for i, row in enumerate(self._rows):
            if row.recording_id == recording_id:
                self._rows[i] = replace(row, **changes)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self._HEADERS) - 1))
                return self._rows[i]
        return None

    def remove(self, recording_id: str) -> None:
        for i, row in enumerate(self._rows):
            if row.recording_id == recording_id:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
                return

    def tick(self) -> None:
        """Refresh the duration of running recordings (called once a second)."""
        for i, row in enumerate(self._rows):
            if row.started_at is not None and row.ended_at is None:
                cell = self.index(i, self.DURATION)
                self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole])
