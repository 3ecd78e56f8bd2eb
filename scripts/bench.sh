#!/usr/bin/env bash
# Runs the benchmark workload (neutrino bench) against neutrino on SQLite,
# PostgreSQL and MariaDB, and against the reference Neutron when it answers
# on REF_URL, one after the other, printing req/s and p50/p99 per phase.
#
#   scripts/bench.sh                 # N=2000 objects per phase, 8 clients
#   N=5000 REF_N=200 scripts/bench.sh
#
# Env: N (2000), REF_N (200: the reference is slow), CLIENTS (8),
#      LISTALL_N (10000 ports for the whole-collection read),
#      PG (postgresql://root@127.0.0.1:5432), MYSQL (mysql+pymysql://root@127.0.0.1:3306),
#      REF_URL (http://127.0.0.1:19696; start it with ../shared/reference/neutron-up.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}; REF_N=${REF_N:-200}; CLIENTS=${CLIENTS:-8}; LISTALL_N=${LISTALL_N:-10000}
PG=${PG:-postgresql://root@127.0.0.1:5432}
MYSQL=${MYSQL:-mysql+pymysql://root@127.0.0.1:3306}
REF_URL=${REF_URL:-http://127.0.0.1:19696}
BIN=$(mktemp -d)/neutrino
go build -o "$BIN" ./cmd/neutrino
PORT=19960
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

serve() { # serve URL: start neutrino on a fresh database
  "$BIN" serve --bind-port $PORT --database-connection "$1" >"$work/server.log" 2>&1 &
  echo $! >"$work/pid"
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && return; sleep 0.1; done
  echo "neutrino did not start:"; cat "$work/server.log"; exit 1
}
stop() { kill "$(cat "$work/pid")"; wait "$(cat "$work/pid")" 2>/dev/null || true; }
run() { # run TITLE ENDPOINT N
  echo "== $1"
  "$BIN" bench --endpoint "$2" --clients "$CLIENTS" --n "$3" --resource networks
  "$BIN" bench --endpoint "$2" --clients "$CLIENTS" --n "$3" --resource ports
}

serve "sqlite:///$work/bench.db"
run "neutrino, SQLite" "http://127.0.0.1:$PORT" "$N"
"$BIN" bench --endpoint "http://127.0.0.1:$PORT" --clients "$CLIENTS" --n "$LISTALL_N" --resource ports --phases create,listall
stop

psql -h 127.0.0.1 -U root -d test -qc "DROP DATABASE IF EXISTS neutrino_bench" -c "CREATE DATABASE neutrino_bench" >/dev/null
serve "$PG/neutrino_bench"
run "neutrino, PostgreSQL" "http://127.0.0.1:$PORT" "$N"
stop

mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS neutrino_bench; CREATE DATABASE neutrino_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
serve "$MYSQL/neutrino_bench"
run "neutrino, MariaDB" "http://127.0.0.1:$PORT" "$N"
stop

if curl -sf -o /dev/null "$REF_URL/"; then
  run "reference Neutron (Zed), MariaDB, 2 API workers" "$REF_URL" "$REF_N"
else
  echo "== reference Neutron not answering on $REF_URL (../shared/reference/neutron-up.sh starts it)"
fi
