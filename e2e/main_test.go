//go:build e2e || bench

package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The end-to-end tests (tag e2e) and the overhead benchmark (tag bench)
// start the same way: build the two services, start one Jaeger.

var (
	binDir string  // where TestMain built tracingdemo
	jg     *jaeger // the one Jaeger every test exports to
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tracingdemo-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	build := exec.Command("go", "build", "-o", binDir, "./cmd/tracingdemo")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building tracingdemo: %v\n%s", err, out)
		return 1
	}

	if jg, err = startJaeger(*jaegerBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if exit := jg.stop(); exit != 0 {
		fmt.Fprintf(os.Stderr, "jaeger exited with %d:\n%s", exit, jg.out)
		code = 1
	}
	os.RemoveAll(filepath.Dir(jg.strategies))
	for _, port := range []int{jg.queryPort, jg.healthPort, jg.otlpHTTPPort, jg.otlpGRPCPort, jg.thriftPort, jg.samplingPort} {
		if !portFree(port) {
			fmt.Fprintf(os.Stderr, "port %d is still held after Jaeger stopped\n", port)
			code = 1
		}
	}
	return code
}

// The exporters a user can choose, each configured only through the
// environment, as a user would.
func exporterEnv(name string) []string {
	switch name {
	case "otlp-http":
		return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + jg.url(jg.otlpHTTPPort, "")}
	case "otlp-grpc":
		return []string{"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_ENDPOINT=" + jg.url(jg.otlpGRPCPort, "")}
	case "jaeger":
		return []string{"OTEL_TRACES_EXPORTER=jaeger", "OTEL_EXPORTER_JAEGER_ENDPOINT=" + jg.url(jg.thriftPort, "/api/traces")}
	}
	panic("unknown exporter " + name)
}

// startService starts the service name (frontend or backend) of the
// tracingdemo that TestMain built, with env (startProcess).
// Batches are of 128 spans, as docker-compose.yml sets them, unless env
// says otherwise (the last value of a variable wins).
func startService(name string, env []string) (*process, error) {
	env = append([]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE=128"}, env...)
	return startProcess(name, filepath.Join(binDir, "tracingdemo"), env, name)
}
