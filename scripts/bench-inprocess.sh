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
#   upstream  the services, with the two changes that docs/upstream
#             proposes to otelhttp and to the SDK applied to copies of the
#             two modules, in a go.work of bin/upstream (the module cache
#             is not touched)
#
# The sources under tracing/ are not touched: -overlay builds the variants
# from the files above. Allocations per request are exact; times are the
# median of the rounds. The last line, `bench: in process: …`, has the
# figures `make bench` reports (also in bin/bench-inprocess.summary, for the
# summary line of e2e/bench_test.go): our_allocs_over_floor is what the demo's own
# additions (span names, traceresponse, the copy that keeps a queued span
# from its request, the span counts, the public edge) cost over the floor.
#
# Usage: scripts/bench-inprocess.sh [rounds]   (from make bench)
#        scripts/bench-inprocess.sh check      (from make unit: the variants
#                                               still build, and answer 200)
#        scripts/bench-inprocess.sh overlays   (from e2e/bench_test.go, which
#                                               builds the variants as processes)
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

# upstream_work: the go.work that builds the services with
# docs/upstream/*.patch applied to copies of the two modules (go -overlay
# may not replace files in the module cache), printed as the GOWORK setting
# to run go with. The copies live outside the repository, where gofmt and
# go vet do not look.
upstream_work() {
	local out=${TMPDIR:-/tmp}/tracingdemo-upstream-$(id -u) module name dir replaces=""
	rm -rf "$out"
	mkdir -p "$out"
	for spec in "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp otelhttp-metric-attributes-only-when-enabled" \
		"go.opentelemetry.io/otel/sdk sdk-dedupe-attributes-without-a-map"; do
		read -r module name <<<"$spec"
		dir=$(go list -m -f '{{.Dir}}' "$module")
		cp -r "$dir" "$out/$name"
		chmod -R u+w "$out/$name"
		(cd "$out/$name" && git apply -p1 "$here/docs/upstream/$name.patch")
		replaces+="replace $module => ./$name"$'\n'
	done
	printf 'go %s\n\nuse %s\n\n%s' "$(sed -n 's/^go //p' go.mod)" "$here" "$replaces" >"$out/go.work"
	echo "GOWORK=$out/go.work"
}

if [ "$rounds" = overlays ]; then
	for variant in floor untraced; do overlay "$variant" >/dev/null; done
	upstream_work # the one line the caller reads: GOWORK=…
	exit 0
fi
if [ "$rounds" = check ]; then
	for variant in floor untraced; do
		go test "$(overlay "$variant")" -count=1 -run '^$' -bench 'BenchmarkRequest' -benchtime=1x ./frontend/ >/dev/null ||
			{ echo "bench-inprocess: the $variant variant (tracing/testdata/bench/$variant) does not build or serve: go test $(overlay "$variant") ./frontend/"; exit 1; }
	done
	echo "bench-inprocess: the floor and untraced variants build and serve"
	exit 0
fi

# The variants' overlays and the upstream copies are made once, for every
# round.
untraced=$(overlay untraced) floor=$(overlay floor) upstream=$(upstream_work)
results=bin/bench-inprocess.txt
: >"$results"
for round in $(seq "$rounds"); do
	for variant in untraced floor services upstream; do
		flags=() work=GOWORK=off bench=BenchmarkRequest
		case $variant in
		untraced) flags=("$untraced") bench='BenchmarkRequest/off' ;;
		floor) flags=("$floor") bench='BenchmarkRequest/(sdk-only|otlp-http)' ;;
		upstream) work=$upstream ;;
		esac
		env "$work" go test "${flags[@]}" -run '^$' -bench "$bench" -benchmem -count=1 ./frontend/ |
			awk -v v="$variant" '/^BenchmarkRequest/ { sub(/^BenchmarkRequest\//, ""); sub(/-[0-9]+$/, "", $1); print v, $1, $3, $7 }' |
			tee -a "$results" | sed "s/^/bench: in process: round $round: /"
	done
done

# Per configuration (variant-benchmark): the median ns/op, and allocs/op.
awk '
	{ name = $1 "-" $2; ns[name] = ns[name] " " $3; allocs[name] = $4 }
	function median(list,   a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return a[int((n + 1) / 2)] / 1000
	}
	function show(label, name) { printf "%s %.1f µs %d allocs", label, median(ns[name]), allocs[name] }
	END {
		printf "bench: in process:"; show(" untraced", "untraced-off"); show("; off", "services-off")
		show("; floor", "floor-sdk-only"); show("; sdk-only", "services-sdk-only")
		show("; floor, exporting", "floor-otlp-http"); show("; otlp-http", "services-otlp-http"); print ""
		printf "bench: in process: with docs/upstream:"; show(" off", "upstream-off"); show("; sdk-only", "upstream-sdk-only")
		show("; otlp-http", "upstream-otlp-http"); print ""
		u = median(ns["untraced-off"]); o = median(ns["services-off"]); s = median(ns["services-sdk-only"]); e = median(ns["services-otlp-http"])
		printf "bench: in process: added_us_inprocess=%.1f sdk_only_ratio_untraced=%.2f sdk_only_ratio_off=%.2f otlp_http_ratio_untraced=%.2f our_allocs_over_floor=%d our_allocs_over_floor_exporting=%d export_allocs=%d export_us=%.1f\n",
			e - u, s / u, s / o, e / u, allocs["services-sdk-only"] - allocs["floor-sdk-only"],
			allocs["services-otlp-http"] - allocs["floor-otlp-http"], allocs["services-otlp-http"] - allocs["services-sdk-only"], e - s
	}' "$results" | tee bin/bench-inprocess.summary
