#!/usr/bin/env bash
# Install voc with its test tools (and Chromium), then run the whole suite: unit,
# integration (real flows on real DuckDB files), slow model tests, dashboard and browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export DO_NOT_TRACK=1 HF_HUB_OFFLINE=1
# pytest exits 5 when it collects nothing: a run that tests nothing fails
exec .venv/bin/python -m pytest "$@"
