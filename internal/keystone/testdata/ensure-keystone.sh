#!/bin/bash
# ensure-keystone.sh -- make sure the Keystone the keystone package tests
# use answers on 127.0.0.1:5000 (admin/admin, neutron/neutron in project
# service, demo/demo in project demo). It runs the repository's own harness,
# scripts/harness/keystone-up.sh, which installs Debian's keystone on first
# use and is idempotent.
#
#   internal/keystone/testdata/ensure-keystone.sh && CI=true go test ./internal/keystone/
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
exec "$root/scripts/harness/keystone-up.sh" "$@"
