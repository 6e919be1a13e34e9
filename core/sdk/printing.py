"""An observer that prints each callback as one line (``cloudrec record`` and ``demo``)."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from core.errors import ErrorCode
from core.sdk.observer import OBSERVER_METHODS


class PrintingObserver:
    """Prints ``HH:MM:SS callback(args)`` for every callback; remembers a fatal error."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.fatal: ErrorCode | None = None
        self.uploaded: str | None = None

    def __getattr__(self, name: str) -> Any:
        if name not in OBSERVER_METHODS:
            raise AttributeError(name)

        def callback(recording_id: str, *args: Any) -> None:
            shown = ", ".join(a.name if isinstance(a, ErrorCode) else repr(a) for a in args)
            print(f"{time.strftime('%H:%M:%S')} {name}({shown})", file=self.out, flush=True)
            if name == "on_recording_fatal_error":
                self.fatal = ErrorCode(args[0])
            if name == "on_recording_uploaded":
                self.uploaded = str(args[0])

        return callback
