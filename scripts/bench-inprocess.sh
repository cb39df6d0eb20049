#!/usr/bin/env bash
# The in-process half of `make bench`: one GET / through the frontend
# handler, which calls the backend handler over loopback
# (frontend/bench_test.go), built three ways side by side, in interleaved
# rounds:
#
#   services  tracing as the services set it up: `off` (OTEL_SDK_DISABLED)
#             and `sdk-only` (5 spans, batched, not exported)
#   floor     what tracing costs at the least: plain otelhttp and a bare
#             TracerProvider with the SDK's batcher, none of the demo's own
#             (tracing/testdata/bench/floor, in place of tracing/http.go and
#             tracing/setup.go, with go test -overlay)
#   untraced  the same routers, limits and log lines, no otelhttp
#             (tracing/testdata/bench/untraced); the SDK off
#
# The sources under tracing/ are not touched: -overlay builds the variants
# from the files above. Allocations per request are exact; times are the
# median of the rounds. The last line, `bench: in process: …`, has the
# figures `make bench` reports: our_allocs_over_floor is what the demo's own
# additions (span names, traceresponse, the copy that keeps a queued span
# from its request, the span counts, the public edge) cost over the floor.
#
# Usage: scripts/bench-inprocess.sh [rounds]   (from make bench)
#        scripts/bench-inprocess.sh check      (from make unit: the variants
#                                               still build, and answer 200)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-$(sed -n 's/^toolchain //p' go.mod)}
rounds=${1:-5}
mkdir -p bin
here=$(pwd)

# overlay VARIANT: the go -overlay file that builds VARIANT.
overlay() {
	local dir=tracing/testdata/bench/$1 entries=()
	for f in http.go setup.go; do
		[ -f "$dir/$f" ] && entries+=("\"$here/tracing/$f\":\"$here/$dir/$f\"")
	done
	(IFS=,; printf '{"Replace":{%s}}\n' "${entries[*]}") >"bin/overlay-$1.json"
	echo "-overlay=bin/overlay-$1.json"
}

if [ "$rounds" = check ]; then
	for variant in floor untraced; do
		go test "$(overlay "$variant")" -count=1 -run '^$' -bench 'BenchmarkRequest' -benchtime=1x ./frontend/ >/dev/null ||
			{ echo "bench-inprocess: the $variant variant (tracing/testdata/bench/$variant) does not build or serve: go test $(overlay "$variant") ./frontend/"; exit 1; }
	done
	echo "bench-inprocess: the floor and untraced variants build and serve"
	exit 0
fi

results=bin/bench-inprocess.txt
: >"$results"
for round in $(seq "$rounds"); do
	for variant in untraced floor services; do
		flags=()
		[ "$variant" = services ] || flags+=("$(overlay "$variant")")
		bench='BenchmarkRequest/sdk-only'
		[ "$variant" = services ] && bench='BenchmarkRequest'
		[ "$variant" = untraced ] && bench='BenchmarkRequest/off'
		go test "${flags[@]}" -run '^$' -bench "$bench" -benchmem -count=1 ./frontend/ |
			awk -v v="$variant" '/^BenchmarkRequest/ { sub(/^BenchmarkRequest\//, ""); sub(/-[0-9]+$/, "", $1); print v, $1, $3, $7 }' |
			tee -a "$results" | sed "s/^/bench: in process: round $round: /"
	done
done

# Per configuration: the median ns/op, and allocs/op.
awk '
	{ name = ($1 == "services") ? $2 : $1; ns[name] = ns[name] " " $3; allocs[name] = $4 }
	function median(list,   a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n + 1) / 2)]
	}
	END {
		u = median(ns["untraced"]); o = median(ns["off"]); f = median(ns["floor"]); s = median(ns["sdk-only"])
		printf "bench: in process: untraced %.1f µs %d allocs; off %.1f µs %d allocs; floor %.1f µs %d allocs; sdk-only %.1f µs %d allocs\n",
			u / 1000, allocs["untraced"], o / 1000, allocs["off"], f / 1000, allocs["floor"], s / 1000, allocs["sdk-only"]
		printf "bench: in process: added_us_inprocess=%.1f sdk_only_ratio_untraced=%.2f sdk_only_ratio_off=%.2f our_allocs_over_floor=%d our_us_over_floor=%.1f\n",
			(s - u) / 1000, s / u, s / o, allocs["sdk-only"] - allocs["floor"], (s - f) / 1000
	}' "$results"
