#!/usr/bin/env bash
# Install everything and start cloudrec on its embedded defaults (local server,
# demo channel, local-folder storage). Extra arguments go to `cloudrec`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh run
exec .venv/bin/cloudrec "$@"
