"""``cloudrec server``: run the channel and recording server in this process.

Options and environment become :class:`~core.server.app.ServerSettings`; the process
itself (listening, the ready file, signals) is :func:`core.server.main.serve`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.channel.apps import parse_app_specs
from core.errors import CloudRecordingError
from core.server.app import DEFAULT_HOST, ServerSettings, new_token
from core.server.main import default_data_dir, serve

TOKEN_ENV = "CLOUDREC_SERVER_TOKEN"
APPS_ENV = "CLOUDREC_APPS"
CUSTOMERS_ENV = "CLOUDREC_CUSTOMERS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cloudrec server`` to ``parser``."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: a free one)")
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APPID:CERTIFICATE",
        help=f"an app that needs tokens (repeatable; or env {APPS_ENV}, comma separated)",
    )
    parser.add_argument(
        "--ice-address",
        action="append",
        default=None,
        metavar="ADDRESS",
        help="host ICE candidate address (repeatable; default 127.0.0.1; 'all': every one)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="state and recordings")
    parser.add_argument(
        "--customers-from-env",
        action="store_true",
        help=f"accept Basic auth with the customer ID:secret pairs of env {CUSTOMERS_ENV} "
        "(comma separated), as Agora's REST API does",
    )
    parser.add_argument(
        "--ready-file", type=Path, default=None, help='write {"url", "pid"} here once listening'
    )
    parser.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """Settings from the parsed options and the environment."""
    apps = parse_app_specs([os.environ.get(APPS_ENV, ""), *args.app])
    addresses: tuple[str, ...] | None = ("127.0.0.1",)
    if args.ice_address:
        addresses = None if "all" in args.ice_address else tuple(args.ice_address)
    return ServerSettings(
        host=args.host,
        port=args.port,
        token=os.environ.get(TOKEN_ENV) or new_token(),
        apps=apps,
        ice_addresses=addresses,
        data_dir=args.data_dir or default_data_dir(),
        customers=parse_customers(os.environ.get(CUSTOMERS_ENV, ""))
        if args.customers_from_env
        else {},
    )


def parse_customers(text: str) -> dict[str, str]:
    """``"id:secret,id2:secret2"`` -> {id: secret}; secrets come only from the environment."""
    customers = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        customer, sep, secret = item.partition(":")
        if not sep or not customer or not secret:
            raise CloudRecordingError(f"{CUSTOMERS_ENV}: each entry must be ID:SECRET")
        customers[customer] = secret
    return customers


def run(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad options."""
    try:
        settings = settings_from_args(args)
    except CloudRecordingError as exc:
        print(f"cloudrec server: {exc.message}", file=sys.stderr)
        return 2
    return serve(settings, ready_file=args.ready_file, log_level=args.log_level)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.commands.server``: the same as ``cloudrec server``."""
    parser = argparse.ArgumentParser(prog="cloudrec server", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
