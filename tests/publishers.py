"""Publishers in a process of their own, driven by the test over a pipe.

A test that records or measures media must not share its process (and its GIL) with
the participants that encode that media: under load the encoder threads would steal
time from the code being measured, and a late frame would say nothing about the
channel or the recorder. The bench does the same (``bench/_common.py``).

``Publishers`` starts ``python -m tests.publishers`` (this module) with the group's
options; the child publishes synthetic participants (:mod:`core.participants.synthetic`,
all on one capture clock, flashing and beeping on every wall-clock second) over WHIP.
The test sends one JSON line per command and reads one JSON line per answer:

* ``{"join": uid}`` answers ``{"joined": uid}`` once the uid's media flows,
* ``{"leave": uid}`` answers ``{"left": uid}`` once its WHIP session is deleted,
* a failure answers ``{"error": "..."}`` (the test fails with that message).

Closing the pipe makes every publisher leave and the child exit; its last line,
``{"skipped": n}``, counts the video frames its tracks skipped because the process
fell more than half a second behind (a loss at the source, not the recorder's).

Usage::

    async with Publishers(server.url, "room", [1, 2], size=(160, 120)) as bots:
        await bots.join(3)
        await bots.leave(1)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SECRET_ENV = "CLOUDREC_ENCRYPTION_SECRET"
JOIN_TIMEOUT = 30.0
"""Seconds a join may take, process start included, on a loaded 2-core machine."""


@dataclass(frozen=True)
class PublisherOptions:
    """What every publisher of a group sends (``core.participants.bots.BotOptions``, plus
    what only tests vary: no audio, a late video start)."""

    size: tuple[int, int] = (320, 240)
    fps: int = 15
    low_stream: bool = False
    codec: str = "VP8"
    role: str = "host"
    channel_type: str | None = None
    audio: bool = True
    video_delay: float = 0.0
    """Seconds the video track waits before its first frame (tracks starting apart)."""
    encryption: str = "NONE"
    """End-to-end encryption mode (a ``DecryptionMode`` name); the secret goes to the
    child in its environment, never on its command line."""


class Publishers:
    """Synthetic participants of ``channel`` published from a child process."""

    def __init__(
        self,
        server_url: str,
        channel: str,
        uids: list[int] | None = None,
        *,
        secret: str | None = None,
        **options: Any,
    ) -> None:
        self.server_url = server_url
        self.channel = channel
        self.options = PublisherOptions(**options)
        self._secret = secret
        self._initial = list(uids or [])
        self._uids: list[int] = []
        self._process: asyncio.subprocess.Process | None = None
        self.skipped = 0
        """Video frames the publishers skipped at the source (known after closing)."""

    @property
    def uids(self) -> list[int]:
        """The uids publishing now, in joining order."""
        return list(self._uids)

    async def __aenter__(self) -> Publishers:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.publishers",
            self.server_url,
            self.channel,
            json.dumps(asdict(self.options)),
            cwd=REPO,
            env={**os.environ, SECRET_ENV: self._secret or ""},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await self.join(*self._initial)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def join(self, *uids: int) -> None:
        """Publish ``uids`` (joining the channel in this order; their connections are
        set up at once) and return when each one's media flows."""
        await self._command([{"join": uid} for uid in uids], "joined")
        self._uids += uids

    async def leave(self, uid: int) -> None:
        """End ``uid``'s WHIP session (DELETE) and return once the server answered."""
        await self._command([{"leave": uid}], "left")
        self._uids.remove(uid)

    async def _command(self, commands: list[dict[str, int]], answer: str) -> None:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        for command in commands:
            process.stdin.write(json.dumps(command).encode() + b"\n")
        await process.stdin.drain()
        done: set[int] = set()
        async with asyncio.timeout(JOIN_TIMEOUT):
            while len(done) < len(commands):
                line = await process.stdout.readline()
                if not line:
                    raise AssertionError(f"the publishers' process ended: {await self._stderr()}")
                reply = json.loads(line)
                if "error" in reply:
                    raise AssertionError(f"publisher: {reply['error']}")
                done.add(reply[answer])

    async def _stderr(self) -> str:
        assert self._process is not None and self._process.stderr is not None
        await self._process.wait()
        return (await self._process.stderr.read()).decode(errors="replace")

    async def close(self) -> None:
        """Every publisher leaves; the child exits (and is killed if it does not)."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        try:
            async with asyncio.timeout(15):
                for line in (await process.stdout.read()).splitlines():
                    self.skipped = json.loads(line).get("skipped", self.skipped)
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
        self._uids = []
        if process.returncode != 0:
            assert process.stderr is not None
            error = (await process.stderr.read()).decode(errors="replace")
            raise AssertionError(f"the publishers' process exited {process.returncode}: {error}")


async def _child(server_url: str, channel: str, options: PublisherOptions) -> None:
    import httpx
    from aiortc.mediastreams import MediaStreamTrack

    from core.channel.e2ee import E2eeKeys
    from core.enums import SANDBOX_APP_ID, DecryptionMode
    from core.participants.synthetic import SyntheticClock, SyntheticMedia, synthetic_media
    from core.participants.whip_client import WhipSession, publish

    class LateStart(MediaStreamTrack):
        """``inner``, starting ``delay`` seconds late."""

        def __init__(self, inner: MediaStreamTrack, delay: float) -> None:
            super().__init__()
            self.kind = inner.kind
            self._inner = inner
            self._delay: float | None = delay

        async def recv(self) -> Any:
            if self._delay is not None:
                await asyncio.sleep(self._delay)
                self._delay = None
            return await self._inner.recv()

        def stop(self) -> None:
            super().stop()
            self._inner.stop()

    clock = SyntheticClock()
    posting = asyncio.Lock()
    skipped = 0
    joined: dict[int, tuple[SyntheticMedia, WhipSession]] = {}
    query = {"role": options.role}
    if options.channel_type:
        query["channel_type"] = options.channel_type
    keys = None
    if options.encryption != "NONE":
        keys = E2eeKeys.derive(DecryptionMode[options.encryption], os.environ[SECRET_ENV])
        query["encryption"] = options.encryption.lower()
    out = sys.stdout

    def answer(reply: dict[str, object]) -> None:
        out.write(json.dumps(reply) + "\n")
        out.flush()

    async def join(uid: int, client: httpx.AsyncClient) -> None:
        media = synthetic_media(
            uid, size=options.size, fps=options.fps, low_stream=options.low_stream, clock=clock
        )
        video: MediaStreamTrack = media.video
        if options.video_delay:
            video = LateStart(video, options.video_delay)
        url = httpx.URL(f"{server_url}/whip/{SANDBOX_APP_ID}/{channel}/{uid}")
        async with posting:  # one POST at a time: users join in the order asked
            session = await publish(
                str(url.copy_merge_params(query)),
                audio=media.audio if options.audio else None,
                video=video,
                low_video=media.low_video,
                video_codec=options.codec,
                client=client,
                encryption=keys,
            )
        joined[uid] = (media, session)
        await session.wait_connected()
        answer({"joined": uid})

    async def leave(uid: int) -> None:
        nonlocal skipped
        media, session = joined.pop(uid)
        skipped += media.video.skipped + (media.low_video.skipped if media.low_video else 0)
        try:
            await session.close()
        finally:
            media.stop()

    async def run(command: dict[str, int], client: httpx.AsyncClient) -> None:
        try:
            if "join" in command:
                await join(command["join"], client)
            else:
                await leave(command["leave"])
                answer({"left": command["leave"]})
        except Exception as exc:  # the test reads it and fails with it
            answer({"error": f"{command}: {type(exc).__name__}: {exc}"})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        try:
            while line := await reader.readline():
                task = asyncio.create_task(run(json.loads(line), client))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(leave(uid) for uid in list(joined)), return_exceptions=True)
            answer({"skipped": skipped})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("server_url")
    parser.add_argument("channel")
    parser.add_argument("options", help="PublisherOptions as JSON")
    args = parser.parse_args()
    fields = json.loads(args.options)
    fields["size"] = tuple(fields["size"])
    asyncio.run(_child(args.server_url, args.channel, PublisherOptions(**fields)))


if __name__ == "__main__":
    main()
