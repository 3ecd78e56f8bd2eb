#!/usr/bin/env bash
# Re-records the round-trip test's reference data:
#
#   testdata/answers.json        GET list and show answers of every resource
#   testdata/neutron-zed.sql.gz  the reference's MariaDB database (mysqldump)
#
# from a reference Neutron (Zed, noauth) with an EMPTY database, e.g. one
# started for this purpose next to the repository with
#
#   REF_PORT=19698 REF_DIR=/tmp/neutron-ref-import neutron-up.sh fresh   (the workplace reference script)
#
# The scenario (TestRecordReference in record_test.go) fills it through the
# API, records the answers, and this script dumps the database right after.
# The tests only read these files; nothing here is needed to run them.
#
# Env: REF_URL (http://127.0.0.1:19698), REF_DB (neutron_ref_19698),
#      MYSQLDUMP_ARGS (-uroot)
set -euo pipefail
cd "$(dirname "$0")/../../.."
url=${REF_URL:-http://127.0.0.1:19698}
dbname=${REF_DB:-neutron_ref_19698}
curl -sf -o /dev/null "$url/v2.0/extensions" || { echo "record.sh: $url is not answering" >&2; exit 1; }
go test ./internal/dbimport -run '^TestRecordReference$' -record "$url" -count=1 -v
# shellcheck disable=SC2086
mysqldump ${MYSQLDUMP_ARGS:--uroot} --single-transaction --skip-dump-date --skip-comments "$dbname" |
  gzip -9n > internal/dbimport/testdata/neutron-zed.sql.gz
echo "recorded internal/dbimport/testdata/{answers.json,neutron-zed.sql.gz}"
