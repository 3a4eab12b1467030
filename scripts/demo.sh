#!/usr/bin/env bash
# Install voc, build the sample company's inbox, run the pipeline on it, start the dashboard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/voc demo "$@"
