"""cloudrec desktop window (PySide6 + qasync)."""
