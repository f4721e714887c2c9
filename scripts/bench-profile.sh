#!/usr/bin/env bash
# Runs `npm run bench` against a private PostgreSQL cluster of its own, started on a free port
# with pg_stat_statements loaded, so that the report lists each phase's costliest statements.
# The shared PostgreSQL is not touched (loading the module needs a restart). Any bench
# variables pass through, e.g.:
#   BENCH_ONLY=scheduler BENCH_ENROLLMENTS=400000 bash scripts/bench-profile.sh
# Also: NODE_PROF=1 writes a --cpu-prof profile of the bench process to var/bench/cpu/, and
# PG_OPTS adds server settings to try, e.g. PG_OPTS="-c max_wal_size=4GB".
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PG_BIN/initdb" ] || { echo "bench-profile: PostgreSQL's server binaries are not installed" >&2; exit 1; }
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
DIR=$(mktemp -d /tmp/sd-pgprof.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$DIR"

stop() {
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap stop EXIT

as_pg "$PG_BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
# The same memory settings as a stock Debian cluster, plus the statement statistics.
as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start -o \
  "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top -c track_io_timing=on ${PG_OPTS:-}" >/dev/null
echo "bench-profile: private PostgreSQL on 127.0.0.1:$PORT with pg_stat_statements ${PG_OPTS:-}"

NODE_ARGS=()
if [ "${NODE_PROF:-}" = 1 ]; then
  mkdir -p var/bench/cpu
  NODE_ARGS=(--cpu-prof --cpu-prof-dir=var/bench/cpu)
fi
npx tsc -p tsconfig.bench.json
TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT/postgres" node "${NODE_ARGS[@]}" dist-bench/bench/run.js
