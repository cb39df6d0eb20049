package frontend_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/tracing"
)

// twoCalls makes two calls through Transport with NetworkSteps(spans), by
// a host name (so that the first one looks it up), on one connection,
// and returns the spans that ended.
func twoCalls(t *testing.T, spans bool) []sdktrace.ReadOnlySpan {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	u.Host = "localhost:" + u.Port()
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	client := &http.Client{Transport: tracing.Transport(http.DefaultTransport.(*http.Transport).Clone(), tp,
		propagation.TraceContext{}, frontend.NetworkSteps(spans))}
	for range 2 {
		resp, err := client.Get(u.String())
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body) // to its end: http.receive ends there
		resp.Body.Close()
	}
	return recorder.Ended()
}

// reused is the span's or event's http.conn.reused, as text.
func reused(attrs []attribute.KeyValue) string {
	for _, kv := range attrs {
		if kv.Key == "http.conn.reused" {
			return kv.Value.Emit()
		}
	}
	return ""
}

var connectAddr = regexp.MustCompile(`^http\.connect\..*\.(start|done)$`)

// TestNetworkStepsAsEvents: by default each step is a pair of events on
// the CLIENT span, and no span is added. The first call looks the name up
// and connects; the second reuses the connection.
func TestNetworkStepsAsEvents(t *testing.T) {
	ended := twoCalls(t, false)
	require.Len(t, ended, 2, "two CLIENT spans, and no other")
	want := [][]string{
		{"http.getconn.start", "http.dns.start", "http.dns.done", "http.connect.start", "http.connect.done", "http.getconn.done",
			"http.send.start", "http.send.done", "http.receive.start", "http.receive.done"},
		{"http.getconn.start", "http.getconn.done", "http.send.start", "http.send.done", "http.receive.start", "http.receive.done"},
	}
	for i, span := range ended {
		assert.Equal(t, "HTTP GET", span.Name())
		var names []string
		for _, e := range span.Events() {
			// The connect events carry the address in their names.
			names = append(names, connectAddr.ReplaceAllString(e.Name, "http.connect.$1"))
			if e.Name == "http.getconn.done" {
				assert.Equal(t, fmt.Sprint(i == 1), reused(e.Attributes), "call %d: http.conn.reused", i+1)
			}
		}
		assert.Equal(t, want[i], names, "call %d", i+1)
	}
}

// TestNetworkStepsAsSpans: with spans, each step is a child span of the
// CLIENT span, and DNS and connect are under http.getconn.
func TestNetworkStepsAsSpans(t *testing.T) {
	ended := twoCalls(t, true)
	names := map[[2]string]int{} // {span, parent}: how many
	byID := map[string]string{}
	for _, s := range ended {
		byID[s.SpanContext().SpanID().String()] = s.Name()
	}
	for _, s := range ended {
		names[[2]string{s.Name(), byID[s.Parent().SpanID().String()]}]++
		if s.Name() == "http.getconn" {
			assert.Contains(t, []string{"true", "false"}, reused(s.Attributes()))
		}
	}
	assert.Equal(t, map[[2]string]int{
		{"HTTP GET", ""}:                 2,
		{"http.getconn", "HTTP GET"}:     2,
		{"http.dns", "http.getconn"}:     1, // the first call only
		{"http.connect", "http.getconn"}: 1,
		{"http.headers", "HTTP GET"}:     2,
		{"http.send", "HTTP GET"}:        2,
		{"http.receive", "HTTP GET"}:     2,
	}, names)
}

// BenchmarkNetworkSteps: what the network's steps cost a call, side by
// side: through tracing.Transport without NetworkSteps, with them as
// events (the default) and as spans (NETWORK_SPANS=true), on a
// connection kept alive, to a server on loopback; spans made, not exported.
// `make bench` runs it.
func BenchmarkNetworkSteps(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))
	defer srv.Close()
	for _, bc := range []struct {
		name string
		opts []otelhttp.Option
	}{
		{"none", nil},
		{"events", []otelhttp.Option{frontend.NetworkSteps(false)}},
		{"spans", []otelhttp.Option{frontend.NetworkSteps(true)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			defer tp.Shutdown(context.Background())
			client := &http.Client{Transport: tracing.Transport(http.DefaultTransport.(*http.Transport).Clone(), tp,
				propagation.TraceContext{}, bc.opts...)}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
