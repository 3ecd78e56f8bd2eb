#!/bin/bash
# ovn-ref-server.sh: the reference Neutron server (Debian's Zed neutron-server) with the ML2/OVN driver
# and the OVN L3 plugin, configured as internal/ovn/testdata/golden/neutron.conf, for recording goldens
# (REF_START/REF_STOP of scripts/harness/ovn-golden-record.sh).
#
#   ovn-ref-server.sh start   fresh database, neutron-db-manage, neutron-server on REF_PORT
#   ovn-ref-server.sh stop    stop it and drop its database
#
# On top of neutron.conf: noauth, api_workers 2, rpc_workers 0, transport_url fake:/, MariaDB on
# 127.0.0.1:3306 (root without password, database neutron_ovn_ref). REF_EXTRA: more options, as a
# configuration file's text (e.g. "[ovn]\nenable_distributed_floating_ip = True"). Env: REF_PORT
# (19699), REF_DIR (/tmp/neutrino-ovn-ref).
set -u
. "$(dirname "$0")/ref-server-lib.sh"
cd "$(dirname "$0")/../.."
PORT=${REF_PORT:-19699}
DIR=${REF_DIR:-/tmp/neutrino-ovn-ref}
DB=neutron_ovn_ref

start() {
	ref_prepare
	cat >"$DIR/base.conf" <<-EOF2
		[DEFAULT]
		auth_strategy = noauth
		bind_host = 127.0.0.1
		bind_port = $PORT
		api_workers = 2
		rpc_workers = 0
		transport_url = fake:/
		notify_nova_on_port_status_changes = False
		notify_nova_on_port_data_changes = False
		state_path = $DIR/state
		[database]
		connection = mysql+pymysql://neutron:neutron@127.0.0.1/$DB
		[oslo_concurrency]
		lock_path = $DIR/lock
	EOF2
	cp internal/ovn/testdata/golden/neutron.conf "$DIR/neutron.conf"
	printf '%b\n' "${REF_EXTRA:-}" >"$DIR/extra.conf"
	local args=(--config-file "$DIR/base.conf" --config-file "$DIR/neutron.conf" --config-file "$DIR/extra.conf")
	neutron-db-manage "${args[@]}" upgrade head >"$DIR/db-manage.log" 2>&1 || { echo "neutron-db-manage failed: $DIR/db-manage.log" >&2; exit 1; }
	neutron-server "${args[@]}" >"$DIR/server.log" 2>&1 &
	echo $! >"$DIR/server.pid"
	ref_wait 90 /v2.0/extensions
}

case "${1:-}" in
start) start ;;
stop) ref_stop; mariadb -uroot -e "DROP DATABASE IF EXISTS $DB" ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
