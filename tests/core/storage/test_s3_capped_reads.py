"""A store's answer is read only in part (docs/security.md, "Limits"; audit finding 10:
a 200 MiB error body took the server from 137 to 599 MB).

``S3Gate`` (the S3 front for the errors moto cannot make) answers one request with a
200 MiB body, generated while it is sent: an S3 error document padded with white space
(a store, or a front of one, answering at length), or a page that is not XML at all (a
proxy's). ``S3Destination`` reads at most 64 KiB of it: the traced memory of this
process (where the destination runs) stays flat, the gate could write only what the
socket buffers hold, the error names the store's code when its document gives one in
those 64 KiB, and the next request on the same destination works.
"""

from __future__ import annotations

import tracemalloc

import pytest

from core.storage.destination import StorageError
from core.storage.s3 import S3Destination
from tests.s3server import S3Gate, S3Server

MiB = 1024 * 1024
HUGE = 200 * MiB


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            S3Gate.SLOW_DOWN,
            "answered HTTP 503 Service Unavailable (SlowDown: Please reduce your request rate.)",
        ),
        (
            (403, "AccessDenied", "Access Denied"),
            "access denied: the access key may not write "
            "to or delete from bucket '{bucket}' at {at}; check the key's permissions",
        ),
        (None, "answered HTTP 502 Bad Gateway"),
    ],
    ids=["SlowDown", "AccessDenied", "not XML"],
)
async def test_a_huge_answer_is_read_only_in_part(
    s3_server: S3Server, s3_bucket: str, error: tuple[int, str, str] | None, reason: str
) -> None:
    with S3Gate(s3_server.endpoint) as gate:
        gate.fail_huge(error, HUGE)
        destination = S3Destination(
            gate.url,
            s3_bucket,
            region="us-east-1",
            access_key=s3_server.access_key,
            secret_key=s3_server.secret_key,
        )
        try:
            tracemalloc.start()
            try:
                with pytest.raises(StorageError) as caught:
                    await destination.put_bytes("rec/a.ts", b"slice", "video/mp2t")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            await destination.put_bytes("rec/b.ts", b"slice", "video/mp2t")  # works on
        finally:
            await destination.aclose()
    shown = reason.format(bucket=s3_bucket, at=gate.url)
    if not shown.startswith("access denied"):
        shown = f"{gate.url} {shown}"
    assert caught.value.message == (
        f"cannot upload 'rec/a.ts' (S3 bucket '{s3_bucket}' at {gate.url}): {shown}"
    )
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB"
    (written,) = gate.padded
    assert written < 32 * MiB, written  # the rest was never read
    assert s3_server.get_object(s3_bucket, "rec/b.ts") == b"slice"
