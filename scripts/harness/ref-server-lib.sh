# ref-server-lib.sh: what the reference Neutron server scripts (ovn-ref-server.sh,
# agents-ref-server.sh) share; sourced, with PORT, DIR and DB set. The server's configuration is
# $DIR/neutron.conf (ref_stop kills only a neutron-server started with it).

# ref_stop stops the server this script started, if it runs.
ref_stop() {
	[ -f "$DIR/server.pid" ] || return 0
	local pid
	pid=$(cat "$DIR/server.pid")
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DIR/neutron.conf"; then
		kill "$pid"
		for _ in $(seq 60); do [ -e "/proc/$pid" ] || break; sleep 0.5; done
	fi
	rm -f "$DIR/server.pid"
}

# ref_prepare checks neutron-server is installed, stops an earlier server, checks the port is
# free and gives the server a fresh MariaDB database $DB (user neutron, password neutron).
ref_prepare() {
	command -v neutron-server >/dev/null || {
		echo "neutron-server is not installed (apt-get install neutron-server neutron-plugin-ml2)" >&2
		exit 1
	}
	ref_stop
	curl -s -o /dev/null "http://127.0.0.1:$PORT/" && { echo "port $PORT is in use" >&2; exit 1; }
	mkdir -p "$DIR/state" "$DIR/lock"
	mariadb -uroot -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB;
		CREATE USER IF NOT EXISTS 'neutron'@'127.0.0.1' IDENTIFIED BY 'neutron';
		GRANT ALL ON $DB.* TO 'neutron'@'127.0.0.1';" || exit 1
}

# ref_wait waits (at most $1 seconds) until GET $2 answers on the server, else fails.
ref_wait() {
	for _ in $(seq "$1"); do
		curl -sf -o /dev/null "http://127.0.0.1:$PORT$2" && return 0
		sleep 1
	done
	echo "the reference did not answer on $PORT: $DIR/server.log" >&2
	exit 1
}
