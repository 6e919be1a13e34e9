"""Destinations and durable uploaders as the storage tests build them.

``s3_destination`` is an S3 destination with the test S3 server's own keys, reached at
the server itself or at something a test puts in front of it (a gate, a proxy, a port
that never connects); ``durable_uploader`` is the uploader over a slice ledger with the
2 s target duration of the tests' slices; ``note_uploads`` records the outcome of each
slice upload a destination attempts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.storage.destination import Destination, StorageError
from core.storage.ledger import SliceLedger
from core.storage.s3 import S3Destination
from core.storage.uploader import DurableUploader
from tests.s3server import S3Server

STORED = "stored"
"""What ``note_uploads`` notes for an upload that succeeded."""


def s3_destination(s3: S3Server, endpoint: str, bucket: str, **kwargs: Any) -> S3Destination:
    """``bucket`` at ``endpoint`` in region us-east-1, signed with ``s3``'s keys."""
    return S3Destination(
        endpoint,
        bucket,
        region="us-east-1",
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        **kwargs,
    )


def durable_uploader(
    target: Destination,
    ledger: SliceLedger,
    sid: str,
    playlist_key: str,
    backup: Path,
    **kwargs: Any,
) -> DurableUploader:
    """The uploader of recording ``sid``, keeping slices in ``backup`` until stored."""
    return DurableUploader(target, ledger, sid, playlist_key, backup, target_duration=2.0, **kwargs)


def note_uploads(target: Destination, note: Callable[[str], None]) -> None:
    """Each slice upload through ``target`` calls ``note`` when it ends: with the
    ``StorageError``'s message when it fails (the error still reaches the uploader),
    with ``STORED`` when it succeeds."""
    put_file = target.put_file

    async def noted(key: str, path: Path, content_type: str) -> None:
        try:
            await put_file(key, path, content_type)
        except StorageError as exc:
            note(exc.message)
            raise
        note(STORED)

    target.put_file = noted  # type: ignore[method-assign]
