"""``cloudrec --self-test``: prove that an installation can record, then exit.

A small cousin of :mod:`core.commands.demo` for packages and support requests: it starts an
embedded server (the same program, ``cloudrec server``, as a child process), joins 2
synthetic participants, records them for 5 s into a temporary local folder, and checks
what was written: the playlist is complete (``#EXT-X-ENDLIST``) and every slice
decodes to the end with PyAV, with video at the configured size and 48 kHz audio. It
also checks that Qt's widgets load on the offscreen platform, in a child process so
that a broken Qt in a package (a missing plugin or library makes Qt abort) turns into
a clear failure line instead of a crash.

It prints exactly one line on standard output::

    cloudrec self-test: ok, 5.0 s recorded, 3 slices, 320x240@15, audio 48 kHz
    cloudrec self-test: FAILED: <reason>

and returns 0 or 1. Everything it creates lives in temporary folders removed at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import multiprocessing
import os
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import unquote

RECORD_SECONDS = 5.0
BOT_UIDS = (1001, 1002)
BOT_SIZE = (160, 120)
WIDTH, HEIGHT, FPS, BITRATE = 320, 240, 15, 300
SLICE_SECONDS = 2
AUDIO_RATE = 48_000
CHANNEL = "selftest"
RECORDER_UID = 9
FINISH_TIMEOUT = 60.0
QT_TIMEOUT = 60.0
MIN_RECORDED_SECONDS = 3.0
"""Less than this much media in the recording of 5 s is a failure (start-up may eat some)."""


class SelfTestError(Exception):
    """A check failed; the message is the reason shown after ``FAILED:``."""


@dataclass(frozen=True)
class SliceMedia:
    """What one decoded slice holds."""

    video_frames: int
    width: int
    height: int
    audio_samples: int
    audio_rate: int


@dataclass(frozen=True)
class Result:
    """What the self-test recorded, for the ok line."""

    seconds: float
    slices: int
    width: int
    height: int
    fps: int
    audio_rate: int

    def line(self) -> str:
        return (
            f"cloudrec self-test: ok, {self.seconds:.1f} s recorded, {self.slices} slices, "
            f"{self.width}x{self.height}@{self.fps}, audio {self.audio_rate // 1000} kHz"
        )


def run(args: argparse.Namespace) -> int:
    """Run the self-test (``cloudrec --self-test``); 0 when everything works."""
    del args  # the self-test takes no options
    # Qt must never need a display here: the self-test runs in packages' CI and over ssh.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        check_qt_offscreen()
        result = asyncio.run(record_and_check())
    except Exception as exc:  # every failure, expected or not, ends in the one line
        reason = str(exc).strip().replace("\n", " ") or type(exc).__name__
        print(f"cloudrec self-test: FAILED: {reason}", flush=True)
        return 1
    print(result.line(), flush=True)
    return 0


def check_qt_offscreen() -> None:
    """Load Qt's widgets and show a widget offscreen, in a child process."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_qt_child, args=(sender,), name="cloudrec-selftest-qt")
    child.start()
    sender.close()
    try:
        if not receiver.poll(QT_TIMEOUT):
            raise SelfTestError(f"Qt did not answer within {QT_TIMEOUT:.0f} s")
        message = str(receiver.recv())
    except EOFError:
        child.join(10)
        raise SelfTestError(
            f"Qt could not start on the offscreen platform (exit status {child.exitcode}); "
            "its message is on standard error"
        ) from None
    finally:
        receiver.close()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()
    if message != "ok":
        raise SelfTestError(message)


def _qt_child(sender: Connection) -> None:
    """In the child: import QtWidgets (by name: ``core`` itself never imports Qt)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        widgets: Any = importlib.import_module("PySide6.QtWidgets")
        app = widgets.QApplication.instance() or widgets.QApplication(["cloudrec-self-test"])
        if app.platformName() != "offscreen":
            raise RuntimeError(f"Qt uses the {app.platformName()!r} platform, not offscreen")
        label = widgets.QLabel("cloudrec")
        label.show()
        app.processEvents()
        label.close()
        sender.send("ok")
    except Exception as exc:
        sender.send(f"Qt widgets do not load: {type(exc).__name__}: {exc}")
    finally:
        sender.close()


async def record_and_check() -> Result:
    """Record 2 bots for 5 s through an embedded server and check the files."""
    # Imported here so that a broken media stack is reported as a failure line.
    from core.config import CloudStorageConfig, RecordingConfig, TranscodingConfig
    from core.enums import SANDBOX_APP_ID, StorageVendor
    from core.participants.bots import run_bots
    from core.sdk.embedded import start_embedded_server
    from core.sdk.recorder import create_cloud_recorder

    with tempfile.TemporaryDirectory(prefix="cloudrec-selftest-") as temp:
        state, output = Path(temp) / "server", Path(temp) / "recordings"
        state.mkdir()
        server = await start_embedded_server(state, storage_roots=(output,))
        observer = _Observer()
        try:
            async with run_bots(server.url, channel=CHANNEL, uids=BOT_UIDS, size=BOT_SIZE):
                recorder = create_cloud_recorder(observer, server=server.url, token=server.token)
                config = RecordingConfig(
                    progress_interval=1,
                    slice_duration=SLICE_SECONDS,
                    transcoding_config=TranscodingConfig(
                        width=WIDTH, height=HEIGHT, fps=FPS, bitrate=BITRATE
                    ),
                )
                storage = CloudStorageConfig(vendor=StorageVendor.LOCAL, local_folder=str(output))
                try:
                    await recorder.start(
                        SANDBOX_APP_ID, CHANNEL, None, RECORDER_UID, config, storage
                    )
                    await asyncio.sleep(RECORD_SECONDS)
                    await recorder.stop()
                    await recorder.wait_finished(FINISH_TIMEOUT)
                finally:
                    await recorder.release()
        finally:
            await server.stop()
        if observer.failure is not None:
            raise SelfTestError(observer.failure)
        if observer.playlist is None:
            raise SelfTestError("the recording finished without an uploaded playlist")
        return await asyncio.to_thread(check_recording, output / observer.playlist)


class _Observer:
    """Remembers the playlist's name and the first failure callback."""

    def __init__(self) -> None:
        self.playlist: str | None = None
        self.failure: str | None = None

    def on_recording_uploaded(self, recording_id: str, file_name: str) -> None:
        self.playlist = file_name

    def _fail(self, what: str, code: object, message: str = "") -> None:
        if self.failure is None:
            self.failure = f"{what} {getattr(code, 'name', code)}: {message}".rstrip(": ")

    def on_recorder_failure(self, recording_id: str, code: object, message: str) -> None:
        self._fail("recorder failure", code, message)

    def on_uploader_failure(self, recording_id: str, code: object, message: str) -> None:
        self._fail("uploader failure", code, message)

    def on_recording_fatal_error(self, recording_id: str, code: object) -> None:
        self._fail("fatal error", code)


def check_recording(playlist: Path) -> Result:
    """Check a finished recording's playlist and decode every slice it lists."""
    try:
        text = playlist.read_text(encoding="utf-8")
    except OSError as exc:
        raise SelfTestError(f"cannot read the playlist {playlist.name}: {exc}") from exc
    if not text.rstrip().endswith("#EXT-X-ENDLIST"):
        raise SelfTestError(f"the playlist {playlist.name} does not end with #EXT-X-ENDLIST")
    # Entries are relative URIs (core.storage.hls): percent-decoded to the file names.
    names = [unquote(line.strip()) for line in text.splitlines() if line.strip().endswith(".ts")]
    if not names:
        raise SelfTestError(f"the playlist {playlist.name} lists no slices")
    slices = [decode_slice(playlist.parent / name) for name in names]
    sizes = {(s.width, s.height) for s in slices}
    if sizes != {(WIDTH, HEIGHT)}:
        raise SelfTestError(f"video size {sorted(sizes)} is not {WIDTH}x{HEIGHT}")
    rates = {s.audio_rate for s in slices}
    if rates != {AUDIO_RATE}:
        raise SelfTestError(f"audio sample rate {sorted(rates)} is not {AUDIO_RATE} Hz")
    audio_seconds = sum(s.audio_samples for s in slices) / AUDIO_RATE
    video_seconds = sum(s.video_frames for s in slices) / FPS
    if min(audio_seconds, video_seconds) < MIN_RECORDED_SECONDS:
        raise SelfTestError(
            f"only {video_seconds:.1f} s of video and {audio_seconds:.1f} s of audio "
            f"recorded in {RECORD_SECONDS:.0f} s"
        )
    return Result(audio_seconds, len(slices), WIDTH, HEIGHT, FPS, AUDIO_RATE)


def decode_slice(path: Path) -> SliceMedia:
    """Decode every frame of one MPEG-TS slice; a slice without video or audio fails."""
    import av  # the media stack loads only when the self-test decodes

    frames = samples = 0
    width = height = rate = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video or not container.streams.audio:
                raise SelfTestError(f"slice {path.name} lacks a video or an audio stream")
            for frame in container.decode(video=0, audio=0):
                if isinstance(frame, av.VideoFrame):
                    frames += 1
                    width, height = frame.width, frame.height
                elif isinstance(frame, av.AudioFrame):
                    samples += frame.samples
                    rate = frame.sample_rate
    except (OSError, av.FFmpegError) as exc:
        raise SelfTestError(f"slice {path.name} does not decode: {exc}") from exc
    if frames == 0 or samples == 0:
        raise SelfTestError(f"slice {path.name} has {frames} video frames, {samples} audio samples")
    return SliceMedia(frames, width, height, samples, rate)
