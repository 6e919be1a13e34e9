#!/usr/bin/env bash
# Install everything cloudrec needs on Debian 12+ with Python 3.11+: the system
# packages (apt-get, as root or through sudo) and a virtual environment in .venv
# with cloudrec and its dependencies. Safe to run again: it only installs what is
# missing. Usage: scripts/install.sh [run|test]   (test adds what the tests need)
set -euo pipefail
profile="${1:-run}"
cd "$(dirname "$0")/.."

# Qt's xcb platform plugin, fonts for English and Chinese, D-Bus + Secret Service
# for the OS keyring, ffmpeg for media checks.
run_packages=(
  ffmpeg dbus dbus-x11 gnome-keyring libsecret-1-0 fonts-dejavu-core fonts-noto-cjk
  libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1 libxcb-icccm4 libxcb-keysyms1
  libxcb-shape0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0
  libxcb-xkb1 libfontconfig1 libglib2.0-0 libdbus-1-3
)
# Xvfb for screenshots, Chromium for the join-page tests, libatomic1 for the node
# that Playwright's driver bundles, binutils (objdump) for PyInstaller's packaging
# tests, systemd for systemd-analyze (the .deb's service unit is verified), and the
# servers live streams are sent to: srt-tools (srt-live-transmit, an SRT listener) and
# nginx's RTMP module (the tests run their own nginx process; installing it starts no
# service where no init runs). A warm machine has libatomic1, binutils and systemd; a
# fresh Debian 12 does not.
test_packages=(xvfb xauth chromium desktop-file-utils libatomic1 binutils systemd srt-tools
  libnginx-mod-rtmp)

packages=("${run_packages[@]}")
[ "$profile" = test ] && packages+=("${test_packages[@]}")

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
[ -n "$python" ] || { echo "cloudrec needs Python 3.11 or newer" >&2; exit 1; }
"$python" -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
# PyInstaller (packaging tests) bundles the interpreter's shared library, which Debian's
# python3.X package leaves to libpython3.X. Only for Debian's own interpreter: another
# Python (pyenv, a source build) brings its library or is built without one.
if [ "$profile" = test ] && dpkg-query -S "$(readlink -f "$(command -v "$python")")" >/dev/null 2>&1; then
  packages+=("libpython$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.cloudrec-installed-$profile"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # Everything: the server and the window (the test extra adds them too).
  extras="[server,gui]"; [ "$profile" = test ] && extras="[server,gui,test]"
  .venv/bin/python -m pip install -q -e ".$extras"
  touch "$stamp"
fi
