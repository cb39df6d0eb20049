#!/usr/bin/env bash
# What each later lesson's instrumentation costs a call (make bench): each
# benchmark's variants run side by side, in interleaved rounds, and the
# last line gives each variant's median time and its allocations against
# the first variant's, e.g. events_ratio=1.15.
#
# Usage: scripts/bench-lessons.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}
rounds=${1:-5}
mkdir -p bin
results=bin/bench-lessons.txt
: >"$results"
for round in $(seq "$rounds"); do
	go test -run '^$' -bench 'BenchmarkNetworkSteps' -benchmem -count=1 ./frontend/ |
		awk '/^Benchmark/ { sub(/-[0-9]+$/, "", $1); print $1, $3, $7 }' |
		tee -a "$results" | sed "s/^/bench: lessons: round $round: /"
done
# Per benchmark: the median ns/op of each variant, and its ratio to the
# benchmark's first variant (its baseline), with the allocations.
awk '
	{ split($1, p, "/"); b = p[1]; v = p[2]
	  if (!(b in first)) { first[b] = v; order[++n] = b }
	  if (!((b, v) in seen)) { seen[b, v] = 1; variants[b] = variants[b] " " v }
	  ns[b, v] = ns[b, v] " " $2; allocs[b, v] = $3 }
	function median(list,   a, k, i, j, t) {
		k = split(list, a, " ")
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((k + 1) / 2)] / 1000
	}
	END {
		for (i = 1; i <= n; i++) {
			b = order[i]; base = median(ns[b, first[b]])
			printf "bench: lessons: %s:", b
			k = split(variants[b], vs, " ")
			for (j = 1; j <= k; j++) {
				v = vs[j]; m = median(ns[b, v])
				printf " %s %.1f µs %d allocs (%s_ratio=%.2f, +%d allocs);", v, m, allocs[b, v], v, m / base, allocs[b, v] - allocs[b, first[b]]
			}
			print ""
		}
	}' "$results"
