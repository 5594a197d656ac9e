#!/usr/bin/env bash
# Build pushdesk's one-folder bundle with PyInstaller:
#   dist/pushdesk/pushdesk        the executable (pushdesk.exe on Windows)
#   dist/pushdesk-VERSION-linux-ARCH.tar.gz   on Linux, the bundle with the
#                                 .desktop file, icons and install.sh
# Run from anywhere; uses .venv if there is one, else the python on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

# On Windows "python3" can be the Microsoft Store's stub, so plain "python"
# is the fallback there.
python=python3
python3 -c "" >/dev/null 2>&1 || python=python
if [ -x .venv/bin/python ]; then
    python=.venv/bin/python
elif [ -x .venv/Scripts/python.exe ]; then
    python=.venv/Scripts/python.exe
fi
if ! "$python" -c "import PyInstaller" 2>/dev/null; then
    echo "build.sh: PyInstaller is missing; run: $python -m pip install -e '.[test]'" >&2
    exit 1
fi

version=$("$python" -c "import pushdesk; print(pushdesk.__version__)")
echo "== building pushdesk $version"
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/pushdesk.spec

size=$(du -sh dist/pushdesk | cut -f1)
echo "== dist/pushdesk: $size"

if [ "$(uname -s)" = Linux ]; then
    # The archive unpacks to pushdesk-VERSION/ with the bundle and what a
    # desktop needs to show it in its menus.
    stage="build/archive/pushdesk-$version"
    rm -rf build/archive
    mkdir -p "$stage"
    cp -a dist/pushdesk "$stage/pushdesk"
    cp packaging/linux/pushdesk.desktop packaging/linux/install.sh "$stage/"
    mkdir -p "$stage/icons"
    cp resources/icons/pushdesk-*.png resources/icons/pushdesk.svg "$stage/icons/"
    rm -f "$stage"/icons/pushdesk-paused-*.png
    archive="dist/pushdesk-$version-linux-$(uname -m).tar.gz"
    tar -C build/archive -czf "$archive" "pushdesk-$version"
    echo "== $archive: $(du -sh "$archive" | cut -f1)"
fi
