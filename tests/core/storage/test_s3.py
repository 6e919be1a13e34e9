"""S3Destination against a real moto server that checks Signature V4, and the factory.

Every cause of failure and its message is in ``test_s3_errors.py``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from core.config import CloudStorageConfig
from core.enums import StorageVendor
from core.errors import ErrorCode
from core.storage.destination import (
    PLAYLIST_CONTENT_TYPE,
    SLICE_CONTENT_TYPE,
    Destination,
    StorageError,
)
from core.storage.factory import make_destination
from core.storage.local import LocalFolderDestination
from core.storage.locations import playlist_location
from core.storage.s3 import S3Destination
from tests.s3server import S3Server

FAKE_ACCESS = "AKIAFAKEACCESSKEY123"
FAKE_SECRET = "fake/secret+key/that/must/never/leak0"


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real network transport, remembering each request's method and URL.

    With ``connect_to`` it also sends every request to that local server while
    keeping the original Host header, so virtual-hosted requests for
    ``bucket.s3.us-east-1.amazonaws.com`` reach moto on 127.0.0.1 unchanged.
    """

    def __init__(self, connect_to: str | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.connect_to = httpx.URL(connect_to) if connect_to else None
        self.seen: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, str(request.url)))
        if self.connect_to is not None:
            request.url = request.url.copy_with(
                scheme=self.connect_to.scheme, host=self.connect_to.host, port=self.connect_to.port
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def s3_dest(
    server: S3Server,
    bucket: str,
    *,
    endpoint: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    **kwargs: object,
) -> S3Destination:
    return S3Destination(
        endpoint or server.endpoint,
        bucket,
        region="us-east-1",
        access_key=server.access_key if access_key is None else access_key,
        secret_key=server.secret_key if secret_key is None else secret_key,
        **kwargs,  # type: ignore[arg-type]
    )


def assert_no_secrets(error: StorageError, *secrets: str) -> None:
    texts = [str(error), repr(error), error.message, *map(str, error.args)]
    for text in texts:
        for secret in secrets:
            assert secret not in text
        assert "Authorization" not in text and "AWS4-HMAC-SHA256" not in text
    # no chained httpx exception: its request holds the Authorization header
    assert error.__cause__ is None and error.__context__ is None


def cloud_config(**fields: object) -> CloudStorageConfig:
    base: dict[str, object] = {
        "vendor": StorageVendor.AMAZON_S3,
        "region": 0,
        "bucket": "rec-bucket",
        "access_key": SecretStr(FAKE_ACCESS),
        "secret_key": SecretStr(FAKE_SECRET),
    }
    return CloudStorageConfig(**{**base, **fields})  # type: ignore[arg-type]


# --- against moto ----------------------------------------------------------------


async def test_is_a_destination_without_secrets_in_its_description(s3_server: S3Server) -> None:
    dest = s3_dest(s3_server, "somebucket")
    assert isinstance(dest, Destination)
    assert "somebucket" in dest.description and s3_server.endpoint in dest.description
    assert s3_server.access_key not in dest.description
    assert s3_server.secret_key not in repr(dest) + dest.description
    await dest.aclose()


async def test_put_round_trip_with_content_types(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    dest = s3_dest(s3_server, s3_bucket)
    slice_file = tmp_path / "slice.ts"
    slice_file.write_bytes(bytes(range(256)) * 12_000)  # 3 MB: several streamed chunks
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
    await dest.put_file("rec/sid_chan_0.ts", slice_file, SLICE_CONTENT_TYPE)
    await dest.put_bytes("rec/sid_chan.m3u8", playlist, PLAYLIST_CONTENT_TYPE)
    await dest.put_bytes("rec/odd name+#?%~.m3u8", b"x", PLAYLIST_CONTENT_TYPE)
    await dest.put_bytes("rec/empty.ts", b"", SLICE_CONTENT_TYPE)
    await dest.aclose()

    assert s3_server.list_keys(s3_bucket) == [
        "rec/empty.ts",
        "rec/odd name+#?%~.m3u8",
        "rec/sid_chan.m3u8",
        "rec/sid_chan_0.ts",
    ]
    assert s3_server.get_object(s3_bucket, "rec/sid_chan_0.ts") == slice_file.read_bytes()
    assert s3_server.get_object(s3_bucket, "rec/sid_chan.m3u8") == playlist
    assert s3_server.get_object(s3_bucket, "rec/odd name+#?%~.m3u8") == b"x"
    head = s3_server.head_object(s3_bucket, "rec/sid_chan_0.ts")
    assert head["ContentType"] == "video/mp2t"
    assert head["ContentLength"] == slice_file.stat().st_size
    head = s3_server.head_object(s3_bucket, "rec/sid_chan.m3u8")
    assert head["ContentType"] == "application/vnd.apple.mpegurl"


async def test_put_replaces_and_delete_removes(s3_server: S3Server, s3_bucket: str) -> None:
    dest = s3_dest(s3_server, s3_bucket)
    await dest.put_bytes("a/list.m3u8", b"old", PLAYLIST_CONTENT_TYPE)
    await dest.put_bytes("a/list.m3u8", b"new", PLAYLIST_CONTENT_TYPE)
    assert s3_server.get_object(s3_bucket, "a/list.m3u8") == b"new"
    await dest.delete("a/list.m3u8")
    await dest.delete("a/list.m3u8")  # deleting a missing object is fine
    assert s3_server.list_keys(s3_bucket) == []
    await dest.aclose()


async def test_check_writes_under_the_prefix_and_cleans_up(
    s3_server: S3Server, s3_bucket: str
) -> None:
    transport = RecordingTransport()
    dest = s3_dest(s3_server, s3_bucket, key_prefix="recordings/2026/", transport=transport)
    await dest.check()
    await dest.aclose()
    assert [method for method, _ in transport.seen] == ["PUT", "DELETE"]
    probe = f"{s3_server.endpoint}/{s3_bucket}/recordings/2026/.cloudrec-check-"
    assert all(url.startswith(probe) for _, url in transport.seen)
    assert s3_server.list_keys(s3_bucket) == []


async def test_invalid_keys_are_refused_before_any_request(s3_server: S3Server) -> None:
    dest = s3_dest(s3_server, "anybucket")
    for key in ("", "/abs.ts", "a/../../b.ts"):
        with pytest.raises(StorageError):
            await dest.put_bytes(key, b"x", SLICE_CONTENT_TYPE)
    await dest.aclose()


async def test_missing_file_is_a_storage_error(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    dest = s3_dest(s3_server, s3_bucket)
    with pytest.raises(StorageError) as info:
        await dest.put_file("a.ts", tmp_path / "missing.ts", SLICE_CONTENT_TYPE)
    assert "missing.ts" in info.value.message
    await dest.aclose()


async def test_wrong_secret_says_the_signature_does_not_match(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    wrong = "wrong-secret-0123456789abcdefghijklmnopq"
    dest = s3_dest(s3_server, s3_bucket, secret_key=wrong)
    with pytest.raises(StorageError) as info:
        await dest.check()
    error = info.value
    assert error.code is ErrorCode.UPLOADER_FAILED
    reason = (
        f"the secret key does not match the access key ({s3_server.endpoint} rejected the "
        "request signature)"
    )
    assert error.message.endswith(f"): {reason}")
    assert_no_secrets(error, wrong, s3_server.access_key, s3_server.secret_key)

    slice_file = tmp_path / "slice.ts"  # a streamed upload fails the same way
    slice_file.write_bytes(b"\x47" * 2_000_000)
    with pytest.raises(StorageError) as info:
        await dest.put_file("a.ts", slice_file, SLICE_CONTENT_TYPE)
    assert info.value.message == (
        f"cannot upload 'a.ts' (S3 bucket '{s3_bucket}' at {s3_server.endpoint}): {reason}"
    )
    assert_no_secrets(info.value, wrong, s3_server.access_key)
    await dest.aclose()
    assert s3_server.list_keys(s3_bucket) == []


async def test_virtual_hosted_requests_are_signed_for_the_bucket_host(
    s3_server: S3Server, s3_bucket: str
) -> None:
    # The request goes to moto on 127.0.0.1 but keeps the real virtual host name,
    # which is part of the signature.
    transport = RecordingTransport(connect_to=s3_server.endpoint)
    dest = s3_dest(
        s3_server,
        s3_bucket,
        endpoint="https://s3.us-east-1.amazonaws.com",
        addressing="virtual",
        transport=transport,
    )
    await dest.put_bytes("v/list.m3u8", b"#EXTM3U\n", PLAYLIST_CONTENT_TYPE)
    await dest.aclose()
    assert transport.seen == [
        ("PUT", f"https://{s3_bucket}.s3.us-east-1.amazonaws.com/v/list.m3u8"),
    ]
    assert s3_server.get_object(s3_bucket, "v/list.m3u8") == b"#EXTM3U\n"


async def test_factory_with_an_endpoint_override_stores_under_the_prefix(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path
) -> None:
    # Aliyun's us-east-1 row: moto files keys of cn-* regions under another partition.
    config = cloud_config(
        vendor=StorageVendor.ALIYUN,
        region=9,
        bucket=s3_bucket,
        access_key=SecretStr(s3_server.access_key),
        secret_key=SecretStr(s3_server.secret_key),
        endpoint=s3_server.endpoint,
        file_name_prefix=("recordings", "2026"),
    )
    dest, prefix = make_destination(config, tmp_path)
    assert prefix == "recordings/2026"
    await dest.check()
    await dest.put_bytes(f"{prefix}/sid_chan.m3u8", b"#EXTM3U\n", PLAYLIST_CONTENT_TYPE)
    await dest.aclose()
    assert s3_server.list_keys(s3_bucket) == ["recordings/2026/sid_chan.m3u8"]


# --- factory: URL construction, no network ---------------------------------------


@pytest.mark.parametrize(
    ("vendor", "region", "url", "signing_region"),
    [
        (StorageVendor.AMAZON_S3, 0, "https://rec-bucket.s3.us-east-1.amazonaws.com", "us-east-1"),
        (
            StorageVendor.AMAZON_S3,
            7,
            "https://rec-bucket.s3.eu-central-1.amazonaws.com",
            "eu-central-1",
        ),
        (
            StorageVendor.AMAZON_S3,
            15,
            "https://rec-bucket.s3.cn-north-1.amazonaws.com.cn",
            "cn-north-1",
        ),
        (StorageVendor.QINIU, 0, "https://rec-bucket.s3.cn-east-1.qiniucs.com", "cn-east-1"),
        (StorageVendor.QINIU, 3, "https://rec-bucket.s3.us-north-1.qiniucs.com", "us-north-1"),
        (StorageVendor.ALIYUN, 0, "https://rec-bucket.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
        (StorageVendor.ALIYUN, 18, "https://rec-bucket.oss-me-east-1.aliyuncs.com", "me-east-1"),
    ],
)
async def test_factory_uses_virtual_hosts_of_the_region_table(
    tmp_path: Path, vendor: StorageVendor, region: int, url: str, signing_region: str
) -> None:
    config = cloud_config(vendor=vendor, region=region, file_name_prefix=("rec", "y2026"))
    dest, prefix = make_destination(config, tmp_path)
    assert isinstance(dest, S3Destination)
    assert prefix == "rec/y2026" and dest.key_prefix == "rec/y2026"
    assert dest.addressing == "virtual" and dest.region == signing_region
    assert dest.object_url(f"{prefix}/sid_c.m3u8") == f"{url}/rec/y2026/sid_c.m3u8"
    assert FAKE_ACCESS not in dest.description and FAKE_SECRET not in dest.description
    await dest.aclose()


async def test_factory_dotted_amazon_bucket_uses_path_style(tmp_path: Path) -> None:
    dest, _ = make_destination(cloud_config(bucket="my.rec.bucket"), tmp_path)
    assert isinstance(dest, S3Destination)
    assert dest.object_url("a.ts") == "https://s3.us-east-1.amazonaws.com/my.rec.bucket/a.ts"
    await dest.aclose()


@pytest.mark.parametrize(
    ("vendor", "region", "signing_region"),
    [
        (StorageVendor.AMAZON_S3, 3, "us-west-2"),
        (StorageVendor.QINIU, 1, "cn-north-1"),
        (StorageVendor.ALIYUN, 1, "cn-shanghai"),
    ],
)
async def test_factory_endpoint_override_uses_path_style(
    tmp_path: Path, vendor: StorageVendor, region: int, signing_region: str
) -> None:
    config = cloud_config(vendor=vendor, region=region, endpoint="http://127.0.0.1:9000/")
    dest, prefix = make_destination(config, tmp_path)
    assert isinstance(dest, S3Destination)
    assert prefix == "" and dest.addressing == "path" and dest.region == signing_region
    assert dest.object_url("a b/c.ts") == "http://127.0.0.1:9000/rec-bucket/a%20b/c.ts"
    assert dest.description == "S3-compatible store bucket 'rec-bucket' at http://127.0.0.1:9000"
    await dest.aclose()


def test_factory_keeps_the_local_folder(tmp_path: Path) -> None:
    config = CloudStorageConfig(file_name_prefix=("a", "b"))
    dest, prefix = make_destination(config, tmp_path)
    assert isinstance(dest, LocalFolderDestination)
    assert dest.root == tmp_path and prefix == "a/b"


@pytest.mark.parametrize(
    "config",
    [
        cloud_config(vendor=StorageVendor.AMAZON_S3, region=7, file_name_prefix=("rec", "y2026")),
        cloud_config(vendor=StorageVendor.QINIU, region=3),
        cloud_config(vendor=StorageVendor.ALIYUN, region=18, file_name_prefix=("rec",)),
        cloud_config(bucket="my.rec.bucket"),
        cloud_config(vendor=StorageVendor.ALIYUN, region=1, endpoint="http://127.0.0.1:9000/"),
    ],
    ids=["s3", "qiniu", "aliyun", "dotted-s3", "override"],
)
async def test_a_playlist_location_is_the_url_the_uploader_puts_it_to(
    tmp_path: Path, config: CloudStorageConfig
) -> None:
    dest, prefix = make_destination(config, tmp_path)
    assert isinstance(dest, S3Destination)
    key = "sid_chan.m3u8"
    location = playlist_location(config, key)
    assert location == dest.object_url(f"{prefix}/{key}" if prefix else key)
    assert FAKE_ACCESS not in location and FAKE_SECRET not in location
    await dest.aclose()


def test_a_local_playlist_location_is_its_path(tmp_path: Path) -> None:
    config = CloudStorageConfig(local_folder=str(tmp_path / "rec"), file_name_prefix=("a", "b"))
    dest, prefix = make_destination(config, tmp_path / "default")
    assert isinstance(dest, LocalFolderDestination)
    assert playlist_location(config, "sid_c.m3u8") == str(dest.root / prefix / "sid_c.m3u8")
    # The server's default folder is not known to a client: the name is all there is.
    assert playlist_location(CloudStorageConfig(), "sid_c.m3u8") == "sid_c.m3u8"
