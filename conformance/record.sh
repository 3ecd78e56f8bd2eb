#!/usr/bin/env bash
# Re-records the conformance golden files (conformance/golden/*.json) from
# the real Neutron, then replays them against it once more to prove the
# recording is stable (a scenario that does not replay cleanly against the
# server it was recorded from needs more normalisation hints).
#
#   conformance/record.sh                    record every scenario
#   conformance/record.sh 'networks-.*'      record the scenarios matching a regexp
#
# By default it uses a reference Neutron of its own on 127.0.0.1:$REF_PORT
# (19697) with its own database, started with ../shared/reference/neutron-up.sh
# (next to the repository) when it is not answering, so foreign data in a
# shared reference never leaks into golden files.
#
# Keystone scenarios (auth: keystone, isolation-*) are recorded from the
# reference behind Keystone, $CONFORMANCE_KS_TARGET (http://127.0.0.1:29696,
# started by ../shared/reference/refneutron-ks-up.sh); they are skipped
# when it does not answer.
#
# Env: CONFORMANCE_TARGET=http://host:port  record from this running server
#      CONFORMANCE_KS_TARGET=http://host:port the reference behind Keystone
#      FRESH=1                               restart the reference with an empty database
#      REF_PORT (19697), REF_DIR (/tmp/neutron-ref-conformance)
#      NEUTRON_UP                            path of neutron-up.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
up=${NEUTRON_UP:-$root/../shared/reference/neutron-up.sh}
target=${CONFORMANCE_TARGET:-}
if [[ -z $target ]]; then
  export REF_PORT=${REF_PORT:-19697}
  export REF_DIR=${REF_DIR:-/tmp/neutron-ref-conformance}
  target=http://127.0.0.1:$REF_PORT
  if [[ ${FRESH:-0} == 1 ]] || ! curl -sf -o /dev/null "$target/v2.0/extensions"; then
    [[ -x $up ]] || { echo "record.sh: $up not found (set NEUTRON_UP)" >&2; exit 1; }
    "$up" fresh
  fi
fi
curl -sf -o /dev/null "$target/v2.0/extensions" || { echo "record.sh: $target is not answering" >&2; exit 1; }
ks_target=${CONFORMANCE_KS_TARGET:-http://127.0.0.1:29696}
ks=()
# 401 without a token: a Neutron behind Keystone
if [[ $(curl -s -o /dev/null -w '%{http_code}' "$ks_target/v2.0/networks") == 401 ]]; then
  ks=(-ks-target "$ks_target")
else
  echo "record.sh: no Neutron behind Keystone at $ks_target: keystone scenarios are skipped" >&2
fi

run=TestConformance
if [[ $# -gt 0 ]]; then run="TestConformance/^($1)\$"; fi
echo "recording from $target"
go test ./conformance -count=1 -timeout 60m -run "$run" -record -target "$target" "${ks[@]}" -v 2>&1 |
  grep -Ev '^=== (RUN|PAUSE|CONT)' || { echo "record.sh: recording failed" >&2; exit 1; }
echo "checking the recording replays against $target"
go test ./conformance -count=1 -timeout 60m -run "$run" -target "$target" "${ks[@]}"
