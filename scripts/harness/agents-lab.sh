#!/bin/bash
# agents-lab.sh: Debian's unmodified Zed Neutron agents (Open vSwitch, DHCP, L3) on this machine,
# attached to a Neutron-compatible server (neutrino, or the reference Neutron) over RabbitMQ, with
# Open vSwitch on the userspace datapath and network namespaces standing in for VMs.
#
#   agents-lab.sh install             apt-get the agents, Open vSwitch and the tools (no service is started)
#   agents-lab.sh up                  take the OVS lock, start ovsdb-server + ovs-vswitchd (--disable-system),
#                                     the physical bridge, then the three agents; wait until the server lists
#                                     them alive (when SERVER_URL answers)
#   agents-lab.sh down                stop agents, dnsmasq/haproxy/dhclient they left, our namespaces, bridges,
#                                     OVS; release the lock
#   agents-lab.sh restart-agents      stop and start the three agents (they resync)
#   agents-lab.sh status              processes, agents as the server lists them, bridges, namespaces
#   agents-lab.sh vm plug NAME PORT_ID MAC [DEVICE_ID [BRIDGE]]   play Nova: namespace ntvm-NAME, veth on the
#                                     integration bridge with iface-id/attached-mac/iface-status (on BRIDGE,
#                                     made as os-vif makes it, when the port's vif_details bridge_name is
#                                     another one: a trunk parent's tbr-<trunk>)
#   agents-lab.sh vm dhcp NAME        dhclient in the VM (address, MTU, default route; no resolv.conf)
#   agents-lab.sh vm ip NAME          the VM's IPv4 address
#   agents-lab.sh vm exec NAME CMD... run CMD in the VM's namespace
#   agents-lab.sh vm unplug NAME
#   agents-lab.sh ext up|down         namespace ntvm-ext on the physical bridge (172.31.251.1/24): the
#                                     "external host" of a flat network on physnet EXT_PHYSNET
#   agents-lab.sh smoke               network, subnet, a VM port plugged: DHCP namespace, port ACTIVE,
#                                     DHCP lease, cleanup; "N passed, M failed"
#
# Environment:
#   TRANSPORT_URL  the agents' transport_url (rabbit://guest:guest@127.0.0.1:5672/neutrino-agents); the
#                  server must use the same one. With a 127.0.0.1 URL the vhost is created (guest rights)
#                  unless VHOST_SETUP=0; RESET_VHOST=1 deletes it first.
#   SERVER_URL     the server's API for the waits/checks (http://127.0.0.1:9696), noauth
#   AGENT_HOST     the agents' [DEFAULT] host (default: hostname); bind ports to it
#   LAB            working directory (/tmp/neutrino-agents): etc/, log/, state/, lock/, ovs/
#   OVS_LOCK_WAIT  seconds to wait for /tmp/neutrino-ovs.lock (1800): only one userspace OVS may run on a
#                  machine; the lock is held by a helper process from `up` until `down`
#   OF_PORT        the OVS agent's OpenFlow listener (36634)
#   EXT_PHYSNET    physical network mapped to the physical bridge (extnet)
#   OVS_USE_VETH   DHCP/L3 interface driver ovs_use_veth (False)
set -u
LAB=${LAB:-/tmp/neutrino-agents}
TRANSPORT_URL=${TRANSPORT_URL:-rabbit://guest:guest@127.0.0.1:5672/neutrino-agents}
SERVER_URL=${SERVER_URL:-http://127.0.0.1:9696}
AGENT_HOST=${AGENT_HOST:-$(hostname)}
OVS_LOCK=/tmp/neutrino-ovs.lock
OVS_LOCK_WAIT=${OVS_LOCK_WAIT:-1800}
OF_PORT=${OF_PORT:-36634}
EXT_PHYSNET=${EXT_PHYSNET:-extnet}
OVS_USE_VETH=${OVS_USE_VETH:-False}
BR_INT=nt-int BR_TUN=nt-tun BR_EX=nt-ex
PY=/usr/bin/python3   # Debian's interpreter (not a pyenv shim)
AGENTS="openvswitch dhcp l3"
export OVS_RUNDIR=$LAB/ovs OVS_LOGDIR=$LAB/ovs/log OVS_DBDIR=$LAB/ovs/db OVS_SYSCONFDIR=$LAB/ovs/etc

log() { echo "[agents-lab] $*" >&2; }
fail() { log "ERROR: $*"; exit 1; }

# until SECONDS CMD...: run CMD every 0.5 s until it succeeds; false after SECONDS
until_ok() {
	local n=$(($1 * 2))
	shift
	until "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.5
	done
}

# mine PID: the process runs with our lab's paths on its command line
mine() { [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$LAB"; }

# halt PIDFILE [SECONDS]: SIGTERM the recorded process if it is ours, wait, then SIGKILL
halt() {
	local f=$1 secs=${2:-30} pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if mine "$pid"; then
		kill "$pid" 2>/dev/null
		until_ok "$secs" bash -c "! [ -e /proc/$pid ] || grep -q '^State:.*Z' /proc/$pid/status"
		if mine "$pid"; then
			log "pid $pid ($f) ignored SIGTERM, killing"
			kill -9 "$pid" 2>/dev/null
		fi
	fi
	rm -f "$f"
}

# ------------------------------------------------------------------ install
install() {
	local want="neutron-openvswitch-agent neutron-dhcp-agent neutron-l3-agent openvswitch-switch
		dnsmasq-base haproxy isc-dhcp-client socat ethtool iproute2 iptables curl python3-oslo.messaging"
	local missing="" p policy=0
	for p in $want; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
	[ -z "$missing" ] && { log "packages present"; return 0; }
	export DEBIAN_FRONTEND=noninteractive
	# policy-rc.d: the packages' maintainer scripts must not start their services (we start our own)
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		policy=1
	fi
	log "installing$missing"
	apt-get -o DPkg::Lock::Timeout=900 update -qq &&
		apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends $missing >"${TMPDIR:-/tmp}/agents-lab-apt.log" 2>&1
	local rc=$?
	[ "$policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || fail "apt-get failed, see ${TMPDIR:-/tmp}/agents-lab-apt.log"
}

# ------------------------------------------------------------------ configuration
configure() {
	mkdir -p "$LAB"/{etc,log,state,lock,bin} "$OVS_RUNDIR" "$OVS_LOGDIR" "$OVS_DBDIR" "$OVS_SYSCONFDIR"
	local sock=unix:$OVS_RUNDIR/db.sock
	cat >"$LAB/etc/agent-common.conf" <<-EOF
		[DEFAULT]
		host = $AGENT_HOST
		debug = True
		transport_url = $TRANSPORT_URL
		state_path = $LAB/state
		[agent]
		# As root, "env" runs commands directly and starts privsep as "env privsep-helper" instead of
		# "sudo privsep-helper": sudo would drop OVS_RUNDIR, and ovs-ofctl inside privsep would then
		# look for the bridges' sockets in /var/run/openvswitch.
		root_helper = env
		report_interval = 30
		[oslo_concurrency]
		lock_path = $LAB/lock
	EOF
	cat >"$LAB/etc/openvswitch_agent.ini" <<-EOF
		[ovs]
		integration_bridge = $BR_INT
		tunnel_bridge = $BR_TUN
		local_ip = 127.0.0.1
		bridge_mappings = $EXT_PHYSNET:$BR_EX
		datapath_type = netdev
		ovsdb_connection = $sock
		of_listen_address = 127.0.0.1
		of_listen_port = $OF_PORT
		[agent]
		tunnel_types = vxlan
		l2_population = False
		[securitygroup]
		enable_security_group = True
		firewall_driver = openvswitch
	EOF
	local ovs_section="[OVS]
integration_bridge = $BR_INT
datapath_type = netdev
ovsdb_connection = $sock"
	printf '[DEFAULT]\ninterface_driver = openvswitch\ndhcp_driver = neutron.agent.linux.dhcp.Dnsmasq\novs_use_veth = %s\nenable_isolated_metadata = False\n%s\n' \
		"$OVS_USE_VETH" "$ovs_section" >"$LAB/etc/dhcp_agent.ini"
	printf '[DEFAULT]\ninterface_driver = openvswitch\nagent_mode = legacy\novs_use_veth = %s\n%s\n' \
		"$OVS_USE_VETH" "$ovs_section" >"$LAB/etc/l3_agent.ini"
	# dhclient hook: address, MTU, default route; logs the lease, never touches /etc/resolv.conf
	cat >"$LAB/bin/dhclient-script" <<-'EOF'
		#!/bin/sh
		echo "$reason ip=$new_ip_address/$new_subnet_mask routers=$new_routers mtu=$new_interface_mtu lease=$new_dhcp_lease_time" >>"@LOG@/dhclient-$(ip netns identify).log"
		case "$reason" in
		PREINIT) ip link set dev "$interface" up ;;
		BOUND | RENEW | REBIND | REBOOT)
			ip -4 addr flush dev "$interface"
			ip -4 addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
			[ -n "$new_interface_mtu" ] && ip link set dev "$interface" mtu "$new_interface_mtu"
			for r in $new_routers; do ip -4 route replace default via "$r" dev "$interface"; break; done ;;
		EXPIRE | FAIL | RELEASE | STOP) ip -4 addr flush dev "$interface" ;;
		esac
		exit 0
	EOF
	sed -i "s#@LOG@#$LAB/log#" "$LAB/bin/dhclient-script"
	chmod +x "$LAB/bin/dhclient-script"
}

# vhost on the local broker, from TRANSPORT_URL's path
setup_vhost() {
	[ "${VHOST_SETUP:-1}" = 1 ] || return 0
	case $TRANSPORT_URL in *@127.0.0.1:* | *@localhost:* | rabbit://127.0.0.1* | rabbit://localhost*) ;; *) return 0 ;; esac
	local vhost
	vhost=$($PY -c 'import sys, urllib.parse as u; p = sys.argv[1].split("://", 1)[1].split("?")[0]
print(u.unquote(p.split("/", 1)[1]) if "/" in p else "")' "$TRANSPORT_URL")
	[ -n "$vhost" ] || vhost=/
	[ "${RESET_VHOST:-0}" = 1 ] && [ "$vhost" != / ] && rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1
	rabbitmqctl -q add_vhost "$vhost" >/dev/null 2>&1
	rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' || fail "rabbitmq permissions on $vhost"
}

# ------------------------------------------------------------------ Open vSwitch (userspace datapath)
take_lock() {
	[ -f "$LAB/lock-holder.pid" ] && mine "$(cat "$LAB/lock-holder.pid")" && [ -e "$LAB/lock-held" ] && return 0
	rm -f "$LAB/lock-held"
	log "waiting for $OVS_LOCK (up to ${OVS_LOCK_WAIT}s)"
	# One process holds the lock from `up` to `down`: a shell that opens the lock file, takes the lock and
	# execs into a sleep whose argv[0] names $LAB (so that mine() knows it); killing it releases the lock.
	setsid bash -c "exec 9>>'$OVS_LOCK'; flock -x -w '$OVS_LOCK_WAIT' 9 || exit 1; touch '$LAB/lock-held' || exit 1; exec -a 'agents-lab-lock:$LAB' sleep infinity" \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$LAB/lock-holder.pid"
	until [ -e "$LAB/lock-held" ]; do
		mine "$(cat "$LAB/lock-holder.pid")" || fail "could not get $OVS_LOCK within ${OVS_LOCK_WAIT}s"
		sleep 1
	done
	holds_lock || fail "the lock holder died or $OVS_LOCK was replaced"
	# a userspace OVS that runs without the lock still owns the ovs-netdev tap: never start a second one
	until_ok 60 bash -c '! ip link show ovs-netdev' ||
		fail "another userspace Open vSwitch runs (ovs-netdev exists) although we hold $OVS_LOCK"
	log "holding $OVS_LOCK (pid $(cat "$LAB/lock-holder.pid"))"
}

# holds_lock: our holder is alive and its descriptor 9, on which it took the flock, is the current lock file
# (/proc/locks names the short-lived flock(1) process, not the holder, so it cannot tell who holds it)
holds_lock() {
	local pid ino
	pid=$(cat "$LAB/lock-holder.pid" 2>/dev/null)
	mine "$pid" || return 1
	ino=$(stat -c %i "$OVS_LOCK" 2>/dev/null) || return 1
	[ "$(stat -L -c %i "/proc/$pid/fd/9" 2>/dev/null)" = "$ino" ]
}

release_lock() {
	halt "$LAB/lock-holder.pid" 5
	rm -f "$LAB/lock-held"
}

ovs_up() {
	rm -f "$OVS_DBDIR/conf.db"
	ovsdb-tool create "$OVS_DBDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema || fail "ovsdb-tool"
	ovsdb-server "$OVS_DBDIR/conf.db" --remote="punix:$OVS_RUNDIR/db.sock" \
		--remote=db:Open_vSwitch,Open_vSwitch,manager_options --pidfile="$OVS_RUNDIR/ovsdb-server.pid" \
		--unixctl="$OVS_RUNDIR/ovsdb-server.ctl" --log-file="$OVS_LOGDIR/ovsdb-server.log" --detach --no-chdir \
		2>>"$OVS_LOGDIR/start.err" ||
		fail "ovsdb-server"
	ovs-vsctl --no-wait init
	ovs-vswitchd "unix:$OVS_RUNDIR/db.sock" --disable-system --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" \
		--log-file="$OVS_LOGDIR/ovs-vswitchd.log" --detach --no-chdir 2>>"$OVS_LOGDIR/start.err" || fail "ovs-vswitchd"
	# the mapped physical bridge must exist before the OVS agent starts; it creates $BR_INT and $BR_TUN
	ovs-vsctl --may-exist add-br "$BR_EX" -- set bridge "$BR_EX" datapath_type=netdev 2>>"$OVS_LOGDIR/start.err" ||
		fail "add-br $BR_EX (see $OVS_LOGDIR/ovs-vswitchd.log)"
}

ovs_down() {
	if [ -S "$OVS_RUNDIR/db.sock" ]; then
		# every bridge (trunk bridges too): the last netdev bridge gone takes the ovs-netdev tap with it
		for b in $BR_INT $BR_TUN $BR_EX $(ovs-vsctl --timeout=5 list-br 2>/dev/null); do ovs-vsctl --timeout=5 --if-exists del-br "$b"; done
	fi
	if [ -f "$OVS_RUNDIR/ovs-vswitchd.pid" ] && mine "$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")"; then
		ovs-appctl -t "$OVS_RUNDIR/ovs-vswitchd.$(cat "$OVS_RUNDIR/ovs-vswitchd.pid").ctl" exit >/dev/null 2>&1 ||
			halt "$OVS_RUNDIR/ovs-vswitchd.pid" 10
	fi
	halt "$OVS_RUNDIR/ovs-vswitchd.pid" 10
	halt "$OVS_RUNDIR/ovsdb-server.pid" 10
}

# ------------------------------------------------------------------ agents
start_agent() {
	local a=$1
	cd "$LAB" || return 1
	# "setsid CMD &" directly, so that $! is the agent itself
	setsid "neutron-$a-agent" --config-file "$LAB/etc/agent-common.conf" --config-file "$LAB/etc/${a}_agent.ini" \
		--log-file "$LAB/log/$a-agent.log" </dev/null >"$LAB/log/$a-agent.out" 2>&1 &
	echo $! >"$LAB/$a-agent.pid"
}

api() { # api METHOD PATH [BODY]
	curl -s -X "$1" -H 'Content-Type: application/json' "$SERVER_URL/v2.0/$2" ${3:+-d "$3"}
}
pyjson() { $PY -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"; }

alive_count() { api GET "agents?host=$AGENT_HOST" | pyjson 'sum(1 for a in d["agents"] if a["alive"])' 2>/dev/null; }
alive_at_least() { [ "$(alive_count)" -ge "$1" ] 2>/dev/null; }

up() {
	[ "$(id -u)" = 0 ] || fail "run as root"
	[ -f "$LAB/openvswitch-agent.pid" ] && mine "$(cat "$LAB/openvswitch-agent.pid")" && fail "already up (down first)"
	command -v neutron-openvswitch-agent >/dev/null || install
	configure
	setup_vhost
	# until `up` has finished, leaving early (error, ^C) undoes it and releases the lock
	trap 'down' EXIT
	trap 'exit 130' INT TERM
	take_lock
	holds_lock || fail "lost $OVS_LOCK before starting Open vSwitch"
	ovs_up
	log "OVS up (userspace datapath), bridges in $OVS_RUNDIR"
	start_agent openvswitch
	until_ok 60 test -S "$OVS_RUNDIR/$BR_INT.mgmt" || log "WARNING: $BR_INT not created after 60 s"
	start_agent dhcp
	start_agent l3
	if curl -sf -o /dev/null "$SERVER_URL/v2.0/agents"; then
		until_ok 120 alive_at_least 3 || log "WARNING: fewer than 3 agents alive after 120 s"
		log "alive agents on $AGENT_HOST: $(alive_count)"
	else
		log "no server answers on $SERVER_URL/v2.0/agents: not waiting for the agents to register"
	fi
	trap - EXIT INT TERM
}

restart_agents() {
	for a in l3 dhcp openvswitch; do halt "$LAB/$a-agent.pid" 40; done
	for a in $AGENTS; do start_agent "$a"; done
	until_ok 120 alive_at_least 3 || log "WARNING: fewer than 3 agents alive after 120 s"
}

# namespaces of ours: the agents' qdhcp-/qrouter- ones known to our state dir or holding a port of our
# bridges, and our VMs
our_namespaces() {
	local ports ns ifs
	ports=" $(for b in $BR_INT $BR_EX $BR_TUN; do ovs-vsctl --timeout=5 list-ports "$b" 2>/dev/null; done | tr '\n' ' ') "
	for ns in $(ip netns list | awk '{print $1}'); do
		case $ns in
		ntvm-*) echo "$ns" ;;
		qdhcp-* | qrouter-*)
			if [ -d "$LAB/state/dhcp/${ns#qdhcp-}" ] || [ -e "$LAB/state/ns-metadata-proxy/${ns#qrouter-}.conf" ]; then
				echo "$ns"
				continue
			fi
			for ifs in $(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
				case $ports in *" $ifs "*) echo "$ns"; break ;; esac
			done ;;
		esac
	done
}

down() {
	local nss f pid
	nss=$(our_namespaces)
	for a in l3 dhcp openvswitch; do halt "$LAB/$a-agent.pid" 40; done
	# dnsmasq and haproxy outlive the agents on purpose; dhclient is ours
	for f in "$LAB"/state/dhcp/*/pid "$LAB"/state/external/pids/*.pid "$LAB"/state/dhclient-*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null)
		mine "$pid" && kill "$pid" 2>/dev/null
		rm -f "$f"
	done
	# the L3 agent's metadata proxies, whatever became of their pid files
	pkill -f "$LAB/state/ns-metadata-proxy/" 2>/dev/null || true
	for ns in $nss; do ip netns del "$ns" 2>/dev/null && log "deleted netns $ns"; done
	ovs_down
	release_lock
	rm -rf "$LAB"/state/dhcp/* "$LAB"/state/external/pids/* "$LAB"/state/ns-metadata-proxy/*
	log "down"
}

status() {
	local p
	for p in lock-holder openvswitch-agent dhcp-agent l3-agent ovs/ovs-vswitchd ovs/ovsdb-server; do
		if [ -f "$LAB/$p.pid" ] && mine "$(cat "$LAB/$p.pid")"; then echo "$p: running ($(cat "$LAB/$p.pid"))"; else echo "$p: stopped"; fi
	done
	api GET agents 2>/dev/null | $PY -c 'import json, sys
for a in json.load(sys.stdin)["agents"]:
    print("  %-20s host=%-12s alive=%s admin_state_up=%s" % (a["agent_type"], a["host"], a["alive"], a["admin_state_up"]))' 2>/dev/null
	[ -S "$OVS_RUNDIR/db.sock" ] && ovs-vsctl show
	our_namespaces
}

# ------------------------------------------------------------------ VMs (Nova's part)
vm() {
	local cmd=$1 name=$2 ns=ntvm-$2 host_if=nt$2h
	case $cmd in
	plug) # NAME PORT_ID MAC [DEVICE_ID [BRIDGE]]
		local port=$3 mac=$4 dev=${5:-} br=${6:-$BR_INT}
		[ ${#host_if} -le 15 ] || fail "VM name $name too long for an interface name"
		ip netns add "$ns" || return 1
		ip link add "$host_if" type veth peer name "nt$2g" netns "$ns" || return 1
		ip -n "$ns" link set "nt$2g" name eth0
		ip -n "$ns" link set eth0 address "$mac"
		ip -n "$ns" link set lo up
		ip -n "$ns" link set eth0 up
		# userspace datapath with AF_PACKET: nothing completes partial checksums, so no TX offload
		ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
		ip link set "$host_if" up
		[ "$br" = "$BR_INT" ] || ovs-vsctl -- --may-exist add-br "$br" -- set bridge "$br" datapath_type=netdev || return 1
		ovs-vsctl -- --may-exist add-port "$br" "$host_if" -- set interface "$host_if" \
			external_ids:iface-id="$port" external_ids:attached-mac="$mac" external_ids:iface-status=active \
			${dev:+external_ids:vm-uuid=$dev} ;;
	dhcp)
		timeout 30 ip netns exec "$ns" dhclient -1 -sf "$LAB/bin/dhclient-script" \
			-lf "$LAB/state/dhclient-$name.leases" -pf "$LAB/state/dhclient-$name.pid" eth0 ;;
	ip) ip -n "$ns" -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1 ;;
	exec) shift 2; ip netns exec "$ns" "$@" ;;
	unplug)
		[ -f "$LAB/state/dhclient-$name.pid" ] && kill "$(cat "$LAB/state/dhclient-$name.pid")" 2>/dev/null
		rm -f "$LAB/state/dhclient-$name.pid" "$LAB/state/dhclient-$name.leases"
		ovs-vsctl --if-exists del-port "$host_if"
		ip link del "$host_if" 2>/dev/null
		ip netns del "$ns" 2>/dev/null ;;
	*) fail "vm plug|dhcp|ip|exec|unplug" ;;
	esac
}

ext() {
	case $1 in
	up)
		ip netns add ntvm-ext
		ip link add ntexth type veth peer name eth0 netns ntvm-ext
		ip -n ntvm-ext link set lo up
		ip -n ntvm-ext link set eth0 up
		ip netns exec ntvm-ext ethtool -K eth0 tx off >/dev/null
		ip -n ntvm-ext addr add 172.31.251.1/24 dev eth0
		ip link set ntexth up
		ovs-vsctl --may-exist add-port "$BR_EX" ntexth ;;
	down)
		ovs-vsctl --if-exists del-port "$BR_EX" ntexth
		ip link del ntexth 2>/dev/null
		ip netns del ntvm-ext 2>/dev/null ;;
	*) fail "ext up|down" ;;
	esac
}

# ------------------------------------------------------------------ smoke check
smoke() {
	local pass=0 failed=0 net sub port mac ip dhcp_ip
	ok() { pass=$((pass + 1)); echo "PASS: $*"; }
	ko() { failed=$((failed + 1)); echo "FAIL: $*"; }
	expect() { local d=$1 t=$2; shift 2; if until_ok "$t" "$@"; then ok "$d"; else ko "$d"; fi; }
	port_status_is() { [ "$(api GET "ports/$1" | pyjson 'd["port"]["status"]')" = "$2" ]; }
	expect "three agents alive on $AGENT_HOST" 60 alive_at_least 3
	net=$(api POST networks '{"network": {"name": "ntlab-smoke"}}' | pyjson 'd["network"]["id"]')
	sub=$(api POST subnets "{\"subnet\": {\"network_id\": \"$net\", \"ip_version\": 4, \"cidr\": \"10.97.0.0/24\"}}" |
		pyjson 'd["subnet"]["id"]')
	expect "qdhcp-$net serves 10.97.0.2" 60 bash -c "ip -n qdhcp-$net -4 -o addr | grep -q ' 10.97.0.2/'"
	read -r port mac ip < <(api POST ports "{\"port\": {\"network_id\": \"$net\", \"binding:host_id\": \"$AGENT_HOST\",
		\"device_owner\": \"compute:nova\", \"device_id\": \"5a10e000-0000-4000-8000-000000000001\"}}" |
		pyjson '"%s %s %s" % (d["port"]["id"], d["port"]["mac_address"], d["port"]["fixed_ips"][0]["ip_address"])')
	vm plug smoke "$port" "$mac" 5a10e000-0000-4000-8000-000000000001
	expect "VM port ACTIVE after plugging" 60 port_status_is "$port" ACTIVE
	vm dhcp smoke >/dev/null 2>&1
	dhcp_ip=$(vm ip smoke)
	if [ "$dhcp_ip" = "$ip" ]; then ok "dhclient got $ip"; else ko "dhclient got '$dhcp_ip', want $ip"; fi
	vm unplug smoke
	expect "VM port DOWN after unplugging" 60 port_status_is "$port" DOWN
	api DELETE "ports/$port" >/dev/null
	api DELETE "subnets/$sub" >/dev/null
	api DELETE "networks/$net" >/dev/null
	expect "qdhcp-$net removed" 60 bash -c "! ip netns list | grep -q qdhcp-$net"
	echo "$pass passed, $failed failed"
	[ "$failed" = 0 ]
}

case ${1:-} in
install) install ;;
up) up ;;
down) down ;;
restart-agents) restart_agents ;;
status) status ;;
vm) shift; vm "$@" ;;
ext) shift; ext "$@" ;;
smoke) smoke ;;
*) sed -n '2,41p' "$0"; exit 2 ;;
esac
