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
	"example.com/tracingdemo/internal/testkit"
)

// serve runs the frontend handler of p in the server of server.New, with
// the timeouts and limits the binary has, and returns its address.
func (p *pair) serve(t *testing.T) string {
	addr, _ := p.serveWith(t)
	return addr
}

// serveWith is serve, and the server.
func (p *pair) serveWith(t *testing.T) (string, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := server.New(p.handler, slog.New(slog.DiscardHandler), 15*time.Second)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		assert.NoError(t, srv.Shutdown(context.Background()))
		assert.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return ln.Addr().String(), srv
}

// TestOversizedHeaders: the server caps a request's line and headers at
// 36,864 bytes: MaxHeaderBytes (32 KiB) plus the 4 KiB of slack that Go's
// server adds. Over that, 431, and the handler never runs.
func TestOversizedHeaders(t *testing.T) {
	for _, tt := range []struct {
		size       int
		wantStatus int
	}{
		{35_000, http.StatusOK}, // over 32 KiB, within the slack
		{37_000, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			p := newPair(t)
			addr := p.serve(t)
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			require.NoError(t, err)
			req.Header.Set("X-Padding", strings.Repeat("x", tt.size))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			if tt.wantStatus != http.StatusOK {
				assert.Empty(t, p.backendCalls())
			}
		})
	}
}

// TestSlowClient: a client that sends half its headers and then nothing
// (slowloris) is cut off by the server's ReadHeaderTimeout instead of
// holding the connection for ever: before the longer ReadTimeout would
// have cut it off.
func TestSlowClient(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	addr, srv := p.serveWith(t)
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: demo\r\nX-Slow: 1\r\n")
	require.NoError(t, err)

	start := time.Now()
	between := srv.ReadHeaderTimeout + (srv.ReadTimeout-srv.ReadHeaderTimeout)/2
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(between)))
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

// TestSlowBodyNotWaitedFor: a GET whose body trickles in is answered at
// once, and its connection closed. By default Go's server would first read
// the unread body, for up to ReadTimeout (10 s), before it sent an answer
// that the span and the log say took milliseconds.
func TestSlowBodyNotWaitedFor(t *testing.T) {
	p := newPair(t)
	conn, err := net.Dial("tcp", p.serve(t))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /?user=erin HTTP/1.1\r\nHost: demo\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n")
	require.NoError(t, err)

	// The body is never finished. A deadline short of ReadTimeout tells an
	// answer sent now from one sent when the server gave up on the body.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(8*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "no answer while the body was still coming")
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(string(body), "hello, erin, from the backend"), string(body))
	assert.True(t, resp.Close, "the connection is not kept: the rest of the body is still on it")
	// And the server closes it right after the answer, rather than read
	// the trickle for up to its ReadTimeout first.
	answered := time.Now()
	_, err = conn.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
	assert.Less(t, time.Since(answered), 2*time.Second, "closed right after the answer, not after the 10 s ReadTimeout")
}

// TestClientCancels: a client that hangs up mid-request cancels the
// backend call too, and both services' spans say so, as no error: the
// frontend answers 499, client closed request, not 502; the backend's span
// and log line say 499, not 200; the frontend logs one WARN line for
// however many callers hang up in 10 s, and no ERROR.
func TestClientCancels(t *testing.T) {
	p := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.frontend.URL+"/?delay=5s", nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// A second caller who hangs up, within the same 10 s.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	req2, err := http.NewRequestWithContext(ctx2, http.MethodGet, p.frontend.URL+"/?delay=5s", nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req2)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	spans := p.waitSpans(t, 10)
	for _, s := range spans {
		if s.Name() == "HTTP GET" {
			continue // otelhttp's own CLIENT span records the canceled call as an error
		}
		assert.NotEqual(t, codes.Error, s.Status().Code, "%s: %s", s.Name(), s.Status().Description)
		if s.Name() == "handle backend call" {
			assert.Equal(t, []string{"handling backend call", "waiting", "the caller went away while waiting"}, testkit.EventNames(s))
			assert.Less(t, s.EndTime().Sub(start), 5*time.Second, "the backend stopped waiting")
		}
		if s.Name() == "GET /" {
			assert.Equal(t, int64(499), testkit.Attr(s, "http.response.status_code").AsInt64())
			assert.Contains(t, testkit.EventNames(s), "the caller went away before its answer")
		}
	}
	logs := p.logs.String()
	assert.Equal(t, 1, strings.Count(logs, `"msg":"callers went away before their answer"`), logs)
	assert.Equal(t, 2, strings.Count(logs, `"route":"/hello","status":499`), "the backend's lines: %s", logs)
	assert.Equal(t, 2, strings.Count(logs, `"route":"/","status":499`), "the frontend's lines: %s", logs)
	assert.NotContains(t, logs, `"level":"ERROR"`)
}

// TestOversizedTraceState: a tracestate over the W3C limit of 32 members
// is dropped, not passed on; the traceparent beside it still counts.
func TestOversizedTraceState(t *testing.T) {
	p := newPair(t, trusted)
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
	// The trace context itself did go on: without it, no tracestate
	// would reach the backend either, and the check above would pass.
	assert.Regexp(t, `^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$`, calls[0].Get("traceparent"))
}
