#!/usr/bin/env bash
# Take docs/main-window.png: the real app with demo data, on a virtual X screen.
# Needs xvfb-run and ImageMagick's import (Debian: xvfb, imagemagick).
set -euo pipefail
cd "$(dirname "$0")/.."
export PUSHDESK_DATA_DIR
PUSHDESK_DATA_DIR=$(mktemp -d)
trap 'rm -rf "$PUSHDESK_DATA_DIR"' EXIT
pushdesk=.venv/bin/pushdesk

# Devices first, and nothing due while the app runs: it sends nothing anywhere.
.venv/bin/python scripts/demo_data.py "$PUSHDESK_DATA_DIR"
"$pushdesk" remind "Stand-up in the big room" --title Team --in 10m >/dev/null
"$pushdesk" remind "Lunch is served in the canteen" --title Canteen --in 2h >/dev/null
"$pushdesk" remind "Fire drill at 15:00 — please leave by the east stairs" \
    --title Facilities --in 1d --url https://intranet.example.org/drill >/dev/null

xvfb-run -a -s "-screen 0 900x520x24" bash -c '
    .venv/bin/pushdesk --vapid-subject mailto:ops@example.org --port 8097 \
        --http-port 8096 --log-level warning &
    app=$!
    sleep 4
    import -window root docs/main-window.png
    kill $app
    wait $app
'
echo "wrote docs/main-window.png"
