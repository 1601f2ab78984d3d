#!/usr/bin/env bash
# scripts/demo.sh - Labelwise's demo command:   bash scripts/demo.sh [labelwise demo args...]
# Creates .venv (Python >= 3.11) if missing, installs torch==2.13.0 FIRST (so nothing pulls a CUDA
# build), then the project (`pip install -e .`), and runs `labelwise demo`. The install is skipped
# while pyproject.toml is unchanged since the last one (LABELWISE_REINSTALL=1 forces it).
# LABELWISE_TORCH_INDEX_URL: pip index for torch, e.g. https://download.pytorch.org/whl/cpu on a
# machine without a local CPU wheel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=$PWD/.venv
TORCH_PIN=torch==2.13.0

log() { printf '[demo.sh] %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(command -v python3.11 || command -v python3 || true)
  [ -n "$PY" ] || { log "python3 not found"; exit 1; }
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { log "$PY is $("$PY" -V 2>&1); Labelwise needs Python >= 3.11"; exit 1; }
  log "creating $VENV with $("$PY" -V 2>&1)"
  "$PY" -m venv "$VENV"
fi

STAMP=$VENV/.labelwise-install-demo
WANT="$TORCH_PIN $(sha256sum pyproject.toml | cut -d' ' -f1)"
{ # one pip at a time in this venv
  if command -v flock >/dev/null; then flock 8; fi
  if [ "${LABELWISE_REINSTALL:-0}" = 1 ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ] \
     || [ ! -x "$VENV/bin/labelwise" ]; then
    PIPLOG=$VENV/pip-install.log
    : >"$PIPLOG"
    pip_q() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >>"$PIPLOG" 2>&1 \
                || { tail -40 "$PIPLOG" >&2; log "pip install $* failed (full log: $PIPLOG)"; exit 1; }; }
    log "pip install $TORCH_PIN (first, so nothing pulls a CUDA build)"
    pip_q "$TORCH_PIN" ${LABELWISE_TORCH_INDEX_URL:+--index-url "$LABELWISE_TORCH_INDEX_URL"}
    log "pip install -e ."
    pip_q -e .
    echo "$WANT" >"$STAMP"
  fi
} 8>"$VENV/.labelwise-install.lock"

exec "$VENV/bin/labelwise" demo "$@"
