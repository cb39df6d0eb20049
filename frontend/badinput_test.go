package frontend_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"

	"example.com/tracingdemo/internal/server"
)

// serve runs the frontend handler of p behind server.Serve, with the
// timeouts and limits the binary has, and returns its address.
func (p *pair) serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logger := slog.New(slog.DiscardHandler)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, ln, p.handler, logger) }()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-done)
	})
	return ln.Addr().String()
}

// TestOversizedHeaders: headers over the server's cap of 32 KiB get 431 and
// never reach the handler.
func TestOversizedHeaders(t *testing.T) {
	p := newPair(t)
	addr := p.serve(t)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	require.NoError(t, err)
	req.Header.Set("baggage", "junk="+strings.Repeat("x", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	assert.Empty(t, p.backendCalls())
}

// TestSlowClient: a client that sends half its headers and then nothing
// (slowloris) is cut off by the server's ReadHeaderTimeout instead of
// holding the connection for ever.
func TestSlowClient(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	conn, err := net.Dial("tcp", p.serve(t))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: demo\r\nX-Slow: 1\r\n")
	require.NoError(t, err)

	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = bufio.NewReader(conn).ReadString('\n')
	assert.ErrorIs(t, err, io.EOF, "the server closes the connection")
	t.Logf("connection closed after %s", time.Since(start).Round(10*time.Millisecond))
	assert.Empty(t, p.backendCalls())
}

// TestBodyOnGETIgnored: a GET with a body is served as any GET.
func TestBodyOnGETIgnored(t *testing.T) {
	p := newPair(t)
	req, err := http.NewRequest(http.MethodGet, p.frontend.URL+"/?user=erin", strings.NewReader(`{"fail":true}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(string(body), "hello, erin, from the backend"), string(body))
}

// TestClientCancels: a client that hangs up mid-request cancels the
// backend call too, and both services' spans say so.
func TestClientCancels(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.frontend.URL+"/?delay=5s", nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	spans := p.waitSpans(t, 5)
	handle := spanNamed(t, spans, "handle backend call")
	assert.Equal(t, codes.Error, handle.Status().Code)
	assert.Equal(t, "caller gone while waiting", handle.Status().Description)
	assert.Less(t, handle.EndTime().Sub(start), 5*time.Second, "the backend stopped waiting")
	call := spanNamed(t, spans, "backend call")
	assert.Equal(t, codes.Error, call.Status().Code)
	assert.Contains(t, call.Status().Description, "context canceled")
}

// TestOversizedTraceState: a tracestate over the W3C limit of 32 members
// is dropped, not passed on; the traceparent beside it still counts.
func TestOversizedTraceState(t *testing.T) {
	p := newPair(t)
	var members []string
	for i := range 40 {
		members = append(members, fmt.Sprintf("k%d=v", i))
	}
	resp, _ := p.get(t, "/",
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate", strings.Join(members, ","))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("traceresponse"), "4bf92f3577b34da6a3ce929d0e0e4736")
	calls := p.backendCalls()
	require.Len(t, calls, 1)
	assert.Empty(t, calls[0].Get("tracestate"))
}
