"""``cloudrec demo``: a 20 s recording of 3 synthetic participants into ./recordings.

Starts an embedded server, joins 3 bots to the demo channel, records them with the
BEST_FIT layout into a local folder, and prints the playlist's path.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
from core.enums import DEMO_CHANNEL, SANDBOX_APP_ID, MixedVideoLayout, StorageVendor
from core.errors import CloudRecordingError
from core.participants.bots import run_bots
from core.sdk.embedded import start_embedded_server
from core.sdk.printing import PrintingObserver
from core.sdk.recorder import create_cloud_recorder


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="how long to record (default 20)"
    )
    parser.add_argument("--users", type=int, default=3, help="synthetic participants (default 3)")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("recordings"),
        help="folder for the recording (default ./recordings)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_demo(args.seconds, args.users, args.output.resolve()))
    except CloudRecordingError as exc:
        print(f"demo failed: {exc}\nremedy: {exc.code.remedy_text}")
        return 1


async def _demo(seconds: float, users: int, output: Path) -> int:
    observer = PrintingObserver()
    with tempfile.TemporaryDirectory(prefix="cloudrec-demo-") as state:
        # The one folder this server's client (this command) writes to.
        server = await start_embedded_server(Path(state), storage_roots=(output,))
        try:
            print(f"embedded server at {server.url}")
            uids = [1001 + i for i in range(users)]
            async with run_bots(server.url, channel=DEMO_CHANNEL, uids=uids, size=(320, 240)):
                print(f"{users} bots joined channel {DEMO_CHANNEL!r}; recording {seconds:.0f} s")
                recorder = create_cloud_recorder(observer, server=server.url, token=server.token)
                config = RecordingConfig(
                    progress_interval=5,
                    transcoding_config=TranscodingConfig(
                        width=640, height=360, fps=15, bitrate=400, layout=MixedVideoLayout.BEST_FIT
                    ),
                )
                storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(output))
                await recorder.start(SANDBOX_APP_ID, DEMO_CHANNEL, None, 1, config, storage)
                await asyncio.sleep(seconds)
                await recorder.stop()
                await recorder.wait_finished(60)
                await recorder.release()
        finally:
            await server.stop()
    if observer.uploaded is None:
        print("the recording did not finish")
        return 1
    print(output / observer.uploaded)
    return 0
