"""The `cloudrec` subcommands: argument parsing and printing only, over the library.

Each module exposes ``add_arguments(parser)`` and ``run(args) -> int``; :mod:`core.cli`
dispatches to them. Library modules never parse arguments or print.
"""
