//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestExporterStalled points both services at an OTLP endpoint that accepts
// connections and never answers, the worst a tracing backend can do, and
// sends 15 s of requests with a 17 KB path and a 17 KB User-Agent, both of
// which otelhttp copies into the span. Users must see their answers (404
// for such a path); the frontend's memory stays bounded (span attributes are cut to
// 1 KiB, and the batcher drops what it cannot queue); the drops are logged
// while they happen, not only at the stop; and the stop exits 0, since a
// tracing outage is not a failure of the service.
func TestExporterStalled(t *testing.T) {
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		connsMu sync.Mutex
		conns   []net.Conn
	)
	go func() {
		for {
			conn, err := stalled.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, conn) // held open, never read nor answered
			connsMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stalled.Close()
		connsMu.Lock()
		defer connsMu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})

	p := startPair(t, 0, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+stalled.Addr().String())
	client := &http.Client{Timeout: 30 * time.Second}
	long := strings.Repeat("x", 17<<10)
	var (
		mu               sync.Mutex
		requests, failed int
		wg               sync.WaitGroup
	)
	loadStart := time.Now()
	stop := loadStart.Add(15 * time.Second)
	for range 20 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, p.frontendURL("/"+long), nil)
				req.Header.Set("User-Agent", long)
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusNotFound
				if err == nil {
					resp.Body.Close()
				}
				mu.Lock()
				requests++
				if !ok {
					failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	firstWarning := firstLogTime(p.frontend, `"msg":"spans dropped: the exporter cannot keep up`)
	warnedWhileRunning := !firstWarning.IsZero()
	peakMB := statusKB(p.frontend, "VmHWM") / 1024

	stopStart := time.Now()
	exit := p.frontend.stop()
	stopTook := time.Since(stopStart)
	counts := spansAtStop(t, p.frontend)
	fmt.Printf("reliability: OTLP endpoint that accepts and never answers, 15 s of requests with a 17 KB path and User-Agent: %d requests, %d not answered 404; frontend peak RSS %d MB; first line about drops %s after the load started; stop took %s and exited %d; frontend spans at stop: %s\n",
		requests, failed, peakMB, firstWarning.Sub(loadStart).Round(100*time.Millisecond), stopTook.Round(100*time.Millisecond), exit, counts)

	if failed > 0 {
		t.Errorf("%d of %d requests were not answered 404: a stalled exporter must not touch the users", failed, requests)
	}
	if exit != 0 {
		t.Errorf("the frontend exited %d, want 0: a tracing outage is not a failure of the service", exit)
	}
	if !warnedWhileRunning {
		t.Errorf("no line said that spans were dropped before the stop:\n%s", p.frontend.out)
	}
	// The endpoint accepts nothing: none may be said exported.
	if counts.Dropped == 0 || counts.Exported != 0 {
		t.Errorf("frontend spans at stop: %s: want some dropped, none exported to an endpoint that never answers", counts)
	}
	// Memory is not time: it does not depend on the machine's load. Without
	// the attribute limit, the queue alone holds 2,048 spans of 34 KB.
	if peakMB > 100 {
		t.Errorf("frontend peak RSS %d MB, want at most 100 MB", peakMB)
	}
}

// firstLogTime is the time of p's first log line that contains text; zero
// if there is none.
func firstLogTime(p *process, text string) time.Time {
	for _, line := range strings.Split(p.out.String(), "\n") {
		if strings.Contains(line, text) {
			var record struct{ Time time.Time }
			if json.Unmarshal([]byte(line), &record) == nil {
				return record.Time
			}
		}
	}
	return time.Time{}
}

// TestSecondSignal: Ctrl-C starts the graceful stop, which waits for the
// request in flight; a SIGTERM then (make's trap, a supervisor's second
// signal) changes nothing: the request is answered, and the service exits
// 0. Only a second Ctrl-C cuts the wait short (cmd/tracingdemo's
// TestSecondCtrlC).
func TestSecondSignal(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		fmt.Fprintln(w, "hello, stranger, from the backend")
	}))
	defer backend.Close()

	port := freePort()
	frontend, err := startService("frontend", []string{
		"ADDR=127.0.0.1:" + strconv.Itoa(port), "BACKEND_URL=" + backend.URL, "OTEL_TRACES_EXPORTER=none"})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := frontend.waitReady(url + "/healthz"); err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		status, _, _ := loadGet(http.DefaultClient, url+"/")
		answered <- status
	}()
	<-arrived // the request is in flight, waiting on the backend

	_ = frontend.cmd.Process.Signal(os.Interrupt)
	waitFor(t, frontend, `"msg":"stopping: no new connections`)
	_ = frontend.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, frontend, `"msg":"signal during the stop: the stop goes on","signal":"terminated"`)
	close(release)
	if status := <-answered; status != http.StatusOK {
		t.Errorf("the request in flight was answered %d, want 200", status)
	}
	if exit := frontend.stop(); exit != 0 {
		t.Errorf("exited %d after Ctrl-C and SIGTERM, want 0", exit)
	}
	fmt.Printf("reliability: Ctrl-C, then SIGTERM during the stop: the request in flight answered 200, exited 0\n")
}

// waitFor polls p's output until it contains text, or fails the test after
// 10 s.
func waitFor(t *testing.T, p *process, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.out.String(), text) {
			return
		}
	}
	t.Fatalf("%s never logged %q:\n%s", p.name, text, p.out)
}
