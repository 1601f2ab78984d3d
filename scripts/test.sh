#!/usr/bin/env bash
# scripts/test.sh - Labelwise's test command:   bash scripts/test.sh [pytest args...]
#
#  1. creates .venv (Python >= 3.11) if missing; installs torch==2.13.0 FIRST, then -e '.[test]'
#     (skipped while pyproject.toml is unchanged since the last install; LABELWISE_REINSTALL=1 forces it)
#  2. starts throwaway Postgres + Redis on loopback (scripts/services.sh) and exports their URLs;
#     stops them on exit unless they were already running before (or another test run still uses them)
#  3. ruff check on app workers tests bench scripts, mypy on app workers, then python -m pytest -q "$@"
# Exit code: pytest's. Ruff and mypy findings are reported but do not change it, unless
# LABELWISE_LINT_STRICT=1 (then a clean pytest run still exits 1 when ruff or mypy found problems).
#
# Environment:
#   LABELWISE_TORCH_INDEX_URL  pip index for torch, e.g. https://download.pytorch.org/whl/cpu on a
#                              machine without a local CPU wheel (plain PyPI torch pulls GBs of CUDA)
#   LABELWISE_TEST_ARTIFACTS   where tests write screenshots etc. (default ./test-artifacts)
#   LABELWISE_TEST_PROCESSES   pytest-xdist processes (default 2 on a machine with 2 cores or more; 0: one)
#   LABELWISE_TEST_PG_PORT, LABELWISE_TEST_REDIS_PORT, LABELWISE_SERVICES_DIR: see scripts/services.sh
#   CI is passed through untouched.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
TORCH_PIN=torch==2.13.0
STATE=${LABELWISE_SERVICES_DIR:-/tmp/labelwise-test-services}

log() { printf '[test.sh] %s\n' "$*" >&2; }
T0=$SECONDS; T=$SECONDS; TIMES=()
phase_done() { TIMES+=("$1 $((SECONDS - T))s"); T=$SECONDS; }

# --- 1. virtualenv + dependencies -------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  PY=$(command -v python3.11 || command -v python3 || true)
  [ -n "$PY" ] || { log "python3 not found"; exit 1; }
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { log "$PY is $("$PY" -V 2>&1); Labelwise needs Python >= 3.11"; exit 1; }
  log "creating $VENV with $("$PY" -V 2>&1)"
  "$PY" -m venv "$VENV"
fi
phase_done venv

STAMP=$VENV/.labelwise-install-test
WANT="$TORCH_PIN $(sha256sum pyproject.toml | cut -d' ' -f1)"
{ # one pip at a time in this venv (overlapping test runs)
  if command -v flock >/dev/null; then flock 8; fi
  if [ "${LABELWISE_REINSTALL:-0}" != 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
     && [ -x "$VENV/bin/pytest" ] && [ -x "$VENV/bin/ruff" ]; then
    log "dependencies up to date (pyproject.toml unchanged)"
  else
    PIPLOG=$VENV/pip-install.log
    pip_q() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >>"$PIPLOG" 2>&1 \
                || { tail -40 "$PIPLOG" >&2; log "pip install $* failed (full log: $PIPLOG)"; exit 1; }; }
    : >"$PIPLOG"
    log "pip install $TORCH_PIN (first, so nothing pulls a CUDA build)"
    pip_q "$TORCH_PIN" ${LABELWISE_TORCH_INDEX_URL:+--index-url "$LABELWISE_TORCH_INDEX_URL"}
    log "pip install -e '.[test]'"
    pip_q -e '.[test]'
    "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("torch")[:6] != "2.13.0")' \
      || { log "torch is not 2.13.0 after install"; exit 1; }
    echo "$WANT" >"$STAMP"
  fi
} 8>"$VENV/.labelwise-install.lock"
phase_done install

# --- 2. services ------------------------------------------------------------------------------
# Test runs may overlap (several shells, one machine). Each run registers its pid under
# $STATE/users; the servers are stopped by the last registered run to leave, and only if a test
# run started them (servers started by hand with `services.sh start` are left running).
LOCK=$STATE.lock
mkdir -p "$(dirname "$STATE")"
prune_users() { local f; for f in "$STATE"/users/[0-9]*; do [ -e "$f" ] || continue
  kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"; done; }
services_release() {
  {
    if command -v flock >/dev/null; then flock 9; fi
    rm -f "$STATE/users/$$"
    prune_users
    if ! compgen -G "$STATE/users/[0-9]*" >/dev/null && [ -e "$STATE/users/owned-by-test-run" ]; then
      bash scripts/services.sh stop || true
      rm -f "$STATE/users/owned-by-test-run"
    fi
  } 9>"$LOCK"
}
trap services_release EXIT
# A subshell, so that a failed start releases the lock before the EXIT trap takes it again.
EXPORTS=$(
  {
    if command -v flock >/dev/null; then flock 9; fi
    mkdir -p "$STATE/users"
    prune_users
    if ! bash scripts/services.sh status 2>/dev/null; then
      touch "$STATE/users/owned-by-test-run"
    elif ! compgen -G "$STATE/users/[0-9]*" >/dev/null && [ ! -e "$STATE/users/owned-by-test-run" ]; then
      log "using services started by hand; leaving them running"
    fi
    bash scripts/services.sh start 9>&-  # the daemons must not inherit (and hold) the lock
    touch "$STATE/users/$$"  # $$ is this script's pid, also inside the subshell
  } 9>"$LOCK"
)
eval "$EXPORTS"
export LABELWISE_TEST_ARTIFACTS=${LABELWISE_TEST_ARTIFACTS:-$ROOT/test-artifacts}
mkdir -p "$LABELWISE_TEST_ARTIFACTS"
phase_done services

# --- 3. lint + tests --------------------------------------------------------------------------
LINT_DIRS=()
for d in app workers tests bench scripts; do if [ -d "$d" ]; then LINT_DIRS+=("$d"); fi; done
RUFF_RC=0
if [ ${#LINT_DIRS[@]} -gt 0 ]; then
  log "ruff check ${LINT_DIRS[*]}"
  "$VENV/bin/ruff" check "${LINT_DIRS[@]}" || RUFF_RC=$?
fi
phase_done ruff
MYPY_RC=0
if [ -x "$VENV/bin/mypy" ]; then
  log "mypy app workers"
  "$VENV/bin/mypy" app workers || MYPY_RC=$?
fi
phase_done mypy

# Two test processes (pytest-xdist) on a machine with two cores or more: most tests are one Python thread
# waiting on SQLite, Postgres, Chromium or a subprocess, so the second core was mostly idle. Each process
# keeps its own SQLite template, Redis database and Postgres databases (tests/conftest.py).
# LABELWISE_TEST_PROCESSES=0 runs everything in this process; an explicit -n in the arguments wins.
PROCS=${LABELWISE_TEST_PROCESSES:-$(( $(nproc 2>/dev/null || echo 1) >= 2 ? 2 : 0 ))}
XDIST=()
if [ "$PROCS" -gt 0 ] && ! printf '%s\n' "$@" | grep -qE '^(-n|--numprocesses)'; then XDIST=(-n "$PROCS"); fi
log "pytest -q ${XDIST[*]} $*"
PYTEST_RC=0
"$VENV/bin/python" -m pytest -q "${XDIST[@]}" "$@" || PYTEST_RC=$?
phase_done pytest

log "timings: ${TIMES[*]}; total $((SECONDS - T0))s"
if [ "$RUFF_RC" != 0 ] || [ "$MYPY_RC" != 0 ]; then
  log "ruff (exit $RUFF_RC) or mypy (exit $MYPY_RC) found problems; see above. LABELWISE_LINT_STRICT=1 fails the run on them."
  if [ "$PYTEST_RC" = 0 ] && [ "${LABELWISE_LINT_STRICT:-0}" = 1 ]; then exit 1; fi
fi
exit "$PYTEST_RC"
