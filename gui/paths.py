"""Every path the window uses, in one place.

Resources ship next to the packages (``resources/`` at the top of the project);
per-user state lives where Qt's ``QStandardPaths`` says it belongs on each platform.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

from core.resources import resources_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESOURCES_DIR = resources_dir()
TRANSLATIONS_DIR = RESOURCES_DIR / "translations"
ICONS_DIR = RESOURCES_DIR / "icons"
APP_ICON = ICONS_DIR / "cloudrec.svg"


def translation_file(language: str) -> Path:
    """The compiled translation of the window for ``language`` (e.g. ``zh_CN``)."""
    return TRANSLATIONS_DIR / f"cloudrec_{language}.qm"


def state_dir() -> Path:
    """Per-user folder for the window's own files (the embedded server's log)."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(location) if location else Path.home() / ".cloudrec"
