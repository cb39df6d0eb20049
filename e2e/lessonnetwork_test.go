//go:build e2e

package e2e

import "testing"

// TestLessonNetwork: by default, the trace keeps its five spans, and the
// CLIENT span "HTTP GET" holds the network's steps as events: the first
// call connects, the second reuses the connection. With
// NETWORK_SPANS=true, the steps are child spans. The lesson's curls
// answer as it shows.
func TestLessonNetwork(t *testing.T) {
	t.Run("events", func(t *testing.T) {
		p := startPair(t, 0, exporterEnv("otlp-http")...)
		for i, want := range []struct {
			events []string
			reused string
		}{
			{[]string{"http.getconn.start", "http.connect.start", "http.connect.done", "http.getconn.done",
				"http.send.start", "http.send.done", "http.receive.start", "http.receive.done"}, "false"},
			{[]string{"http.getconn.start", "http.getconn.done",
				"http.send.start", "http.send.done", "http.receive.start", "http.receive.done"}, "true"},
		} {
			_, _, traceID := p.get(t, "/?user=alice")
			spans := jg.checkTree(t, traceID, theTree(nil))
			events, reused := networkEvents(spans["HTTP GET"])
			if !isSubsequence(want.events, events) || reused != want.reused {
				t.Errorf("call %d: HTTP GET has events %q, http.conn.reused=%s; want %q among them, and %s",
					i+1, events, reused, want.events, want.reused)
			}
		}
		checkAnswers(t, p.frontendURL(""), jg.url(jg.queryPort, ""), "docs/lessons/network.md", "/?user=alice")
	})
	t.Run("spans", func(t *testing.T) {
		p := startPair(t, 0, append(exporterEnv("otlp-http"), "NETWORK_SPANS=true")...)
		for _, newConnection := range []bool{true, false} {
			_, _, traceID := p.get(t, "/?user=alice")
			jg.checkTree(t, traceID, networkSpans(newConnection))
		}
	})
}
