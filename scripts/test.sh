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
# A part a test needs (D-Bus, the Secret Service, Chromium, Playwright) that is
# missing fails the run with its reason instead of skipping (tests/helpers.py require).
export CLOUDREC_TEST_STRICT=1
# A fresh keyring folder each run: an older login keyring with another password
# would stay locked and make the Secret Service prompt.
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT

run_pytest() {
  set +e
  XDG_DATA_HOME="$keyring_home" dbus-run-session -- bash -c '
    eval "$(echo -n cloudrec-test | gnome-keyring-daemon --unlock --components=secrets | sed "s/^/export /")"
    exec pytest "$@"
  ' pytest "$@"
  local code=$?
  set -e
  if [ "$code" -eq 5 ]; then
    echo "pytest collected no tests ($*): failing" >&2
    code=1
  fi
  return "$code"
}

# Extra arguments select what to run. Without them, the window's tests run in a
# pytest process of their own: Qt keeps one application per process, and the
# engine's tests (aiortc, uvicorn, browsers) have no business sharing it.
if [ "$#" -gt 0 ]; then
  run_pytest "$@"
  exit $?
fi
status=0
# Two workers (pytest-xdist), each file's tests on one of them (its module fixtures,
# such as the .deb build, made once): many engine tests wait on real time (recordings
# of several seconds), so two side by side nearly halve the wall time even on 2 cores
# (docs/testing.md, "Time").
run_pytest tests --ignore=tests/gui --numprocesses=2 --dist=loadfile || status=$?
run_pytest tests/gui || status=$?
exit "$status"
