"""The custom layout's editor: regions dragged and resized on the canvas, their alpha,
render mode and user, snapped to a grid, with undo; saved as named layouts; applied to
a running recording (docs/gui.md, "Custom layouts").

:class:`RegionCanvas` is a :class:`~gui.widgets.layout_preview.LayoutPreview` (so it
draws the regions as the compositor will, through ``core.layout.compute_windows``)
that also outlines every region, numbered in drawing order, and lets the mouse move
one (drag inside it) or resize it (drag its bottom-right handle). Positions are
fractions of the canvas, snapped to :data:`GRID` while "Snap to grid" is on. Every
finished drag, and every change made with the controls, is one step of the undo
stack.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.config import LayoutRegion
from core.enums import MixedVideoLayout, RenderMode
from core.errors import InvalidParameterError
from core.layout import MAX_REGIONS, Region
from gui.forms.config_form import ERROR_STYLE, field_message
from gui.widgets.layout_preview import LayoutPreview

GRID = 0.05
"""The snapping step, a fraction of the canvas (20 steps across)."""
MIN_SIZE = GRID
"""The smallest width or height a drag leaves a region."""
HANDLE = 10.0
"""Pixels of the resize handle at a region's bottom-right corner."""

DEFAULT_REGIONS = (
    Region(0.0, 0.0, 1.0, 1.0),
    Region(0.65, 0.65, 0.3, 0.3),
)
"""A new custom layout: one user over the canvas, the next in a box at the bottom right."""


def region_to_json(region: Region) -> dict[str, Any]:
    """A region as Agora's ``layoutConfig`` item (what saved layouts keep)."""
    item: dict[str, Any] = {
        "x_axis": region.x,
        "y_axis": region.y,
        "width": region.width,
        "height": region.height,
        "alpha": region.alpha,
        "render_mode": int(region.render_mode),
    }
    if region.uid is not None:
        item["uid"] = str(region.uid)
    return item


def region_from_json(item: dict[str, Any]) -> Region:
    """A saved item as a region, checked as the server checks it."""
    return LayoutRegion(**item).region


def _snap(value: float, snap: bool) -> float:
    return round(round(value / GRID) * GRID, 6) if snap else round(value, 6)


class RegionCanvas(LayoutPreview):
    """The layout preview with its regions outlined and editable by the mouse."""

    edited = Signal(object)
    """A drag ended: (regions before, regions after)."""
    selected_changed = Signal(int)
    """The selected region's index (-1: none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("region_canvas")
        self.layout_kind = MixedVideoLayout.CUSTOM
        self.selected = -1
        self.snap = True
        self._drag: tuple[str, QPointF, Region, tuple[Region, ...]] | None = None
        self.setMouseTracking(True)

    def region_box(self, index: int) -> QRectF:
        """Region ``index`` in widget pixels."""
        area, _ = self._canvas_rect()
        r = self.regions[index]
        return QRectF(
            area.x() + r.x * area.width(),
            area.y() + r.y * area.height(),
            min(r.width, 1 - r.x) * area.width(),
            min(r.height, 1 - r.y) * area.height(),
        )

    def handle_box(self, index: int) -> QRectF:
        """The resize handle of region ``index``, in widget pixels."""
        box = self.region_box(index)
        return QRectF(box.right() - HANDLE, box.bottom() - HANDLE, HANDLE, HANDLE)

    def paint_overlay(self, painter: QPainter, area: QRectF, scale: float) -> None:
        for index in range(len(self.regions)):
            box = self.region_box(index)
            chosen = index == self.selected
            painter.setPen(
                QPen(QColor("#ffd400") if chosen else QColor("#f0f0f0"), 2 if chosen else 1,
                     Qt.PenStyle.SolidLine if chosen else Qt.PenStyle.DashLine)
            )  # fmt: skip
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box.adjusted(1, 1, -1, -1))
            painter.drawText(
                box.adjusted(4, 2, -2, -2), int(Qt.AlignmentFlag.AlignLeft), f"#{index + 1}"
            )
            if chosen:
                painter.fillRect(self.handle_box(index), QColor("#ffd400"))

    def select(self, index: int) -> None:
        self.selected = index if 0 <= index < len(self.regions) else -1
        self.selected_changed.emit(self.selected)
        self.update()

    def region_at(self, point: QPointF) -> int:
        """The topmost region under ``point`` (the last drawn), or -1."""
        for index in reversed(range(len(self.regions))):
            if self.region_box(index).contains(point):
                return index
        return -1

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = event.position()
        if self.selected >= 0 and self.handle_box(self.selected).contains(point):
            index, kind = self.selected, "resize"
        else:
            index, kind = self.region_at(point), "move"
            self.select(index)
        if index >= 0:
            self._drag = (kind, point, self.regions[index], self.regions)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            over = self.selected >= 0 and self.handle_box(self.selected).contains(event.position())
            self.setCursor(Qt.CursorShape.SizeFDiagCursor if over else Qt.CursorShape.ArrowCursor)
            return
        kind, start, original, _ = self._drag
        area, _ = self._canvas_rect()
        dx = (event.position().x() - start.x()) / max(1.0, area.width())
        dy = (event.position().y() - start.y()) / max(1.0, area.height())
        if kind == "move":
            x = min(max(0.0, _snap(original.x + dx, self.snap)), round(1 - original.width, 6))
            y = min(max(0.0, _snap(original.y + dy, self.snap)), round(1 - original.height, 6))
            moved = original._replace(x=x, y=y)
        else:
            width = min(
                max(MIN_SIZE, _snap(original.width + dx, self.snap)), round(1 - original.x, 6)
            )
            height = min(
                max(MIN_SIZE, _snap(original.height + dy, self.snap)), round(1 - original.y, 6)
            )
            moved = original._replace(width=width, height=height)
        regions = list(self.regions)
        regions[self.selected] = moved
        self.regions = tuple(regions)
        self._compute()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        before = self._drag[3]
        self._drag = None
        if self.regions != before:
            self.edited.emit((before, self.regions))


class _Edit(QUndoCommand):
    """One change of the regions: ``redo`` sets ``after``, ``undo`` sets ``before``."""

    def __init__(
        self, editor: LayoutEditor, before: tuple[Region, ...], after: tuple[Region, ...], text: str
    ) -> None:
        super().__init__(text)
        self.editor, self.before, self.after = editor, before, after

    def redo(self) -> None:
        self.editor._set_regions(self.after)

    def undo(self) -> None:
        self.editor._set_regions(self.before)


class LayoutEditor(QWidget):
    """Regions on a canvas, the selected region's settings, undo, saved layouts, and
    Apply to the selected recording."""

    regions_changed = Signal(object)
    """The regions (a tuple of :class:`~core.layout.Region`) after any change."""
    apply_requested = Signal()
    """Apply the regions to the selected running recording (``updateLayout``)."""
    saved_changed = Signal(object)
    """The saved layouts changed: {name: [layoutConfig items]} (the window keeps them)."""

    def __init__(self, parent: QWidget | None = None, *, chinese: bool = False) -> None:
        super().__init__(parent)
        self.chinese = chinese
        self.setObjectName("layout_editor")
        self.undo_stack = QUndoStack(self)
        self.saved: dict[str, list[dict[str, Any]]] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(QLabel(self.tr("<b>Regions</b> (drag to move, the corner to resize)")))
        self.canvas = RegionCanvas()
        self.canvas.set_users(MAX_REGIONS)
        self.canvas.setMinimumHeight(180)
        outer.addWidget(self.canvas, 1)

        tools = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add region"))
        self.add_button.setObjectName("add_region")
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("remove_region")
        self.undo_button = QPushButton(self.tr("Undo"))
        self.undo_button.setObjectName("undo_region")
        self.redo_button = QPushButton(self.tr("Redo"))
        self.redo_button.setObjectName("redo_region")
        self.snap_check = QCheckBox(self.tr("Snap to grid"))
        self.snap_check.setObjectName("snap_to_grid")
        self.snap_check.setChecked(True)
        self.snap_check.setToolTip(self.tr("Positions and sizes in steps of 5 % of the canvas"))
        for widget in (
            self.add_button,
            self.remove_button,
            self.undo_button,
            self.redo_button,
            self.snap_check,
        ):
            tools.addWidget(widget)
        tools.addStretch(1)
        outer.addLayout(tools)

        grid = QGridLayout()
        self.uid_edit = QLineEdit()
        self.uid_edit.setObjectName("region_uid")
        self.uid_edit.setPlaceholderText(self.tr("next user to join"))
        self.uid_edit.setToolTip(
            self.tr("The user shown here; empty: the next user no region names, in join order")
        )
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setObjectName("region_alpha")
        self.alpha_spin.setRange(0.0, 1.0)
        self.alpha_spin.setSingleStep(0.05)
        self.alpha_spin.setDecimals(2)
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("region_render_mode")
        self.mode_combo.addItem(self.tr("Crop to fill"), int(RenderMode.CROP))
        self.mode_combo.addItem(self.tr("Fit with bars"), int(RenderMode.FIT))
        grid.addWidget(QLabel(self.tr("User")), 0, 0)
        grid.addWidget(self.uid_edit, 0, 1)
        grid.addWidget(QLabel(self.tr("Alpha")), 0, 2)
        grid.addWidget(self.alpha_spin, 0, 3)
        grid.addWidget(QLabel(self.tr("Picture")), 0, 4)
        grid.addWidget(self.mode_combo, 0, 5)
        outer.addLayout(grid)

        saved_row = QHBoxLayout()
        self.name_combo = QComboBox()
        self.name_combo.setObjectName("layout_name")
        self.name_combo.setEditable(True)
        self.name_combo.setToolTip(
            self.tr("A name to save these regions under, or a saved layout to load")
        )
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("save_layout")
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("delete_layout")
        saved_row.addWidget(QLabel(self.tr("Layout")))
        saved_row.addWidget(self.name_combo, 1)
        saved_row.addWidget(self.save_button)
        saved_row.addWidget(self.delete_button)
        outer.addLayout(saved_row)

        apply_row = QHBoxLayout()
        self.apply_button = QPushButton(self.tr("Apply to the selected recording"))
        self.apply_button.setObjectName("apply_layout")
        self.apply_button.setToolTip(
            self.tr(
                "Give the recording selected in the list these regions now (Agora's updateLayout)"
            )
        )
        self.live_check = QCheckBox(self.tr("Apply as I edit"))
        self.live_check.setObjectName("apply_as_i_edit")
        apply_row.addWidget(self.apply_button, 1)
        apply_row.addWidget(self.live_check)
        outer.addLayout(apply_row)
        self.error = QLabel()
        self.error.setObjectName("layout_editor_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        outer.addWidget(self.error)

        self.canvas.edited.connect(
            lambda pair: self._push(pair[0], pair[1], self.tr("Move region"))
        )
        self.canvas.selected_changed.connect(self._show_selected)
        self.add_button.clicked.connect(self.add_region)
        self.remove_button.clicked.connect(self.remove_region)
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.redo_button.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.snap_check.toggled.connect(lambda on: setattr(self.canvas, "snap", on))
        self.alpha_spin.editingFinished.connect(self._settings_edited)
        self.mode_combo.activated.connect(self._settings_edited)
        self.uid_edit.editingFinished.connect(self._settings_edited)
        self.save_button.clicked.connect(self.save_current)
        self.delete_button.clicked.connect(self.delete_current)
        self.name_combo.activated.connect(self._load_chosen)
        self.apply_button.clicked.connect(self.apply_requested.emit)
        self.set_apply_target(False)
        self._set_regions(DEFAULT_REGIONS)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)

    # --- the regions
    @property
    def regions(self) -> tuple[Region, ...]:
        return self.canvas.regions

    def layout_config(self) -> list[dict[str, Any]]:
        """The regions as ``layoutConfig`` items (what TranscodingConfig takes)."""
        return [region_to_json(r) for r in self.regions]

    def set_canvas(self, width: int, height: int, background: str) -> None:
        """Draw on the transcoding config's canvas."""
        self.canvas.set_layout(MixedVideoLayout.CUSTOM, width, height, 0, background, self.regions)

    def set_regions(self, regions: tuple[Region, ...], text: str = "") -> None:
        """Replace the regions (one undo step)."""
        self._push(self.regions, tuple(regions), text or self.tr("Set regions"))

    def _push(self, before: tuple[Region, ...], after: tuple[Region, ...], text: str) -> None:
        if before != after:
            self.undo_stack.push(_Edit(self, before, after, text))

    def _set_regions(self, regions: tuple[Region, ...]) -> None:
        self.canvas.regions = tuple(regions)
        self.canvas._compute()
        self.canvas.update()
        if self.canvas.selected >= len(regions):
            self.canvas.select(len(regions) - 1)
        self._show_selected(self.canvas.selected)
        self.add_button.setEnabled(len(regions) < MAX_REGIONS)
        self.remove_button.setEnabled(self.canvas.selected >= 0 and len(regions) > 1)
        self.regions_changed.emit(self.regions)
        if self.live_check.isChecked() and self.apply_button.isEnabled():
            self.apply_requested.emit()

    def add_region(self) -> None:
        """A new region in the middle of the canvas, selected."""
        if len(self.regions) >= MAX_REGIONS:
            return
        self.set_regions((*self.regions, Region(0.35, 0.35, 0.3, 0.3)), self.tr("Add region"))
        self.canvas.select(len(self.regions) - 1)

    def remove_region(self) -> None:
        index = self.canvas.selected
        if index < 0 or len(self.regions) <= 1:
            return
        self.set_regions(self.regions[:index] + self.regions[index + 1 :], self.tr("Remove region"))

    def _show_selected(self, index: int) -> None:
        chosen = 0 <= index < len(self.regions)
        for widget in (self.uid_edit, self.alpha_spin, self.mode_combo):
            widget.setEnabled(chosen)
        self.remove_button.setEnabled(chosen and len(self.regions) > 1)
        if not chosen:
            return
        region = self.regions[index]
        for widget in (self.uid_edit, self.alpha_spin, self.mode_combo):
            widget.blockSignals(True)
        self.uid_edit.setText("" if region.uid is None else str(region.uid))
        self.alpha_spin.setValue(region.alpha)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(int(region.render_mode)))
        for widget in (self.uid_edit, self.alpha_spin, self.mode_combo):
            widget.blockSignals(False)

    def _settings_edited(self) -> None:
        index = self.canvas.selected
        if not 0 <= index < len(self.regions):
            return
        text = self.uid_edit.text().strip()
        region = self.regions[index]
        try:
            checked = LayoutRegion(
                **{**region_to_json(region), "uid": text or None,
                   "alpha": self.alpha_spin.value(), "render_mode": self.mode_combo.currentData()}
            )  # fmt: skip
        except InvalidParameterError as exc:
            self.show_error(
                f"{exc.field}：{field_message(exc, chinese=True)}" if self.chinese else exc.message
            )
            return
        self.show_error("")
        regions = list(self.regions)
        regions[index] = checked.region
        self.set_regions(tuple(regions), self.tr("Region settings"))

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def set_apply_target(self, available: bool) -> None:
        """Whether a running recording is selected (Apply applies to it)."""
        self.apply_button.setEnabled(available)

    # --- saved layouts
    def set_saved(self, saved: dict[str, list[dict[str, Any]]]) -> None:
        """The layouts saved before (from the window's settings)."""
        self.saved = {}
        for name, items in saved.items():
            try:
                [region_from_json(item) for item in items]
            except (InvalidParameterError, TypeError):
                continue  # a saved layout this version cannot read is left out
            self.saved[name] = list(items)
        self._list_saved()

    def _list_saved(self, current: str = "") -> None:
        self.name_combo.blockSignals(True)
        self.name_combo.clear()
        self.name_combo.addItems(sorted(self.saved))
        self.name_combo.setEditText(current)
        self.name_combo.blockSignals(False)

    def save_current(self) -> None:
        name = self.name_combo.currentText().strip()
        if not name:
            self.show_error(self.tr("Give the layout a name to save it under."))
            return
        self.show_error("")
        self.saved[name] = self.layout_config()
        self._list_saved(name)
        self.saved_changed.emit(dict(self.saved))

    def delete_current(self) -> None:
        name = self.name_combo.currentText().strip()
        if self.saved.pop(name, None) is not None:
            self._list_saved()
            self.saved_changed.emit(dict(self.saved))

    def _load_chosen(self) -> None:
        name = self.name_combo.currentText()
        items = self.saved.get(name)
        if items is not None:
            self.set_regions(
                tuple(region_from_json(i) for i in items), self.tr("Load {0}").format(name)
            )
