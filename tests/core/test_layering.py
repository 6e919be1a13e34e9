"""Which package may import which: the package graph of docs/architecture.md, enforced.

Every ``import`` and ``from ... import`` under ``core/`` and ``gui/`` counts, wherever it
stands (module level, inside a function, under ``TYPE_CHECKING``): a lazy import is still
a dependency, and a cycle hidden behind ``TYPE_CHECKING`` is still a cycle. A package is
a folder of ``core/`` (``core.channel``) or a top-level module (``core.config``);
``gui`` is one package. An allowed target is a package or a single module of one
(``core.storage.locations``: the window may format a storage location, not upload).
"""

from __future__ import annotations

import ast
import graphlib
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_BASE = {"core.enums", "core.errors"}
"""Leaf vocabulary every package may use: enums and the exception hierarchy."""

ALLOWED: dict[str, set[str]] = {
    "core.enums": set(),
    "core.errors": set(),
    "core.notices": set(),
    "core.database": set(),
    "core.resources": set(),
    "core.regions": {"core.enums"},
    "core.bitrate": {"core.enums"},
    "core.layout": {"core.enums"},
    "core.validation": {"core.errors"},
    # Stream destinations' URLs: which are allowed and how they are shown (pure rules).
    "core.stream_urls": set(),
    # Stream selection (Agora's subscription lists): pure rules the config, the
    # recorder, the REST API and the SDK share.
    "core.selection": _BASE | {"core.validation"},
    "core.config": _BASE | {"core.layout", "core.regions", "core.selection", "core.stream_urls"},
    "core.wire": _BASE | {"core.config"},
    # The channel server: media in, frames out; it knows no recorder, storage or client.
    "core.channel": _BASE | {"core.resources", "core.validation"},
    # Clients of the channel reuse its codecs (tokens, frame encryption, ICE settings);
    # the channel never imports them back.
    "core.participants": _BASE | {"core.channel", "core.config", "core.layout"},
    # The recorder subscribes to the channel and hands closed slices to a sink it
    # defines; it never imports storage (the server wires the two).
    "core.media": _BASE
    | {"core.channel", "core.config", "core.layout", "core.selection", "core.stream_urls"},
    # Storage moves files; it knows nothing of how they were made.
    "core.storage": _BASE | {"core.config", "core.database", "core.regions"},
    # The server wires channel, recorder and storage behind the REST API.
    "core.server": _BASE
    | {
        "core.channel",
        "core.config",
        "core.database",
        "core.layout",
        "core.media",
        "core.notices",
        "core.regions",
        "core.selection",
        "core.storage",
        "core.validation",
        "core.wire",
    },
    # The SDK speaks REST to a server; it never imports the server it talks to.
    "core.sdk": _BASE
    | {"core.config", "core.notices", "core.selection", "core.validation", "core.wire"},
    # Commands sit on top: they may use any library package, and nothing imports them
    # (core.cli finds them by name).
    "core.commands": _BASE
    | {
        "core.channel",
        "core.config",
        "core.layout",
        "core.media",
        "core.participants",
        "core.resources",
        "core.sdk",
        "core.server",
        "core.storage",
        "core.validation",
        "core.wire",
    },
    "core.cli": set(),
    "core": _BASE | {"core.bitrate", "core.config", "core.layout", "core.sdk"},
    # The window is a client: the SDK, the config models and pure helpers. Media work,
    # the channel and the server run in another process.
    "gui": _BASE
    | {
        "core",
        "core.bitrate",
        "core.config",
        "core.layout",
        "core.regions",
        "core.resources",
        "core.sdk",
        "core.storage.locations",
        # Individual recording's file names, listed in the preview (pure naming rules).
        "core.media.playlist",
        # Download: the window fetches a finished recording from the operator's own
        # bucket with the keys in its keyring (read only; uploads stay in the server).
        "core.storage.download",
        "core.validation",
        # Stream selection lists (the Recording tab, updating a recording's subscription).
        "core.selection",
        # Live streams list: the URLs checked and masked with the server's own rules.
        "core.stream_urls",
        # The webhooks settings page checks endpoints with the server's own rules and
        # names the event types (core.notices is a leaf of plain enums).
        "core.notices",
        "core.server.webhook_config",
    },
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str | None:
    """The package of ``module`` in ALLOWED's terms (``None``: not ours)."""
    parts = module.split(".")
    if parts[0] == "gui":
        return "gui"
    if parts[0] != "core":
        return None
    return "core" if len(parts) == 1 else f"core.{parts[1]}"


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every absolute import in ``path``; ``from a import b``
    gives ``a.b`` (b may be a module) as well as ``a``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _existing(module: str, known: set[str]) -> str:
    """``module`` cut back to the longest name that is one of our modules or packages."""
    while module and module not in known:
        module = module.rpartition(".")[0]
    return module


def _our_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for top in ("core", "gui")
        for path in sorted((ROOT / top).rglob("*.py"))
    }


def _allows(source: str, target: str) -> bool:
    """``core`` allows the package's ``__init__`` only; any other rule its modules too."""
    return any(
        target == rule or (rule != "core" and target.startswith(f"{rule}."))
        for rule in ALLOWED[source]
    )


def back_edges(files: dict[str, Path], known: set[str]) -> list[str]:
    """Every import of one package by another that ALLOWED does not list, in ``files``
    (module name -> source file); ``known`` names all our modules."""
    problems = []
    for module, path in files.items():
        source = _package(module)
        assert source in ALLOWED, f"{module}: package {source} has no row in ALLOWED"
        for line, imported in _imports(path):
            target = _existing(imported, known)
            target_package = _package(target) if target else None
            if target_package not in (None, source) and not _allows(source, target):
                problems.append(f"{module}:{line}: {source} may not import {target}")
    return problems


def test_every_import_follows_the_package_graph() -> None:
    modules = _our_modules()
    problems = back_edges(modules, set(modules))
    assert not problems, "\n".join(problems)


def test_the_package_graph_has_no_cycle() -> None:
    graph = {
        source: {_package(target) or target for target in targets} - {source}
        for source, targets in ALLOWED.items()
    }
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError
    assert set(ALLOWED) <= set(order)


def test_no_module_imports_itself_back() -> None:
    """No cycle of modules either, within a package or across (e.g. a channel and the
    publishers it holds): each module gets what it needs, not its owner."""
    modules = _our_modules()
    known = set(modules)
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        graph[module]
        for _, imported in _imports(path):
            target = _existing(imported, known)
            # A package's __init__ is imported on the way to any of its modules: only
            # an explicit import of the package itself is an edge to it.
            if target and target != module and not module.startswith(f"{target}."):
                graph[module].add(target)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_a_reintroduced_back_edge_is_caught(tmp_path: Path) -> None:
    """The rule bites: the channel importing a participant, or the window the server."""
    channel, window = tmp_path / "channel.py", tmp_path / "window.py"
    channel.write_text("from core.participants.bots import Bots\n")
    window.write_text("def f():\n    import core.server.app\n")
    files = {"core.channel.x_probe": channel, "gui.x_probe": window}
    assert back_edges(files, set(_our_modules())) == [
        "core.channel.x_probe:1: core.channel may not import core.participants.bots",
        "gui.x_probe:2: gui may not import core.server.app",
    ]
