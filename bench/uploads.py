"""Upload latency: from a slice being closed to it being in an S3 bucket.

Run: ``python bench/uploads.py [--seconds 60] [--slice 2]``.

1. Starts a signature-checking S3 server (moto, ``tests/s3server.py``), a
   ``cloudrec server`` (``start_embedded_server``) and 2 synthetic users in a child
   process, and records them (640x360@15) through the SDK into a bucket, with
   ``--slice`` second slices.
2. Two watcher threads: one looks at the server's work and backup folders every
   10 ms and keeps each slice file's mtime, the moment its last byte was written
   (the newest mtime seen is when the slice was closed); the other lists the bucket every 50 ms and keeps the
   moment each key first appears.

Prints per slice ``in bucket - closed`` as p50 / p99 / max against the target
"p99 <= one slice duration". The bucket side is seen at most ~50 ms + one listing
late (the listing interval is the resolution); the bucket's own LastModified has
whole-second resolution on moto and is only used as a consistency check.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from _common import (
    Recording,
    cpu_seconds,
    load,
    percentile,
    run_in_scratch_folder,
    spawn_bots,
    start_embedded_server,
    wait_for_users,
)

from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
from core.enums import MixedVideoLayout, StorageVendor
from core.sdk.embedded import endpoint_host
from tests.s3server import start_s3_server  # the repository root is on sys.path (_common)

CHANNEL = "uploads"
BUCKET = "bench-uploads"


class Watch:
    """Slice close times (file mtimes) and first sightings in the bucket, by file name."""

    def __init__(self, data_dir: Path, s3: Any) -> None:
        self.data_dir = data_dir
        self.s3 = s3
        self.closed: dict[str, float] = {}
        self.in_bucket: dict[str, float] = {}
        self.last_modified: dict[str, float] = {}
        self.listings = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._folders, daemon=True),
            threading.Thread(target=self._bucket, daemon=True),
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _folders(self) -> None:
        while not self._stop.wait(0.010):
            for folder in ("work", "backup"):
                # The open slice is in the work folder too: keep the newest mtime seen,
                # which stops moving once the slice is closed (the backup is a hard link).
                for path in (self.data_dir / folder).rglob("*.ts"):
                    try:
                        mtime = path.stat().st_mtime
                    except FileNotFoundError:
                        continue
                    self.closed[path.name] = max(mtime, self.closed.get(path.name, 0.0))

    def _bucket(self) -> None:
        while not self._stop.wait(0.050):
            listing = self.s3.list_objects_v2(Bucket=BUCKET)
            now = time.time()
            self.listings += 1
            for item in listing.get("Contents", ()):
                name = item["Key"].rsplit("/", 1)[-1]
                if name.endswith(".ts") and name not in self.in_bucket:
                    self.in_bucket[name] = now
                    self.last_modified[name] = item["LastModified"].timestamp()


async def run(args: argparse.Namespace, folder: Path) -> None:
    s3 = start_s3_server()
    server = None
    bots = None
    watch = None
    try:
        s3.create_bucket(BUCKET)
        server = await start_embedded_server(
            folder / "data", allowed_endpoints=(endpoint_host(s3.endpoint),)
        )
        bots = spawn_bots(server.url, CHANNEL, 2, size="320x240")
        await wait_for_users(server.url, CHANNEL, 2, [bots])
        watch = Watch(folder / "data", s3.s3)
        watch.start()
        recording = RecordingConfig(
            slice_duration=args.slice,
            transcoding_config=TranscodingConfig(
                width=640, height=360, fps=15, bitrate=500, layout=MixedVideoLayout.BEST_FIT
            ),
        )
        storage = CloudStorageConfig(
            vendor=StorageVendor.AMAZON_S3,
            bucket=BUCKET,
            access_key=s3.access_key,
            secret_key=s3.secret_key,
            endpoint=s3.endpoint,
        )
        c0, m0, w0 = cpu_seconds(server.pid), cpu_seconds(s3.process.pid), time.monotonic()
        rec = await Recording.start(server, CHANNEL, recording, storage)
        await asyncio.sleep(args.seconds)
        await rec.stop()
        await asyncio.sleep(0.5)  # the last listing
        wall = time.monotonic() - w0
        server_cpu = (cpu_seconds(server.pid) - c0) / wall
        moto_cpu = (cpu_seconds(s3.process.pid) - m0) / wall
    finally:
        if watch is not None:
            watch.stop()
        if bots is not None:
            bots.terminate()
            bots.wait(10)
        if server is not None:
            await server.stop()
        s3.stop()

    names = sorted(watch.in_bucket)
    unseen = [n for n in names if n not in watch.closed]
    latencies = [watch.in_bucket[n] - watch.closed[n] for n in names if n in watch.closed]
    consistent = all(
        watch.last_modified[n] >= int(watch.closed[n]) - 1
        and watch.last_modified[n] <= watch.in_bucket[n]
        for n in names
        if n in watch.closed
    )
    print(
        f"S3 (moto, signature-checking) on 127.0.0.1; 2 users -> 640x360@15, "
        f"{args.slice} s slices, {args.seconds:.0f} s; {load()}"
    )
    print(
        f"{len(names)} slices in the bucket, {len(latencies)} with a close time "
        f"({len(unseen)} closed and removed between two 10 ms looks)"
    )
    ms = [x * 1000 for x in latencies]
    print(
        f"closed -> in bucket: p50 {percentile(ms, 50):.0f} ms, p99 {percentile(ms, 99):.0f} ms, "
        f"max {max(ms):.0f} ms, min {min(ms):.0f} ms "
        f"(resolution: {watch.listings} listings, every 50 ms)"
    )
    target = args.slice * 1000
    print(
        f"target p99 <= one slice ({target:.0f} ms): "
        f"{'met' if percentile(ms, 99) <= target else 'NOT met'}; "
        f"p99 / slice = {percentile(ms, 99) / target:.2f}"
    )
    print(f"bucket LastModified (1 s resolution) consistent with these times: {consistent}")
    print(f"CPU: server {server_cpu:.3f} cores, moto {moto_cpu:.3f} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="recording length (60)")
    parser.add_argument("--slice", type=int, default=2, help="slice duration, s (2)")
    run_in_scratch_folder(run, parser.parse_args())


if __name__ == "__main__":
    main()
