"""Entry script of the frozen ``cloudrec`` program (PyInstaller bundles).

The bundle is one program for everything: the window, ``cloudrec server`` (which the
window and ``--self-test`` start as a child process of the same executable) and the
other subcommands. ``freeze_support`` lets the spawned children of
:mod:`multiprocessing` (the self-test's Qt check) run inside the bundle.

In a bundle ``sys.executable`` is this program, not a Python interpreter. Code that
starts ``sys.executable -m core.cli SUBCOMMAND`` (the way to run cloudrec from a
source checkout) still works: a leading ``-m core.cli`` is accepted and dropped.
``core.server.embedded.cloudrec_command()`` gives the right command in both cases.
"""

import multiprocessing
import sys

from core.cli import main

PYTHON_STYLE_PREFIX = ["-m", "core.cli"]


def _arguments() -> list[str]:
    arguments = sys.argv[1:]
    if arguments[:2] == PYTHON_STYLE_PREFIX:
        return arguments[2:]
    return arguments


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(_arguments()))
