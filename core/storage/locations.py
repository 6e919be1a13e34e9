"""Where a storage config's files are: endpoints, bucket URLs and an operator's location.

Pure functions of a :class:`~core.config.CloudStorageConfig` and the region tables: no
network, no signing library, so the window can show a recording's address without
loading the uploaders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.errors import CloudRecordingError, ErrorCode
from core.regions import region_info

Addressing = Literal["path", "virtual"]
"""``path``: ``https://host/bucket/key``; ``virtual``: ``https://bucket.host/key``."""

VENDOR_LABELS: dict[StorageVendor, str] = {
    StorageVendor.QINIU: "Qiniu Kodo",
    StorageVendor.AMAZON_S3: "Amazon S3",
    StorageVendor.ALIYUN: "Aliyun OSS",
}
"""How descriptions and error messages name each cloud vendor."""

DEFAULT_SIGNING_REGION = "us-east-1"
"""Signing region for an endpoint override when the vendor's table has no row."""


@dataclass(frozen=True)
class CloudEndpoint:
    """Where a cloud vendor's bucket is reached and how requests to it are signed."""

    url: str  # scheme://host[:port] of the service, without the bucket
    signing_region: str
    addressing: Addressing


def cloud_endpoint(storage: CloudStorageConfig) -> CloudEndpoint:
    """The endpoint, signing region and addressing style for a cloud ``storage``.

    An endpoint override (MinIO, moto, any S3-compatible store) wins and uses path
    style, which every such store understands. Otherwise the vendor's region table
    gives the host, reached over https in virtual-hosted style: required by Aliyun
    OSS, the default of Amazon S3 and Qiniu. Amazon S3 buckets with a dot in the name
    use path style, because ``a.b.s3...amazonaws.com`` fails the TLS wildcard
    certificate.
    """
    try:
        info = region_info(storage.vendor, storage.region)
    except KeyError:
        info = None
    if storage.endpoint:
        region = info.signing_region if info else DEFAULT_SIGNING_REGION
        return CloudEndpoint(storage.endpoint.rstrip("/"), region, "path")
    if info is None:
        raise CloudRecordingError(
            f"region {storage.region} is not in the {storage.vendor.name} region table",
            ErrorCode.UPLOADER_INIT,
        )
    dotted_s3 = storage.vendor is StorageVendor.AMAZON_S3 and "." in storage.bucket
    return CloudEndpoint(
        f"https://{info.endpoint}", info.signing_region, "path" if dotted_s3 else "virtual"
    )


def bucket_url(endpoint: str, bucket: str, addressing: Addressing) -> str:
    """The URL of ``bucket`` at ``endpoint`` (``scheme://host[:port]``): the bucket as a
    sub-domain (virtual-hosted style) or as the first path segment (path style)."""
    parts = urlsplit(endpoint.rstrip("/"))
    if addressing == "virtual":
        return f"{parts.scheme}://{bucket}.{parts.netloc}"
    return f"{parts.scheme}://{parts.netloc}/{quote(bucket, safe='')}"


def playlist_location(storage: CloudStorageConfig, key: str) -> str:
    """Where an operator finds the object ``key`` of a recording to ``storage``.

    ``key`` is a file name as the recording reports it (``fileList``, the uploaded
    callback), without the storage's ``object_prefix``. The result is the file's path
    in the local folder, or the object's https URL in its bucket (the address a
    signed download or a public bucket serves). A local storage without a folder (the
    server's own default, unknown to a client) or a region missing from the table
    gives ``key`` itself.
    """
    full = "/".join(part for part in (storage.object_prefix.strip("/"), key) if part)
    if storage.vendor is StorageVendor.LOCAL:
        if not storage.local_folder:
            return key
        return str(Path(storage.local_folder).expanduser() / full)
    try:
        endpoint = cloud_endpoint(storage)
    except CloudRecordingError:
        return key
    base = bucket_url(endpoint.url, storage.bucket, endpoint.addressing)
    return f"{base}/{quote(full, safe='/~')}"
