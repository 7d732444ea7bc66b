#!/usr/bin/env bash
# Smoke test of the desktop package: its CLI indexes a few photos, searches and finds a
# duplicate in a temporary data folder; its GUI starts (offscreen); `desktop install` writes
# the menu entry. Runs with a bare environment (no Python on PATH, no venv).
#   packaging/smoke_test.sh APP_FOLDER PHOTO_FOLDER     (APP_FOLDER: dist/photofinder)
set -euo pipefail
app="$(cd "$1" && pwd)"
source="$2"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/photos"
find "$source" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort | head -n 6 |
    while read -r photo; do cp "$photo" "$scratch/photos/"; done
first="$(find "$scratch/photos" -type f | sort | head -n 1)"
cp "$first" "$scratch/photos/copy-of-first.jpg"

bare() {  # the packaged program with nothing of this machine's Python around it
    env -i HOME="$scratch/home" PATH=/usr/bin:/bin XDG_DATA_HOME="$scratch/share" \
        PHOTOFINDER_DATA_DIR="$scratch/data" PHOTOFINDER_CACHE_DIR="$scratch/cache" \
        QT_QPA_PLATFORM=offscreen "$@"
}
run() { echo "\$ photofinder $*"; bare "$app/photofinder" "$@"; }

run --version
run index "$scratch/photos"
run search --top 3 "$first"
run duplicates
run methods | grep -E '^\*|unavailable' | head -n 4
run desktop install
grep '^Exec=' "$scratch/share/applications/photofinder.desktop"
echo "\$ photofinder-gui   (offscreen, stopped after 10 s)"
set +e
bare timeout 10 "$app/photofinder-gui" > "$scratch/gui.log" 2>&1
code=$?
set -e
if [ "$code" -ne 124 ]; then
    echo "smoke_test: the GUI exited early (status $code):" >&2
    cat "$scratch/gui.log" >&2
    exit 1
fi
echo "GUI still running after 10 s: ok"
echo "smoke test passed"
