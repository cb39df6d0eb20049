//go:build e2e

package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var screenshotDir = flag.String("screenshots", "", "write the README's pictures of the Jaeger UI into this folder (make screenshots)")

// TestScreenshots makes the README's pictures with the browser test's
// machinery: the real binaries, the real Jaeger and its UI, in Chromium.
// It runs only when asked, with -screenshots (make screenshots), and checks
// each page as the browser test does before it takes its picture.
func TestScreenshots(t *testing.T) {
	if *screenshotDir == "" {
		t.Skip("pictures are made by make screenshots (-screenshots=DIR)")
	}
	b := newBrowser(t)
	p := startPair(t, 0, exporterEnv("otlp-http")...)
	_, body, traceID := p.get(t, "/?user=alice")
	_, failBody, failID := p.get(t, "/?fail=true")
	for _, id := range []string{traceID, failID} {
		if _, _, err := jg.trace(id, 5); err != nil {
			t.Fatal(err)
		}
	}

	save := func(name, below string) {
		t.Helper()
		png, err := b.screenshot(below)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(*screenshotDir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d kB", path, len(png)/1000)
	}
	if err := os.MkdirAll(*screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// The five-span trace, as its link opens it.
	b.checkTrace(linkIn(t, body), traceID, wantTimeline(false))
	save("trace.png", ".span-row")

	// The span "backend call", opened, with its tags and its events (which
	// Jaeger calls logs).
	if err := chromedp.Do(b.ctx,
		chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll('.span-row .span-name')].find(a => a.innerText.includes('backend call'))`)),
		chromedp.Click(chromedp.CSS(`.detail-row .AccordianKeyValues--header`)),
		chromedp.Click(chromedp.CSS(`.detail-row .AccordianLogs--header`)),
	); err != nil {
		t.Fatalf("opening the span backend call: %v", err)
	}
	b.waitFor(`document.querySelector('.detail-row').innerText.includes('backend responded')`, "the span's events")
	save("span-details.png", ".span-row")

	// The fail=true trace: every span marked as an error.
	b.checkTrace(linkIn(t, failBody), failID, wantTimeline(true))
	save("error-trace.png", ".span-row")

	// The search page, with frontend's traces.
	b.checkSearch(jg.url(jg.queryPort, ""), traceID, failID)
	save("search.png", ".ResultItem")

	// The comparison of the two, from the search page.
	b.checkComparison(traceID, failID, sameShape())
	save("compare.png", "")

	// The later lessons (e2e/lessons_test.go).
	l := makeLessons(t, p)
	base := jg.url(jg.queryPort, "")
	b.checkCriticalPath(base, l.slow)
	save("critical-path.png", ".span-row")
	b.checkJobTrace(base, l.job, l.async, l.send)
	save("job-linked.png", ".detail-row")
	b.checkChildTrace(base, l.childOfParent)
	save("job-child.png", ".span-row")

	// docs/lessons/network.md: the network's steps as spans, on a new
	// connection to the backend, by name (localhost), so with its lookup.
	network := startPair(t, 0, append(exporterEnv("otlp-http"), "NETWORK_SPANS=true", "BACKEND_URL=http://localhost:{port}")...)
	_, body, traceID = network.get(t, "/?user=alice")
	if _, _, err := jg.trace(traceID, 11); err != nil {
		t.Fatal(err)
	}
	b.checkTrace(linkIn(t, body), traceID, []uiSpan{
		{"frontend", "GET /", 1, false}, {"frontend", "backend call", 2, false}, {"frontend", "HTTP GET", 3, false},
		{"frontend", "http.getconn", 4, false}, {"frontend", "http.dns", 5, false}, {"frontend", "http.connect", 5, false},
		{"frontend", "http.headers", 4, false}, {"frontend", "http.send", 4, false},
		{"backend", "GET /hello", 4, false}, {"backend", "handle backend call", 5, false}, {"frontend", "http.receive", 4, false},
	})
	save("network-spans.png", ".span-row")

	// docs/lessons/concurrency.md: three calls at once, siblings.
	_, body, traceID = p.get(t, "/?user=alice,bob,carol&delay=300ms")
	if _, _, err := jg.trace(traceID, 13); err != nil {
		t.Fatal(err)
	}
	var calls []uiSpan
	for range 3 {
		calls = append(calls, uiSpan{"frontend", "backend call", 2, false}, uiSpan{"frontend", "HTTP GET", 3, false},
			uiSpan{"backend", "GET /hello", 4, false}, uiSpan{"backend", "handle backend call", 5, false})
	}
	b.checkTrace(linkIn(t, body), traceID, append([]uiSpan{{"frontend", "GET /", 1, false}}, calls...))
	save("concurrency.png", ".span-row")

	// docs/lessons/concepts.md: System Architecture, the services' graph
	// that Jaeger draws from the traces it holds.
	checkFrontendCallsBackend(t, base)
	b.checkSystemArchitecture(base)
	save("system-architecture.png", "")
}

// checkFrontendCallsBackend: Jaeger's dependencies, the data of the System
// Architecture tab, hold the edge frontend → backend, with its count of
// calls.
func checkFrontendCallsBackend(t *testing.T, base string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/dependencies?endTs=%d&lookback=3600000", base, time.Now().UnixMilli()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var deps struct {
		Data []struct {
			Parent, Child string
			CallCount     int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&deps); err != nil {
		t.Fatalf("Jaeger's dependencies: %v", err)
	}
	for _, d := range deps.Data {
		if d.Parent == "frontend" && d.Child == "backend" && d.CallCount > 0 {
			return
		}
	}
	t.Fatalf("Jaeger's dependencies have no edge frontend → backend: %+v", deps.Data)
}
