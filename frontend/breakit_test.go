package frontend_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/tracingdemo/internal/testkit"
)

// The README's "Break it" section tells the reader to edit the frontend's
// code and says what the trace becomes. Each test here makes that very edit,
// in the function the README names, on a copy of the module, then runs
// TestPrintTraces there (the real frontend built by New, the real backend,
// one request) and checks the traces the README describes.
// internal/docs checks that the README still names these edits.

var (
	// Break it 1: "In `New`, use `server.Transport()` itself instead of
	// `tracing.Transport(server.Transport(), tp, propagator, NetworkSteps(cfg.NetworkSpans))`."
	noTransport = testkit.BreakIt{Fn: "New", Line: "tracing.Transport(server.Transport(), tp, propagator, NetworkSteps(cfg.NetworkSpans))",
		Old: "tracing.Transport(server.Transport(), tp, propagator, NetworkSteps(cfg.NetworkSpans))", New: "server.Transport()"}
	// Break it 2: "In `callBackend`, build the request with
	// `context.Background()` instead of `ctx`."
	backgroundContext = testkit.BreakIt{Fn: "callBackend", Line: "http.NewRequestWithContext(ctx,",
		Old: "ctx", New: "context.Background()"}
)

// TestBreakItNoTransport: without the otelhttp transport no traceparent
// goes out, and the backend starts a trace of its own. No baggage goes out
// either: the backend greets a stranger.
func TestBreakItNoTransport(t *testing.T) {
	got := brokenTraces(t, noTransport)
	traces := got.Traces
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"GET /hello", "handle backend call"}, traces["GET /hello"],
		"the backend's GET /hello is a root with no parent")
	assert.Regexp(t, `^hello, stranger, from the backend `, got.Answer, "the user's baggage is lost with the trace context")
}

// TestBreakItBackgroundContext: a request made with context.Background()
// instead of ctx carries no current span, so its CLIENT span is a root.
// The baggage travelled in that context too: the backend greets a stranger.
func TestBreakItBackgroundContext(t *testing.T) {
	got := brokenTraces(t, backgroundContext)
	traces := got.Traces
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"HTTP GET", "GET /hello", "handle backend call"}, traces["HTTP GET"],
		"HTTP GET is a root with no parent, with the backend's spans below it")
	assert.Regexp(t, `^hello, stranger, from the backend `, got.Answer, "the user's baggage is lost with the context")
}

// printedTraces is what TestPrintTraces prints: the span names of each
// trace, root first, keyed by the name of the trace's root, and the first
// line of the answer to ?user=alice.
type printedTraces struct {
	Traces map[string][]string
	Answer string
}

// brokenTraces makes the edit b in frontend/handler.go, on a copy of the
// module, runs TestPrintTraces there, and returns what it printed.
func brokenTraces(t *testing.T, b testkit.BreakIt) printedTraces {
	t.Helper()
	var got printedTraces
	testkit.RunBroken(t, b, "frontend/handler.go", "./frontend/", "TestPrintTraces", &got)
	return got
}

// TestPrintTraces is run by the break-it tests in their copy of the module:
// one request through the frontend as New builds it, and the traces it
// made, printed on one line. Elsewhere it is skipped.
func TestPrintTraces(t *testing.T) {
	testkit.SkipUnlessBroken(t)
	p := newPair(t)
	resp, body := p.get(t, "/?user=alice")
	require.Equal(t, 200, resp.StatusCode, body)
	// Closing the servers waits for every handler, and so every span, to end.
	p.frontend.Close()
	p.backend.Close()
	spans := p.spans.Ended()

	traces := map[string][]string{}
	for _, root := range spans {
		if root.Parent().IsValid() {
			continue
		}
		// The root first, then its descendants in the order they ended.
		names := []string{root.Name()}
		for _, s := range spans {
			if s != root && s.SpanContext().TraceID() == root.SpanContext().TraceID() {
				names = append(names, s.Name())
			}
		}
		traces[root.Name()] = names
	}
	answer, _, _ := strings.Cut(body, "\n")
	testkit.Print(t, printedTraces{Traces: traces, Answer: answer})
}
