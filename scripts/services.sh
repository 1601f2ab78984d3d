#!/usr/bin/env bash
# scripts/services.sh - throwaway Postgres and Redis on loopback for Labelwise's tests.
# Debian/Ubuntu, no systemd or Docker needed.
#
#   install  apt-get install postgresql redis-server chromium (only what is missing; needs root)
#   start    install, then Postgres on 127.0.0.1:$LABELWISE_TEST_PG_PORT (default 55432) and
#            Redis on 127.0.0.1:$LABELWISE_TEST_REDIS_PORT (default 56379), a Chromium smoke test,
#            and print `export ...` lines on stdout
#   stop     stop the Redis and Postgres this script started (by their pids)
#   clean    stop, then delete the state directory
#   status   exit 0 when both servers started by this script are running, 1 otherwise
#   env      print the `export ...` lines only
#
# State lives under $LABELWISE_SERVICES_DIR (default /tmp/labelwise-test-services); every ancestor
# of it must be traversable by the `postgres` user. Logs go to stderr, so this works:
#   eval "$(bash scripts/services.sh start)"; trap 'bash scripts/services.sh stop' EXIT
set -euo pipefail

STATE=${LABELWISE_SERVICES_DIR:-/tmp/labelwise-test-services}
PG_PORT=${LABELWISE_TEST_PG_PORT:-55432}
REDIS_PORT=${LABELWISE_TEST_REDIS_PORT:-56379}
PG_DB=labelwise_test
CHROMIUM=${LABELWISE_CHROMIUM:-/usr/bin/chromium}
PKGS=(postgresql redis-server chromium)
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-sync --no-first-run --disable-quic)
# Settings for a disposable test database: durability off, loopback only.
PG_OPTS="-p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c max_connections=200 -c max_wal_size=1GB -c checkpoint_timeout=30min"

log()   { printf '[services] %s\n' "$*" >&2; }
die()   { log "ERROR: $*"; exit 1; }
root()  { [ "$(id -u)" = 0 ]; }
as_pg() { if root; then runuser -u postgres -- "$@"; else "$@"; fi; }  # initdb refuses to run as root
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }  # a zombie counts as dead
is_cmd() { alive "$1" && [[ $(ps -o comm= -p "$1" 2>/dev/null) == "$2"* ]]; }  # pid still runs program $2

PG_DIR=$STATE/pg
PG_DATA=$PG_DIR/data
REDIS_DIR=$STATE/redis
REDIS_PIDFILE=$REDIS_DIR/redis.pid

pg_pid()    { [ -s "$PG_DATA/postmaster.pid" ] && head -1 "$PG_DATA/postmaster.pid"; }
# "ours" = the pid in our own pidfile is alive and is still the program we started (not a reused pid)
pg_ours()    { local p; p=$(pg_pid) && is_cmd "$p" postgres; }
redis_ours() { [ -s "$REDIS_PIDFILE" ] && is_cmd "$(cat "$REDIS_PIDFILE")" redis-server; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

do_install() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "packages present: ${PKGS[*]}"; return; fi
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get; install them yourself"
  root || die "missing packages ${missing[*]}; run 'sudo bash $0 install' once"
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_pg() {
  local bin; bin=$(pgbin)
  [ -n "$bin" ] || die "no Postgres binaries under /usr/lib/postgresql; run: $0 install"
  if pg_ours && "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    log "postgres already up on 127.0.0.1:$PG_PORT (pid $(pg_pid))"
  else
    port_busy "$PG_PORT" && die "port $PG_PORT is taken by another process; set LABELWISE_TEST_PG_PORT"
    if [ ! -s "$PG_DATA/PG_VERSION" ]; then
      mkdir -p "$STATE"; chmod 755 "$STATE"
      rm -rf "$PG_DIR"; install -d -m 700 "$PG_DIR"
      if root; then
        chown postgres:postgres "$PG_DIR"
        runuser -u postgres -- test -x "$PG_DIR" || die "user postgres cannot reach $PG_DIR; pick another LABELWISE_SERVICES_DIR"
      fi
      log "initdb $PG_DATA"
      as_pg "$bin/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
        || { tail -20 "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    # -k: the Unix socket goes to our own dir, not /var/run/postgresql (which may not exist).
    if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 \
         -o "$PG_OPTS -k $PG_DIR" start >/dev/null; then
      tail -20 "$PG_DIR/postgres.log" >&2; die "postgres failed to start"
    fi
    log "postgres up on 127.0.0.1:$PG_PORT (pid $(pg_pid))"
  fi
  "$bin/psql" -qtA -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
      -c "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1 \
    || { "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB"; log "created database $PG_DB"; }
}

stop_pg() {
  local pid
  if pg_ours; then
    pid=$(pg_pid)
    as_pg "$(pgbin)/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
    log "postgres stopped (pid $pid)"
  else
    log "postgres not running (from $PG_DATA)"
  fi
}

start_redis() {
  if redis_ours && redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    log "redis already up on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PIDFILE"))"; return
  fi
  command -v redis-server >/dev/null || die "redis-server not found; run: $0 install"
  port_busy "$REDIS_PORT" && die "port $REDIS_PORT is taken by another process; set LABELWISE_TEST_REDIS_PORT"
  mkdir -p "$REDIS_DIR"; rm -f "$REDIS_PIDFILE"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --dir "$REDIS_DIR" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_DIR/redis.log"
  for _ in $(seq 100); do
    if [ -s "$REDIS_PIDFILE" ] && redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
      break
    fi
    sleep 0.1
  done
  redis_ours || { tail -5 "$REDIS_DIR/redis.log" >&2; die "redis failed to start"; }
  log "redis up on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PIDFILE"))"
}

stop_redis() {
  local pid
  if redis_ours; then
    pid=$(cat "$REDIS_PIDFILE"); kill "$pid"
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && { log "redis pid $pid ignored SIGTERM; sending SIGKILL"; kill -9 "$pid"; }
    rm -f "$REDIS_PIDFILE"
    log "redis stopped (pid $pid)"
  else
    log "redis not running (from $REDIS_PIDFILE)"
  fi
}

check_chromium() {  # tests launch Chromium themselves (Playwright executable_path); this only warns
  local tmp
  [ -x "$CHROMIUM" ] || { log "WARNING: no Chromium at $CHROMIUM; browser tests will be skipped or fail"; return 0; }
  mkdir -p "$STATE"; tmp=$(mktemp -d "$STATE/chrome.XXXXXX")
  if timeout 60 "$CHROMIUM" "${CHROME_FLAGS[@]}" --user-data-dir="$tmp" \
       --dump-dom 'data:text/html,<p>chromium-ok</p>' 2>/dev/null | grep -q chromium-ok; then
    log "chromium ok: $("$CHROMIUM" --version 2>/dev/null | head -1)"
  else
    log "WARNING: chromium smoke test failed ($CHROMIUM)"
  fi
  rm -rf "$tmp"
}

do_env() {
  cat <<EOF
export LABELWISE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/$PG_DB
export LABELWISE_TEST_POSTGRES_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres
export LABELWISE_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export LABELWISE_CHROMIUM=$CHROMIUM
EOF
}

do_status() {
  local ok=0
  if pg_ours; then log "postgres running on 127.0.0.1:$PG_PORT (pid $(pg_pid))"
  else log "postgres not running"; ok=1; fi
  if redis_ours; then log "redis running on 127.0.0.1:$REDIS_PORT (pid $(cat "$REDIS_PIDFILE"))"
  else log "redis not running"; ok=1; fi
  return $ok
}

case "${1:-}" in
  install) do_install ;;
  start)   do_install; start_pg; start_redis; check_chromium; do_env ;;
  stop)    stop_redis; stop_pg ;;
  clean)   stop_redis; stop_pg; rm -rf "${STATE:?}"; log "removed $STATE" ;;
  status)  do_status ;;
  env)     do_env ;;
  *) echo "usage: $0 install|start|stop|clean|status|env" >&2; exit 2 ;;
esac
