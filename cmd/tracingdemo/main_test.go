package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/tracingdemo/internal/testkit"
)

// These tests run the program itself: the test binary, started again with
// TRACINGDEMO_MAIN=1, runs main with the arguments it was given, so that
// what is tested is what a user runs, down to the signals and exit codes.
func TestMain(m *testing.M) {
	if os.Getenv("TRACINGDEMO_MAIN") == "1" {
		if n, err := strconv.ParseUint(os.Getenv("TRACINGDEMO_NOFILE"), 10, 64); err == nil {
			// As `ulimit -n n` would set it before the program starts.
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
				panic(err)
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// program is one run of tracingdemo.
type program struct {
	cmd    *exec.Cmd
	out    *testkit.SyncBuffer // stdout and stderr
	exited chan struct{}       // closed when it has exited
}

// startProgram runs tracingdemo with args, and with only env in its
// environment (and PATH), so that nothing in the developer's shell, such
// as an OTEL_* variable, changes what the test sees.
func startProgram(t *testing.T, env []string, args ...string) *program {
	t.Helper()
	p := &program{cmd: exec.Command(os.Args[0], args...), out: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = append([]string{"TRACINGDEMO_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// exitCode waits, at most 10 s, for p to exit by itself, and returns its
// exit code.
func (p *program) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(10 * time.Second):
		t.Fatalf("still running after 10 s: it took the setting and served:\n%s", p.out)
		return -1
	}
}

// startService starts the service name on addr, and waits until it
// answers /healthz.
func startService(t *testing.T, name, addr string, env ...string) *program {
	t.Helper()
	p := startProgram(t, append(env, "ADDR="+addr), name)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("%s stopped at start:\n%s", name, p.out)
		default:
		}
	}
	t.Fatalf("%s did not answer on %s:\n%s", name, addr, p.out)
	return nil
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"database"}} {
		p := startProgram(t, nil, args...)
		assert.Equal(t, 2, p.exitCode(t), args)
		assert.Contains(t, p.out.String(), "usage: tracingdemo frontend|backend [-healthcheck]", args)
	}
}

// TestBadConfig: each bad setting stops the service before it serves
// anything, with exit code 2 and a message naming the variable: those the
// demo checks itself, and those that autoexport (the exporter) and the SDK
// (the resource) refuse.
func TestBadConfig(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()

	remote := "OTEL_TRACES_SAMPLER=jaeger_remote"
	notCert := filepath.Join(t.TempDir(), "not-a-certificate.pem")
	require.NoError(t, os.WriteFile(notCert, []byte("hello\n"), 0o600))
	tests := []struct {
		name, service, variable, value string
		also                           string // another setting the case needs
	}{
		{"address without port", "frontend", "ADDR", "localhost", ""},
		{"port in use", "frontend", "ADDR", busy.Addr().String(), ""},
		{"backend URL without scheme", "frontend", "BACKEND_URL", "localhost:8081", ""},
		{"Jaeger UI URL not http", "frontend", "JAEGER_UI_URL", "ftp://jaeger", ""},
		{"connections per client not a number", "backend", "MAX_CONNECTIONS_PER_CLIENT", "many", ""},
		{"connections per client zero", "frontend", "MAX_CONNECTIONS_PER_CLIENT", "0", ""},
		{"connections per client past the cap", "frontend", "MAX_CONNECTIONS_PER_CLIENT", "5000", ""},
		{"timeout not a duration", "frontend", "BACKEND_TIMEOUT", "soon", ""},
		{"timeout zero", "frontend", "BACKEND_TIMEOUT", "0s", ""},
		{"trust not a boolean", "frontend", "TRUST_CALLER_TRACE", "yes", ""},
		{"network spans not a boolean", "frontend", "NETWORK_SPANS", "on", ""},
		{"log format", "frontend", "LOG_FORMAT", "xml", ""},
		{"unknown sampler", "frontend", "OTEL_TRACES_SAMPLER", "sometimes", ""},
		{"unknown exporter", "frontend", "OTEL_TRACES_EXPORTER", "zipkin", ""},
		{"resource attribute without value", "frontend", "OTEL_RESOURCE_ATTRIBUTES", "team", ""},
		{"job trace", "backend", "JOB_TRACE", "sideways", ""},
		// Each of these the SDK or jaegerremote would take, with a
		// default, a panic or a service that misbehaves.
		{"polling interval that overflows", "frontend", "OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=9223372036855", remote},
		{"polling interval that wraps", "frontend", "OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=18446744073710", remote},
		{"polling interval of 1 ms", "frontend", "OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=1", remote},
		{"initial rate NaN", "frontend", "OTEL_TRACES_SAMPLER_ARG", "initialSamplingRate=NaN", remote},
		{"ratio NaN", "frontend", "OTEL_TRACES_SAMPLER_ARG", "NaN", "OTEL_TRACES_SAMPLER=traceidratio"},
		{"queue negative", "frontend", "OTEL_BSP_MAX_QUEUE_SIZE", "-5", ""},
		{"queue of two billion", "frontend", "OTEL_BSP_MAX_QUEUE_SIZE", "2000000000", ""},
		{"queue zero", "frontend", "OTEL_BSP_MAX_QUEUE_SIZE", "0", ""},
		{"batch not a number", "frontend", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "abc", ""},
		{"schedule delay negative", "frontend", "OTEL_BSP_SCHEDULE_DELAY", "-100", ""},
		{"export timeout zero", "frontend", "OTEL_BSP_EXPORT_TIMEOUT", "0", ""},
		{"attribute length not a number", "frontend", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "abc", ""},
		{"attribute length in float notation", "frontend", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1e3", ""},
		{"attribute length unlimited", "frontend", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1", ""},
		{"attribute length zero", "frontend", "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "0", ""},
		// Each of these the exporter would take, then fail every export
		// with it, or send otherwise than asked.
		{"certificate missing", "frontend", "OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem", ""},
		{"certificate not a certificate", "frontend", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", notCert, ""},
		{"client certificate without its key", "frontend", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", notCert, ""},
		{"client key missing", "backend", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", notCert, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY=/nonexistent/key.pem"},
		{"compression unknown", "frontend", "OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", ""},
		{"resource attribute with a bad escape", "frontend", "OTEL_RESOURCE_ATTRIBUTES", "team=a%zz", ""},
		{"Jaeger UI URL with a query", "frontend", "JAEGER_UI_URL", "http://jaeger:16686/?x=", ""},
		{"Jaeger UI URL with a fragment", "frontend", "JAEGER_UI_URL", "http://jaeger:16686/#", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"ADDR=127.0.0.1:0", "OTEL_TRACES_EXPORTER=none", tt.variable + "=" + tt.value}
			if tt.also != "" {
				env = append(env, tt.also)
			}
			p := startProgram(t, env, tt.service)
			assert.Equal(t, 2, p.exitCode(t), p.out.String())
			assert.Contains(t, p.out.String(), "bad setting "+tt.variable+"=", "the message names the variable")
			assert.NotContains(t, p.out.String(), "listening")
		})
	}
}

// TestClientKeyNotShown: a client key that is no key for its certificate
// stops the service with one line that names the variables and the files,
// never what the files hold.
func TestClientKeyNotShown(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	require.NoError(t, os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nU0VDUkVULUNFUlQ=\n-----END CERTIFICATE-----\n"), 0o600))
	require.NoError(t, os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\nSECRET-KEY-42\n-----END PRIVATE KEY-----\n"), 0o600))
	p := startProgram(t, []string{"ADDR=127.0.0.1:0", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + cert, "OTEL_EXPORTER_OTLP_CLIENT_KEY=" + key}, "frontend")
	assert.Equal(t, 2, p.exitCode(t), p.out.String())
	assert.Contains(t, p.out.String(), "bad setting OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=")
	assert.NotContains(t, p.out.String(), "SECRET-KEY-42")
	assert.NotContains(t, p.out.String(), "U0VDUkVU")
}

// TestSecretHeaders: a header the OTLP exporter cannot read (a bad
// %-escape in a key's value) stops the service, with one line that names
// the variable and the key, and not the value, a secret; the exporter
// would have left the key out, and logged the whole value in plain text.
func TestSecretHeaders(t *testing.T) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		env := []string{"ADDR=127.0.0.1:0", "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1",
			name + "=Authorization=Bearer%20ok,X-Api-Key=KEY-%zz-SECRET2"}
		p := startProgram(t, env, "frontend")
		assert.Equal(t, 2, p.exitCode(t), p.out.String())
		assert.Contains(t, p.out.String(), `bad setting `+name+` (its value is not shown: it may hold a secret): the value of \"X-Api-Key\" has a bad %-escape`)
		assert.NotContains(t, p.out.String(), "SECRET2")
		assert.NotContains(t, p.out.String(), "Bearer")
	}
}

// TestCollectorAnswerWithToken: a collector that refuses every export with
// a 400 whose 130 KB body has the word "baggage" in its first line and a
// token after its first kilobyte, as a collector that echoes a request
// would. Over 5 s of requests, exporting every 10 ms, the service logs one
// line about it, with at most 256 bytes of the error, and never the token.
// (Until 2026-12-07 an error that mentioned baggage was taken for a
// caller's: 20 lines of up to 130 KB in 5 s, each with the token.)
func TestCollectorAnswerWithToken(t *testing.T) {
	const token = "TOKEN-4f9c2e81"
	answer := "invalid baggage in request\n" + strings.Repeat("echo: ", 200) + "Authorization: Bearer " + token + strings.Repeat(" x", 65000)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		http.Error(w, answer, http.StatusBadRequest)
	}))
	defer collector.Close()
	addr := freeAddr(t)
	p := startService(t, "backend", addr, "OTEL_EXPORTER_OTLP_ENDPOINT="+collector.URL, "OTEL_BSP_SCHEDULE_DELAY=10")
	// About 20 requests a second for 5 s: each batch of spans is refused.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/hello")
		require.NoError(t, err)
		resp.Body.Close()
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, p.exitCode(t))

	out := p.out.String()
	assert.False(t, strings.Contains(out, token), "the token is in the log")
	var errorLines []string
	for line := range strings.Lines(out) {
		if strings.Contains(line, `"msg":"opentelemetry error"`) {
			errorLines = append(errorLines, line)
		}
	}
	require.Len(t, errorLines, 1, "lines about the refused exports in 5 s")
	var logged struct{ Err string }
	require.NoError(t, json.Unmarshal([]byte(errorLines[0]), &logged))
	cut, _, _ := strings.Cut(logged.Err, "… (")
	assert.LessOrEqual(t, len(cut), 256, "the error's text in the line: %q", logged.Err)
	assert.Contains(t, out, `"msg":"opentelemetry errors held back"`, "the count comes at the stop")
}

// TestOpenTelemetryLogsInOurFormat: what OpenTelemetry reports itself
// (here the exports that fail, to an endpoint that refuses them) comes out
// as the service's own JSON lines, not as plain text beside them. (A bad
// certificate file, which the exporter logged itself, now stops the
// service at start: TestBadConfig.)
func TestOpenTelemetryLogsInOurFormat(t *testing.T) {
	addr := freeAddr(t)
	p := startService(t, "backend", addr, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:1", "OTEL_BSP_SCHEDULE_DELAY=10")
	resp, err := http.Get("http://" + addr + "/hello")
	require.NoError(t, err)
	resp.Body.Close()
	require.Eventually(t, func() bool { return strings.Contains(p.out.String(), `"msg":"opentelemetry error"`) },
		10*time.Second, 10*time.Millisecond, p.out.String())
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	assert.Equal(t, 0, p.exitCode(t), p.out.String())
	assert.Contains(t, p.out.String(), "127.0.0.1:1")
	for _, line := range strings.Split(strings.TrimSpace(p.out.String()), "\n") {
		assert.True(t, json.Valid([]byte(line)), "a line not in the service's JSON format: %s", line)
	}
}

// TestStopDuringRequest stops both services while a request is in flight:
// the request still completes, both exit 0, and all five spans of the
// request reach the exporters in the final flush (the console exporter
// prints them).
func TestStopDuringRequest(t *testing.T) {
	backendAddr, frontendAddr := freeAddr(t), freeAddr(t)
	backend := startService(t, "backend", backendAddr, "OTEL_TRACES_EXPORTER=console")
	// The frontend calls the backend through a relay of the test's, which
	// tells when the call has reached the backend.
	relay, arrived := relayTo(t, backendAddr)
	frontend := startService(t, "frontend", frontendAddr, "OTEL_TRACES_EXPORTER=console", "BACKEND_URL=http://"+relay)

	answer := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + frontendAddr + "/?delay=500ms")
		if err != nil {
			answer <- 0
			return
		}
		resp.Body.Close()
		answer <- resp.StatusCode
	}()
	relayed := <-arrived // the request's bytes went through to the backend
	// The request is in flight once the backend's server has read it: a
	// request that net/http reads after Shutdown began is dropped, its
	// connection closed unanswered. The kernel counts the bytes that wait
	// unread on the backend's end of the relay's connection.
	require.Eventually(t, func() bool { return unread(t, backendAddr, relayed) == 0 },
		10*time.Second, time.Millisecond, "the backend never read the request")
	require.NoError(t, frontend.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, backend.cmd.Process.Signal(syscall.SIGTERM))

	assert.Equal(t, http.StatusOK, <-answer, "a request in flight completes")
	assert.Equal(t, 0, frontend.exitCode(t), frontend.out.String())
	assert.Equal(t, 0, backend.exitCode(t), backend.out.String())
	assert.ElementsMatch(t, []string{"GET /", "backend call", "HTTP GET"}, printedSpans(t, frontend.out.String()))
	assert.ElementsMatch(t, []string{"GET /hello", "handle backend call"}, printedSpans(t, backend.out.String()))
	assert.Contains(t, frontend.out.String(), `"msg":"spans at stop","ended":3,"exported":3,"failed":0,"dropped":0`)
}

// TestStopWithJobQueued stops the backend just after it has answered a
// request whose job (async=true) takes 500 ms: the job is done before the
// backend exits, and its span is flushed with the request's.
func TestStopWithJobQueued(t *testing.T) {
	addr := freeAddr(t)
	backend := startService(t, "backend", addr, "OTEL_TRACES_EXPORTER=console")
	resp, body := testkit.Get(t, "http://"+addr+"/hello?async=true&delay=500ms")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.NoError(t, backend.cmd.Process.Signal(syscall.SIGTERM))

	assert.Equal(t, 0, backend.exitCode(t), backend.out.String())
	assert.ElementsMatch(t, []string{"GET /hello", "handle backend call", "send jobs", "process jobs"},
		printedSpans(t, backend.out.String()))
	assert.Contains(t, backend.out.String(), `"msg":"jobs at stop","done":1,"cut_short":0`)
	assert.Contains(t, backend.out.String(), `"msg":"spans at stop","ended":4,"exported":4,"failed":0,"dropped":0`)
}

// relayTo listens on a loopback port and relays each connection to addr.
// It returns its address, and a channel that gives, once the first
// request's bytes have gone through to addr, the relay's own address on
// that connection.
func relayTo(t *testing.T, addr string) (string, <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	arrived := make(chan string, 1)
	go func() {
		for first := true; ; first = false {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				return
			}
			go func() { _, _ = io.Copy(in, out); in.Close() }()
			go func(first bool) {
				buf := make([]byte, 4096)
				n, _ := in.Read(buf)
				_, _ = out.Write(buf[:n])
				if first {
					arrived <- out.LocalAddr().String()
				}
				_, _ = io.Copy(out, in)
				out.Close()
			}(first)
		}
	}()
	return ln.Addr().String(), arrived
}

// unread is how many bytes wait, unread, at the listener addr's end of its
// connection from remote (both on 127.0.0.1), from /proc/net/tcp; -1 where
// there is no such connection.
func unread(t *testing.T, addr, remote string) int {
	b, err := os.ReadFile("/proc/net/tcp")
	require.NoError(t, err)
	hexAddr := func(a string) string {
		ap, err := netip.ParseAddrPort(a)
		require.NoError(t, err)
		return fmt.Sprintf("0100007F:%04X", ap.Port()) // 127.0.0.1, as /proc/net/tcp writes it
	}
	local, rem := hexAddr(addr), hexAddr(remote)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == local && f[2] == rem {
			_, queue, _ := strings.Cut(f[4], ":") // tx_queue:rx_queue
			n, err := strconv.ParseInt(queue, 16, 64)
			require.NoError(t, err)
			return int(n)
		}
	}
	return -1
}

// printedSpans returns the names of the spans that the console exporter
// printed in out: one JSON object per span, among the JSON log lines.
func printedSpans(t *testing.T, out string) []string {
	var names []string
	scanner := bufio.NewScanner(strings.NewReader(out))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var span struct{ Name string }
		if err := json.Unmarshal(scanner.Bytes(), &span); err == nil && span.Name != "" {
			names = append(names, span.Name)
		}
	}
	require.NoError(t, scanner.Err())
	return names
}

// TestNoJaegerNoLink: with the spans sent to no Jaeger (the console
// exporter of `make run`, or none), the answer names its trace without a
// link that would lead nowhere, and the log says why.
func TestNoJaegerNoLink(t *testing.T) {
	backendAddr, frontendAddr := freeAddr(t), freeAddr(t)
	startService(t, "backend", backendAddr, "OTEL_TRACES_EXPORTER=none")
	frontend := startService(t, "frontend", frontendAddr, "OTEL_TRACES_EXPORTER=none", "BACKEND_URL=http://"+backendAddr)

	resp, body := testkit.Get(t, "http://"+frontendAddr+"/?user=alice")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	traceID := strings.Split(resp.Header.Get("traceresponse"), "-")[1]
	assert.Contains(t, body, "\ntrace: "+traceID+" (no Jaeger configured: look for this trace ID in the services' output)\n")
	assert.NotContains(t, body, "http://")
	assert.Contains(t, frontend.out.String(), `"msg":"no Jaeger configured: OTEL_TRACES_EXPORTER=none prints`)

	resp, body = testkit.Get(t, "http://"+frontendAddr+"/", "Accept", "application/json")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, `"trace_id":"`)
	assert.NotContains(t, body, "trace_url")
}
