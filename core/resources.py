"""Where the project's ``resources/`` folder is (join page, icons, translations)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder of this installation.

    In a PyInstaller bundle it is ``resources/`` of the bundle (``sys._MEIPASS``);
    otherwise it sits next to the ``core`` package: at the top of the source tree, or
    in ``site-packages`` when installed from a wheel (pyproject ships it there).
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
