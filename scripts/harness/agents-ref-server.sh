#!/bin/bash
# agents-ref-server.sh: the reference Neutron server (Debian's Zed neutron-server) with the RPC side
# on, for running scripts/harness/agents-lab.sh against it (and comparing with neutrino).
#
#   agents-ref-server.sh start   fresh database, neutron-db-manage, neutron-server on REF_PORT
#   agents-ref-server.sh stop
#
# ML2 with the openvswitch mechanism driver (flat/vlan/vxlan, tenant vxlan, port_security), the router
# service plugin, noauth, api_workers/rpc_workers/rpc_state_report_workers = 1, transport_url as the agents'
# (agents-lab.sh's default). Env: REF_PORT (39697), REF_DIR (/tmp/neutrino-agents-ref), TRANSPORT_URL,
# EXT_PHYSNET (extnet). MariaDB on 127.0.0.1:3306 (root without password), database neutron_agents_ref.
set -u
PORT=${REF_PORT:-39697}
DIR=${REF_DIR:-/tmp/neutrino-agents-ref}
TRANSPORT_URL=${TRANSPORT_URL:-rabbit://guest:guest@127.0.0.1:5672/neutrino-agents}
DB=neutron_agents_ref

. "$(dirname "$0")/ref-server-lib.sh"

start() {
	ref_prepare
	# the vhost of TRANSPORT_URL on the local broker, as agents-lab.sh makes it
	local vhost
	vhost=$(/usr/bin/python3 -c 'import sys, urllib.parse as u; p = sys.argv[1].split("://", 1)[1].split("?")[0]
print(u.unquote(p.split("/", 1)[1]) if "/" in p else "")' "$TRANSPORT_URL")
	if [ -n "$vhost" ] && [ "$vhost" != / ]; then
		rabbitmqctl -q add_vhost "$vhost" >/dev/null 2>&1
		rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*'
	fi
	cat >"$DIR/neutron.conf" <<-EOF
		[DEFAULT]
		debug = True
		auth_strategy = noauth
		core_plugin = ml2
		service_plugins = router
		bind_host = 127.0.0.1
		bind_port = $PORT
		api_workers = 1
		rpc_workers = 1
		rpc_state_report_workers = 1
		transport_url = $TRANSPORT_URL
		notify_nova_on_port_status_changes = False
		notify_nova_on_port_data_changes = False
		state_path = $DIR/state
		[database]
		connection = mysql+pymysql://neutron:neutron@127.0.0.1/$DB
		[oslo_concurrency]
		lock_path = $DIR/lock
		[ml2]
		type_drivers = flat,vlan,vxlan
		tenant_network_types = vxlan
		mechanism_drivers = openvswitch
		extension_drivers = port_security
		[ml2_type_flat]
		flat_networks = *
		[ml2_type_vlan]
		network_vlan_ranges = ${EXT_PHYSNET:-extnet}:100:200
		[ml2_type_vxlan]
		vni_ranges = 1:10000
		[securitygroup]
		enable_security_group = True
		firewall_driver = openvswitch
	EOF
	neutron-db-manage --config-file "$DIR/neutron.conf" upgrade heads >"$DIR/db-manage.log" 2>&1 ||
		{ echo "db-manage failed: $DIR/db-manage.log" >&2; exit 1; }
	setsid neutron-server --config-file "$DIR/neutron.conf" --log-file "$DIR/server.log" \
		</dev/null >"$DIR/server.out" 2>&1 &
	echo $! >"$DIR/server.pid"
	ref_wait 120 /v2.0/agents
	echo "reference Neutron with RPC on http://127.0.0.1:$PORT (transport_url $TRANSPORT_URL)"
}

case ${1:-} in
start) start ;;
stop) ref_stop ;;
*) sed -n '2,12p' "$0"; exit 2 ;;
esac
