"""``cloudrec bots``: synthetic participants publishing into a channel until Ctrl-C.

The participants themselves are :mod:`core.participants.bots`; this module parses the
options, builds tokens when given a certificate, and prints who joined and left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

import httpx

from core.channel.e2ee import mode_from_name
from core.enums import DEMO_CHANNEL, SANDBOX_APP_ID, DecryptionMode
from core.errors import CloudRecordingError, InvalidParameterError
from core.participants.bots import CHANNEL_TYPES, ROLES, BotOptions, Bots, TokenFor
from core.participants.whip_client import VIDEO_CODECS

DEFAULT_SERVER = "http://127.0.0.1:8080"
SERVER_ENV = "CLOUDREC_SERVER_URL"
CERTIFICATE_ENV = "CLOUDREC_APP_CERTIFICATE"
SECRET_ENV = "CLOUDREC_ENCRYPTION_SECRET"
TOKEN_LIFETIME = 24 * 3600


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        if not sep:
            raise ValueError
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r}: write WIDTHxHEIGHT, e.g. 320x240"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cloudrec bots`` to ``parser``."""
    parser.add_argument(
        "--server",
        default=os.environ.get(SERVER_ENV, DEFAULT_SERVER),
        metavar="URL",
        help=f"the server's base URL (default: ${SERVER_ENV} or {DEFAULT_SERVER})",
    )
    parser.add_argument("--app-id", default=SANDBOX_APP_ID, help="app ID (default: the sandbox)")
    parser.add_argument(
        "--channel", default=DEMO_CHANNEL, help="channel name (default: %(default)s)"
    )
    parser.add_argument("--token", default=None, help="token every bot joins with")
    parser.add_argument(
        "--app-certificate",
        default=os.environ.get(CERTIFICATE_ENV),
        help=f"build each bot's token with this certificate (or ${CERTIFICATE_ENV})",
    )
    parser.add_argument("--users", type=int, default=3, metavar="N", help="number of bots (3)")
    parser.add_argument("--uid-base", type=int, default=1001, help="uid of the first bot (1001)")
    parser.add_argument("--size", type=_size, default=(320, 240), metavar="WxH", help="320x240")
    parser.add_argument("--fps", type=int, default=15, help="frames per second (15)")
    parser.add_argument(
        "--duration", type=float, default=None, metavar="SECONDS", help="default: until Ctrl-C"
    )
    parser.add_argument("--role", choices=ROLES, default="host")
    parser.add_argument("--channel-type", choices=CHANNEL_TYPES, default=None)
    parser.add_argument("--no-low-stream", action="store_true", help="send no low (dual) stream")
    parser.add_argument("--codec", choices=VIDEO_CODECS, default="VP8", type=str.upper)
    parser.add_argument(
        "--encryption-mode",
        type=_encryption_mode,
        default=DecryptionMode.NONE,
        metavar="MODE",
        help="encrypt media end to end: none (default), aes_128_xts, aes_128_ecb, aes_256_xts",
    )
    parser.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV),
        help=f"the encryption secret, 8 to 128 printable ASCII characters (or ${SECRET_ENV},"
        " which keeps it out of the process list)",
    )


def _encryption_mode(text: str) -> DecryptionMode:
    try:
        return mode_from_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Run the bots until Ctrl-C, SIGTERM or ``--duration``; 0 on success, 1 on failure."""
    try:
        options = BotOptions(
            args.size,
            args.fps,
            not args.no_low_stream,
            args.role,
            args.channel_type,
            args.codec,
            args.encryption_mode,
            args.secret,
        )
        if not 1 <= args.users <= 64:
            raise InvalidParameterError("users", args.users, "1..64")
        if not 1 <= args.uid_base <= 2**32 - args.users:
            raise InvalidParameterError("uid_base", args.uid_base, f"1..{2**32 - args.users}")
    except CloudRecordingError as exc:
        hint = ""
        if isinstance(exc, InvalidParameterError) and exc.field == "secret":
            hint = f" (give --secret or set ${SECRET_ENV})"
        print(f"cloudrec bots: {exc.message}{hint}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_main(args, options))
    except KeyboardInterrupt:  # a second Ctrl-C while leaving
        return 130


def _token_maker(args: argparse.Namespace) -> TokenFor | None:
    if args.token:
        token: str = args.token
        return lambda uid: token
    if args.app_certificate:
        from core.channel.accesstoken import build_rtc_token

        certificate: str = args.app_certificate
        role = "publisher" if args.role == "host" else "subscriber"
        return lambda uid: build_rtc_token(
            args.app_id, certificate, args.channel, uid, role, TOKEN_LIFETIME
        )
    return None


async def _main(args: argparse.Namespace, options: BotOptions) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    uids = range(args.uid_base, args.uid_base + args.users)
    w, h = options.size
    streams = f"{w}x{h}@{options.fps} {options.codec}"
    if options.low_stream:
        streams += " + low stream"
    if options.encryption is not DecryptionMode.NONE:
        streams += f", encrypted with {options.encryption.name}"
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            bots = Bots(
                args.server,
                app_id=args.app_id,
                channel=args.channel,
                options=options,
                token_for=_token_maker(args),
                client=client,
            )
            try:
                for bot in await bots.join_all(uids):
                    print(
                        f"bot {bot.uid} joined {args.channel!r} as {options.role}: {streams}",
                        flush=True,
                    )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(args.duration):
                        await stop.wait()
            finally:
                await bots.close()
        print(f"{len(uids)} bots left {args.channel!r}", flush=True)
        return 0
    except CloudRecordingError as exc:
        print(f"cloudrec bots: {exc.message}", file=sys.stderr)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
