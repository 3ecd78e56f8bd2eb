#!/usr/bin/env bash
# mem-lists.sh BIN...: issue 12's memory figure for each neutrino binary, one
# after the other on the same machine: a fresh SQLite database with N ports
# (default 50,000, bulk-created), then PARALLEL (8) whole-collection
# GET /v2.0/ports at once; prints the server's RSS before, its peak during
# the lists (sampled every 20 ms), and 30 s after, with each list's time.
#
#   scripts/mem-lists.sh /tmp/neutrino-before /tmp/neutrino-after
set -euo pipefail
N=${N:-50000}; PARALLEL=${PARALLEL:-8}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
for bin in "$@"; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -f "$work"/m.db*
  "$bin" serve --bind-port "$port" --database-connection "sqlite:///$work/m.db" --set quotas.quota_port=-1 >"$work/log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  python3 - "$port" "$pid" "$N" "$PARALLEL" "$bin" <<'PY'
import json, sys, threading, time, urllib.request
port, pid, n, par, name = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
u = "http://127.0.0.1:%d/v2.0/" % port
def post(path, body):
    r = urllib.request.Request(u + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r, timeout=600))
def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) // 1024
net = post("networks", {"network": {"name": "big"}})["network"]["id"]
post("subnets", {"subnet": {"network_id": net, "cidr": "10.64.0.0/16", "ip_version": 4}})
for i in range(0, n, 1000):
    post("ports", {"ports": [{"network_id": net, "name": "p%d" % (i + j)} for j in range(1000)]})
time.sleep(2)
before, peak, done = rss(), [0], []
def sample():
    while not done:
        peak[0] = max(peak[0], rss()); time.sleep(0.02)
def get(times):
    t = time.time()
    with urllib.request.urlopen(u + "ports", timeout=600) as r:
        while r.read(1 << 20):
            pass
    times.append(time.time() - t)
s = threading.Thread(target=sample); s.start()
times = []
ts = [threading.Thread(target=get, args=(times,)) for _ in range(par)]
[t.start() for t in ts]; [t.join() for t in ts]
done.append(1); s.join()
time.sleep(30)
print("%s: %d ports, %d parallel lists: RSS before %d MB, peak %d MB, 30 s after %d MB; list time %.1f-%.1f s"
      % (name, n, par, before, peak[0], rss(), min(times), max(times)))
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
