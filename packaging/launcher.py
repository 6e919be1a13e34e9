"""Entry script of the frozen ``cloudrec`` program (PyInstaller bundles).

The bundle is one program for everything: the window, ``cloudrec server`` (which the
window and ``--self-test`` start as a child process of the same executable) and the
other subcommands. ``freeze_support`` lets the spawned children of
:mod:`multiprocessing` (the self-test's Qt check) run inside the bundle.
"""

import multiprocessing
import sys

from core.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
