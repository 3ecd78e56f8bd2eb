#!/bin/bash
# ensure-keystone.sh -- make sure the reference Keystone (Zed) the keystone
# package tests use answers on 127.0.0.1:5000 (users admin/admin, neutron/
# neutron in project service, demo/demo in project demo).
#
# It starts MariaDB when none answers (keystone-up.sh expects one), then runs
# keystone-up.sh, which installs Debian's keystone on first use and is
# idempotent. The script is found at ../shared/reference/keystone-up.sh
# relative to the repository root, or wherever KEYSTONE_UP points.
#
#   internal/keystone/testdata/ensure-keystone.sh && CI=true go test ./internal/keystone/
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
KEYSTONE_UP=${KEYSTONE_UP:-$root/../shared/reference/keystone-up.sh}
[ -f "$KEYSTONE_UP" ] || { echo "ensure-keystone: $KEYSTONE_UP not found (set KEYSTONE_UP)" >&2; exit 1; }
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

if ! command -v mariadbd >/dev/null 2>&1 || ! command -v mariadb >/dev/null 2>&1; then
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then   # keep apt from starting services
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
if ! mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; then
    echo "ensure-keystone: starting MariaDB" >&2
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    (setsid /usr/sbin/mariadbd --user=mysql >/tmp/ensure-keystone-mariadb.log 2>&1 &)
    for _ in $(seq 60); do mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
    mariadb -uroot -e 'SELECT 1' >/dev/null || { echo "ensure-keystone: MariaDB did not start" >&2; tail -20 /tmp/ensure-keystone-mariadb.log >&2; exit 1; }
fi

bash "$KEYSTONE_UP"
curl -sf -o /dev/null http://127.0.0.1:5000/v3
echo "ensure-keystone: Keystone answering on http://127.0.0.1:5000" >&2
