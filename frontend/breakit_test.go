package frontend_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's "Break it" section tells the reader to edit the frontend's
// code and says what the trace becomes. Each test here makes that very edit,
// in the function the README names, on a copy of the module, then runs
// TestPrintTraces there (the real frontend built by New, the real backend,
// one request) and checks the traces the README describes.
// internal/docs checks that the README still names these edits.

// A break is one of the README's edits: in function fn, on the first line
// that holds line, old becomes new.
type breakIt struct {
	fn, line, old, new string
}

var (
	// Break it 1: "In `newBackendClient`, use `transport` itself instead
	// of `tracing.Transport(transport, tp, propagator)`."
	noTransport = breakIt{fn: "newBackendClient", line: "tracing.Transport(transport, tp, propagator)",
		old: "tracing.Transport(transport, tp, propagator)", new: "transport"}
	// Break it 2: "In `callBackend`, build the request with
	// `context.Background()` instead of `ctx`."
	backgroundContext = breakIt{fn: "callBackend", line: "http.NewRequestWithContext(ctx,",
		old: "ctx", new: "context.Background()"}
)

// TestBreakItNoTransport: without the otelhttp transport no traceparent
// goes out, and the backend starts a trace of its own.
func TestBreakItNoTransport(t *testing.T) {
	traces := brokenTraces(t, noTransport)
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"GET /hello", "handle backend call"}, traces["GET /hello"],
		"the backend's GET /hello is a root with no parent")
}

// TestBreakItBackgroundContext: a request made with context.Background()
// instead of ctx carries no current span, so its CLIENT span is a root.
func TestBreakItBackgroundContext(t *testing.T) {
	traces := brokenTraces(t, backgroundContext)
	assert.Len(t, traces, 2, "two traces instead of one: %v", traces)
	assert.ElementsMatch(t, []string{"GET /", "backend call"}, traces["GET /"])
	assert.ElementsMatch(t, []string{"HTTP GET", "GET /hello", "handle backend call"}, traces["HTTP GET"],
		"HTTP GET is a root with no parent, with the backend's spans below it")
}

// brokenTraces copies the module, makes the edit b in frontend/handler.go,
// runs TestPrintTraces in the copy, and returns what it printed: the span
// names of each trace, root first, keyed by the name of the trace's root.
func brokenTraces(t *testing.T, b breakIt) map[string][]string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a copy of the module; not with -short")
	}
	module := copyModule(t)
	handler := filepath.Join(module, "frontend", "handler.go")
	src, err := os.ReadFile(handler)
	require.NoError(t, err)
	broken, err := b.apply(string(src))
	require.NoError(t, err, "the README's edit can no longer be made in frontend/handler.go")
	require.NoError(t, os.WriteFile(handler, []byte(broken), 0o644))

	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "^TestPrintTraces$", "./frontend/")
	cmd.Dir = module
	cmd.Env = append(os.Environ(), "TRACINGDEMO_PRINT_TRACES=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the broken frontend must still build and answer:\n%s", out)
	m := regexp.MustCompile(`(?m)^traces: (.*)$`).FindSubmatch(out)
	require.NotNil(t, m, "TestPrintTraces printed no traces:\n%s", out)
	traces := map[string][]string{}
	require.NoError(t, json.Unmarshal(m[1], &traces))
	return traces
}

// apply makes the edit in src, or says why it cannot: the function, the
// line or the text the README names is gone.
func (b breakIt) apply(src string) (string, error) {
	start := strings.Index(src, ") "+b.fn+"(")
	if plain := strings.Index(src, "func "+b.fn+"("); start < 0 || (plain >= 0 && plain < start) {
		start = plain
	}
	if start < 0 {
		return "", &editError{b, "no function " + b.fn}
	}
	end := start + strings.Index(src[start:], "\n}\n")
	body := src[start:end]
	i := strings.Index(body, b.line)
	if i < 0 {
		return "", &editError{b, "no line with " + b.line + " in " + b.fn}
	}
	lineStart := strings.LastIndex(body[:i], "\n") + 1
	lineEnd := len(body) // the function's last line, unless another follows
	if n := strings.Index(body[i:], "\n"); n >= 0 {
		lineEnd = i + n
	}
	line := body[lineStart:lineEnd]
	edited := strings.Replace(line, b.old, b.new, 1)
	if edited == line {
		return "", &editError{b, "no " + b.old + " on the line " + strings.TrimSpace(line)}
	}
	return src[:start+lineStart] + edited + src[start+lineEnd:], nil
}

type editError struct {
	b      breakIt
	reason string
}

func (e *editError) Error() string { return e.b.fn + ": " + e.reason }

// copyModule copies the main module's Go files and go.mod, go.sum into a
// temporary folder, and returns it.
func copyModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dst := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			// Only the module's own packages: not the modules of their own
			// (e2e, tools, deploy), nor what the build made.
			switch rel {
			case ".git", "bin", "e2e", "tools", "deploy", "docs":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(rel, ".go") && rel != "go.mod" && rel != "go.sum" && !strings.Contains(rel, "testdata") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	require.NoError(t, err)
	return dst
}

// TestPrintTraces is run by the break-it tests in their copy of the module:
// one request through the frontend as New builds it, and the traces it
// made, printed on one line. Elsewhere it is skipped.
func TestPrintTraces(t *testing.T) {
	if os.Getenv("TRACINGDEMO_PRINT_TRACES") == "" {
		t.Skip("run by the break-it tests, in their copy of the module")
	}
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
	out, err := json.Marshal(traces)
	require.NoError(t, err)
	os.Stdout.WriteString("traces: " + string(out) + "\n")
}
