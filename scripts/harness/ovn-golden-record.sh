#!/bin/bash
# ovn-golden-record.sh: record the ML2/OVN goldens (internal/ovn/testdata/golden) from a reference
# Neutron Zed server driving the OVN lab.
#
#   REF_START='cmd' scripts/harness/ovn-golden-record.sh [OUT_DIR]
#
# 1. starts a fresh lab (scripts/harness/ovn-lab.sh start; NB/SB on 127.0.0.1:6641/6642) and copies
#    the chassis' bridge mappings and CMS options to SB Chassis.external_ids, where Zed reads them;
# 2. runs $REF_START, which must start the reference Neutron with an empty database and the
#    configuration of internal/ovn/testdata/golden/neutron.conf (pointed at the lab) and return once it
#    answers on $REF_ENDPOINT (default http://127.0.0.1:19699);
# 3. replays $SCENARIO (default internal/ovn/testdata/golden/scenario.yaml) with go run ./internal/ovn/golden/record,
#    which writes OUT_DIR/nb/NN-<step>.json and OUT_DIR/calls.json (OUT_DIR defaults to the goldens);
# 4. runs $REF_STOP if set, and stops the lab.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-internal/ovn/testdata/golden}
REF_ENDPOINT=${REF_ENDPOINT:-http://127.0.0.1:19699}
: "${REF_START:?set REF_START to the command that starts the reference Neutron}"
export OVN_LAB=${OVN_LAB:-/tmp/neutrino-ovn} OVN_LAB_NB_PORT=6641 OVN_LAB_SB_PORT=6642
lab=scripts/harness/ovn-lab.sh
cleanup() { [ -n "${REF_STOP:-}" ] && bash -c "$REF_STOP" || true; $lab stop; }
trap cleanup EXIT
$lab start
$lab chassis-external-ids
bash -c "$REF_START"
curl -sf -o /dev/null "$REF_ENDPOINT/v2.0/extensions" || { echo "no answer from $REF_ENDPOINT" >&2; exit 1; }
sleep 5 # the driver's start-up writes (neutron_pg_drop, maintenance tasks)
go run ./internal/ovn/golden/record -endpoint "$REF_ENDPOINT" -lab-dir "$OVN_LAB" -nb-port 6641 -sb-port 6642 \
	-scenario "${SCENARIO:-internal/ovn/testdata/golden/scenario.yaml}" -out "$OUT"
