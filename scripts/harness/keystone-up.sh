#!/bin/bash
# keystone-up.sh -- the project's own Keystone for tests and CI.
#
# Makes sure a Keystone (Debian's "keystone" package) answers on
# http://127.0.0.1:$KS_PORT with what neutrino's tests expect:
#
#   admin/admin    role admin  on project admin   (keystone-manage bootstrap)
#   neutron/neutron role admin on project service (the service user)
#   demo/demo      role member on project demo
#   roles admin, member, reader; region RegionOne
#   service "neutron" (type network) with public/internal/admin endpoints
#   at $NEUTRON_URL (default http://127.0.0.1:9696)
#
# Idempotent: run it as often as you like. When a Keystone already answers
# on the port (started by this script or by anything else), it is kept and
# only the projects, users, roles and endpoint above are made to exist.
# Otherwise the script installs the packages it needs with apt (with a
# policy-rc.d that keeps apt from starting services), writes its own
# keystone.conf in $KS_DIR, creates the database on the local MariaDB
# (root without password, 127.0.0.1:3306; started if it does not answer),
# and runs keystone-wsgi-public under uwsgi.
#
#   scripts/harness/keystone-up.sh          # set up / check
#   scripts/harness/keystone-up.sh stop     # stop the Keystone this script started
#
# Env: KS_PORT (5000), KS_DIR (/tmp/neutrino-keystone), KS_DB (neutrino_keystone),
#      NEUTRON_URL (endpoint to create; an existing endpoint is changed only
#      when NEUTRON_URL is set explicitly).
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV || true
export DEBIAN_FRONTEND=noninteractive

KS_PORT=${KS_PORT:-5000}
KS_DIR=${KS_DIR:-/tmp/neutrino-keystone}
KS_DB=${KS_DB:-neutrino_keystone}
KS_URL="http://127.0.0.1:${KS_PORT}"
NEUTRON_URL_GIVEN=${NEUTRON_URL:+1}
NEUTRON_URL=${NEUTRON_URL:-http://127.0.0.1:9696}
PIDFILE="$KS_DIR/uwsgi.pid"
CONF="$KS_DIR/keystone.conf"

say() { echo "[keystone-up] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

answering() { curl -sf -o /dev/null --max-time 5 "$KS_URL/v3"; }
ours_running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop() {
    ours_running || { say "not running (no live pid in $PIDFILE)"; return 0; }
    local pid; pid=$(cat "$PIDFILE")
    say "stopping uwsgi $pid"
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
}

# apt_install PKG... installs the packages not yet installed.
apt_install() {
    local want=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || want+=("$p")
    done
    ((${#want[@]})) || return 0
    say "installing ${want[*]}"
    local made=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made=1
    fi
    local rc=0
    { apt-get -o DPkg::Lock::Timeout=900 update -qq &&
      apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${want[@]}" >/dev/null; } || rc=$?
    [ $made = 1 ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

mariadb_up() {
    mariadb -uroot -h127.0.0.1 -e 'SELECT 1' >/dev/null 2>&1 && return 0
    say "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    (setsid /usr/sbin/mariadbd --user=mysql >"/tmp/neutrino-keystone-mariadb.log" 2>&1 &)
    for _ in $(seq 60); do mariadb -uroot -h127.0.0.1 -e 'SELECT 1' >/dev/null 2>&1 && return 0; sleep 1; done
    tail -20 /tmp/neutrino-keystone-mariadb.log >&2
    die "MariaDB did not start"
}

# conf_text prints the keystone.conf this script wants.
conf_text() {
    cat <<CONF
# written by neutrino scripts/harness/keystone-up.sh
[DEFAULT]
log_dir = $KS_DIR/log
log_file = keystone.log

[database]
connection = mysql+pymysql://root@127.0.0.1/$KS_DB?charset=utf8

[token]
provider = fernet
expiration = 14400

[fernet_tokens]
key_repository = $KS_DIR/fernet-keys

[fernet_receipts]
key_repository = $KS_DIR/fernet-keys

[credential]
key_repository = $KS_DIR/credential-keys

[cache]
enabled = false

[oslo_policy]
policy_file = $KS_DIR/policy.yaml
CONF
}

write_conf() {
    mkdir -p "$KS_DIR"/{fernet-keys,credential-keys,log}
    chmod 700 "$KS_DIR/fernet-keys" "$KS_DIR/credential-keys"
    conf_text >"$CONF"
}

keystone_manage() {
    local log="$KS_DIR/log/manage-$1.log"
    keystone-manage --config-file "$CONF" "$@" >"$log" 2>&1 || { cat "$log" >&2; die "keystone-manage $1 failed"; }
}

start_keystone() {
    apt_install keystone python3-pymysql uwsgi-core uwsgi-plugin-python3 mariadb-server mariadb-client curl
    mariadb_up
    mariadb -uroot -h127.0.0.1 -e "CREATE DATABASE IF NOT EXISTS \`$KS_DB\`"
    write_conf
    keystone_manage db_sync
    [ -n "$(ls -A "$KS_DIR/fernet-keys")" ] || keystone_manage fernet_setup --keystone-user root --keystone-group root
    [ -n "$(ls -A "$KS_DIR/credential-keys")" ] || keystone_manage credential_setup --keystone-user root --keystone-group root
    keystone_manage bootstrap --bootstrap-password admin --bootstrap-username admin \
        --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
        --bootstrap-public-url "$KS_URL/v3/" --bootstrap-internal-url "$KS_URL/v3/" \
        --bootstrap-admin-url "$KS_URL/v3/"
    if command -v ss >/dev/null && ss -ltn "sport = :$KS_PORT" | grep -q LISTEN; then
        die "port $KS_PORT is taken by something that is not Keystone"
    fi
    say "starting uwsgi on 127.0.0.1:$KS_PORT (logs in $KS_DIR/log)"
    # --http-socket does not keep connections alive: say so to the clients
    uwsgi --plugin python3 --http-socket "127.0.0.1:$KS_PORT" \
        --add-header "Connection: close" \
        --wsgi-file /usr/bin/keystone-wsgi-public \
        --env "OS_KEYSTONE_CONFIG_DIR=$KS_DIR" \
        --master --processes 2 --threads 4 --enable-threads --lazy-apps \
        --buffer-size 65535 --die-on-term --chdir "$KS_DIR" \
        --pidfile "$PIDFILE" --daemonize "$KS_DIR/log/uwsgi.log"
    for i in $(seq 90); do
        answering && return 0
        sleep 1
    done
    tail -30 "$KS_DIR/log/uwsgi.log" >&2 || true
    die "Keystone did not answer on $KS_URL"
}

if [ "${1:-}" = stop ]; then stop; exit 0; fi

command -v curl >/dev/null || apt_install curl
if answering && ours_running && [ "$(conf_text)" != "$(cat "$CONF" 2>/dev/null)" ]; then
    say "keystone.conf changed: restarting the Keystone this script started"
    stop
fi
if answering; then
    say "Keystone already answering on $KS_URL"
else
    start_keystone
fi
command -v python3 >/dev/null || apt_install python3

# Projects, users, roles and the network endpoint, through the identity API
# (Python's standard library only).
KS_URL="$KS_URL" NEUTRON_URL="$NEUTRON_URL" NEUTRON_URL_GIVEN="${NEUTRON_URL_GIVEN:-}" \
    python3 "$(dirname "$0")/keystone_accounts.py"
say "Keystone ready on $KS_URL (admin/admin, neutron/neutron@service, demo/demo@demo)"
