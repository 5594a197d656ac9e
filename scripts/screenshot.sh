#!/usr/bin/env bash
# Take the README's screenshots (docs/window-*.png, docs/dialog-*.png): the real
# app with made-up data, on a virtual X screen. Needs xvfb-run (Debian: xvfb).
set -euo pipefail
cd "$(dirname "$0")/.."
xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots.py docs
