"""``cloudrec token``: print an AccessToken2 for joining a channel of an app that has
an app certificate. The codec itself is :mod:`core.channel.accesstoken`."""

from __future__ import annotations

import argparse
import os
import sys

from core.channel.accesstoken import build_rtc_token
from core.errors import CloudRecordingError

APP_CERTIFICATE_ENV = "CLOUDREC_APP_CERTIFICATE"
"""Environment variable ``cloudrec token`` reads the app certificate from."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cloudrec token`` to ``parser``."""
    if parser.description is None:
        parser.description = (
            "Print an Agora AccessToken2 (007...) RTC token for joining a channel of an "
            "app that has an app certificate."
        )
    parser.add_argument("--app-id", required=True, help="app ID, 32 hexadecimal characters")
    parser.add_argument(
        "--app-certificate",
        default=None,
        help=(
            "app certificate, 32 hexadecimal characters. If omitted it is read from the "
            f"environment variable {APP_CERTIFICATE_ENV}, which keeps it out of shell "
            "history and process lists"
        ),
    )
    parser.add_argument("--channel", required=True, help="channel name the token is for")
    parser.add_argument(
        "--uid",
        default="0",
        help=(
            "user the token is for: an integer uid 1..4294967295, 0 for any uid "
            "(default), or a user account string"
        ),
    )
    parser.add_argument(
        "--role",
        choices=("publisher", "subscriber", "host", "audience"),
        default="publisher",
        help="publisher/host may join and publish (default); subscriber/audience only join",
    )
    parser.add_argument(
        "--expire",
        type=int,
        default=3600,
        metavar="SECONDS",
        help="token and privilege lifetime in seconds from now (default: 3600)",
    )


def _cli_uid(text: str) -> int | str:
    """An all-digit --uid is an integer uid (as Agora's uid), anything else an account."""
    return int(text) if text.isascii() and text.isdigit() else text


def run(args: argparse.Namespace) -> int:
    """Run ``cloudrec token``: print the token on stdout; 0 on success, 2 on bad input."""
    certificate = args.app_certificate or os.environ.get(APP_CERTIFICATE_ENV, "")
    if not certificate:
        print(
            f"cloudrec token: give --app-certificate or set {APP_CERTIFICATE_ENV}",
            file=sys.stderr,
        )
        return 2
    try:
        token = build_rtc_token(
            args.app_id,
            certificate,
            args.channel,
            _cli_uid(args.uid),
            args.role,
            args.expire,
        )
    except CloudRecordingError as exc:
        print(f"cloudrec token: {exc.message}", file=sys.stderr)
        return 2
    print(token)
    return 0
