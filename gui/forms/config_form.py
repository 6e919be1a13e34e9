"""A form generated from a config model's fields, validated by constructing the model.

Each field's editor follows from its type and ``field_help``: enums become combo
boxes of their members, bounded integers spin boxes with the model's range (integers
beyond what a spin box holds, like uids, line edits), secrets password fields,
folder tuples a ``a/b/c`` line edit, optional uid lists a ``1, 2, 3`` line edit (empty:
not set). Tooltips are the field's help in the window's
language with what is allowed; the message of an ``InvalidParameterError`` appears
under the field it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import IntEnum
from typing import Any, get_args

from pydantic import SecretStr
from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.config import ConfigModel, FieldHelp
from core.errors import InvalidParameterError
from gui.forms.allowed_zh import allowed_text
from gui.forms.labels import field_label, field_suffix, member_label

SPIN_MAX = 2**31 - 1
ERROR_STYLE = "color: #b3261e;"
HINT_STYLE = "color: #5f6368;"
"""A field still to fill in that the operator has not reached yet (grey, not an error)."""
OK_STYLE = "color: #1e6b2e;"
"""A check that passed (dark green: 7:1 contrast on the default light background)."""


class CheckedSpinBox(QSpinBox):
    """A spin box that says when it did not take what was typed: QSpinBox puts back the
    value it had when editing ends on a number outside its range, without a word
    (issue 28, item 10: width 1 became 360)."""

    refused = Signal(str)
    """The number typed, which the box did not take."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._typed: str | None = None
        self.lineEdit().textEdited.connect(self._edited)
        self.editingFinished.connect(self._finished)

    def _edited(self, text: str) -> None:
        self._typed = text

    def _finished(self) -> None:
        typed, self._typed = self._typed, None
        if typed is None:
            return
        number = typed.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        try:
            taken = int(number) == self.value()
        except ValueError:
            taken = False
        if not taken and number:
            self.refused.emit(number)


_EMPTY = ("''", "()", "None", "<hidden, 0 characters>")


def field_message(exc: InvalidParameterError, *, chinese: bool = False) -> str:
    """What to show under the field ``exc`` names (issue 28, item 9): the value and what
    is allowed, without the model's field name, which the field's label says better
    (``access_key: <hidden, 0 characters> is not allowed; a non-empty key`` becomes
    ``Required: a non-empty key``), in Chinese in the Chinese window."""
    allowed = allowed_text(exc.allowed, chinese)
    if exc.shown in _EMPTY:
        return QCoreApplication.translate("ConfigForm", "Required: {0}").format(allowed)
    if exc.shown.startswith(("<hidden", "{", "[")):  # a secret, or a whole sub-config
        return QCoreApplication.translate("ConfigForm", "Not allowed: {0}").format(allowed)
    return QCoreApplication.translate("ConfigForm", "{0} is not allowed: {1}").format(
        exc.shown, allowed
    )


def help_tooltip(info: FieldHelp, chinese: bool) -> str:
    """The tooltip of a field: its help in the window's language and what is allowed."""
    text = (info.help_zh if chinese and info.help_zh else info.help_en) or ""
    allowed = QCoreApplication.translate("ConfigForm", "Allowed: {0}").format(
        allowed_text(info.allowed, chinese)
    )
    parts = [text, allowed] if info.allowed else [text]
    if info.extension:
        parts.append(QCoreApplication.translate("ConfigForm", "(cloudrec extension)"))
    return "\n\n".join(p for p in parts if p)


class FieldEditor:
    """One field's editor widget, its value in the model's terms, and its error label."""

    def __init__(self, name: str, widget: QWidget, kind: str, enum: type[IntEnum] | None) -> None:
        self.name = name
        self.widget = widget
        self.kind = kind
        self.enum = enum
        self.error = QLabel()
        self.error.setObjectName(f"error_{name}")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.touched = not isinstance(widget, QLineEdit)
        """Whether the operator typed into it (an empty text field they have not reached
        yet shows what it needs in grey, not as an error)."""
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(self._touch)

    def _touch(self, _text: str) -> None:
        self.touched = True

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QSpinBox):
            return w.value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        assert isinstance(w, QLineEdit)
        text = w.text()
        if self.kind == "optional_text":  # empty: not set
            return text.strip() or None
        if self.kind == "bigint":
            stripped = text.strip()
            return int(stripped) if stripped.isdigit() else stripped
        if self.kind == "optional_secret":
            return text or None
        if self.kind == "folders":
            return tuple(part for part in text.strip().split("/") if part)
        if self.kind == "uids":  # empty: the list is not set (everyone)
            parts = tuple(p for p in text.replace(",", " ").split() if p)
            return parts or None
        return text

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            data = int(value) if isinstance(value, int) else value
            if isinstance(value, str) and self.enum is not None and value in self.enum.__members__:
                data = int(self.enum[value])
            index = w.findData(data)
            if index >= 0:
                w.setCurrentIndex(index)
            return
        if isinstance(w, QSpinBox):
            try:
                w.setValue(int(value))
            except (TypeError, ValueError):
                pass
            return
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
            return
        assert isinstance(w, QLineEdit)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None:
            w.setText("")
        elif self.kind == "folders" and isinstance(value, list | tuple):
            w.setText("/".join(str(p) for p in value))
        elif self.kind == "uids" and isinstance(value, list | tuple):
            w.setText(", ".join(str(p) for p in value))
        else:
            w.setText(str(value))

    def connect(self, slot: Callable[[], None]) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            w.currentIndexChanged.connect(slot)
        elif isinstance(w, QSpinBox):
            w.valueChanged.connect(slot)
        elif isinstance(w, QCheckBox):
            w.toggled.connect(slot)
        elif isinstance(w, QLineEdit):
            w.textChanged.connect(slot)

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        waiting = isinstance(self.widget, QLineEdit) and not self.touched and not self.widget.text()
        self.error.setStyleSheet(HINT_STYLE if waiting else ERROR_STYLE)


def _kind(model: type[ConfigModel], name: str) -> tuple[str, type[IntEnum] | None]:
    annotation = model.model_fields[name].annotation
    if isinstance(annotation, type) and issubclass(annotation, IntEnum):
        return "enum", annotation
    if annotation is SecretStr:
        return "secret", None
    if annotation is bool:
        return "bool", None
    if annotation == str | None:
        return "optional_text", None
    if SecretStr in get_args(annotation):
        return "optional_secret", None
    if annotation is int:
        info = model.field_help(name)
        if info.maximum is None or info.maximum > SPIN_MAX:
            return "bigint", None
        return "int", None
    if annotation == tuple[str, ...]:
        return "folders", None
    if annotation == tuple[str, ...] | None:
        return "uids", None
    return "text", None


class ConfigForm(QWidget):
    """The editors of some fields of one config model, in a form layout."""

    changed = Signal()

    def __init__(
        self,
        model: type[ConfigModel],
        fields: Sequence[str],
        *,
        chinese: bool = False,
        choices: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._choice_fields = frozenset(choices)
        self.chinese = chinese
        self.editors: dict[str, FieldEditor] = {}
        self._rows: dict[str, int] = {}
        self._fields_box: dict[str, QHBoxLayout] = {}
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in fields:
            self._add(name)

    def _add(self, name: str) -> None:
        info = self.model.field_help(name)
        kind, enum = _kind(self.model, name)
        widget: QWidget
        if name in self._choice_fields:  # items come from set_choices (e.g. regions)
            kind = "choice"
            widget = QComboBox()
        elif kind == "enum":
            assert enum is not None
            combo = QComboBox()
            for member in enum:
                combo.addItem(member_label(member), int(member))
            widget = combo
        elif kind == "bool":
            widget = QCheckBox()
        elif kind == "int":
            spin = CheckedSpinBox()
            spin.setRange(info.minimum if info.minimum is not None else 0, info.maximum or SPIN_MAX)
            spin.setAccelerated(True)
            widget = spin
        else:
            edit = QLineEdit()
            if kind in ("secret", "optional_secret"):
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            if kind == "folders":
                edit.setPlaceholderText("recordings/2026")
            if kind == "uids":
                edit.setPlaceholderText(
                    QCoreApplication.translate("ConfigForm", "everyone (or: 1, 2, #allstream#)")
                )
            widget = edit
        widget.setObjectName(f"field_{name}")
        editor = FieldEditor(name, widget, kind, enum)
        if isinstance(widget, CheckedSpinBox):
            widget.refused.connect(
                lambda typed, e=editor, w=widget: e.show_error(
                    QCoreApplication.translate(
                        "ConfigForm", "{0} is not allowed; {1} to {2}. Kept {3}."
                    ).format(typed, w.minimum(), w.maximum(), w.value())
                )
            )
        editor.set_value(info.default)
        editor.connect(lambda *_: self.changed.emit())
        tooltip = help_tooltip(info, self.chinese)
        widget.setToolTip(tooltip)
        self.editors[name] = editor

        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(widget, 1)
        unit = field_suffix(name).strip()
        if unit:
            # the unit beside the box, not its suffix: a Chinese unit drawn inside the
            # box after the digits sits off their line (issue 28, item 13); a label is
            # centred on the row like every other label
            shown = QLabel(unit)
            shown.setObjectName(f"unit_{name}")
            shown.setBuddy(widget)
            row.addWidget(shown)
        column.addLayout(row)
        column.addWidget(editor.error)
        self._fields_box[name] = row
        label = QLabel(field_label(name))
        label.setToolTip(tooltip)
        label.setBuddy(widget)
        self.form.addRow(label, holder)
        self._rows[name] = self.form.rowCount() - 1

    def add_beside(self, name: str, widget: QWidget) -> None:
        """Put ``widget`` to the right of the editor of ``name``."""
        self._fields_box[name].addWidget(widget)

    def widget(self, name: str) -> QWidget:
        return self.editors[name].widget

    def values(self) -> dict[str, Any]:
        """The values of the visible fields, as the model's constructor takes them."""
        return {name: e.value() for name, e in self.editors.items() if self.is_shown(name)}

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in self.editors:
                self.editors[name].set_value(value)

    def set_errors(self, errors: dict[str, str]) -> None:
        for name, editor in self.editors.items():
            editor.show_error(errors.get(name))

    def error_text(self, name: str) -> str:
        editor = self.editors[name]
        return editor.error.text() if not editor.error.isHidden() else ""

    def set_shown(self, name: str, shown: bool) -> None:
        self.form.setRowVisible(self._rows[name], shown)

    def is_shown(self, name: str) -> bool:
        return self.form.isRowVisible(self._rows[name])

    def set_choices(self, name: str, items: Iterable[tuple[str, int]]) -> None:
        """Replace the items of a combo box field, keeping the value when possible."""
        combo = self.editors[name].widget
        assert isinstance(combo, QComboBox)
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for label, value in items:
            combo.addItem(label, value)
        index = combo.findData(current)
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)
        self.changed.emit()


def validate(
    build: Callable[[dict[str, Any]], Any],
    values: dict[str, Any],
    fallbacks: dict[str, Any],
    *,
    chinese: bool = False,
) -> tuple[Any | None, dict[str, str]]:
    """Construct a model from ``values``, collecting the error of every offending field.

    The model raises on its first problem only, so each offending field is replaced by
    its fallback (its default, or a valid stand-in for fields that are required only
    in some cases, like a bucket) and the construction retried, until it succeeds or a
    field fails twice. Errors naming no field of ``values`` are reported under ``""``.
    """
    errors: dict[str, str] = {}
    trial = dict(values)
    for _ in range(len(values) + 1):
        try:
            model = build(trial)
        except InvalidParameterError as exc:
            # the innermost part naming a field: transcoding_config.width -> width, and
            # an item of a list (subscribe_video_uids.1) -> the list
            parts = exc.field.split(".")
            name = next((p for p in reversed(parts) if p in trial), parts[-1])
            if name not in trial:
                errors.setdefault(
                    "",
                    f"{exc.field}：{field_message(exc, chinese=True)}" if chinese else exc.message,
                )
                break
            if name in errors:
                break
            errors[name] = field_message(exc, chinese=chinese)
            trial[name] = fallbacks.get(name)
            continue
        return (None if errors else model), errors
    return None, errors
