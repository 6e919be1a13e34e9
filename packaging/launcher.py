"""Entry script of the frozen ``cloudrec`` program (PyInstaller bundles).

The bundle is one program for everything: the window, ``cloudrec server`` (which the
window and ``--self-test`` start as a child process of the same executable) and the
other subcommands. ``freeze_support`` lets the spawned children of
:mod:`multiprocessing` (the self-test's Qt check) run inside the bundle.

In a bundle ``sys.executable`` is this program, not a Python interpreter: code that
starts cloudrec's subcommands uses ``core.sdk.embedded.cloudrec_command()``, which
gives the right command from a source tree and from a bundle.
"""

import multiprocessing
import sys

from core.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main(sys.argv[1:]))
