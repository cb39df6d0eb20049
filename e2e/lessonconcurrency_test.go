//go:build e2e

package e2e

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The lesson docs/lessons/concurrency.md: many calls at once.

// spansByParent returns, for each span of the trace, "name < parent's
// name" ("name" for a root), counted, and the spans by that key.
func spansByParent(tr jaegerTrace) (map[string]int, map[string][]jaegerSpan) {
	byID := map[string]jaegerSpan{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
	}
	counts, spans := map[string]int{}, map[string][]jaegerSpan{}
	for _, s := range tr.Spans {
		key := s.OperationName
		for _, ref := range s.References {
			if ref.RefType == "CHILD_OF" {
				key += " < " + byID[ref.SpanID].OperationName
			}
		}
		counts[key]++
		spans[key] = append(spans[key], s)
	}
	return counts, spans
}

// threeCalls is the tree of a request for three users: three calls under
// the root, each with its CLIENT span and the backend's two spans.
var threeCalls = map[string]int{
	"GET /": 1, "backend call < GET /": 3, "HTTP GET < backend call": 3,
	"GET /hello < HTTP GET": 3, "handle backend call < GET /hello": 3,
}

// threeCallsIn waits for the trace, checks that it is threeCalls, and
// returns its spans by "name < parent's name", and the trace as Jaeger
// returned it.
func threeCallsIn(t *testing.T, traceID string) (map[string][]jaegerSpan, []byte) {
	t.Helper()
	tr, raw, err := jg.trace(traceID, 13)
	if err != nil {
		t.Fatalf("%v\n%s", err, indent(raw))
	}
	counts, spans := spansByParent(tr)
	if !maps.Equal(counts, threeCalls) {
		t.Fatalf("the trace has the spans %v, want %v\n%s", counts, threeCalls, indent(raw))
	}
	return spans, raw
}

// TestLessonConcurrency: ?user=alice,bob,carol makes three backend calls
// at once: three sibling "backend call" spans under the root, whose times
// overlap, each with the backend's spans, for its user; the answer lists
// the greetings in the order asked. With fail=true, the first call fails
// and cancels the two others, whose spans say so. The lesson's curls
// answer as it shows.
func TestLessonConcurrency(t *testing.T) {
	p := startPair(t, 0, exporterEnv("otlp-http")...)

	t.Run("three at once", func(t *testing.T) {
		status, body, traceID := p.get(t, "/?user=alice,bob,carol&delay=300ms")
		if want := "hello, alice, from the backend\nhello, bob, from the backend\nhello, carol, from the backend\n(3 backend calls, at most 4 at once, took "; status != http.StatusOK || !strings.HasPrefix(body, want) {
			t.Fatalf("answered %d %q, want 200 and %q…", status, body, want)
		}
		spans, _ := threeCallsIn(t, traceID)
		var users []string
		for _, s := range spans["handle backend call < GET /hello"] {
			users = append(users, s.tag("user"))
		}
		slices.Sort(users)
		if want := []string{"alice", "bob", "carol"}; !slices.Equal(users, want) {
			t.Errorf("the backend's spans are for the users %q, want %q", users, want)
		}
		// At once: each call starts before any of them ends.
		calls := spans["backend call < GET /"]
		latestStart, earliestEnd := calls[0].StartTime, calls[0].StartTime+calls[0].Duration
		for _, c := range calls {
			latestStart, earliestEnd = max(latestStart, c.StartTime), min(earliestEnd, c.StartTime+c.Duration)
		}
		if latestStart >= earliestEnd {
			t.Errorf("the three calls do not overlap: the last starts at %d µs, the first ends at %d µs", latestStart, earliestEnd)
		}
	})

	t.Run("the first failure cancels the others", func(t *testing.T) {
		status, body, traceID := p.get(t, "/?user=alice,bob,carol&fail=true&delay=1s")
		if status != http.StatusBadGateway || !strings.HasPrefix(body, "backend failed: 500 Internal Server Error: simulated failure (fail=true)\n") {
			t.Fatalf("answered %d %q, want 502 and alice's failure", status, body)
		}
		spans, raw := threeCallsIn(t, traceID)
		var failed, canceled int
		for _, c := range spans["backend call < GET /"] {
			switch why := c.tag("otel.status_description"); {
			case strings.HasPrefix(why, "backend failed: 500"):
				failed++
			case strings.HasPrefix(why, "canceled, since another call failed: backend failed: 500"):
				canceled++
			default:
				t.Errorf("a backend call span has the status %q, want a failure or a cancel", why)
			}
		}
		gone := 0
		for _, s := range spans["handle backend call < GET /hello"] {
			if slices.Contains(s.events(), "the caller went away while waiting") {
				gone++
			}
		}
		if failed != 1 || canceled != 2 || gone != 2 {
			t.Errorf("%d call failed, %d canceled, %d seen gone by the backend; want 1, 2 and 2\n%s", failed, canceled, gone, indent(raw))
		}
	})

	checkAnswers(t, p.frontendURL(""), jg.url(jg.queryPort, ""), "docs/lessons/concurrency.md",
		"/?user=alice,bob,carol&delay=300ms", "/?user=alice,bob,carol&fail=true&delay=1s")
}
