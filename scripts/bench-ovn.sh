#!/usr/bin/env bash
# bench-ovn.sh: the ovn mechanism driver's figures in one sitting (issue 10):
#   1. port create req/s at CLIENTS clients: neutrino with OVN off and on (same configuration but
#      [ml2] mechanism_drivers, fresh SQLite databases; "on" writes every port to a real OVN NB of
#      ovn-lab.sh central before answering), and the reference Neutron at REF_URL if it answers
#      (REF_N ports: it is slow; start it with ../shared/reference/neutron-up.sh);
#   2. port create -> ACTIVE latency over LAT_N ports plugged into the OVN lab
#      (TestActiveLatency: full lab, takes /tmp/neutrino-ovs.lock itself). LAT_N=0 skips it.
#
#   scripts/bench-ovn.sh
#   N=500 REF_N=100 LAT_N=50 scripts/bench-ovn.sh
#
# Env: N (2000), REF_N (200), CLIENTS (8), LAT_N (200), REF_URL (http://127.0.0.1:19696),
#      NB/SB ports of the private OVN central (BENCH_NB_PORT 16941, BENCH_SB_PORT 16942).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-2000}; REF_N=${REF_N:-200}; CLIENTS=${CLIENTS:-8}; LAT_N=${LAT_N:-200}
REF_URL=${REF_URL:-http://127.0.0.1:19696}
NBP=${BENCH_NB_PORT:-16941}; SBP=${BENCH_SB_PORT:-16942}
work=$(mktemp -d)
export OVN_LAB=$work/ovn OVN_LAB_NB_PORT=$NBP OVN_LAB_SB_PORT=$SBP
trap 'kill $(jobs -p) 2>/dev/null || true; scripts/harness/ovn-lab.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
BIN=$work/neutrino
go build -o "$BIN" ./cmd/neutrino
scripts/harness/ovn-lab.sh central >/dev/null
echo "# $(date -u '+%Y-%m-%d %H:%M:%S') UTC, neutrino $(git rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

bench_neutrino() { # bench_neutrino NAME MECH_DRIVERS
	local port=19961 conf=$work/$1.conf
	cat >"$conf" <<-EOF2
		[DEFAULT]
		auth_strategy = noauth
		bind_port = $port
		api_workers = 1
		service_plugins = ovn-router
		[database]
		connection = sqlite:///$work/$1.db
		[ml2]
		type_drivers = geneve,flat,vlan
		tenant_network_types = geneve
		mechanism_drivers = $2
		extension_drivers = port_security
		[ml2_type_geneve]
		vni_ranges = 1:65536
		max_header_size = 38
		[ovn]
		ovn_nb_connection = tcp:127.0.0.1:$NBP
		ovn_sb_connection = tcp:127.0.0.1:$SBP
	EOF2
	"$BIN" serve --config-file "$conf" >"$work/$1.log" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	printf '%-22s ' "neutrino, $1:"
	"$BIN" bench --endpoint "http://127.0.0.1:$port" --resource ports --phases create -n "$N" --clients "$CLIENTS" --server-pid "$pid" | grep -E 'create'
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "## port create, $CLIENTS clients"
bench_neutrino "OVN off" openvswitch
bench_neutrino "OVN on" ovn
if curl -sf -o /dev/null "$REF_URL/"; then
	printf '%-22s ' "reference (ML2/OVS):"
	"$BIN" bench --endpoint "$REF_URL" --resource ports --phases create -n "$REF_N" --clients "$CLIENTS" | grep -E 'create'
else
	echo "reference: no answer on $REF_URL (start it with ../shared/reference/neutron-up.sh)"
fi
scripts/harness/ovn-lab.sh stop >/dev/null 2>&1 || true
if [ "$LAT_N" -gt 0 ]; then
	echo "## port create -> ACTIVE over $LAT_N ports plugged into the OVN lab"
	NEUTRINO_OVN_BENCH=$LAT_N go test -count=1 -run TestActiveLatency -v ./internal/mechovn | grep -E 'p50|p99|ok|FAIL'
fi
