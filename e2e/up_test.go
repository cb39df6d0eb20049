//go:build compose

package e2e

// make up is the Quick start's alternative for machines whose Docker has
// no Compose v2 plugin (Debian 12's, say). These tests run it as such a
// machine would: with Docker's CLI plugins hidden (DOCKER_CONFIG pointing
// at an empty folder), so that `docker compose` is not a command; and they
// check the one line it gives where Docker itself is missing.

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// makeUp runs `make -s target` in the project's root with env added to the
// test's own environment, and returns what it printed and its error.
func makeUp(t *testing.T, env []string, target string, args ...string) (string, error) {
	t.Helper()
	out, err := withEnv(exec.Command("make", append([]string{"-s", "-C", "..", target}, args...)...), env...).CombinedOutput()
	return string(out), err
}

// TestMakeUpWithoutComposePlugin: with no Compose v2 plugin, make up
// brings the stack up with the Compose the project builds, and the README's
// request makes the README's trace; make down stops it.
func TestMakeUpWithoutComposePlugin(t *testing.T) {
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		skipUnlessRequired(t, fmt.Sprintf("no Docker engine answers (docker info: %v)\n%s", err, out))
	}
	noPlugins := "DOCKER_CONFIG=" + t.TempDir()
	if out, err := withEnv(exec.Command("docker", "compose", "version"), noPlugins).CombinedOutput(); err == nil {
		skipUnlessRequired(t, "docker compose works even with DOCKER_CONFIG empty: this machine's Compose plugin is installed system-wide, and the test cannot hide it:\n"+string(out))
	}

	// The stand-in images, where the official ones cannot be pulled, as the
	// compose test uses them: the extra file and the names go to Compose
	// through its own variables.
	env := append(standInsEnv(t), noPlugins,
		"COMPOSE_FILE=docker-compose.yml:e2e/testdata/compose.stand-ins.yml",
		fmt.Sprintf("COMPOSE_PROJECT_NAME=tracingdemo-up-%06d", rand.IntN(1e6)))
	t.Cleanup(func() {
		if out, err := makeUp(t, env, "down"); err != nil {
			t.Errorf("make down: %v\n%s", err, out)
		}
	})
	out, err := makeUp(t, env, "up")
	if err != nil {
		t.Fatalf("make up: %v\n%s", err, out)
	}
	t.Logf("make up:\n%s", out)
	if !strings.Contains(out, "Docker has no Compose v2 plugin (docker compose): using Compose built from source") {
		t.Errorf("make up did not say that it uses the Compose built from source:\n%s", out)
	}
	if strings.Contains(out, "buildx Docker CLI plugin not found") {
		t.Errorf("make up warned that Compose falls back to the classic builder, which it uses anyway:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if lower := strings.ToLower(line); strings.Contains(lower, "pull") && strings.Contains(lower, "tracingdemo/") {
			t.Errorf("make up tried to pull the project's own image: %s", line)
		}
	}

	status, body, traceID := getTraced(t, frontendURL+"/?user=alice")
	if status != http.StatusOK || !strings.HasPrefix(body, "hello, alice, from the backend") {
		t.Errorf("after make up, GET /?user=alice answered %d %q, want 200 and the backend's hello", status, body)
	}
	jaegerAPI{base: jaegerURL}.checkTree(t, traceID, theTree(map[string]string{"user": "alice"}))

	if out, err := makeUp(t, env, "down"); err != nil {
		t.Fatalf("make down: %v\n%s", err, out)
	}
	if _, err := http.Get(frontendURL + "/"); err == nil {
		t.Errorf("after make down, the frontend still answers on %s", frontendURL)
	}
}

// TestMakeUpSaysWhatIsMissing: where there is no docker command, or no
// engine answers it, make up fails with one line naming what to install or
// start.
func TestMakeUpSaysWhatIsMissing(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"no docker command", []string{"DOCKER=/nonexistent/docker"},
			"make up: no docker command: install Docker Engine (Debian, Ubuntu: apt-get install docker.io), then run again"},
		{"no engine", []string{"DOCKER_HOST=unix://" + filepath.Join(t.TempDir(), "no-such.sock")},
			"make up: no Docker engine answers (docker info failed): start it (systemctl start docker), or ask for access to it (the docker group), then run again"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "no engine" {
				if _, err := exec.LookPath("docker"); err != nil {
					skipUnlessRequired(t, "no docker command here, to run against an engine that does not answer")
				}
			}
			out, err := makeUp(t, tt.env, "up")
			if err == nil {
				t.Fatalf("make up with %s succeeded, want it to fail:\n%s", tt.env, out)
			}
			// make adds its own line, "make: *** [Makefile:…: up] Error 1".
			var lines []string
			for _, line := range nonEmptyLines(out) {
				if !makeError.MatchString(line) {
					lines = append(lines, line)
				}
			}
			if len(lines) != 1 || lines[0] != tt.want {
				t.Errorf("make up with %s printed:\n%s\nwant one line:\n%s", tt.env, out, tt.want)
			}
		})
	}
}

var makeError = regexp.MustCompile(`^make(\[\d+\])?: \*\*\* `)

// standInsEnv is bin/stand-ins.env (scripts/docker-stand-ins.sh), as
// variables.
func standInsEnv(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../bin/stand-ins.env")
	if err != nil {
		t.Fatalf("the stand-ins' names: %v (make compose-test runs scripts/docker-stand-ins.sh first)", err)
	}
	return nonEmptyLines(string(b))
}

func withEnv(cmd *exec.Cmd, env ...string) *exec.Cmd {
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func nonEmptyLines(s string) []string {
	var lines []string
	scanner := bufio.NewScanner(strings.NewReader(s))
	for scanner.Scan() {
		if line := strings.TrimSpace(scanner.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}
