package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rootsReceiver is an OTLP/HTTP receiver that counts the root spans of the
// exports it acknowledged. It answers each export after delay, and counts
// nothing of one whose sender hung up first; arrived gets a value as each
// export arrives.
func rootsReceiver(t *testing.T, delay time.Duration) (url string, roots *atomic.Int64, arrived chan struct{}) {
	t.Helper()
	roots, arrived = &atomic.Int64{}, make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spans, err := exportedSpans(r)
		arrived <- struct{}{}
		if err != nil {
			t.Errorf("an export the receiver cannot read: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return // the sender is gone: nothing was acknowledged
		}
		for _, s := range spans {
			if len(s.ParentSpanId) == 0 {
				roots.Add(1)
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, roots, arrived
}

// tenRequests sends 10 requests to the backend at addr, each answered 200.
func tenRequests(t *testing.T, addr string) {
	t.Helper()
	for range 10 {
		resp, err := http.Get("http://" + addr + "/hello")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

// queuedEnv keeps the spans in the batcher until the stop's flush.
const queuedEnv = "OTEL_BSP_SCHEDULE_DELAY=60000"

// TestSignalsFlush: SIGTERM, SIGINT and SIGHUP (a closed SSH session, a
// kill -HUP) each stop the service with its spans flushed, exit 0.
func TestSignalsFlush(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			url, roots, _ := rootsReceiver(t, 0)
			addr := freeAddr(t)
			p := startService(t, "backend", addr, "OTEL_EXPORTER_OTLP_ENDPOINT="+url, queuedEnv)
			tenRequests(t, addr)
			require.NoError(t, p.cmd.Process.Signal(sig))
			assert.Equal(t, 0, p.exitCode(t), p.out.String())
			assert.EqualValues(t, 10, roots.Load(), "root spans acknowledged by the receiver")
		})
	}
}

// TestSecondSignalDuringFlush: a second SIGTERM, or a SIGHUP, while the
// flush waits on a slow receiver (GNU timeout sends SIGTERM twice, to the
// child and to its group) does not cut the flush: 10 of 10 root spans.
func TestSecondSignalDuringFlush(t *testing.T) {
	url, roots, arrived := rootsReceiver(t, time.Second)
	addr := freeAddr(t)
	p := startService(t, "backend", addr, "OTEL_EXPORTER_OTLP_ENDPOINT="+url, queuedEnv)
	tenRequests(t, addr)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	<-arrived // the flush's export is at the receiver, which waits 1 s
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	assert.Equal(t, 0, p.exitCode(t), p.out.String())
	assert.EqualValues(t, 10, roots.Load(), "root spans acknowledged by the receiver")
}

// TestSecondCtrlC: Ctrl-C twice, from a person who will not wait, cuts the
// wait for a request in flight short, and exits 1; the spans of the 10
// requests that finished are flushed all the same.
func TestSecondCtrlC(t *testing.T) {
	url, roots, _ := rootsReceiver(t, 0)
	addr := freeAddr(t)
	p := startService(t, "backend", addr, "OTEL_EXPORTER_OTLP_ENDPOINT="+url, queuedEnv)
	tenRequests(t, addr)
	// The request in flight: sent by hand, and read by the server (no
	// byte of it left unread on the server's end) before the first Ctrl-C.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /hello?delay=10s HTTP/1.1\r\nHost: backend\r\n\r\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return unread(t, addr, conn.LocalAddr().String()) == 0 },
		10*time.Second, time.Millisecond, "the backend never read the request")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	require.Eventually(t, func() bool { return strings.Contains(p.out.String(), `"msg":"stopping`) }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	assert.Equal(t, 1, p.exitCode(t), p.out.String())
	assert.Contains(t, p.out.String(), `"msg":"second Ctrl-C during the stop`)
	answer, err := io.ReadAll(conn)
	assert.Empty(t, answer, "the request in flight got no answer: %v", err)
	assert.EqualValues(t, 10, roots.Load(), "the finished requests' root spans")
}

// TestClosedLogReader: when the reader of the service's output goes away
// (make run | head -n 3), the service loses its log lines, not its

// backendLoggingToPipe starts the backend on addr, exporting to receiver,
// its stdout and stderr the write end of a pipe whose read end it returns;
// exited is closed once it has exited.
func backendLoggingToPipe(t *testing.T, addr, receiver string) (cmd *exec.Cmd, logs *os.File, exited chan struct{}) {
	t.Helper()
	logs, w, err := os.Pipe()
	require.NoError(t, err)
	cmd = exec.Command(os.Args[0], "backend")
	cmd.Env = []string{"TRACINGDEMO_MAIN=1", "PATH=" + os.Getenv("PATH"), "ADDR=" + addr, "OTEL_EXPORTER_OTLP_ENDPOINT=" + receiver, queuedEnv}
	cmd.Stdout, cmd.Stderr = w, w
	require.NoError(t, cmd.Start())
	w.Close() // the child holds its own end
	exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	return cmd, logs, exited
}

// requests or spans: SIGPIPE does not end it.
func TestClosedLogReader(t *testing.T) {
	url, roots, _ := rootsReceiver(t, 0)
	addr := freeAddr(t)
	cmd, r, exited := backendLoggingToPipe(t, addr, url)

	line, err := bufio.NewReader(r).ReadString('\n') // "backend listening"
	require.NoError(t, err, line)
	r.Close() // the reader goes away, as head does
	tenRequests(t, addr)
	stopsFlushed(t, cmd, exited, roots, 10)
}

// TestStalledLogReader: a log reader that stops reading (a paused
// terminal, make run | less, a blocked log driver) holds up nothing. With
// its 64 KiB pipe full and the log's queue too, 5,000 requests are each
// answered within 5 s, the health check says healthy, and a SIGTERM stops
// the service within 10 s with every root span flushed. (The count of the
// lines dropped: TestStalledLogDropsAndCounts.)
func TestStalledLogReader(t *testing.T) {
	url, roots, _ := rootsReceiver(t, 0)
	addr := freeAddr(t)
	cmd, r, exited := backendLoggingToPipe(t, addr, url)
	defer r.Close()
	line, err := bufio.NewReader(r).ReadString('\n') // "backend listening"; then no more reading
	require.NoError(t, err, line)

	// About 1 MB of log lines: the pipe holds 64 KiB, the queue 4,096 lines.
	const requests = 5000
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range requests {
		resp, err := client.Get("http://" + addr + "/hello")
		require.NoError(t, err, "request %d of %d, with the log's reader stalled", i+1, requests)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.NoError(t, healthCheck(addr))

	stopsFlushed(t, cmd, exited, roots, requests)
}

// stopsFlushed sends cmd SIGTERM, and wants it to exit 0 within 10 s, with
// want root spans acknowledged by the receiver.
func stopsFlushed(t *testing.T, cmd *exec.Cmd, exited chan struct{}, roots *atomic.Int64, want int) {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after SIGTERM")
	}
	assert.Equal(t, 0, cmd.ProcessState.ExitCode(), cmd.ProcessState.String())
	assert.EqualValues(t, want, roots.Load(), "root spans acknowledged by the receiver")
}
