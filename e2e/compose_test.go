//go:build compose

package e2e

// The compose test runs docker-compose.yml, as it is, on this machine's
// Docker engine: `make compose-test`, also part of `make test` whenever a
// Docker engine answers.
//
// The machines this runs on cannot pull images, so scripts/docker-stand-ins.sh
// first finds the images Dockerfile and docker-compose.yml name, or makes
// local stand-ins under names of their own, and writes the names to use into
// bin/stand-ins.env; testdata/compose.stand-ins.yml puts them in the
// official images' places, for this test only. The build containers do
// reach the Go module proxy over Docker's default bridge network (checked on
// this project's CI machines: `go mod download` inside the golang stand-in
// works without --network=host), so compose builds the images itself, as it
// does for users.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// What docker-compose.yml publishes on the host.
const (
	frontendURL = "http://127.0.0.1:8080"
	jaegerURL   = "http://127.0.0.1:16686"
)

// compose runs `docker compose` on the project's compose file, under a
// project name of its own, so that it touches nothing a developer runs,
// with the images that scripts/docker-stand-ins.sh chose.
type compose struct {
	t       *testing.T
	project string
}

func (c compose) run(args ...string) (string, error) {
	cmd := exec.Command("docker", append([]string{"compose",
		"-f", "../docker-compose.yml", "-f", "testdata/compose.stand-ins.yml", "--env-file", "../bin/stand-ins.env",
		"-p", c.project}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c compose) must(args ...string) string {
	c.t.Helper()
	start := time.Now()
	out, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("docker compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	c.t.Logf("docker compose %s: %s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	return out
}

func TestCompose(t *testing.T) {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		skipUnlessRequired(t, fmt.Sprintf("no Docker engine answers (docker info: %v)\n%s", err, out))
	}
	for _, port := range []string{"8080", "16686", "4317", "4318"} {
		if ln, err := net.Listen("tcp", ":"+port); err != nil {
			t.Fatalf("port %s, which docker-compose.yml publishes, is taken on this machine: %v", port, err)
		} else {
			ln.Close()
		}
	}

	c := compose{t: t, project: fmt.Sprintf("tracingdemo-test-%06d", rand.IntN(1e6))}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.run("logs", "--no-color")
			t.Logf("docker compose logs:\n%s", out)
		}
		// Containers, network and volumes of this project: what the test
		// made. The images stay, as the build cache of the next run.
		if out, err := c.run("down", "-v", "--remove-orphans"); err != nil {
			t.Errorf("docker compose down -v: %v\n%s", err, out)
		}
	})

	// The README's command: build (pull_policy: build, so that images left
	// by an earlier run never hide new code), start, and wait until every
	// health check passes: from then on the first request must already
	// make a complete trace. Compose looks for none of the project's own
	// images in a registry, so it prints no failed pull.
	up := c.must("up", "-d", "--wait")
	for _, line := range strings.Split(up, "\n") {
		if lower := strings.ToLower(line); strings.Contains(lower, "pull") && strings.Contains(lower, "tracingdemo/") {
			t.Errorf("docker compose up tried to pull the project's own image: %s", line)
		}
	}
	checkImages(t)
	checkNoStandInUnderOfficialNames(t)
	// Jaeger's OTLP ports take spans from this machine only, and its UI
	// and query API answer it only.
	for service, ports := range map[string][]string{"jaeger": {"16686", "4317", "4318"}, "frontend": {"8080"}} {
		for _, port := range ports {
			if out := strings.TrimSpace(c.must("port", service, port)); out != "127.0.0.1:"+port {
				t.Errorf("docker compose port %s %s: %q, want 127.0.0.1:%s (this machine only)", service, port, out, port)
			}
		}
	}
	// The services run bounded and with no privileges, and come back up
	// after a crash.
	for service, memory := range map[string]string{"frontend": "134217728", "backend": "134217728", "jaeger": "0"} {
		id := strings.TrimSpace(c.must("ps", "-q", service))
		out, err := exec.Command("docker", "inspect", "--format",
			"{{.HostConfig.Memory}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.ReadonlyRootfs}}", id).CombinedOutput()
		if want := memory + " [ALL] [no-new-privileges:true] unless-stopped true"; err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s's container: %q (%v), want memory, capabilities, options, restart and root filesystem %q", service, out, err, want)
		}
	}

	jaeger := jaegerAPI{base: jaegerURL}
	t.Run("one trace across both containers", func(t *testing.T) {
		status, body, traceID := getTraced(t, frontendURL+"/?user=alice")
		jaeger.checkTree(t, traceID, theTree(map[string]string{"user": "alice"}))
		if status != http.StatusOK || !strings.HasPrefix(body, "hello, alice, from the backend") {
			t.Errorf("GET / answered %d %q, want 200 and the backend's hello", status, body)
		}
		// The link must open on the host, not inside the compose network.
		if want := "trace: http://localhost:16686/trace/" + traceID; !strings.Contains(body, want) {
			t.Errorf("the answer %q does not hold the link %q", body, want)
		}
	})

	t.Run("the trace in the Jaeger UI", func(t *testing.T) {
		b := newBrowser(t)
		_, body, traceID := getTraced(t, frontendURL+"/?user=carol")
		_, failBody, failID := getTraced(t, frontendURL+"/?fail=true")
		jaeger.waitTrace(t, traceID, 5) // the time for every span to reach Jaeger
		jaeger.waitTrace(t, failID, 5)
		// The links name localhost:16686, which compose publishes: the
		// browser opens them on the host, as a user's would.
		b.checkTrace(linkIn(t, body), traceID, wantTimeline(false))
		b.checkTrace(linkIn(t, failBody), failID, wantTimeline(true))
		b.checkSearch(jaegerURL, traceID, failID)
	})

	t.Run("a job in a trace of its own", func(t *testing.T) {
		status, body, traceID := getTraced(t, frontendURL+"/?async=true")
		if status != http.StatusOK || !strings.Contains(body, "your job is queued") {
			t.Fatalf("GET /?async=true answered %d %q, want 200 and the queued job's hello", status, body)
		}
		send := jaeger.checkTree(t, traceID, jobTree(nil, false))["send jobs"]
		if send.SpanID == "" {
			t.FailNow() // checkTree has said what the trace holds
		}
		job := jaeger.findTrace(t, "backend", "process jobs", "messaging.message.id", send.tag("messaging.message.id"))
		if want := []string{"FOLLOWS_FROM " + traceID + "/" + send.SpanID}; len(job.Spans) != 1 || !slices.Equal(job.Spans[0].refs(), want) {
			t.Errorf("the job's trace %s has %d spans; want 1, linked: %q", job.TraceID, len(job.Spans), want)
		}
	})

	t.Run("the README's answers", func(t *testing.T) {
		checkReadmeAnswers(t, frontendURL)
	})

	t.Run("the network lesson's spans", func(t *testing.T) {
		// docs/lessons/network.md: NETWORK_SPANS=true docker compose up
		// --wait makes the frontend anew, with the steps as spans. Its
		// first call looks the name backend up, and connects.
		os.Setenv("NETWORK_SPANS", "true")
		c.must("up", "-d", "--wait")
		os.Unsetenv("NETWORK_SPANS")
		defer c.must("up", "-d", "--wait") // the frontend as it was
		for _, newConnection := range []bool{true, false} {
			_, _, traceID := getTraced(t, frontendURL+"/?user=alice")
			tree := networkSpans(newConnection)
			if newConnection {
				tree = append(tree, wantSpan{service: "frontend", name: "http.dns", kind: "client", parent: "http.getconn",
					tags: map[string]string{"server.address": "backend"}})
			}
			jaeger.checkTree(t, traceID, tree)
		}
	})

	t.Run("only the demo's services in Jaeger", func(t *testing.T) {
		// The UI and the API have been used by now: where Jaeger traced
		// its own query API, its batcher (5 s) would have sent a third
		// service, jaeger, by the end of this.
		checkOnlyDemoServices(t, jaegerURL)
	})

	t.Run("backend stopped", func(t *testing.T) {
		c.must("stop", "backend")
		status, body, traceID := getTraced(t, frontendURL+"/")
		if status != http.StatusBadGateway || !strings.HasPrefix(body, "backend unavailable ") {
			t.Errorf("with the backend stopped, GET / answered %d %q, want 502 saying the backend is unavailable", status, body)
		}
		jaeger.checkTree(t, traceID, []wantSpan{
			{service: "frontend", name: "GET /", kind: "server",
				tags: map[string]string{"http.response.status_code": "502", "error": "true"}},
			{service: "frontend", name: "backend call", kind: "internal", parent: "GET /",
				events: []string{"making backend call", "exception"}, tags: map[string]string{"error": "true"}},
			{service: "frontend", name: "HTTP GET", kind: "client", parent: "backend call",
				tags: map[string]string{"error": "true"}},
		})
		c.must("start", "backend")
		c.must("up", "-d", "--wait") // back to healthy
	})

	t.Run("Jaeger restarted", func(t *testing.T) {
		// Jaeger keeps traces in memory: a restart starts it empty. The
		// services' exporters reconnect, and the next trace is complete.
		c.must("restart", "jaeger")
		c.must("up", "-d", "--wait")
		status, _, traceID := getTraced(t, frontendURL+"/?user=bob")
		if status != http.StatusOK {
			t.Errorf("after Jaeger restarted, GET / answered %d", status)
		}
		jaeger.checkTree(t, traceID, theTree(map[string]string{"user": "bob"}))
	})
}

// checkImages checks what the README promises of the service images: under
// 25 MB, run as a non-root user, no shell inside.
func checkImages(t *testing.T) {
	t.Helper()
	for _, image := range []string{"tracingdemo/frontend", "tracingdemo/backend"} {
		out, err := exec.Command("docker", "image", "inspect", "-f", "{{.Size}} {{.Config.User}}", image).Output()
		if err != nil {
			t.Fatalf("docker image inspect %s: %v", image, err)
		}
		var size int64
		var user string
		fmt.Sscan(string(out), &size, &user)
		t.Logf("%s: %.1f MB, user %s", image, float64(size)/1e6, user)
		if size >= 25e6 {
			t.Errorf("%s is %d bytes, want under 25 MB", image, size)
		}
		if user != "65532:65532" {
			t.Errorf("%s runs as user %q, want 65532:65532 (nonroot)", image, user)
		}
		if err := exec.Command("docker", "run", "--rm", "--entrypoint", "/bin/sh", image, "-c", "true").Run(); err == nil {
			t.Errorf("%s has a shell at /bin/sh, want none", image)
		}
	}
}

// TestComposeFilesPublishOnLoopback: every port that docker-compose.yml
// publishes, alone or with the files under jaeger/ that add to it, is
// published on 127.0.0.1 only: none of the demo's UIs and APIs has a
// login. docker compose config reads the files as up would.
func TestComposeFilesPublishOnLoopback(t *testing.T) {
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
		skipUnlessRequired(t, fmt.Sprintf("no docker compose (docker compose version: %v)\n%s", err, out))
	}
	for _, extra := range []string{"", "../jaeger/monitor.compose.yml", "../jaeger/tail-sampling.compose.yml"} {
		args := []string{"compose", "-f", "../docker-compose.yml"}
		if extra != "" {
			args = append(args, "-f", extra)
		}
		out, err := exec.Command("docker", append(args, "config", "--format", "json")...).Output()
		if err != nil {
			t.Fatalf("docker %s config: %v", strings.Join(args, " "), err)
		}
		var cfg struct {
			Services map[string]struct {
				Ports []struct {
					HostIP    string `json:"host_ip"`
					Published string `json:"published"`
				} `json:"ports"`
			} `json:"services"`
		}
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatalf("docker compose config: %v", err)
		}
		published := 0
		for name, svc := range cfg.Services {
			for _, p := range svc.Ports {
				published++
				if p.HostIP != "127.0.0.1" {
					t.Errorf("with %q: %s publishes port %s on %q, want 127.0.0.1", extra, name, p.Published, p.HostIP)
				}
			}
		}
		if published < 4 {
			t.Errorf("with %q: %d ports published, want at least docker-compose.yml's 4", extra, published)
		}
	}
}

// checkNoStandInUnderOfficialNames: where an image is here under a name that
// the project's files use, it is the real one, never a local stand-in, so
// that a user's own `docker compose up` cannot run one. (Stand-ins carry the
// label tracingdemo.stand-in.)
func checkNoStandInUnderOfficialNames(t *testing.T) {
	t.Helper()
	for _, image := range []string{"golang:1.27.3", "gcr.io/distroless/static-debian12:nonroot", "jaegertracing/jaeger:2.12.0", "prom/prometheus:v3.16.0"} {
		out, err := exec.Command("docker", "image", "inspect", "-f", `{{index .Config.Labels "tracingdemo.stand-in"}}`, image).Output()
		if err != nil {
			continue // not here: nothing can shadow it
		}
		if label := strings.TrimSpace(string(out)); label != "" && label != "<no value>" {
			t.Errorf("%s is a local stand-in (label tracingdemo.stand-in=%s), under the name a user's docker compose up would run: make clean-stand-ins removes it", image, label)
		}
	}
}
