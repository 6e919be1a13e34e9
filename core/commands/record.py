"""``cloudrec record``: record a channel headless, printing each callback as a line.

Configs come from a TOML file (tables ``[recording]``, ``[transcoding]``, ``[storage]``
with the config models' field names) and flags, flags winning. Storage keys and the
decryption secret come from the environment (``CLOUDREC_ACCESS_KEY``,
``CLOUDREC_SECRET_KEY``, ``CLOUDREC_DECRYPTION_SECRET``) or the file, never from flags,
so they stay out of shell history and process lists. Without ``--server`` an embedded
server is started, allowed to write to the configured folder and to call the configured
endpoint (and nothing else beyond its own recordings folder and the vendors' region
hosts). Ctrl-C stops the recording and releases it; a fatal error exits with status 2
after printing the code and the seed's remedy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import tomllib
from pathlib import Path
from typing import Any

from core.config import CloudStorageConfig, RecordingConfig
from core.enums import DEMO_CHANNEL, SANDBOX_APP_ID
from core.errors import CloudRecordingError
from core.sdk.embedded import EmbeddedServer, endpoint_host, start_embedded_server
from core.sdk.printing import PrintingObserver
from core.sdk.recorder import create_cloud_recorder

_FLAGS = {
    # flag -> (table, field)
    "channel_type": ("recording", "channel_type"),
    "stream_types": ("recording", "recording_stream_types"),
    "audio_profile": ("recording", "audio_profile"),
    "video_stream_type": ("recording", "video_stream_type"),
    "max_idle_time": ("recording", "max_idle_time"),
    "progress_interval": ("recording", "progress_interval"),
    "decryption_mode": ("recording", "decryption_mode"),
    "width": ("transcoding", "width"),
    "height": ("transcoding", "height"),
    "fps": ("transcoding", "fps"),
    "bitrate": ("transcoding", "bitrate"),
    "layout": ("transcoding", "layout"),
    "max_resolution_uid": ("transcoding", "max_resolution_uid"),
    "vendor": ("storage", "vendor"),
    "region": ("storage", "region"),
    "bucket": ("storage", "bucket"),
    "endpoint": ("storage", "endpoint"),
    "folder": ("storage", "local_folder"),
}
_ENV = {
    "CLOUDREC_ACCESS_KEY": ("storage", "access_key"),
    "CLOUDREC_SECRET_KEY": ("storage", "secret_key"),
    "CLOUDREC_DECRYPTION_SECRET": ("recording", "secret"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="recording server URL (default: start an embedded one)")
    parser.add_argument(
        "--server-token", help="bearer token of the server (or env CLOUDREC_SERVER_TOKEN)"
    )
    parser.add_argument(
        "--customer-id",
        help="Agora customer ID (Basic auth; secret in env CLOUDREC_CUSTOMER_SECRET)",
    )
    parser.add_argument("--app-id", default=SANDBOX_APP_ID)
    parser.add_argument("--channel", default=DEMO_CHANNEL)
    parser.add_argument("--token", help="channel token (AccessToken2), if the app needs one")
    parser.add_argument("--uid", type=int, default=1, help="the recorder's uid (1..4294967295)")
    parser.add_argument(
        "--config", type=Path, help="TOML file with [recording], [transcoding], [storage]"
    )
    parser.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: Ctrl-C or idle)"
    )
    parser.add_argument("--prefix", help="file name prefix folders, '/'-separated")
    for flag, (table, field) in _FLAGS.items():
        parser.add_argument(f"--{flag.replace('_', '-')}", dest=flag, help=f"{table}.{field}")


def load_configs(args: argparse.Namespace) -> tuple[RecordingConfig, CloudStorageConfig]:
    """Build the configs from the TOML file, the environment and the flags."""
    tables: dict[str, dict[str, Any]] = {"recording": {}, "transcoding": {}, "storage": {}}
    if args.config is not None:
        with args.config.open("rb") as f:
            data = tomllib.load(f)
        for name in tables:
            tables[name].update(data.get(name, {}))
    for variable, (table, field) in _ENV.items():
        if os.environ.get(variable):
            tables[table][field] = os.environ[variable]
    for flag, (table, field) in _FLAGS.items():
        value = getattr(args, flag, None)
        if value is not None:
            tables[table][field] = int(value) if value.lstrip("-").isdigit() else value
    if args.prefix:
        tables["storage"]["file_name_prefix"] = tuple(p for p in args.prefix.split("/") if p)
    recording = RecordingConfig(**tables["recording"], transcoding_config=tables["transcoding"])
    return recording, CloudStorageConfig(**tables["storage"])


def _on_this_machine(storage: CloudStorageConfig) -> CloudStorageConfig:
    """``storage`` for a server on this machine: a relative local folder is made absolute
    from this command's working folder (the server's own is elsewhere)."""
    if not storage.local_folder:
        return storage
    folder = Path(storage.local_folder).expanduser().absolute()
    return storage.model_copy(update={"local_folder": str(folder)})


def _grants(storage: CloudStorageConfig) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """The folder and endpoint host the embedded server may use: the ones this command's
    user gave, and nothing else (docs/security.md, "Confinement")."""
    roots = (Path(storage.local_folder),) if storage.local_folder else ()
    try:
        endpoints = (endpoint_host(storage.endpoint),) if storage.endpoint else ()
    except ValueError:  # the server refuses it with the reason
        endpoints = ()
    return roots, endpoints


def run(args: argparse.Namespace) -> int:
    try:
        recording, storage = load_configs(args)
    except (CloudRecordingError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"cloudrec record: {exc}")
        return 2
    return asyncio.run(_record(args, recording, storage))


async def _record(
    args: argparse.Namespace, recording: RecordingConfig, storage: CloudStorageConfig
) -> int:
    observer = PrintingObserver()
    embedded: EmbeddedServer | None = None
    server, token = args.server, args.server_token or os.environ.get("CLOUDREC_SERVER_TOKEN")
    if server is None:
        storage = _on_this_machine(storage)
        roots, endpoints = _grants(storage)
        embedded = await start_embedded_server(storage_roots=roots, allowed_endpoints=endpoints)
        server, token = embedded.url, embedded.token
        print(f"embedded server at {server}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    recorder = create_cloud_recorder(
        observer,
        server=server,
        token=token,
        customer_id=args.customer_id,
        customer_secret=os.environ.get("CLOUDREC_CUSTOMER_SECRET"),
    )
    try:
        await recorder.start(args.app_id, args.channel, args.token, args.uid, recording, storage)
        print(f"recording {recorder.recording_id} (sid {recorder.sid}); Ctrl-C stops")
        finished = asyncio.create_task(recorder.wait_finished())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait(
            {finished, stopping}, timeout=args.duration, return_when=asyncio.FIRST_COMPLETED
        )
        stopping.cancel()
        if not finished.done():
            await recorder.stop()
            with contextlib.suppress(TimeoutError):
                await recorder.wait_finished(60)
        finished.cancel()
        await recorder.release()
    except CloudRecordingError as exc:
        print(
            f"error {exc.code.name} ({int(exc.code)}): {exc.message}\nremedy: {exc.code.remedy_text}"
        )
        with contextlib.suppress(CloudRecordingError):
            await recorder.release()
        return 2
    finally:
        if embedded is not None:
            await embedded.stop()
    if observer.fatal is not None:
        print(
            f"fatal error {observer.fatal.name} ({int(observer.fatal)})\nremedy: {observer.fatal.remedy_text}"
        )
        return 2
    return 0
