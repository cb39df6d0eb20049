//go:build e2e || compose || bench

package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"example.com/tracingdemo/internal/testkit"
)

// What `make jaeger` built, passed by the Makefile to every test binary here.
var (
	jaegerBin = flag.String("jaeger", "../bin/jaeger", "the Jaeger v2 binary, built by `make jaeger`")
	jaegerUI  = flag.String("jaeger-ui", "../bin/jaeger-ui", "the Jaeger UI's files, written by `make jaeger`")
	promBin   = flag.String("prometheus", "../bin/prometheus", "the Prometheus binary, built by `make prometheus`")
	// The Collector of the routing tier, built by `make otelcol`.
	otelcolBin = flag.String("otelcol", "../bin/otelcol", "the OpenTelemetry Collector, built by `make otelcol`")
)

// process is one program the tests started: a service or Jaeger.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *testkit.SyncBuffer // stdout and stderr
	exited chan struct{}
	err    error // from cmd.Wait, once exited is closed
}

// startProcess starts path with only the environment given (and PATH), so
// that nothing in the developer's shell, such as an OTEL_* variable,
// changes what the test sees.
func startProcess(name, path string, env []string, args ...string) (*process, error) {
	p := &process{name: name, out: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// If the test binary dies without its cleanup (a panic, a timeout),
	// the kernel kills what it started, rather than leave a Jaeger or a
	// service running and holding its ports.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls url until it answers 200, the process exits, or 20 s
// pass. It never sleeps blindly: it asks again every 20 ms.
func (p *process) waitReady(url string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited at start (%v):\n%s", p.name, p.err, p.out)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond) // poll until it answers
	}
	return fmt.Errorf("%s did not answer on %s within 20s:\n%s", p.name, url, p.out)
}

// stop sends SIGTERM, waits for the process to exit (killing it after 30
// s), and returns its exit code. Calling it again returns the same code.
func (p *process) stop() int {
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return exitErr.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}

// freePort returns a loopback port that nothing listens on now, and that
// it has not returned before: the kernel may hand out a port again as soon
// as it is closed, and two processes of a test must not get the same one.
func freePort() int {
	portsMu.Lock()
	defer portsMu.Unlock()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !portsGiven[port] {
			portsGiven[port] = true
			return port
		}
	}
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// portFree reports whether nothing listens on the loopback port any more.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// statusKB is a memory figure of the process from /proc/<pid>/status, in
// kB: field "VmRSS" is its resident memory now, "VmHWM" the most it has had.
func statusKB(p *process, field string) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return -1
}
