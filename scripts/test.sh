#!/usr/bin/env bash
# Install everything and run every check: ruff (lint + format), mypy strict on
# core/, and the whole pytest suite (warnings are errors) inside a private D-Bus
# session with an unlocked gnome-keyring, so keyring tests use a real Secret
# Service. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
export PATH="$PWD/.venv/bin:$PATH"

ruff check .
ruff format --check .
mypy

export QT_QPA_PLATFORM=offscreen
set +e
# A fresh keyring folder each run: an older login keyring with another password
# would stay locked and make the Secret Service prompt.
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
XDG_DATA_HOME="$keyring_home" dbus-run-session -- bash -c '
  eval "$(echo -n cloudrec-test | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null | sed "s/^/export /")"
  exec pytest "$@"
' pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
