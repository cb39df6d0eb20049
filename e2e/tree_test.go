//go:build e2e || compose || bench

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"
)

// getTraced requests url and returns the status, the body, and the trace ID
// from the traceresponse header, which every traced answer carries.
func getTraced(t *testing.T, url string) (status int, body, traceID string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse"))
	if m == nil {
		t.Fatalf("GET %s: %d %q: traceresponse header %q is not 00-<trace id>-<span id>-<flags>",
			url, resp.StatusCode, b, resp.Header.Get("traceresponse"))
	}
	return resp.StatusCode, string(b), m[1]
}

var traceresponse = regexp.MustCompile(`^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$`)

// loadGet makes one GET of a load run and reads the whole answer. status
// is 0 when no answer came (refused, reset) and -1 when the answer was cut
// off; traceID and sampled come from the traceresponse header.
func loadGet(client *http.Client, url string) (status int, traceID string, sampled bool) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	status = resp.StatusCode
	if err != nil {
		status = -1
	}
	if m := traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse")); m != nil {
		traceID, sampled = m[1], m[2] == "01"
	}
	return status, traceID, sampled
}

// wantSpan is one span of the tree a request must leave in Jaeger.
type wantSpan struct {
	service, name, kind string
	parent              string            // the parent's name; "" for the root
	events              []string          // in this order, among the span's events
	tags                map[string]string // tag: value, as text
}

// checkTree compares the trace Jaeger returned with want, span by span, and
// returns the spans by name. On a mismatch it says what was expected and
// shows the trace as Jaeger returned it.
func (a jaegerAPI) checkTree(t *testing.T, traceID string, want []wantSpan) map[string]jaegerSpan {
	t.Helper()
	tr, raw, err := a.trace(traceID, len(want))
	if err != nil {
		t.Fatalf("%v\nJaeger returned:\n%s", err, indent(raw))
	}
	defer func() {
		if t.Failed() {
			t.Logf("the trace as Jaeger returned it:\n%s", indent(raw))
		}
	}()

	if len(tr.Spans) != len(want) {
		t.Errorf("trace %s has %d spans, want %d", traceID, len(tr.Spans), len(want))
	}
	byID := map[string]jaegerSpan{}
	byName := map[string]jaegerSpan{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
		if _, dup := byName[s.OperationName]; dup {
			t.Errorf("two spans are named %q", s.OperationName)
		}
		byName[s.OperationName] = s
		if s.TraceID != traceID {
			t.Errorf("span %q has trace ID %s, want %s", s.OperationName, s.TraceID, traceID)
		}
	}
	for _, w := range want {
		s, ok := byName[w.name]
		if !ok {
			t.Errorf("no span named %q (%s, %s)", w.name, w.service, w.kind)
			continue
		}
		if got := tr.Processes[s.ProcessID].Service; got != w.service {
			t.Errorf("span %q comes from service %q, want %q", w.name, got, w.service)
		}
		kind := s.tag("span.kind")
		if kind == "" {
			kind = "internal" // the Jaeger exporter leaves internal spans untagged
		}
		if kind != w.kind {
			t.Errorf("span %q is of kind %q, want %q", w.name, kind, w.kind)
		}
		var parents []string
		for _, ref := range s.References {
			if ref.RefType != "CHILD_OF" {
				continue
			}
			if parent, ok := byID[ref.SpanID]; ok {
				parents = append(parents, parent.OperationName)
			} else {
				parents = append(parents, "span "+ref.SpanID+", which is not in the trace")
			}
		}
		switch {
		case w.parent == "" && len(parents) != 0:
			t.Errorf("span %q should be the root, but is a child of %q", w.name, parents)
		case w.parent != "" && !slices.Equal(parents, []string{w.parent}):
			t.Errorf("span %q should be a CHILD_OF %q, but its parents are %q", w.name, w.parent, parents)
		}
		if events := s.events(); !isSubsequence(w.events, events) {
			t.Errorf("span %q has events %q, want %q among them in that order", w.name, events, w.events)
		}
		for key, value := range w.tags {
			if got := s.tag(key); got != value {
				t.Errorf("span %q has tag %s=%q, want %q", w.name, key, got, value)
			}
		}
	}
	return byName
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func indent(raw []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// theTree is the five-span trace of one request, as the README draws it.
func theTree(backendTags map[string]string) []wantSpan {
	return []wantSpan{
		{service: "frontend", name: "GET /", kind: "server",
			tags: map[string]string{"http.route": "/", "http.request.method": "GET", "http.response.status_code": "200"}},
		{service: "frontend", name: "backend call", kind: "internal", parent: "GET /",
			events: []string{"making backend call", "backend responded"}},
		{service: "frontend", name: "HTTP GET", kind: "client", parent: "backend call"},
		{service: "backend", name: "GET /hello", kind: "server", parent: "HTTP GET",
			tags: map[string]string{"http.route": "/hello"}},
		{service: "backend", name: "handle backend call", kind: "internal", parent: "GET /hello",
			events: []string{"handling backend call"}, tags: backendTags},
	}
}

// jobTree is the trace of an async=true request: theTree, and the PRODUCER
// span "send jobs" below "handle backend call"; with JOB_TRACE=child, the
// CONSUMER span "process jobs" below that, since the job joins the trace.
func jobTree(backendTags map[string]string, child bool) []wantSpan {
	tree := append(theTree(backendTags), wantSpan{service: "backend", name: "send jobs", kind: "producer",
		parent: "handle backend call", tags: map[string]string{"messaging.destination.name": "jobs"}})
	if child {
		tree = append(tree, wantSpan{service: "backend", name: "process jobs", kind: "consumer",
			parent: "send jobs", events: []string{"job started", "job done"}})
	}
	return tree
}

// requireAll reports whether every real part is required: with CI=true (CI
// sets it) or REQUIRE_ALL=1 (the Makefile sets it from CI), a test that
// cannot run for want of Docker or Chromium fails instead of skipping, so
// that CI never passes without the checks it claims.
func requireAll() bool {
	ci := os.Getenv("CI")
	return os.Getenv("REQUIRE_ALL") != "" || (ci != "" && ci != "false" && ci != "0")
}

// skipUnlessRequired skips the test, saying why in a line that starts with
// "SKIPPED:", or, where every real part is required, fails it.
func skipUnlessRequired(t *testing.T, why string) {
	t.Helper()
	if requireAll() {
		t.Fatalf("FAILED: %s; CI=true or REQUIRE_ALL=1 requires this test", why)
	}
	t.Skip("SKIPPED: " + why)
}
