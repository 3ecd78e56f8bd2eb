#!/bin/bash
# ovn-lab.sh: neutrino's single-chassis OVN lab. Open vSwitch runs on the userspace datapath
# (this kernel has no openvswitch module), network namespaces play the VMs.
#
#   ovn-lab.sh install            apt-get install the packages the lab needs (apt starts no service)
#   ovn-lab.sh start              take /tmp/neutrino-ovs.lock (held until stop), then start
#                                 ovsdb-server + ovs-vswitchd (--disable-system, netdev bridges),
#                                 the OVN NB and SB ovsdb-servers (unix sockets and tcp:127.0.0.1:
#                                 $OVN_LAB_NB_PORT / $OVN_LAB_SB_PORT), ovn-northd, ovn-controller
#                                 (chassis $OVN_LAB_CHASSIS, geneve, encap 127.0.0.1, bridge mapping
#                                 $OVN_LAB_PHYSNET:$OVN_LAB_BR_EX, enable-chassis-as-gw)
#   ovn-lab.sh central            only the OVN central part of start (NB and SB ovsdb-servers, ovn-northd):
#                                 no Open vSwitch, so neither the lock nor root is needed; stop stops it
#   ovn-lab.sh fake-chassis NAME  SB Chassis (gateway, bridge mapping $OVN_LAB_PHYSNET) and Chassis_Private
#                                 rows with no ovn-controller behind them (agents for API-only tests)
#   ovn-lab.sh stop               stop everything started here, remove its namespaces, release the lock
#   ovn-lab.sh status             daemons, ovs-vsctl show, ovn-nbctl show, ovn-sbctl show
#   ovn-lab.sh env                the environment for ovs-vsctl/ovn-nbctl/ovn-sbctl on this lab
#   ovn-lab.sh vm NAME IFACE_ID MAC
#                                 namespace $OVN_LAB_NS_PREFIX<NAME> whose eth0 (MAC) is a veth plugged into
#                                 the integration bridge with external_ids:iface-id=IFACE_ID (Nova's job);
#                                 the host side is named tap<IFACE_ID[0:11]> as Nova names it
#   ovn-lab.sh unplug NAME        remove a VM or external host again (its dhclient, OVS port, namespace)
#   ovn-lab.sh ext NAME ADDR/LEN [EXTRA_ADDR...]
#                                 an "external" host: namespace on the provider bridge with ADDR/LEN on
#                                 eth0 and every EXTRA_ADDR as a /32 on lo (addresses "behind" it)
#   ovn-lab.sh dhcp NAME          run dhclient once in the VM (own script: the host's resolv.conf is never
#                                 touched); prints "ip=... mask=... routers=... mtu=... dns=..."
#   ovn-lab.sh exec NAME CMD...   run CMD in the namespace of NAME
#   ovn-lab.sh nbctl|sbctl|vsctl|appctl ARGS...   the OVN/OVS command-line tools against this lab
#   ovn-lab.sh nb-stop|nb-start|sb-stop|sb-start  stop or restart one OVN database server (data kept)
#   ovn-lab.sh chassis-external-ids
#                                 copy ovn-bridge-mappings and ovn-cms-options of the SB Chassis row from
#                                 other_config (where OVN 23.03 puts them) to external_ids, where Neutron
#                                 Zed (21.x) reads them: without it, Zed schedules no gateway and binds no
#                                 port on a provider network. Only for running the reference Neutron.
#   ovn-lab.sh ssl KEY CERT CA NB_SSL_PORT SB_SSL_PORT
#                                 also listen with SSL on 127.0.0.1 (the servers read the SSL table)
#
# Environment (defaults): OVN_LAB (/tmp/neutrino-ovn: run/, db/, log/), OVN_LAB_NB_PORT (6641),
# OVN_LAB_SB_PORT (6642), OVN_LAB_CHASSIS (chassis1), OVN_LAB_BR_INT (br-int), OVN_LAB_BR_EX (br-ex),
# OVN_LAB_PHYSNET (provider), OVN_LAB_NS_PREFIX (ovnvm-), OVN_LAB_LOCK_WAIT (600 seconds).
# Only one Open vSwitch may run on the machine: start waits for the lock, stop releases it.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
OVN_LAB=${OVN_LAB:-/tmp/neutrino-ovn}
NB_PORT=${OVN_LAB_NB_PORT:-6641}
SB_PORT=${OVN_LAB_SB_PORT:-6642}
CHASSIS=${OVN_LAB_CHASSIS:-chassis1}
BR_INT=${OVN_LAB_BR_INT:-br-int}
BR_EX=${OVN_LAB_BR_EX:-br-ex}
PHYSNET=${OVN_LAB_PHYSNET:-provider}
NS_PREFIX=${OVN_LAB_NS_PREFIX:-ovnvm-}
LOCK=/tmp/neutrino-ovs.lock
LOCK_WAIT=${OVN_LAB_LOCK_WAIT:-600}
PACKAGES="openvswitch-switch ovn-central ovn-host ethtool isc-dhcp-client iproute2 iputils-ping socat"

export OVS_RUNDIR=$OVN_LAB/run/ovs OVS_LOGDIR=$OVN_LAB/log OVS_DBDIR=$OVN_LAB/db OVS_SYSCONFDIR=$OVN_LAB/etc
export OVN_RUNDIR=$OVN_LAB/run/ovn OVN_LOGDIR=$OVN_LAB/log OVN_DBDIR=$OVN_LAB/db OVN_SYSCONFDIR=$OVN_LAB/etc
export OVN_NB_DB=unix:$OVN_RUNDIR/ovnnb_db.sock OVN_SB_DB=unix:$OVN_RUNDIR/ovnsb_db.sock
STATE=$OVN_LAB/run/created   # what stop removes: "pid FILE", "ns NAME", "link NAME" lines

say() { echo "[ovn-lab] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
record() { mkdir -p "$OVN_LAB/run"; echo "$*" >> "$STATE"; }
wait_for() { # wait_for SECONDS CMD...: poll every 0.1 s until CMD succeeds
	local t=$(( $1 * 10 )); shift
	while ! "$@" >/dev/null 2>&1; do t=$((t - 1)); [ $t -le 0 ] && return 1; sleep 0.1; done
}
# PID 1 of a container may reap late: a killed daemon can linger as a zombie, which is not alive.
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
pidof_file() { [ -f "$1" ] && cat "$1"; }

missing() { # prints the commands the lab needs that are not installed
	local c
	for c in ovsdb-server ovs-vswitchd ovs-vsctl ovn-northd ovn-controller ovn-nbctl ovn-sbctl ethtool dhclient ip ping socat flock; do
		command -v "$c" >/dev/null 2>&1 || echo "$c"
	done
}

install() {
	[ -z "$(missing)" ] && return 0
	[ "$(id -u)" = 0 ] || die "install needs root"
	local made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then   # apt must start none of the packaged services
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $PACKAGES >/dev/null
	local rc=$?
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || die "apt-get install failed"
	[ -z "$(missing)" ] || die "still missing after install: $(missing | tr '\n' ' ')"
}

take_lock() { # on descriptor 9, held by this script until hold_lock
	exec 9>>"$LOCK" || die "cannot open $LOCK"
	if ! flock -n 9; then
		say "waiting up to ${LOCK_WAIT}s for $LOCK (another Open vSwitch runs on this machine)"
		flock -w "$LOCK_WAIT" 9 || die "$LOCK still held after ${LOCK_WAIT}s"
	fi
}

hold_lock() {
	# The holder inherits descriptor 9, so the lock stays held as long as it lives; stop kills it.
	setsid sleep infinity </dev/null >/dev/null 2>&1 &
	echo $! > "$OVN_LAB/run/lock-holder.pid"
	exec 9>&-
}

release_lock() {
	local p
	p=$(pidof_file "$OVN_LAB/run/lock-holder.pid") || return 0
	alive "$p" && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && kill "$p"
	rm -f "$OVN_LAB/run/lock-holder.pid"
}

start_ovn_db() { # start_ovn_db nb|sb: the NB or SB ovsdb-server (existing data file kept)
	local which=$1 db port sock
	if [ "$which" = nb ]; then db=OVN_Northbound port=$NB_PORT; else db=OVN_Southbound port=$SB_PORT; fi
	ovsdb-server "$OVN_DBDIR/ovn${which}_db.db" --remote="punix:$OVN_RUNDIR/ovn${which}_db.sock" \
		--remote="ptcp:$port:127.0.0.1" --remote="db:$db,${which^^}_Global,connections" \
		--private-key="db:$db,SSL,private_key" --certificate="db:$db,SSL,certificate" \
		--ca-cert="db:$db,SSL,ca_cert" --ssl-protocols="db:$db,SSL,ssl_protocols" \
		--ssl-ciphers="db:$db,SSL,ssl_ciphers" \
		--pidfile="$OVN_RUNDIR/ovn${which}_db.pid" --unixctl="$OVN_RUNDIR/ovn${which}_db.ctl" \
		--log-file="$OVN_LOGDIR/ovsdb-server-$which.log" --detach --no-chdir 2>>"$OVN_LOGDIR/start.err" \
		|| die "ovsdb-server ($which); see $OVN_LOGDIR/ovsdb-server-$which.log"
	grep -qx "pid $OVN_RUNDIR/ovn${which}_db.pid" "$STATE" 2>/dev/null || record "pid $OVN_RUNDIR/ovn${which}_db.pid"
}

stop_pidfile() { # stop_pidfile FILE: kill the daemon of FILE if it is one of ours, wait until it is gone
	local p
	grep -qx "pid $1" "$STATE" 2>/dev/null || return 0
	p=$(pidof_file "$1") || return 0
	alive "$p" || return 0
	case "$(cat "/proc/$p/comm" 2>/dev/null)" in ovsdb-server|ovs-vswitchd|ovn-northd|ovn-controller|dhclient) ;; *) return 0 ;; esac
	kill "$p"
	wait_for 10 sh -c "! [ -d /proc/$p ] || grep -q '^State:.*Z' /proc/$p/status"
}

start_central() { # OVN central: NB and SB database servers (fresh), ovn-northd
	ovsdb-tool create "$OVN_DBDIR/ovnnb_db.db" /usr/share/ovn/ovn-nb.ovsschema || die "ovsdb-tool (nb)"
	ovsdb-tool create "$OVN_DBDIR/ovnsb_db.db" /usr/share/ovn/ovn-sb.ovsschema || die "ovsdb-tool (sb)"
	start_ovn_db nb
	start_ovn_db sb
	ovn-nbctl --no-wait init && ovn-sbctl init || die "ovn-nbctl/ovn-sbctl init"
	ovn-northd --ovnnb-db="$OVN_NB_DB" --ovnsb-db="$OVN_SB_DB" --pidfile="$OVN_RUNDIR/ovn-northd.pid" \
		--log-file="$OVN_LOGDIR/ovn-northd.log" --detach --no-chdir 2>>"$OVN_LOGDIR/start.err" || die "ovn-northd"
	record "pid $OVN_RUNDIR/ovn-northd.pid"
}

central() { # OVN central alone: no Open vSwitch, so no lock and no root needed
	local c
	for c in ovsdb-server ovsdb-tool ovn-northd ovn-nbctl ovn-sbctl; do
		command -v "$c" >/dev/null 2>&1 || die "missing: $c (run: $0 install)"
	done
	[ -f "$STATE" ] && { say "leftovers of an earlier lab in $OVN_LAB: stopping them"; stop; }
	mkdir -p "$OVN_RUNDIR" "$OVN_DBDIR" "$OVN_LOGDIR" "$OVN_SYSCONFDIR"
	rm -f "$OVN_DBDIR"/ovnnb_db.db "$OVN_DBDIR"/ovnsb_db.db "$OVN_LOGDIR"/start.err
	trap 'say "central failed: stopping what was started"; stop' EXIT
	start_central
	trap - EXIT
	say "started (central only): NB tcp:127.0.0.1:$NB_PORT, SB tcp:127.0.0.1:$SB_PORT"
}

fake_chassis() { # fake-chassis NAME: SB Chassis and Chassis_Private rows no ovn-controller stands behind
	[ $# = 1 ] || die "usage: fake-chassis NAME"
	local name=$1 uuid
	ovn-sbctl chassis-add "$name" geneve 127.0.0.1 -- set chassis "$name" hostname="$name" \
		other_config:ovn-cms-options=enable-chassis-as-gw other_config:ovn-bridge-mappings="$PHYSNET:$BR_EX" \
		|| die "ovn-sbctl chassis-add $name"
	uuid=$(ovn-sbctl --bare --columns=_uuid find chassis name="$name")
	[ -n "$(ovn-sbctl --bare --columns=_uuid find chassis_private name="$name")" ] \
		|| ovn-sbctl create chassis_private name="$name" chassis="$uuid" >/dev/null || die "chassis_private $name"
	# seen now (what ovn-controller writes when it catches up with nb_cfg)
	ovn-sbctl set chassis_private "$name" nb_cfg_timestamp="$(date +%s%3N)" || die "chassis_private $name"
}

start() {
	[ -n "$(missing)" ] && die "missing: $(missing | tr '\n' ' ')(run: $0 install)"
	[ "$(id -u)" = 0 ] || die "start needs root"
	# leftovers are looked at once the lock is ours: before, they may be a lab another process runs
	take_lock
	[ -f "$STATE" ] && { say "leftovers of an earlier lab in $OVN_LAB: stopping them"; stop; }
	mkdir -p "$OVS_RUNDIR" "$OVN_RUNDIR" "$OVS_DBDIR" "$OVS_LOGDIR" "$OVS_SYSCONFDIR"
	hold_lock
	record "lock"
	rm -f "$OVS_DBDIR"/conf.db "$OVN_DBDIR"/ovnnb_db.db "$OVN_DBDIR"/ovnsb_db.db "$OVN_LOGDIR"/start.err
	trap 'say "start failed: stopping what was started"; stop' EXIT

	# Open vSwitch: a fresh conf.db, the userspace datapath only
	ovsdb-tool create "$OVS_DBDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema || die "ovsdb-tool (conf.db)"
	ovsdb-server "$OVS_DBDIR/conf.db" --remote="punix:$OVS_RUNDIR/db.sock" \
		--remote=db:Open_vSwitch,Open_vSwitch,manager_options \
		--pidfile="$OVS_RUNDIR/ovsdb-server.pid" --unixctl="$OVS_RUNDIR/ovsdb-server.ctl" \
		--log-file="$OVS_LOGDIR/ovsdb-server.log" --detach --no-chdir 2>>"$OVN_LOGDIR/start.err" || die "ovsdb-server (ovs)"
	record "pid $OVS_RUNDIR/ovsdb-server.pid"
	ovs-vsctl --no-wait init
	ovs-vswitchd "unix:$OVS_RUNDIR/db.sock" --disable-system --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" \
		--log-file="$OVS_LOGDIR/ovs-vswitchd.log" --detach --no-chdir 2>>"$OVN_LOGDIR/start.err" || die "ovs-vswitchd"
	record "pid $OVS_RUNDIR/ovs-vswitchd.pid"

	start_central

	# the chassis: ovn-controller creates the integration bridge itself (netdev, as every bridge here)
	ovs-vsctl set open_vswitch . \
		external_ids:system-id="$CHASSIS" external_ids:hostname="$CHASSIS" \
		external_ids:ovn-remote="tcp:127.0.0.1:$SB_PORT" \
		external_ids:ovn-encap-type=geneve external_ids:ovn-encap-ip=127.0.0.1 \
		external_ids:ovn-bridge="$BR_INT" external_ids:ovn-bridge-datapath-type=netdev \
		external_ids:ovn-bridge-mappings="$PHYSNET:$BR_EX" \
		external_ids:ovn-cms-options=enable-chassis-as-gw || die "ovs-vsctl set open_vswitch"
	ovs-vsctl --may-exist add-br "$BR_EX" -- set bridge "$BR_EX" datapath_type=netdev || die "add-br $BR_EX"
	ovs-vsctl br-exists "$BR_EX" && ip link show "$BR_EX" >/dev/null 2>&1 || die "bridge $BR_EX is broken (see ovs-vswitchd.log)"
	ip link set "$BR_EX" up
	ovn-controller "unix:$OVS_RUNDIR/db.sock" --pidfile="$OVN_RUNDIR/ovn-controller.pid" \
		--log-file="$OVN_LOGDIR/ovn-controller.log" --detach --no-chdir 2>>"$OVN_LOGDIR/start.err" || die "ovn-controller"
	record "pid $OVN_RUNDIR/ovn-controller.pid"
	wait_for 30 sh -c "ovn-sbctl --bare --columns=name find chassis name=$CHASSIS | grep -q ." || die "chassis $CHASSIS did not register"
	wait_for 30 ovs-vsctl br-exists "$BR_INT" || die "ovn-controller did not create $BR_INT"
	ovn-nbctl --timeout=30 --wait=hv sync || die "nb_cfg did not reach the chassis"
	write_dhclient_script
	trap - EXIT
	say "started: NB tcp:127.0.0.1:$NB_PORT, SB tcp:127.0.0.1:$SB_PORT, chassis $CHASSIS, bridges $BR_INT and $BR_EX (netdev), mapping $PHYSNET:$BR_EX"
}

stop() {
	local what
	if [ -f "$STATE" ]; then
		for what in $(grep '^pid .*dhclient' "$STATE" | cut -d' ' -f2); do stop_pidfile "$what"; done
		# ovn-controller first (it would re-create the integration bridge), then the bridges while
		# vswitchd still runs (it removes their tap devices), then the rest in reverse start order
		stop_pidfile "$OVN_RUNDIR/ovn-controller.pid"
		if alive "$(pidof_file "$OVS_RUNDIR/ovs-vswitchd.pid" || echo 0)"; then
			ovs-vsctl --timeout=5 --if-exists del-br "$BR_INT" -- --if-exists del-br "$BR_EX" 2>/dev/null
		fi
		for what in "$OVN_RUNDIR/ovn-northd.pid" "$OVN_RUNDIR/ovnsb_db.pid" "$OVN_RUNDIR/ovnnb_db.pid" \
			"$OVS_RUNDIR/ovs-vswitchd.pid" "$OVS_RUNDIR/ovsdb-server.pid"; do
			stop_pidfile "$what"
		done
		for what in $(grep '^ns ' "$STATE" | cut -d' ' -f2); do ip netns del "$what" 2>/dev/null; done
		for what in $(grep '^link ' "$STATE" | cut -d' ' -f2); do
			wait_for 2 sh -c "! ip link show $what" || ip link del "$what" 2>/dev/null
		done
		grep -qx lock "$STATE" && release_lock
	fi
	rm -rf "$OVN_LAB/run" "$OVN_LAB/db" "$OVN_LAB/etc"
	say "stopped (logs kept in $OVN_LAB/log)"
}

running() { alive "$(pidof_file "$OVS_RUNDIR/ovs-vswitchd.pid" || echo 0)" || die "the lab in $OVN_LAB is not running"; }

vm() { # vm NAME IFACE_ID MAC
	[ $# = 3 ] || die "usage: vm NAME IFACE_ID MAC"
	running
	local name=$1 lsp=$2 mac=$3 ns=$NS_PREFIX$1 h=tap${2:0:11} g=g${2:0:11}
	ip netns add "$ns" || die "netns $ns"; record "ns $ns"
	ip link add "$h" type veth peer name "$g" || die "veth $h"; record "link $h"
	ip link set "$g" netns "$ns" && ip -n "$ns" link set "$g" name eth0 && ip -n "$ns" link set eth0 address "$mac" \
		&& ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up || die "setting up eth0 in $ns"
	# The userspace datapath reads veths with AF_PACKET and does not complete partial checksums:
	# without this, ICMP and DHCP work but TCP and UDP sent from the namespace are dropped.
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null || die "ethtool -K eth0 tx off in $ns"
	ip link set "$h" up
	ovs-vsctl add-port "$BR_INT" "$h" -- set interface "$h" external_ids:iface-id="$lsp" \
		external_ids:attached-mac="$mac" external_ids:iface-status=active || die "add-port $h"
	echo "$h" > "$OVN_LAB/run/vm-$name.port"
}

unplug() { # unplug NAME
	running
	local name=$1 h
	stop_pidfile "$OVN_LAB/run/dhclient-$name.pid"
	h=$(cat "$OVN_LAB/run/vm-$name.port" 2>/dev/null) && ovs-vsctl --if-exists del-port "$h"
	ip netns del "$NS_PREFIX$name" 2>/dev/null
	[ -n "$h" ] && { wait_for 2 sh -c "! ip link show $h" || ip link del "$h" 2>/dev/null; }
	rm -f "$OVN_LAB/run/vm-$name.port"
}

ext() { # ext NAME ADDR/LEN [EXTRA_ADDR...]
	[ $# -ge 2 ] || die "usage: ext NAME ADDR/LEN [EXTRA_ADDR...]"
	running
	local name=$1 addr=$2 ns=$NS_PREFIX$1 h=ext${1:0:12} a; shift 2
	ip netns add "$ns" || die "netns $ns"; record "ns $ns"
	ip link add "$h" type veth peer name "g$h" || die "veth $h"; record "link $h"
	ip link set "g$h" netns "$ns" && ip -n "$ns" link set "g$h" name eth0 && ip -n "$ns" link set lo up \
		&& ip -n "$ns" link set eth0 up && ip -n "$ns" addr add "$addr" dev eth0 || die "setting up eth0 in $ns"
	for a in "$@"; do ip -n "$ns" addr add "$a/32" dev lo || die "address $a"; done
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null || die "ethtool -K eth0 tx off in $ns"
	ip link set "$h" up
	ovs-vsctl add-port "$BR_EX" "$h" || die "add-port $h"
	echo "$h" > "$OVN_LAB/run/vm-$name.port"
}

write_dhclient_script() {
	cat > "$OVN_LAB/run/dhclient-script" <<EOF
#!/bin/sh
# dhclient-script of the OVN lab: address, MTU and default route; /etc/resolv.conf is never touched
echo "reason=\$reason ip=\$new_ip_address mask=\$new_subnet_mask routers=\$new_routers mtu=\$new_interface_mtu dns=\$new_domain_name_servers lease=\$new_dhcp_lease_time server=\$new_dhcp_server_identifier routes=\$new_rfc3442_classless_static_routes" >> "$OVN_LAB/log/dhclient-\$(ip netns identify).log"
EOF
	cat >> "$OVN_LAB/run/dhclient-script" <<'EOF'
case "$reason" in
PREINIT) ip link set dev "$interface" up ;;
BOUND|RENEW|REBIND|REBOOT)
	if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then ip -4 addr flush dev "$interface"; fi
	ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
	[ -n "$new_interface_mtu" ] && ip link set dev "$interface" mtu "$new_interface_mtu"
	for r in $new_routers; do ip -4 route replace default via "$r" dev "$interface"; break; done ;;
EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
exit 0
EOF
	chmod +x "$OVN_LAB/run/dhclient-script"
}

dhcp() { # dhcp NAME: one DHCPv4 exchange; dhclient stays for renewals until stop/unplug
	[ $# = 1 ] || die "usage: dhcp NAME"
	running
	local name=$1 ns=$NS_PREFIX$1 log=$OVN_LAB/log/dhclient-$NS_PREFIX$1.log
	record "pid $OVN_LAB/run/dhclient-$name.pid"
	rm -f "$log"
	timeout 30 ip netns exec "$ns" dhclient -1 -sf "$OVN_LAB/run/dhclient-script" \
		-lf "$OVN_LAB/run/dhclient-$name.leases" -pf "$OVN_LAB/run/dhclient-$name.pid" eth0 </dev/null >/dev/null 2>&1 \
		|| die "dhclient in $ns got no lease"
	grep -E '^reason=(BOUND|REBOOT)' "$log" | tail -1 | cut -d' ' -f2-
}

ssl() { # ssl KEY CERT CA NB_SSL_PORT SB_SSL_PORT
	[ $# = 5 ] || die "usage: ssl KEY CERT CA NB_SSL_PORT SB_SSL_PORT"
	running
	ovn-nbctl set-ssl "$1" "$2" "$3" -- set-connection "pssl:$4:127.0.0.1" || die "NB set-ssl"
	ovn-sbctl set-ssl "$1" "$2" "$3" -- set-connection "pssl:$5:127.0.0.1" || die "SB set-ssl"
	wait_for 10 sh -c "ss -Hltn 'sport = :$4' | grep -q ." || die "NB does not listen on SSL port $4 (see $OVN_LOGDIR/ovsdb-server-nb.log)"
	wait_for 10 sh -c "ss -Hltn 'sport = :$5' | grep -q ." || die "SB does not listen on SSL port $5 (see $OVN_LOGDIR/ovsdb-server-sb.log)"
}

chassis_external_ids() {
	running
	local k v args=()
	for k in ovn-bridge-mappings ovn-cms-options; do
		v=$(ovn-sbctl --if-exists get chassis "$CHASSIS" other_config:"$k" 2>/dev/null | tr -d '"')
		[ -n "$v" ] && args+=(external_ids:"$k"="$v")
	done
	[ ${#args[@]} -gt 0 ] || die "chassis $CHASSIS has no bridge mappings or CMS options"
	ovn-sbctl set chassis "$CHASSIS" "${args[@]}" || die "ovn-sbctl set chassis"
}

status() {
	local f p
	for f in "$OVS_RUNDIR"/*.pid "$OVN_RUNDIR"/*.pid "$OVN_LAB/run/lock-holder.pid"; do
		p=$(pidof_file "$f") && alive "$p" && echo "$(basename "$f" .pid): pid $p"
	done
	running
	ovs-vsctl show; ovn-nbctl show; ovn-sbctl show
}

case "${1:-}" in
install) install ;;
start) install; start ;;
central) central ;;
fake-chassis) shift; fake_chassis "$@" ;;
stop) stop ;;
status) status ;;
env) echo "export OVS_RUNDIR=$OVS_RUNDIR OVS_LOGDIR=$OVS_LOGDIR OVS_DBDIR=$OVS_DBDIR OVN_RUNDIR=$OVN_RUNDIR OVN_LOGDIR=$OVN_LOGDIR OVN_DBDIR=$OVN_DBDIR OVN_NB_DB=$OVN_NB_DB OVN_SB_DB=$OVN_SB_DB" ;;
vm) shift; vm "$@" ;;
unplug) shift; unplug "$@" ;;
ext) shift; ext "$@" ;;
dhcp) shift; dhcp "$@" ;;
exec) shift; name=$1; shift; exec ip netns exec "$NS_PREFIX$name" "$@" ;;
nbctl) shift; exec ovn-nbctl "$@" ;;
sbctl) shift; exec ovn-sbctl "$@" ;;
vsctl) shift; exec ovs-vsctl "$@" ;;
appctl) shift; exec ovs-appctl "$@" ;;
nb-stop) running; stop_pidfile "$OVN_RUNDIR/ovnnb_db.pid" ;;
sb-stop) running; stop_pidfile "$OVN_RUNDIR/ovnsb_db.pid" ;;
nb-start) running; start_ovn_db nb ;;
sb-start) running; start_ovn_db sb ;;
ssl) shift; ssl "$@" ;;
chassis-external-ids) chassis_external_ids ;;
*) sed -n '2,/^set -u/p' "$0" | sed '$d'; exit 2 ;;
esac
