package frontend_test

import (
	"cmp"
	"os"
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
	// Lesson 3's Break it: "In `callEach`, start each call from
	// `context.Background()` instead of `ctx`."
	backgroundInGoroutine = testkit.BreakIt{Fn: "callEach", Line: "h.callBackend(withUserBaggage(ctx, user), call)",
		Old: "ctx", New: "context.Background()"}
)

// TestBreakItNoTransport: without the otelhttp transport no traceparent
// goes out, and the backend starts a trace of its own. No baggage goes out
// either: the backend greets a stranger.
func TestBreakItNoTransport(t *testing.T) {
	got := brokenTraces(t, noTransport, "frontend/handler.go")
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
	got := brokenTraces(t, backgroundContext, "frontend/handler.go")
	traces := got.Traces
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"HTTP GET", "GET /hello", "handle backend call"}, traces["HTTP GET"],
		"HTTP GET is a root with no parent, with the backend's spans below it")
	assert.Regexp(t, `^hello, stranger, from the backend `, got.Answer, "the user's baggage is lost with the context")
}

// TestBreakItBackgroundInGoroutine: calls made at once, each from
// context.Background() instead of the request's context, carry no
// current span: each "backend call" is the root of a trace of its own,
// and the request's trace keeps its root alone.
func TestBreakItBackgroundInGoroutine(t *testing.T) {
	t.Setenv("BREAK_IT_PATH", "/?user=alice,bob,carol")
	got := brokenTraces(t, backgroundInGoroutine, "frontend/concurrency.go")
	assert.ElementsMatch(t, []string{"GET /", "backend call", "backend call", "backend call"}, got.Roots, "four traces instead of one")
	assert.Equal(t, []string{"GET /"}, got.Traces["GET /"], "the request's trace has its root alone")
	assert.ElementsMatch(t, []string{"backend call", "HTTP GET", "GET /hello", "handle backend call"}, got.Traces["backend call"])
	assert.Equal(t, "hello, alice, from the backend", got.Answer, "the baggage still travels: withUserBaggage put it in the new context")
}

// printedTraces is what TestPrintTraces prints: the names of the traces'
// roots, the span names of each trace, root first, keyed by the name of the
// trace's root, and the first line of the answer to ?user=alice (or to
// BREAK_IT_PATH).
type printedTraces struct {
	Roots  []string
	Traces map[string][]string
	Answer string
}

// brokenTraces makes the edit b in file, on a copy of the module, runs
// TestPrintTraces there, and returns what it printed.
func brokenTraces(t *testing.T, b testkit.BreakIt, file string) printedTraces {
	t.Helper()
	var got printedTraces
	testkit.RunBroken(t, b, file, "./frontend/", "TestPrintTraces", &got)
	return got
}

// TestPrintTraces is run by the break-it tests in their copy of the module:
// one request through the frontend as New builds it, and the traces it
// made, printed on one line. Elsewhere it is skipped.
func TestPrintTraces(t *testing.T) {
	testkit.SkipUnlessBroken(t)
	p := newPair(t)
	resp, body := p.get(t, cmp.Or(os.Getenv("BREAK_IT_PATH"), "/?user=alice"))
	require.Equal(t, 200, resp.StatusCode, body)
	// Closing the servers waits for every handler, and so every span, to end.
	p.frontend.Close()
	p.backend.Close()
	spans := p.spans.Ended()

	var roots []string
	traces := map[string][]string{}
	for _, root := range spans {
		if root.Parent().IsValid() {
			continue
		}
		roots = append(roots, root.Name())
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
	testkit.Print(t, printedTraces{Roots: roots, Traces: traces, Answer: answer})
}
