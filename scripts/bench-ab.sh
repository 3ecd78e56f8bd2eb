#!/usr/bin/env bash
# bench-ab.sh OLD_REV [NEW_REV]: the same benchmark workload (neutrino bench,
# built from the work tree) against a server built from OLD_REV and one built from
# NEW_REV (default: the work tree), alternating ROUNDS times on fresh SQLite
# (and PostgreSQL with ENGINES="sqlite pg") databases, so that both see the
# same machine load; prints req/s and the server's CPU time per request
# (which a busy machine hardly moves) per phase and round for each side.
#
#   scripts/bench-ab.sh a912728^            # before the plugin seams vs now
#   ROUNDS=5 N=3000 ENGINES="sqlite pg" scripts/bench-ab.sh v0.1 HEAD
#   RESOURCES=networks ROUNDS=6 scripts/bench-ab.sh a912728^   # one resource
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1; NEW=${2:-}
N=${N:-2000}; CLIENTS=${CLIENTS:-8}; ROUNDS=${ROUNDS:-3}; ENGINES=${ENGINES:-sqlite}
PG=${PG:-postgresql://root@127.0.0.1:5432}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; git worktree remove --force "$work/old" >/dev/null 2>&1 || true; [[ -n $NEW ]] && git worktree remove --force "$work/new" >/dev/null 2>&1; rm -rf "$work"' EXIT
build() { # build REV OUT
  git worktree add -q --detach "$work/$2" "$1"
  (cd "$work/$2" && go build -o "$work/$2.bin" ./cmd/neutrino)
}
build "$OLD" old
go build -o "$work/client.bin" ./cmd/neutrino # the load generator: always the work tree's
if [[ -n $NEW ]]; then build "$NEW" new; else cp "$work/client.bin" "$work/new.bin"; fi
serve() { # serve BIN URL: on a free port of its own (PORT)
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local extra=()
  [[ $("$1" serve --help 2>&1) == *--auto-migrate* ]] && extra=(--auto-migrate) # older builds migrate on their own
  "$1" serve --bind-port $PORT --database-connection "$2" "${extra[@]}" >"$work/server.log" 2>&1 &
  echo $! >"$work/pid"
  for _ in $(seq 100); do
    kill -0 "$(cat "$work/pid")" 2>/dev/null || break
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/" && return
    sleep 0.1
  done
  echo "server did not start:"; cat "$work/server.log"; exit 1
}
stop() { kill "$(cat "$work/pid")"; wait "$(cat "$work/pid")" 2>/dev/null || true; }
fresh() { # fresh ENGINE ROUND: a new database URL
  case $1 in
  sqlite) echo "sqlite:///$work/b$2.db" ;;
  pg) psql -h 127.0.0.1 -U root -d test -qc "DROP DATABASE IF EXISTS neutrino_ab" -c "CREATE DATABASE neutrino_ab" >/dev/null
      echo "$PG/neutrino_ab" ;;
  esac
}
for engine in $ENGINES; do
  for r in $(seq "$ROUNDS"); do
    for side in old new; do
      serve "$work/$side.bin" "$(fresh "$engine" "$r$side")"
      for res in ${RESOURCES:-networks ports}; do
        "$work/client.bin" bench --endpoint "http://127.0.0.1:$PORT" --server-pid "$(cat "$work/pid")" --clients "$CLIENTS" -n "$N" --resource "$res" |
          sed "s/^/$engine round=$r side=$side $res: /"
      done
      stop
    done
  done
done
