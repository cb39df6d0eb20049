# The demo's commands. `make help` lists them.

GO ?= go

# The recipes use bash (pipefail, PIPESTATUS).
SHELL := /bin/bash

# Every build uses Go 1.27.3, the toolchain named in go.mod, whatever Go is
# installed: the go command fetches it from the Go module proxy the first
# time (about 76 MB). Machines whose Go says GOTOOLCHAIN=local would
# otherwise build with their own, older Go and its known vulnerabilities.
export GOTOOLCHAIN := $(shell sed -n 's/^toolchain //p' go.mod)

# A slow build says what it builds before it starts (the first one takes
# minutes, and a silent minute looks like a hang), and after, how long it
# took, in wall and CPU time (docs/tests.md has the times).
building = @echo "$@: building $(1) from source, once (later runs reuse it): cold, $(2)"
TIMED = TIMEFORMAT='$@: built in %0R s wall, %0U s user + %0S s system CPU'; time

.PHONY: help up down build run jaeger run-jaeger prometheus run-prometheus kustomize kubernetes otelcol chromium test lint unit e2e manifests k8s-test reliability compose-test screenshots fuzz vulncheck bench clean clean-stand-ins

help: ## list the commands; (slow) marks those of minutes (docs/tests.md has the times)
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1) } \
		END { for (i = 1; i <= NR; i++) printf "  make %-*s  %s\n", w, name[i], text[i] }'

# The Quick start's `docker compose up --wait`, also where Docker has no
# Compose v2 plugin: then with Compose built from source (scripts/compose.sh).
# Where Docker itself is missing, one line says what to install.
up: ## (slow) start Jaeger and both services in Docker, as the Quick start does, with or without Docker's Compose v2
	@scripts/compose.sh up --wait
down: ## stop what make up started
	@scripts/compose.sh down

build: ## build bin/tracingdemo, which runs either service
	$(GO) build -o bin/ ./cmd/tracingdemo

# Spans go to the console, unless OTEL_EXPORTER_OTLP_ENDPOINT (or
# OTEL_TRACES_EXPORTER) says where else: e.g. to the Jaeger of `make run-jaeger`.
# Ctrl-C reaches both services from the terminal: the recipe only waits
# for them (a SIGTERM of its own would be a second signal); a SIGTERM to
# make itself is passed on.
run: build ## run backend (:8081) and frontend (:8080) here; Ctrl-C stops both
	@export OTEL_TRACES_EXPORTER=$${OTEL_TRACES_EXPORTER:-$(if $(OTEL_EXPORTER_OTLP_ENDPOINT),otlp,console)}; \
	export LOG_FORMAT=$${LOG_FORMAT:-text}; \
	export OTEL_BSP_MAX_EXPORT_BATCH_SIZE=$${OTEL_BSP_MAX_EXPORT_BATCH_SIZE:-128}; \
	bin/tracingdemo backend & backend=$$!; bin/tracingdemo frontend & frontend=$$!; \
	trap 'wait; exit 0' INT; \
	trap 'kill -TERM $$frontend $$backend 2>/dev/null; wait; exit 0' TERM; \
	wait

# Jaeger v2 (module v1.75.0 = Jaeger v2.12.0), built from the Go module proxy
# in its own module, tools/jaeger, so that its dependencies stay out of ours.
# Static (CGO_ENABLED=0), as Jaeger's own release builds are, so that it also
# runs in the Docker stand-in image. The first build takes minutes (the
# times, cold and warm, on the CI machine are in docs/tests.md); later ones
# use Go's build cache.
#
# Its web UI is not part of Jaeger's Go module: bin/jaeger-ui holds the real
# one, jaeger-ui v1.68.0 (scripts/jaeger-ui.sh), which Jaeger serves from
# there when told to (jaeger_query.ui.assets_path).
jaeger: bin/jaeger bin/jaeger-ui/index.html ## (slow) build Jaeger v2 from source into bin/jaeger, and its UI into bin/jaeger-ui
bin/jaeger: tools/jaeger/go.mod tools/jaeger/go.sum
	$(call building,Jaeger 2.12.0,about 7 CPU-minutes: 3 ½ to 6 min on 2 cores)
	$(TIMED) (cd tools/jaeger && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger)
bin/jaeger-ui/index.html: tools/jaeger/go.mod tools/jaeger/go.sum scripts/jaeger-ui.sh
	scripts/jaeger-ui.sh bin/jaeger-ui

# JAEGER_CONFIG runs another of Jaeger's configurations, e.g.
# JAEGER_CONFIG=jaeger/tail-sampling.yaml; by default, Jaeger's all-in-one,
# whose remote_sampling (on 5778) serves jaeger/sampling-strategies.json,
# reloaded every second, to services with OTEL_TRACES_SAMPLER=jaeger_remote.
JAEGER_CONFIG ?=
JAEGER_UI_FLAG = --set=extensions.jaeger_query.ui.assets_path=$(CURDIR)/bin/jaeger-ui
JAEGER_STRATEGIES_FLAG = --set=extensions.remote_sampling.file.path=$(CURDIR)/jaeger/sampling-strategies.json
# The UI and the query API have no login: on this machine only, as Jaeger's
# other listeners already are (and as compose publishes them).
JAEGER_LOOPBACK_FLAGS = --set=extensions.jaeger_query.http.endpoint=localhost:16686 --set=extensions.jaeger_query.grpc.endpoint=localhost:16685
# Jaeger would trace its own query API: a third service, jaeger, on the
# search page, beside the demo's two.
JAEGER_UNTRACED_FLAG = --set=extensions.jaeger_query.enable_tracing=false
run-jaeger: jaeger ## run Jaeger here: OTLP on 4317/4318, UI and query API on 16686, all on localhost (JAEGER_CONFIG=…)
	bin/jaeger $(if $(JAEGER_CONFIG),--config $(JAEGER_CONFIG),$(JAEGER_STRATEGIES_FLAG)) $(JAEGER_UI_FLAG) $(JAEGER_LOOPBACK_FLAGS) $(JAEGER_UNTRACED_FLAG)

# Prometheus 3.16.0 (module v0.316.0), for Jaeger's Monitor tab, built from
# the Go module proxy in its own module, tools/prometheus, like Jaeger.
# Built this way it serves its query API, which is all Jaeger needs, but no
# web UI of its own. Static, as Jaeger is.
prometheus: bin/prometheus ## (slow) build Prometheus from source into bin/prometheus
bin/prometheus: tools/prometheus/go.mod tools/prometheus/go.sum
	$(call building,Prometheus 3.16.0,about 12 CPU-minutes: 6 to 9 min on 2 cores)
	$(TIMED) (cd tools/prometheus && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/prometheus github.com/prometheus/prometheus/cmd/prometheus)

# Prometheus here, scraping the Jaeger of
# `make run-jaeger JAEGER_CONFIG=jaeger/monitor.yaml` on localhost:8889.
run-prometheus: prometheus ## run Prometheus here on localhost:9090, for Jaeger's Monitor tab
	mkdir -p bin/prometheus-data
	sed 's/jaeger:8889/localhost:8889/' prometheus/prometheus.yml >bin/prometheus-data/prometheus.yml
	bin/prometheus --config.file=bin/prometheus-data/prometheus.yml --storage.tsdb.path=bin/prometheus-data --web.listen-address=localhost:9090

# kustomize v5.8.3, built from the Go module proxy in its own module,
# tools/kustomize, to build and check the manifests in deploy/kubernetes.
kustomize: bin/kustomize ## build kustomize from source into bin/kustomize
bin/kustomize: tools/kustomize/go.mod tools/kustomize/go.sum
	$(call building,kustomize v5.8.3,about 1 CPU-minute: 40 s on 2 cores)
	$(TIMED) (cd tools/kustomize && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/kustomize sigs.k8s.io/kustomize/kustomize/v5)

# kube-apiserver v1.37.2 and etcd v3.7.3, built from the Go module proxy in
# their own module, tools/kubernetes, for make k8s-test: the manifests
# applied to a real API server. No kubelet: no pod runs.
KUBE_VERSION := v1.37.2
KUBE_LDFLAGS = -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(KUBE_VERSION:v%=%))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION)))
kubernetes: bin/kube-apiserver bin/etcd ## (slow) build kube-apiserver and etcd from source into bin/
bin/kube-apiserver: tools/kubernetes/go.mod tools/kubernetes/go.sum
	$(call building,kube-apiserver $(KUBE_VERSION),about 9 CPU-minutes: 4 ½ to 6 ½ min on 2 cores)
	$(TIMED) (cd tools/kubernetes && CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o ../../bin/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver)
bin/etcd: tools/kubernetes/go.mod tools/kubernetes/go.sum
	$(TIMED) (cd tools/kubernetes && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/etcd go.etcd.io/etcd/server/v3)

# An OpenTelemetry Collector with the components of the routing tier of
# deploy/kubernetes (contrib 0.160.0; not 0.139.0, Jaeger 2.12.0's release,
# whose loadbalancing exporter sends nothing: tools/otelcol/main.go says why),
# built from the Go module proxy in its own module, tools/otelcol, for its
# tests.
otelcol: bin/otelcol ## (slow) build the OpenTelemetry Collector of the routing tier into bin/otelcol
bin/otelcol: tools/otelcol/go.mod tools/otelcol/go.sum tools/otelcol/main.go
	$(call building,the routing tier's OpenTelemetry Collector,about 3 CPU-minutes: 2 min on 2 cores)
	$(TIMED) (cd tools/otelcol && CGO_ENABLED=0 $(GO) build -trimpath -o ../../bin/otelcol .)

# Headless Chromium from Debian, for the browser tests and the screenshots.
# Where it cannot be installed, those tests skip and say so; with CI=true or
# REQUIRE_ALL=1, the install's failure fails the run.
chromium: ## install Debian's Chromium for the browser tests, if it is missing (apt-get)
	@scripts/install-chromium.sh

# CI (CI=true) and REQUIRE_ALL=1 require every real part: a missing Docker
# engine or Chromium fails the run instead of skipping the tests that need
# it. Elsewhere those tests skip, each with a line that says so, and the last
# line of make test lists them.
REQUIRE_ALL ?= $(if $(filter-out false 0,$(CI)),1)
export REQUIRE_ALL

# Each step in turn; the last line says what ran, what was skipped and what
# failed. The skips are the lines that start with "SKIPPED:" or hold
# ": SKIPPED:", gathered in bin/skipped.
TEST_STEPS = lint unit manifests k8s-test e2e compose-test vulncheck
test: ## (slow) everything CI runs: lint, unit, manifest, API server, end-to-end and compose tests, and the vulnerability scan
	@mkdir -p bin && rm -f bin/skipped && failed=none; \
	for step in $(TEST_STEPS); do \
		$(MAKE) --no-print-directory $$step 2>&1 | tee bin/step.log; \
		status=$${PIPESTATUS[0]}; \
		grep -oE '(^|: )SKIPPED: .*' bin/step.log | sed "s/^: //; s/^/$$step: /" >>bin/skipped || true; \
		if [ "$$status" != 0 ]; then failed=$$step; break; fi; \
	done; \
	echo; echo "make test: steps: $(TEST_STEPS); failed: $$failed; skipped: $$(if [ -s bin/skipped ]; then wc -l <bin/skipped; else echo 0; fi)"; \
	[ ! -s bin/skipped ] || sed 's/^/  skipped: /' bin/skipped; \
	[ "$$failed" = none ]

# e2e/ is a module of its own (its go.mod says why): it is vetted and
# tested from inside it.
E2E_FLAGS = -jaeger=$(CURDIR)/bin/jaeger -jaeger-ui=$(CURDIR)/bin/jaeger-ui -prometheus=$(CURDIR)/bin/prometheus -otelcol=$(CURDIR)/bin/otelcol

# Every module of the project: its go.mod and go.sum must be tidy.
MODULES = . e2e deploy/kubernetes tools/compose tools/jaeger tools/kubernetes tools/kustomize tools/otelcol tools/prometheus tools/vulncheck

lint: ## gofmt, go vet, and go mod tidy in every module
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) mod tidy -diff) || { echo "lint: $$m: go mod tidy needed (the diff is above)"; exit 1; }; done
	$(GO) vet ./...
	cd e2e && $(GO) vet -tags e2e . && $(GO) vet -tags e2e,faults . && $(GO) vet -tags compose . && $(GO) vet -tags bench .
	cd deploy/kubernetes && $(GO) vet . && $(GO) vet -tags apiserver .
	cd tools/vulncheck && $(GO) vet ./vulnscan

unit: ## in-process tests, with the race detector
	$(GO) test -race -count=1 ./...
	scripts/bench-inprocess.sh check

# The Kubernetes manifests, offline: built by kustomize, decoded strictly
# into the API's types, checked, and their configs loaded by the real Jaeger
# and Collector.
# deploy/kubernetes is a module of its own, so that k8s.io/api stays out of
# ours.
manifests: kustomize jaeger otelcol ## check the Kubernetes manifests in deploy/kubernetes
	cd deploy/kubernetes && $(GO) test -count=1 -v . -kustomize=$(CURDIR)/bin/kustomize -jaeger=$(CURDIR)/bin/jaeger -otelcol=$(CURDIR)/bin/otelcol

# The manifests applied, with server-side apply, to a real kube-apiserver
# and etcd on loopback (deploy/kubernetes/apiserver_test.go): Pod Security
# enforced, every object read back, and refused with a misspelt field.
k8s-test: kustomize kubernetes ## (slow) apply the manifests to a real kube-apiserver and etcd, on this machine only
	cd deploy/kubernetes && $(GO) test -tags apiserver -count=1 -v -run '^TestAPIServer' . -kustomize=$(CURDIR)/bin/kustomize -kube-apiserver=$(CURDIR)/bin/kube-apiserver -etcd=$(CURDIR)/bin/etcd

e2e: jaeger prometheus otelcol chromium ## (slow) the real binaries against a real Jaeger, on loopback, and its UI in a browser
	cd e2e && $(GO) test -tags e2e,faults -count=1 -v . $(E2E_FLAGS)

# The faults of e2e/reliability_test.go and e2e/scalefaults_test.go, and
# their neighbours, one line of figures each. They run in `make e2e` too
# (the faults of the scale-out tiers, the faults build tag, take about
# 4 minutes of it): this target runs them alone.
reliability: jaeger otelcol ## (slow) the fault tests, with their figures
	@cd e2e && bash -o pipefail -c '$(GO) test -tags e2e,faults -count=1 -v -timeout 20m -run "TestSIGTERMUnderLoad|TestMemoryUnderAttack|TestBackend|TestJaegerDown|TestBadSettings|TestExporterStalled|TestSecondSignal|TestTailSamplingFlood|TestTailSamplingMemoryBound|TestScale" . $(E2E_FLAGS) | grep -E "^(reliability:|--- FAIL|FAIL|ok)"'

# The pictures in the README, made by the browser test's machinery: the real
# binaries, the real Jaeger and its real UI, in headless Chromium. Run it
# again when the UI or the spans change.
screenshots: jaeger prometheus chromium ## (slow) write the README's pictures of the Jaeger UI into docs/images
	cd e2e && $(GO) test -tags e2e -count=1 -v -run '^(TestScreenshots|TestREDMetrics)$$' . $(E2E_FLAGS) -screenshots=$(CURDIR)/docs/images

# The fuzzer sends arbitrary query strings and trace headers through the
# frontend and backend handlers (frontend/fuzz_test.go), and straight to
# the backend (backend/fuzz_test.go). What it finds interesting is kept in
# each package's testdata/fuzz, which `make unit` replays.
FUZZTIME ?= 60s
# Each new input is shrunk for at most 2 s, not Go's 60 s: the seeds of
# 20 KB headers would otherwise take most of the run to shrink.
fuzz: ## (slow) fuzz the frontend, then the backend, for FUZZTIME (60s) each, keeping the corpus found
	@for target in frontend/FuzzFrontend backend/FuzzBackend; do \
		pkg=$${target%/*}; name=$${target#*/}; \
		$(GO) test -run '^$$' -fuzz=$$name -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./$$pkg/ || exit 1; \
		mkdir -p $$pkg/testdata/fuzz/$$name; \
		cp "$$($(GO) env GOCACHE)"/fuzz/example.com/tracingdemo/$$pkg/$$name/* $$pkg/testdata/fuzz/$$name/ 2>/dev/null || true; \
		echo "fuzz: corpus: $$(ls $$pkg/testdata/fuzz/$$name | wc -l) inputs in $$pkg/testdata/fuzz/$$name"; \
	done

# What tracing costs, per exporter, measured side by side in one run
# (e2e/bench_test.go): first one request through the frontend handler in
# process, untraced, at the floor, and as the services trace it, with
# allocations (scripts/bench-inprocess.sh); then the real binaries against
# a real Jaeger, each configuration in turn, in interleaved rounds. It ends
# with one `bench:` summary line. BENCHFLAGS can change the rounds, the rate
# and the lengths, e.g. BENCHFLAGS="-rounds=5 -fixed=30s".
BENCHFLAGS ?=
bench: jaeger ## (slow) what tracing costs: CPU, latency, req/s, spans lost, per exporter
	scripts/bench-inprocess.sh
	$(GO) test -run '^$$' -bench . -benchmem ./internal/spans/
	scripts/bench-lessons.sh
	@cd e2e && bash -o pipefail -c '$(GO) test -tags bench -run "^TestOverhead$$" -count=1 -v -timeout 30m . $(E2E_FLAGS) $(BENCHFLAGS) | grep -vE "^(=== RUN|--- PASS|PASS|ok )"'

# Known vulnerabilities that our code or the tools we build can reach,
# offline: govulncheck v1.9.0 (tools/vulncheck) with the Go vulnerability
# database built from the module golang.org/x/vulndb, at the version that
# tools/vulncheck/go.mod pins (scripts/vulndb.sh). It fails on any
# vulnerability reachable from our services; a tool's may stay only with a
# reason, in tools/vulncheck/allowlist.txt. The service images' binaries are
# scanned where Docker answers (make compose-test builds them). GOVULNDB
# picks another database, e.g. the live one: GOVULNDB=https://vuln.go.dev.
GOVULNDB ?= file://$(CURDIR)/bin/vulndb
VULN_OURS = source:. source:e2e source:deploy/kubernetes binary:bin/tracingdemo \
	$(if $(shell docker info >/dev/null 2>&1 && echo yes),image:tracingdemo/frontend image:tracingdemo/backend)
VULN_TOOLS = binary:bin/jaeger binary:bin/otelcol binary:bin/prometheus binary:bin/kustomize binary:bin/docker-compose \
	binary:bin/kube-apiserver binary:bin/etcd
vulncheck: build jaeger otelcol prometheus kustomize kubernetes bin/docker-compose bin/govulncheck bin/vulnscan $(if $(filter file://$(CURDIR)/bin/vulndb,$(GOVULNDB)),bin/vulndb/version) ## (slow) known vulnerabilities our code and tools reach, offline; fails on any in our services
	@$(if $(filter image:%,$(VULN_OURS)),,echo "vulncheck: SKIPPED: the service images' binaries (no Docker engine answers)")
	bin/vulnscan -govulncheck bin/govulncheck -db $(GOVULNDB) -allow tools/vulncheck/allowlist.txt \
		-tags e2e,compose,bench,faults,apiserver -ours "$(VULN_OURS)" -tools "$(VULN_TOOLS)"
bin/govulncheck bin/gendb &: tools/vulncheck/go.mod tools/vulncheck/go.sum
	cd tools/vulncheck && $(GO) build -trimpath -o ../../bin/ golang.org/x/vuln/cmd/govulncheck golang.org/x/vulndb/cmd/gendb
bin/vulnscan: tools/vulncheck/go.mod tools/vulncheck/vulnscan/main.go
	cd tools/vulncheck && $(GO) build -trimpath -o ../../bin/vulnscan ./vulnscan
bin/vulndb/version: tools/vulncheck/go.mod tools/vulncheck/go.sum bin/gendb scripts/vulndb.sh
	scripts/vulndb.sh bin/vulndb

# docker-compose.yml, run for real on this machine's Docker engine. Skipped,
# with a line that says so, where no Docker engine answers. Users run Compose
# v2 (`docker compose`); where Docker has only the old Python docker-compose
# v1, Compose v2 is built from the Go module proxy (tools/compose) and used
# as Docker's CLI plugin, from bin/docker-config.
compose-test: ## (slow) docker compose up, for real, and the trace it makes
	@if ! docker info >/dev/null 2>&1 && [ -n "$(REQUIRE_ALL)" ]; then \
		echo "compose-test: FAILED: no Docker engine answers (docker info failed), and CI=true or REQUIRE_ALL=1 requires the compose test: install Docker Engine and Compose (Debian: apt-get install docker.io docker-compose), start it, and run again"; \
		exit 1; \
	elif ! docker info >/dev/null 2>&1; then \
		echo "compose-test: SKIPPED: no Docker engine answers (docker info failed)"; \
	elif docker compose version >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory compose-test-run; \
	else \
		$(MAKE) --no-print-directory compose-test-run COMPOSE_PLUGIN=bin/docker-config/cli-plugins/docker-compose; \
	fi

compose-test-run: jaeger chromium $(COMPOSE_PLUGIN)
	scripts/docker-stand-ins.sh
	cd e2e && $(if $(COMPOSE_PLUGIN),DOCKER_CONFIG=$(CURDIR)/bin/docker-config) $(GO) test -tags compose -count=1 -v -timeout 30m . $(E2E_FLAGS)

# Compose v5.6.0, the version tested here against Debian 12's Docker Engine
# 20.10 (API 1.41). (v5.7 imports github.com/docker/secrets-engine/x, which
# the Go module proxy refuses to serve.)
COMPOSE_VERSION := v5.6.0
bin/docker-compose: tools/compose/go.mod tools/compose/go.sum
	$(call building,Docker Compose $(COMPOSE_VERSION),about 40 s on 2 cores)
	$(TIMED) (cd tools/compose && CGO_ENABLED=0 $(GO) build -trimpath \
		-ldflags "-X github.com/docker/compose/v5/internal.Version=$(COMPOSE_VERSION)" \
		-o ../../bin/docker-compose github.com/docker/compose/v5/cmd)
bin/docker-config/cli-plugins/docker-compose: bin/docker-compose
	mkdir -p $(@D) && ln -sf ../../docker-compose $@

clean: ## remove what the build made
	rm -rf bin

# The stand-ins that make compose-test made where no registry answers
# (scripts/docker-stand-ins.sh): every image labelled tracingdemo.stand-in,
# under whatever name, older versions' under the official names too.
clean-stand-ins: ## remove the local stand-in images that make compose-test made
	@images=$$(docker images -q --filter label=tracingdemo.stand-in | sort -u); \
	if [ -n "$$images" ]; then docker image rm -f $$images; else echo "clean-stand-ins: none here"; fi
