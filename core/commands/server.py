"""``cloudrec server``: run the channel and recording server in this process.

Options and environment become :class:`~core.server.app.ServerSettings`; the process
itself (listening, the ready file, signals) is :func:`core.server.main.serve`.

Secrets come from the environment or from a file readable by its owner only, never
from the command line if it can be helped: a process's arguments are readable by every
user of the machine (``ps``, ``/proc/PID/cmdline``). ``--app APPID:CERTIFICATE`` still
works, with a warning on stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import stat
import sys
import tomllib
from pathlib import Path

from core.channel.apps import parse_app_specs, parse_apps_file
from core.channel.whip_limits import DEFAULT_BURST, DEFAULT_MAX_SESSIONS, DEFAULT_RATE
from core.errors import CloudRecordingError
from core.server.app import DEFAULT_HOST, ServerSettings, new_token
from core.server.confinement import parse_endpoint_rule
from core.server.cors import parse_origin
from core.server.customers import FILE_NAME as CUSTOMERS_FILE
from core.server.customers import own_customer
from core.server.limits import DEFAULT_REQUEST_TIMEOUT
from core.server.main import default_data_dir, serve
from core.server.service import LOW_DISK_WARNING, MIB, MIN_FREE_SPACE
from core.server.webhook_config import WEBHOOKS_ENV, parse_webhooks
from core.server.webhooks import MAX_AGE, RETRY_CAP
from core.storage.master_key import MasterKeyError, load_master_key

TOKEN_ENV = "CLOUDREC_SERVER_TOKEN"
TOKEN_CREDENTIAL = "cloudrec-server-token"
"""The bearer token as a systemd credential (``$CREDENTIALS_DIRECTORY``), when the
environment has none."""

_DEFAULTS: dict[str, object] = {}
"""Each option's default (filled by :func:`add_arguments`): a ``--config`` file's value
applies where the command line left the default."""
_PARSERS: list[argparse.ArgumentParser] = []
"""The parser the options were added to: a ``--config`` file is read by it too, so its
values are converted and checked as the command line's are."""
APPS_ENV = "CLOUDREC_APPS"
CUSTOMERS_ENV = "CLOUDREC_CUSTOMERS"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``cloudrec server`` to ``parser``."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="PATH",
        help='a TOML file of these options (names without --, e.g. data-dir = "/var/lib/'
        'cloudrec"); the command line wins (docs/deploy.md)',
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: a free one)")
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="APPID:CERTIFICATE",
        help="an app that needs tokens (repeatable); the certificate shows in the process "
        f"list, so prefer env {APPS_ENV} (comma separated) or --apps-file",
    )
    parser.add_argument(
        "--apps-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="apps that need tokens, one APPID:CERTIFICATE a line ('#' comments); "
        "the file must be readable by its owner only (chmod 600)",
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
        "--master-key-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="a file (mode 0600) whose secret seals recordings' storage keys when there is no "
        "OS keyring; else the systemd credential cloudrec-master-key or $CLOUDREC_MASTER_KEY",
    )
    parser.add_argument(
        "--storage-root",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="a folder clients may record into (localFolder) and below (repeatable); the "
        "data folder's recordings folder always is one",
    )
    parser.add_argument(
        "--allow-endpoint",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="a host an S3 endpoint override may name (repeatable; without a port: any port "
        "of it); the vendors' region hosts are always allowed, loopback only if listed",
    )
    parser.add_argument(
        "--customers-from-env",
        action="store_true",
        help=f"accept Basic auth with the customer ID:secret pairs of env {CUSTOMERS_ENV} "
        "(comma separated), as Agora's REST API does",
    )
    parser.add_argument(
        "--webhooks-from-env",
        action="store_true",
        help=f"push every recording's notices, signed as Agora's, to the endpoints of env "
        f'{WEBHOOKS_ENV} (a JSON list of {{"url", "secret", "events"}}; docs/webhooks.md)',
    )
    parser.add_argument(
        "--webhook-max-age",
        type=_positive_seconds,
        default=MAX_AGE / 3600,
        metavar="HOURS",
        help="a notice not delivered this many hours after its event is dropped, with a "
        "warning (default %(default)g)",
    )
    parser.add_argument(
        "--webhook-retry-cap",
        type=_positive_seconds,
        default=RETRY_CAP,
        metavar="SECONDS",
        help="a notice is sent again after 1 s, doubling up to this many seconds between "
        "attempts (default %(default)g)",
    )
    parser.add_argument(
        "--no-basic",
        action="store_true",
        help="make no REST customer of the server's own (by default a server without "
        "--customers-from-env makes one on first start and prints its secret once; "
        "clients holding the bearer token need none)",
    )
    parser.add_argument(
        "--lease",
        type=_lease_seconds,
        default=None,
        metavar="SECONDS",
        help="exit cleanly once no lease renewal (POST /v1/cloudrec/lease) came for SECONDS "
        "and nothing records or uploads (for a window's embedded server; default: run "
        "until stopped)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web page origin (http(s)://host[:port]) that may publish over WHIP and read "
        "rosters from a browser, besides the server's own (its join page) (repeatable; '*': any)",
    )
    parser.add_argument(
        "--request-timeout",
        type=_positive_seconds,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="a client must send a request's headers within SECONDS, and its body within "
        "SECONDS more, or gets 408 (default %(default)g)",
    )
    parser.add_argument(
        "--whip-max-sessions",
        type=_at_least_one,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help="WHIP sessions an app may have at once; more get 503 (default %(default)d)",
    )
    parser.add_argument(
        "--whip-rate",
        type=_positive_seconds,
        default=DEFAULT_RATE,
        metavar="PER_SECOND",
        help="new WHIP sessions per second an app may open on average; faster get 429 "
        "(default %(default)g)",
    )
    parser.add_argument(
        "--whip-burst",
        type=_at_least_one,
        default=DEFAULT_BURST,
        metavar="N",
        help="new WHIP sessions an app may open at once (default %(default)d)",
    )
    parser.add_argument(
        "--min-free-space",
        type=_mebibytes,
        default=MIN_FREE_SPACE,
        metavar="MIB",
        help="MiB that must be free in the data folder for a recording to start "
        f"(default {MIN_FREE_SPACE // MIB})",
    )
    parser.add_argument(
        "--low-disk-warning",
        type=_mebibytes,
        default=LOW_DISK_WARNING,
        metavar="MIB",
        help="warn every recording when the data folder has less than this many MiB free "
        f"(default {LOW_DISK_WARNING // MIB})",
    )
    parser.add_argument(
        "--ready-file", type=Path, default=None, help='write {"url", "pid"} here once listening'
    )
    parser.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )
    _DEFAULTS.update(vars(parser.parse_args([])))
    _PARSERS[:] = [parser]


def _positive_seconds(text: str) -> float:
    return _lease_seconds(text)


def _mebibytes(text: str) -> int:
    """A whole number of MiB (0 allowed: no limit), in bytes."""
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MiB (0 or more)")
    return int(text) * MIB


def _at_least_one(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _lease_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < 1e9:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number above 0")
    return seconds


APP_OPTION_WARNING = (
    "cloudrec server: warning: --app puts app certificates on the command line, where "
    f"every user of this machine can read them (ps, /proc/PID/cmdline); use {APPS_ENV} "
    "or --apps-file instead"
)


def settings_from_args(args: argparse.Namespace) -> ServerSettings:
    """Settings from the parsed options and the environment."""
    apps = parse_app_specs([os.environ.get(APPS_ENV, "")])
    if args.apps_file is not None:
        apps.update(read_apps_file(args.apps_file))
    if args.app:
        apps.update(parse_app_specs(args.app))
    addresses: tuple[str, ...] | None = ("127.0.0.1",)
    if args.ice_address:
        addresses = None if "all" in args.ice_address else tuple(args.ice_address)
    token = os.environ.get(TOKEN_ENV)
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if not token and credentials and (Path(credentials) / TOKEN_CREDENTIAL).is_file():
        token = (Path(credentials) / TOKEN_CREDENTIAL).read_text().strip()
    for spec in args.allow_endpoint:
        try:
            parse_endpoint_rule(spec)
        except ValueError as exc:
            raise CloudRecordingError(f"--allow-endpoint: {exc}") from None
    for spec in args.allow_origin:
        try:
            parse_origin(spec)
        except ValueError as exc:
            raise CloudRecordingError(f"--allow-origin: {exc}") from None
    try:
        master_key = load_master_key(getattr(args, "master_key_file", None))
    except (MasterKeyError, OSError) as exc:
        raise CloudRecordingError(f"master key: {exc}") from None
    return ServerSettings(
        master_key=master_key,
        host=args.host,
        port=args.port,
        token=token or new_token(),
        token_source=TOKEN_ENV if token else "",
        apps=apps,
        ice_addresses=addresses,
        data_dir=args.data_dir or default_data_dir(),
        customers=parse_customers(os.environ.get(CUSTOMERS_ENV, ""))
        if args.customers_from_env
        else {},
        storage_roots=tuple(
            Path(os.path.abspath(os.path.expanduser(root))) for root in args.storage_root
        ),
        allowed_endpoints=tuple(spec.strip() for spec in args.allow_endpoint),
        lease=args.lease,
        request_timeout=args.request_timeout,
        allowed_origins=tuple(parse_origin(spec) for spec in args.allow_origin),
        whip_max_sessions=args.whip_max_sessions,
        whip_rate=args.whip_rate,
        whip_burst=args.whip_burst,
        min_free_space=args.min_free_space,
        low_disk_warning=args.low_disk_warning,
        webhooks=parse_webhooks(os.environ.get(WEBHOOKS_ENV, "")) if args.webhooks_from_env else (),
        webhook_max_age=args.webhook_max_age * 3600,
        webhook_retry_cap=args.webhook_retry_cap,
    )


def read_apps_file(path: Path) -> dict[str, str]:
    """The apps of an apps file (:func:`~core.channel.apps.parse_apps_file`), refused as
    ssh refuses a private key file when its permissions are too open: it must be a
    regular file of this user (or root) that neither group nor others may read or write."""
    try:  # O_NONBLOCK: a FIFO must not hang the start; it is refused below
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise CloudRecordingError(f"--apps-file {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)  # of the file opened, not of whatever the path names later
        if not stat.S_ISREG(info.st_mode):
            raise CloudRecordingError(f"--apps-file {path}: not a regular file")
        if info.st_uid not in (os.getuid(), 0):
            raise CloudRecordingError(
                f"--apps-file {path}: owned by uid {info.st_uid}, not by this user "
                f"({os.getuid()}) or root: another user could change the apps"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise CloudRecordingError(
                f"--apps-file {path}: permissions {mode:04o} are too open: it holds app "
                f"certificates, so only its owner may read it (chmod 600 {path})"
            )
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read()
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CloudRecordingError(f"--apps-file {path}: not UTF-8 text") from None
    return parse_apps_file(text, f"--apps-file {path}")


def parse_customers(text: str) -> dict[str, str]:
    """``"id:secret,id2:secret2"`` -> {id: secret}; secrets come only from the environment."""
    customers = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        customer, sep, secret = item.partition(":")
        if not sep or not customer or not secret:
            raise CloudRecordingError(f"{CUSTOMERS_ENV}: each entry must be ID:SECRET")
        customers[customer] = secret
    return customers


def apply_config_file(args: argparse.Namespace) -> None:
    """Take ``args.config``'s options (TOML: option names without ``--``, repeatable
    ones as arrays) where the command line left an option at its default; raises
    CloudRecordingError naming a key that is no option, or a file that does not parse."""
    if args.config is None:
        return
    try:
        with open(args.config, "rb") as file:
            table = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CloudRecordingError(f"--config {args.config}: {exc}") from None
    argv: list[str] = []
    for key, value in table.items():
        dest = key.replace("-", "_")
        if dest not in _DEFAULTS or dest == "config":
            allowed = ", ".join(sorted(k.replace("_", "-") for k in _DEFAULTS if k != "config"))
            raise CloudRecordingError(
                f"--config {args.config}: {key!r} is no option of cloudrec server; one of {allowed}"
            )
        option = f"--{dest.replace('_', '-')}"
        if isinstance(value, bool):
            argv += [option] if value else []
        else:
            for item in value if isinstance(value, list) else [value]:
                argv += [option, str(item)]
    try:
        from_file = _PARSERS[0].parse_args(argv)
    except SystemExit:  # argparse printed which value is wrong
        raise CloudRecordingError(f"--config {args.config}: a value is not allowed") from None
    # the options only: the command's parser carries the CLI's own defaults too (its
    # ``_module``), which the packaged unit's ``server --config`` tripped over
    for dest, default in _DEFAULTS.items():
        if dest != "config" and getattr(args, dest) == default:  # not on the command line
            setattr(args, dest, getattr(from_file, dest))


def run(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM; 0 on a clean stop, 2 on bad options."""
    try:
        apply_config_file(args)
        settings = settings_from_args(args)
    except CloudRecordingError as exc:
        print(f"cloudrec server: {exc.message}", file=sys.stderr)
        return 2
    if args.app:
        print(APP_OPTION_WARNING, file=sys.stderr, flush=True)
    if not (args.customers_from_env or args.no_basic):
        try:
            made = own_customer(settings.data_dir)
        except (OSError, ValueError, KeyError) as exc:
            where = settings.data_dir / CUSTOMERS_FILE
            print(f"cloudrec server: cannot read or make {where}: {exc}", file=sys.stderr)
            return 2
        settings = dataclasses.replace(settings, own_customer=made)
    return serve(settings, ready_file=args.ready_file, log_level=args.log_level)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.commands.server``: the same as ``cloudrec server``."""
    parser = argparse.ArgumentParser(prog="cloudrec server", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
