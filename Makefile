# The demo's commands. `make help` lists them.

GO ?= go

.PHONY: help build run jaeger run-jaeger test lint unit e2e clean

help: ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## build bin/frontend and bin/backend
	$(GO) build -o bin/ ./cmd/frontend ./cmd/backend

# Spans go to the console, unless OTEL_EXPORTER_OTLP_ENDPOINT (or
# OTEL_TRACES_EXPORTER) says where else: e.g. to the Jaeger of `make run-jaeger`.
run: build ## run backend (:8081) and frontend (:8080) here; Ctrl-C stops both
	@trap 'kill 0' EXIT; \
	export OTEL_TRACES_EXPORTER=$${OTEL_TRACES_EXPORTER:-$(if $(OTEL_EXPORTER_OTLP_ENDPOINT),otlp,console)}; \
	export LOG_FORMAT=$${LOG_FORMAT:-text}; \
	bin/backend & bin/frontend & wait

# Jaeger v2 (module v1.76.0 = Jaeger v2.13.0), built from the Go module proxy
# in its own module, tools/jaeger, so that its dependencies stay out of ours.
# The first build takes about 4 minutes; later ones use Go's build cache.
jaeger: bin/jaeger ## build Jaeger v2 from source into bin/jaeger
bin/jaeger: tools/jaeger/go.mod tools/jaeger/go.sum
	cd tools/jaeger && $(GO) build -trimpath -o ../../bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger

run-jaeger: jaeger ## run Jaeger here: OTLP on 4317/4318, query API on 16686
	bin/jaeger

test: lint unit e2e ## everything CI runs: lint, unit tests, end-to-end tests

lint: ## gofmt and go vet
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/

unit: ## in-process tests, with the race detector
	$(GO) test -race -count=1 ./...

e2e: jaeger ## the real binaries against a real Jaeger, on loopback
	$(GO) test -tags e2e -count=1 -v ./e2e/ -jaeger=$(CURDIR)/bin/jaeger

clean: ## remove what the build made
	rm -rf bin
