#!/usr/bin/env bash
# Measures issue 12's items 2 and 8 for each neutrino server binary given
# (e.g. builds of the commits before and after a fix), one after the other
# with the same client (neutrino bench built from this tree):
#   - PostgreSQL, fresh database: ROUNDS rounds of a network DELETE racing
#     CLIENTS port creates on it (answers, non-Neutron answers, deadlocks
#     PostgreSQL counted in pg_stat_database), then port creates on one /16
#     subnet, 1000 per line, up to FILL ports (req/s per thousand);
#   - MariaDB, fresh database: the same race (answers).
#
#   scripts/bench-locks.sh /tmp/neutrino-before /tmp/neutrino-after
#
# Env: ROUNDS (50), CLIENTS (8), FILL (15000),
#      PG (postgresql://root@127.0.0.1:5432), MYSQL (mysql+pymysql://root@127.0.0.1:3306).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-50}; CLIENTS=${CLIENTS:-8}; FILL=${FILL:-15000}
PG=${PG:-postgresql://root@127.0.0.1:5432}
MYSQL=${MYSQL:-mysql+pymysql://root@127.0.0.1:3306}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/client" ./cmd/neutrino
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$work/client")
PORT=19961

serve() { # serve BIN URL
  "$1" serve --bind-port $PORT --database-connection "$2" --auto-migrate >"$work/server.log" 2>&1 &
  echo $! >"$work/pid"
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && return; sleep 0.1; done
  echo "neutrino did not start:"; cat "$work/server.log"; exit 1
}
stop() { kill "$(cat "$work/pid")"; wait "$(cat "$work/pid")" 2>/dev/null || true; }
bench() { "$work/client" bench --endpoint "http://127.0.0.1:$PORT" --clients "$CLIENTS" "$@"; }
deadlocks() { psql -h 127.0.0.1 -U root -d test -Atc "SELECT deadlocks FROM pg_stat_database WHERE datname = 'neutrino_locks'"; }
rows_read() { # ipallocations rows PostgreSQL's scans have read (once the server's connections reported)
  sleep 2
  psql -h 127.0.0.1 -U root -d neutrino_locks -Atc "SELECT COALESCE((SELECT SUM(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'ipallocations'), 0) + COALESCE((SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'ipallocations'), 0)"
}
api() { curl -sf -X "$1" -H 'Content-Type: application/json' -d "$3" "http://127.0.0.1:$PORT$2"; }
probe() { # probe NETWORK LABEL: 200 port creates one after the other on NETWORK (one connection)
  local r0 r1 us
  r0=$(rows_read)
  us=$(python3 - "$PORT" "$1" <<'PY'
import http.client, json, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
body = json.dumps({"port": {"network_id": sys.argv[2]}})
t0 = time.monotonic()
for _ in range(200):
    c.request("POST", "/v2.0/ports", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
print(int((time.monotonic() - t0) / 200 * 1e6))
PY
)
  r1=$(rows_read)
  echo "$2: 200 port creates one after the other: $us µs each, $(( (r1 - r0) / 200 )) allocation rows read per create"
}

for bin in "${bins[@]}"; do
  echo "== $bin, PostgreSQL"
  psql -h 127.0.0.1 -U root -d test -qc "DROP DATABASE IF EXISTS neutrino_locks" -c "CREATE DATABASE neutrino_locks" >/dev/null
  serve "$bin" "$PG/neutrino_locks"
  d0=$(deadlocks)
  bench --n "$ROUNDS" --resource networks --phases race
  sleep 2 # the server's connections report their statistics when idle
  echo "deadlocks detected by PostgreSQL: $(( $(deadlocks) - d0 ))"
  echo "server log lines naming a deadlock: $(grep -c "deadlock detected" "$work/server.log" || true)"
  net=$(api POST /v2.0/networks '{"network": {"name": "probe"}}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["network"]["id"])')
  api POST /v2.0/subnets "{\"subnet\": {\"network_id\": \"$net\", \"cidr\": \"10.130.0.0/16\", \"ip_version\": 4}}" >/dev/null
  probe "$net" "empty /16 subnet"
  phases=$(printf 'create,%.0s' $(seq $((FILL / 1000))) | sed 's/,$//')
  bench --n 1000 --resource ports --phases "$phases" | awk '/create/ {printf "ports %6d-%6d: %s\n", (n)*1000, (n+1)*1000, $0; n++; next} {print}'
  # the bench deletes the ports of its last thousand, not the others
  net=$(psql -h 127.0.0.1 -U root -d neutrino_locks -Atc "SELECT network_id FROM subnets WHERE cidr = '10.128.0.0/16'")
  probe "$net" "/16 subnet with $((FILL - 1000)) ports"
  stop
  echo "== $bin, MariaDB"
  mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS neutrino_locks; CREATE DATABASE neutrino_locks CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  serve "$bin" "$MYSQL/neutrino_locks"
  bench --n "$ROUNDS" --resource networks --phases race
  stop
done
