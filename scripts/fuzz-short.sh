#!/usr/bin/env bash
# fuzz-short.sh -- a short run of every fuzz target (go test -fuzz), for CI:
# body preparation, query parsing and whole requests (internal/api), policy
# rules and files (internal/policy), configuration files (internal/config).
# Each target runs FUZZTIME (default 10s); a failure leaves its input in
# <package>/testdata/fuzz/<target>/ (commit it: it becomes a regression test).
#
#   scripts/fuzz-short.sh              # every target, 10s each
#   FUZZTIME=2m scripts/fuzz-short.sh FuzzRequest
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10s}
targets=(
  internal/api:FuzzPrepareBody
  internal/api:FuzzParseQuery
  internal/api:FuzzRequest
  internal/policy:FuzzParseRule
  internal/policy:FuzzPolicyFile
  internal/config:FuzzLoad
)
status=0
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  if (($#)) && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "== $name ($pkg, $FUZZTIME)"
  # -parallel 2: the machine running CI is small
  if ! go test "./$pkg/" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel 2 2>&1 | tail -n 20; then
    status=1
  fi
done
exit $status
