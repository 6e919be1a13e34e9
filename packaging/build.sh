#!/usr/bin/env bash
# Build cloudrec's Linux packages: the PyInstaller one-folder bundle, then a .deb.
#
#   bash packaging/build.sh
#
# Output: dist/cloudrec/ (the bundle) and dist/cloudrec_<version>_<arch>.deb.
# Needs: the project's virtual environment with PyInstaller (`pip install pyinstaller`),
# dpkg-deb (Debian/Ubuntu), optionally desktop-file-validate (desktop-file-utils).
# Environment: PYTHON (default .venv/bin/python, else python3), DIST_DIR (default
# dist), BUILD_DIR (default build), DEB_MAINTAINER (the control file's Maintainer).
# See docs/packaging.md for what goes where and why.
set -euo pipefail
cd "$(dirname "$0")/.."
project="$PWD"

python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python=python3; fi
fi
dist="$(mkdir -p "${DIST_DIR:-dist}" && cd "${DIST_DIR:-dist}" && pwd)"
build="$(mkdir -p "${BUILD_DIR:-build}" && cd "${BUILD_DIR:-build}" && pwd)"
maintainer="${DEB_MAINTAINER:-cloudrec maintainers <packaging@cloudrec.invalid>}"

"$python" -c 'import PyInstaller' 2>/dev/null || {
  echo "PyInstaller is missing: $python -m pip install pyinstaller" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "dpkg-deb is missing (Debian/Ubuntu only)" >&2; exit 1; }

version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
# PEP 440 pre-releases sort before the release in Debian only with a tilde: 1.0rc1 -> 1.0~rc1.
deb_version="$(printf '%s' "$version" | sed -E 's/\.?(a|b|rc|dev)([0-9]+)/~\1\2/g')"
arch="$(dpkg --print-architecture)"
started=$SECONDS

# 1. The bundle: dist/cloudrec/cloudrec + dist/cloudrec/_internal/.
echo "== PyInstaller bundle (cloudrec $version)"
"$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$dist" --workpath "$build/pyinstaller" packaging/cloudrec.spec
bundle="$dist/cloudrec"
"$bundle/cloudrec" --version

# 2. The package tree.
echo "== .deb tree"
root="$build/deb/root"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/doc/cloudrec"
cp -a "$bundle" "$root/opt/cloudrec"
# /usr/bin/cloudrec -> the bundle's program (absolute: it crosses top-level folders).
ln -s /opt/cloudrec/cloudrec "$root/usr/bin/cloudrec"
install -m 0644 packaging/cloudrec.desktop "$root/usr/share/applications/cloudrec.desktop"
# The headless server as a systemd service (docs/deploy.md): its unit, its settings (a
# conffile), and the system user postinst makes.
install -D -m 0644 packaging/deb/cloudrec-server.service \
  "$root/lib/systemd/system/cloudrec-server.service"
install -D -m 0644 packaging/deb/server.toml "$root/etc/cloudrec/server.toml"
install -m 0755 packaging/deb/postinst "$root/DEBIAN/postinst"
printf '/etc/cloudrec/server.toml\n' > "$root/DEBIAN/conffiles"
install -m 0644 docs/deploy.md "$root/usr/share/doc/cloudrec/deploy.md"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$root/usr/share/applications/cloudrec.desktop"
fi
"$python" packaging/render_icons.py "$root/usr/share/icons/hicolor"
cat > "$root/usr/share/doc/cloudrec/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: cloudrec

Files: *
License: MIT

Files: opt/cloudrec/_internal/*
Comment: Third-party software bundled by PyInstaller, under its own licenses:
 Python (PSF), Qt for Python / PySide6 (LGPL-3.0), FFmpeg and codecs in PyAV's
 wheels (LGPL/GPL: the wheels include libx264 and libx265), NumPy (BSD),
 aiortc (BSD), httpx, FastAPI, uvicorn, pydantic, keyring, botocore,
 prometheus_client (Apache-2.0), Swagger UI (Apache-2.0, from swagger-ui-bundle-v2)
 and their dependencies. Their license files are in the respective folders where the
 wheels ship them.
COPYRIGHT
# Files 0644, folders and programs 0755; nothing group- or world-writable.
chmod -R u=rwX,go=rX "$root"
chmod 0755 "$root/opt/cloudrec/cloudrec" "$root/DEBIAN/postinst"

# Qt's xcb and EGL plugins need the system's GL, EGL and libxcb (PyInstaller never bundles
# them; RECIPES.md); fonts for text; libc of Debian 12 (the bundle was linked there).
glibc="$(getconf GNU_LIBC_VERSION | awk '{print $2}')"
depends="libc6 (>= $glibc), libgl1, libegl1, libxcb1, libx11-xcb1, libxkbcommon0, libxkbcommon-x11-0"
depends+=", libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-randr0"
depends+=", libxcb-render-util0, libxcb-image0, libxcb-xinerama0, libxcb-xkb1"
depends+=", libwayland-client0, libwayland-cursor0, libwayland-egl1"
depends+=", libfontconfig1, fontconfig, fonts-dejavu-core, libdbus-1-3, adduser"
recommends="fonts-noto-cjk, gnome-keyring"
installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed -e "s|@VERSION@|$deb_version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
  -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@DEPENDS@|$depends|" \
  -e "s|@RECOMMENDS@|$recommends|" packaging/deb/control.in > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"

# 3. The .deb (zstd: several times faster than dpkg-deb's default xz for 400 MB).
echo "== dpkg-deb"
deb="$dist/cloudrec_${deb_version}_${arch}.deb"
rm -f "$deb"
dpkg-deb --root-owner-group -Zzstd --build "$root" "$deb"
echo "bundle: $(du -sh "$bundle" | cut -f1)  deb: $(du -h "$deb" | cut -f1)  in $((SECONDS - started)) s"
echo "built ${deb#"$project"/}"
