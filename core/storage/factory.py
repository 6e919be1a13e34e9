"""Build the destination a CloudStorageConfig names."""

from __future__ import annotations

from pathlib import Path

import httpx

from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.storage.destination import Destination
from core.storage.local import LocalFolderDestination
from core.storage.locations import VENDOR_LABELS, cloud_endpoint
from core.storage.s3 import S3Destination


def make_destination(
    storage: CloudStorageConfig,
    default_folder: Path,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    local_root: Path | None = None,
) -> tuple[Destination, str]:
    """The destination for ``storage`` and the key prefix (folder) files go under.

    Keys handed to the destination are built by the recorder as ``<prefix>/<name>``;
    a cloud destination also knows the prefix so that its check writes inside it.
    ``transport`` replaces the network for a cloud destination (tests). ``local_root``
    is the LOCAL folder as the server resolved and confined it
    (:class:`core.server.confinement.Confinement`); it replaces ``local_folder``.
    """
    prefix = storage.object_prefix.rstrip("/")
    if storage.vendor is StorageVendor.LOCAL:
        root = local_root
        if root is None:
            root = (
                Path(storage.local_folder).expanduser() if storage.local_folder else default_folder
            )
        return LocalFolderDestination(root), prefix
    endpoint = cloud_endpoint(storage)
    label = "S3-compatible store" if storage.endpoint else VENDOR_LABELS[storage.vendor]
    destination = S3Destination(
        endpoint.url,
        storage.bucket,
        region=endpoint.signing_region,
        access_key=storage.access_key.get_secret_value(),
        secret_key=storage.secret_key.get_secret_value(),
        key_prefix=prefix,
        addressing=endpoint.addressing,
        label=label,
        transport=transport,
    )
    return destination, prefix


def folder_location(destination: Destination, prefix: str) -> str | None:
    """Where the files under ``prefix`` of ``destination`` are, for the operator: the
    absolute path of the local folder, or the https URL of the prefix in the bucket
    (the recording's files are ``<location>/<name>``); None for another kind of
    destination."""
    if isinstance(destination, LocalFolderDestination):
        folder = destination.root.joinpath(*prefix.split("/")) if prefix else destination.root
        return str(folder.resolve())
    if isinstance(destination, S3Destination):
        return destination.object_url(prefix) if prefix else destination.base_url
    return None
