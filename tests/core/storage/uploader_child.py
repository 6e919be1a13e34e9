"""A process that records slices through a durable uploader to S3, to be killed.

``python -m tests.core.storage.uploader_child`` reads its settings from the
environment (``CHILD_*``) and commands from stdin, one a line: ``add <path>
<duration>`` keeps a slice (it answers ``added <key>`` once ``add_slice`` returned,
i.e. once the slice is in the backup and the ledger). The test kills it with SIGKILL
while an upload is in flight, as a crash of the server would, and resumes its uploads
from the ledger it left.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from core.media.slices import ClosedSlice
from core.storage.ledger import SliceLedger
from core.storage.s3 import S3Destination
from core.storage.uploader import DurableUploader


async def main() -> None:
    env = os.environ
    destination = S3Destination(
        env["CHILD_ENDPOINT"],
        env["CHILD_BUCKET"],
        region="us-east-1",
        access_key=env["CHILD_ACCESS_KEY"],
        secret_key=env["CHILD_SECRET_KEY"],
    )
    ledger = SliceLedger(Path(env["CHILD_LEDGER"]))
    uploader = DurableUploader(
        destination, ledger, env["CHILD_SID"], env["CHILD_PLAYLIST_KEY"], Path(env["CHILD_BACKUP"])
    )
    loop = asyncio.get_running_loop()
    index = 0
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command, path, duration = line.split()
        assert command == "add", line
        file = Path(path)
        closed = ClosedSlice(
            index, file.name, file, 2.0 * index, float(duration), file.stat().st_size
        )
        key = await uploader.add_slice(closed)
        index += 1
        print(f"added {key}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
