#!/usr/bin/env bash
# Build the Linux desktop package: a PyInstaller one-folder app (no Python needed to run it)
# from a light venv (no torch), then a .tar.gz of it.
#   packaging/build_desktop.sh [OUTPUT_DIR]      (default: dist/)
# PHOTOFINDER_BUILD_VENV: the build venv (default: a fresh one under $TMPDIR, reused next time).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$repo/dist}" && cd "${1:-$repo/dist}" && pwd)"
venv="${PHOTOFINDER_BUILD_VENV:-${TMPDIR:-/tmp}/photofinder-build-venv}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Install from a copy of the tracked tree, so no build files land in the checkout.
mkdir "$work/src"
git -C "$repo" ls-files -co --exclude-standard | tar -C "$repo" -cf - -T - | tar -C "$work/src" -xf -
if [ ! -x "$venv/bin/pyinstaller" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$work/src" pyinstaller
else
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$work/src"
fi
if "$venv/bin/python" -c "import torch" 2>/dev/null; then
    echo "build_desktop: $venv has torch; build from a light venv (pip install .)" >&2
    exit 1
fi
"$venv/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$out" --workpath "$work" \
    "$work/src/packaging/photofinder.spec"
version="$("$out/photofinder/photofinder" --version | cut -d' ' -f2)"
archive="$out/photofinder-$version-linux-$(uname -m).tar.gz"
tar -C "$out" -czf "$archive" photofinder
echo "app folder: $out/photofinder ($(du -sh "$out/photofinder" | cut -f1))"
echo "archive:    $archive ($(du -sh "$archive" | cut -f1))"
echo "add it to the menu: $out/photofinder/photofinder desktop install"
