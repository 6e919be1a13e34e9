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
from types import ModuleType

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "server": ("core.commands.server", "run the channel and recording server"),
    "record": ("core.commands.record", "record a channel headless, printing each callback"),
    "bots": ("core.commands.bots", "publish synthetic participants to a channel"),
    "token": ("core.commands.token", "build an AccessToken2 for a channel"),
    "demo": ("core.commands.demo", "record a 20 s demo of 3 bots into ./recordings"),
}

WINDOW_MODULE = "gui.app"

EXTRAS: dict[str, str] = {
    **dict.fromkeys(
        (
            "numpy",
            "av",
            "aiortc",
            "aioice",
            "fastapi",
            "uvicorn",
            "cryptography",
            "botocore",
            "packaging",
        ),
        "server",
    ),
    **dict.fromkeys(("PySide6", "shiboken6", "qasync"), "gui"),
}
"""Which optional extra of ``pyproject.toml`` brings each third-party package that
``pip install cloudrec`` (the SDK alone) leaves out."""


class MissingExtraError(Exception):
    """A command needs a package of an extra that is not installed."""

    def __init__(self, what: str, missing: str) -> None:
        extra = EXTRAS.get(missing.split(".")[0], "server,gui")
        super().__init__(
            f"{what} needs {missing!r}, which is not installed: pip install 'cloudrec[{extra}]'"
        )


def _load(module: str, what: str) -> ModuleType:
    """Import a command's module, turning a missing third-party package into a
    :class:`MissingExtraError` that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] in ("core", "gui"):
            raise
        raise MissingExtraError(what, exc.name) from None


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
            _load(module, f"cloudrec {name}").add_arguments(sub_parser)
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
    try:
        return _dispatch(arguments, selected)
    except MissingExtraError as exc:
        print(exc, file=sys.stderr)
        return 2


def _dispatch(arguments: list[str], selected: str | None) -> int:
    parser = build_parser(selected)
    args = parser.parse_args(arguments)
    module = getattr(args, "_module", None)
    if module is not None:
        return int(_load(module, f"cloudrec {selected}").run(args))
    if args.self_test:
        if not _available("core.commands.selftest"):
            parser.error("--self-test is not available in this build")
        return int(_load("core.commands.selftest", "cloudrec --self-test").run(args))
    if _available(WINDOW_MODULE):
        return int(_load(WINDOW_MODULE, "the cloudrec window").main(sys.argv[:1]))
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
