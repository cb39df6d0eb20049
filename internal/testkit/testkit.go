// Package testkit holds the helpers the tests of several packages share.
package testkit

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Get requests url with headers given as name, value pairs, and returns the
// response with its body read. A "Host" header names the host to send.
func Get(t testing.TB, url string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host // net/http sends req.Host, not a Host header
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp, string(body)
}

// SyncBuffer is a bytes.Buffer that writers on several goroutines, such as
// a server's logger or a child process, can share with the test reading it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset empties the buffer.
func (b *SyncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// DefaultLog sends slog.Default to a buffer for the test, through the
// handler that newHandler makes (slog.NewJSONHandler, slog.NewTextHandler),
// and puts the old default back after it.
func DefaultLog[H slog.Handler](t testing.TB, newHandler func(io.Writer, *slog.HandlerOptions) H) *SyncBuffer {
	t.Helper()
	buf := &SyncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(newHandler(buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return buf
}

// SetOTelEnv clears every OTEL_* variable for the test, then sets env; the
// test's cleanup restores them all.
func SetOTelEnv(t testing.TB, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
		}
	}
	for name, value := range env {
		t.Setenv(name, value)
	}
}

// GoodSettings are values of the OTEL_* variables that the services take:
// the settings check lets them through, and tracing's Setup uses them.
var GoodSettings = map[string]string{
	"OTEL_TRACES_SAMPLER":           "parentbased_traceidratio",
	"OTEL_TRACES_SAMPLER_ARG":       "0.25",
	"OTEL_PROPAGATORS":              "tracecontext,baggage,b3",
	"OTEL_RESOURCE_ATTRIBUTES":      "deployment.environment.name=demo",
	"OTEL_EXPORTER_OTLP_ENDPOINT":   "https://collector.example:4318",
	"OTEL_EXPORTER_JAEGER_ENDPOINT": "http://jaeger:14268/api/traces",
	"OTEL_SDK_DISABLED":             "false",
	"OTEL_TRACES_EXPORTER":          "none",
}

// Attr returns the value of the span's attribute key; an empty Value if
// the span has none.
func Attr(s sdktrace.ReadOnlySpan, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// EventNames returns the names of the span's events, in order.
func EventNames(s sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, e := range s.Events() {
		names = append(names, e.Name)
	}
	return names
}
