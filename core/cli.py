"""The ``cloudrec`` command: the window by default, and its subcommands.

Each subcommand lives in the module of what it runs and exposes
``add_arguments(parser)`` and ``run(args) -> int``; this module only dispatches, and
imports a subcommand's module only when that subcommand runs (so ``cloudrec token``
never loads the media stack, and ``core`` never loads Qt).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "server": ("core.commands.server", "run the channel and recording server"),
    "record": ("core.commands.record", "record a channel headless, printing each callback"),
    "bots": ("core.commands.bots", "publish synthetic participants to a channel"),
    "token": ("core.commands.token", "build an AccessToken2 for a channel"),
    "demo": ("core.commands.demo", "record a 20 s demo of 3 bots into ./recordings"),
}

WINDOW_MODULE = "gui.app"


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the ``selected`` subcommand's module is imported."""
    parser = argparse.ArgumentParser(
        prog="cloudrec",
        description="Record real-time audio/video channels: a desktop window (no subcommand), "
        "a recording server and command-line tools.",
    )
    parser.add_argument("--version", action="version", version=f"cloudrec {_version()}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="start an embedded server, record 5 s of 2 bots, check the result and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        if not _available(module):
            continue
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == selected:
            importlib.import_module(module).add_arguments(sub_parser)
        sub_parser.set_defaults(_module=module)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cloudrec")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cloudrec`` console script."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(selected)
    args = parser.parse_args(arguments)
    module = getattr(args, "_module", None)
    if module is not None:
        return int(importlib.import_module(module).run(args))
    if args.self_test:
        if not _available("core.commands.selftest"):
            parser.error("--self-test is not available in this build")
        return int(importlib.import_module("core.commands.selftest").run(args))
    if _available(WINDOW_MODULE):
        return int(importlib.import_module(WINDOW_MODULE).main(sys.argv[:1]))
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
