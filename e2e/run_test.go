//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/tracingdemo/internal/testkit"
)

// TestRunTargetsOnLoopback: `make run-jaeger` and `make run-prometheus`,
// as a reader runs them, listen on this machine only: their UIs and APIs
// have no login. Each is up on 127.0.0.1, and refuses a connection to any
// other address of the machine. And Jaeger's search page lists no service
// of Jaeger's own.
func TestRunTargetsOnLoopback(t *testing.T) {
	others := otherAddresses(t)
	for _, tt := range []struct {
		target string
		ready  string // a URL that answers once it is up
		ports  []int
	}{
		{"run-jaeger", "http://127.0.0.1:16686/", []int{16686, 16685, 4317, 4318}},
		{"run-prometheus", "http://127.0.0.1:9090/-/ready", []int{9090}},
	} {
		t.Run(tt.target, func(t *testing.T) {
			portsFree(t, tt.target, tt.ports...)
			cmd := exec.Command("make", "-s", "-C", "..", tt.target)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make and what it runs
			out := &testkit.SyncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
				_ = cmd.Wait()
			})
			deadline := time.Now().Add(2 * time.Minute) // make may build it first
			for {
				resp, err := http.Get(tt.ready)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("make %s: %s did not answer 200 within 2 min: %v\n%s", tt.target, tt.ready, err, out)
				}
				time.Sleep(200 * time.Millisecond) // poll: the target builds, then starts
			}
			if tt.target == "run-jaeger" {
				// Jaeger does not trace itself into the demo's search page.
				checkOnlyDemoServices(t, "http://127.0.0.1:16686")
			}
			for _, addr := range others {
				for _, port := range tt.ports {
					target := net.JoinHostPort(addr, strconv.Itoa(port))
					if conn, err := net.DialTimeout("tcp", target, time.Second); err == nil {
						conn.Close()
						t.Errorf("make %s: %s takes connections, from beyond this machine too", tt.target, target)
					}
				}
			}
		})
	}
}

// portsFree skips the test, or fails it where every part is required,
// unless the ports that make target listens on are free here.
func portsFree(t *testing.T, target string, ports ...int) {
	t.Helper()
	for _, port := range ports {
		if ln, err := net.Listen("tcp", ":"+strconv.Itoa(port)); err != nil {
			skipUnlessRequired(t, fmt.Sprintf("port %d, which make %s listens on, is taken here: %v", port, target, err))
		} else {
			ln.Close()
		}
	}
}

// otherAddresses are this machine's IP addresses other than loopback.
func otherAddresses(t *testing.T) []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok && !ipnet.IP.IsLoopback() && !ipnet.IP.IsLinkLocalUnicast() {
			others = append(others, ipnet.IP.String())
		}
	}
	if len(others) == 0 {
		skipUnlessRequired(t, "this machine has no address but loopback: nothing to check against")
	}
	return others
}

// TestMakeRunCtrlC: Ctrl-C in the terminal of `make run` (a SIGINT to its
// whole process group, as a terminal sends it) stops both services with
// that one signal each: the request's five spans are printed, no service
// sees a second signal, and make reports no error.
func TestMakeRunCtrlC(t *testing.T) {
	portsFree(t, "run", 8080, 8081)
	cmd := exec.Command("make", "-C", "..", "run")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a terminal's foreground group
	out := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(2 * time.Minute) // make builds bin/tracingdemo first
	var traceID string
	for {
		status, id, _ := loadGet(http.DefaultClient, "http://127.0.0.1:8080/")
		if status == http.StatusOK {
			traceID = id
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run: the frontend did not answer 200 within 2 min:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond) // poll: make builds, then starts
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run still running 30 s after Ctrl-C:\n%s", out)
	}
	text := out.String()
	spans := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, `{"Name":`) && strings.Contains(line, `"SpanContext":{"TraceID":"`+traceID+`"`) {
			spans++
		}
	}
	if spans != 5 {
		t.Errorf("make run printed %d spans of the trace %s at Ctrl-C, want 5:\n%s", spans, traceID, text)
	}
	for _, bad := range []string{"signal during the stop", "make: ***", "second Ctrl-C"} {
		if strings.Contains(text, bad) {
			t.Errorf("make run, after one Ctrl-C, printed %q:\n%s", bad, text)
		}
	}
}
