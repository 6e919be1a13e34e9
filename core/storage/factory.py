"""Build the destination a CloudStorageConfig names."""

from __future__ import annotations

from pathlib import Path

from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.errors import CloudRecordingError, ErrorCode
from core.storage.destination import Destination
from core.storage.local import LocalFolderDestination


def make_destination(storage: CloudStorageConfig, default_folder: Path) -> tuple[Destination, str]:
    """The destination for ``storage`` and the key prefix (folder) files go under."""
    prefix = storage.object_prefix.rstrip("/")
    if storage.vendor is StorageVendor.LOCAL:
        root = Path(storage.local_folder).expanduser() if storage.local_folder else default_folder
        return LocalFolderDestination(root), prefix
    raise CloudRecordingError(
        f"{storage.vendor.name} storage is not available in this build yet",
        ErrorCode.UPLOADER_INIT,
    )
