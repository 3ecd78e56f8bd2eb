#!/bin/sh
# funclen.sh [MAX] PATH...: lists the Go functions under PATH longer than MAX
# lines (default 80), counted from "func" at column 0 to the closing "}" at
# column 0, longest first; exits 1 when there is one.
#   scripts/funclen.sh 80 internal/ml2 internal/api
max=${1:-80}
shift
out=$(find "$@" -name '*.go' | sort | while read -r f; do
	awk -v max="$max" -v file="$f" '
		/^func / { start = NR; sig = $0; next }
		/^}/ && start { n = NR - start + 1; if (n > max) { sub(/ *\{$/, "", sig); printf "%4d %s:%d %s\n", n, file, start, sig }; start = 0 }
	' "$f"
done | sort -rn)
[ -z "$out" ] && exit 0
echo "$out"
exit 1
