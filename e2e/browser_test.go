//go:build e2e || compose

package e2e

// The browser test opens the Jaeger UI in a real, headless Chromium, as a
// user would after their first request, and checks what the page shows:
// the trace the frontend's link leads to, its error markers, and the search
// page. It runs against the Jaeger of the end-to-end tests (TestJaegerUI)
// and against the compose stack (TestCompose).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browser is one headless Chromium, with one tab.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Chromium for the test, and stops it when the test ends.
// Where no Chromium is installed (scripts/install-chromium.sh installs
// Debian's), the test is skipped, with one line that says so; or fails,
// where every real part is required (requireAll).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		skipUnlessRequired(t, "no chromium on PATH, so the Jaeger UI is not checked in a browser (scripts/install-chromium.sh installs Debian's)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1280, 800),
		// Chromium's sandbox needs a user namespace, which a CI container
		// (running as root) may not offer. The pages are our own.
		chromedp.NoSandbox,
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser; it must not run under a timeout,
	// which would stop the whole browser when it expires.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return &browser{t: t, ctx: ctx}
}

// uiSpan is one row of the trace timeline, as the page shows it.
type uiSpan struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Depth     int    `json:"depth"` // 1 for the root
	Error     bool   `json:"error"` // the row shows the error icon
}

func (s uiSpan) String() string {
	mark := ""
	if s.Error {
		mark = " (error)"
	}
	return fmt.Sprintf("%s%s %s%s", strings.Repeat("  ", max(s.Depth-1, 0)), s.Service, s.Operation, mark)
}

// The rows of the trace timeline: service, operation, depth in the tree
// (one indent guide per level) and the error icon.
const timelineRows = `[...document.querySelectorAll('.span-row .span-name')].map(a => ({
	service: a.querySelector('.span-svc-name').innerText.trim(),
	operation: a.querySelector('.endpoint-name').innerText.trim(),
	depth: a.parentElement.querySelectorAll('.SpanTreeOffset--indentGuide').length,
	error: a.querySelector('.SpanBarRow--errorIcon') !== null,
}))`

// wantTimeline is the five-span tree as the trace page draws it.
func wantTimeline(errors bool) []uiSpan {
	return []uiSpan{
		{"frontend", "GET /", 1, errors},
		{"frontend", "backend call", 2, errors},
		{"frontend", "HTTP GET", 3, errors},
		{"backend", "GET /hello", 4, errors},
		{"backend", "handle backend call", 5, errors},
	}
}

// checkTrace opens link, the trace link a frontend answer printed, and
// checks that the page is that trace's, and that it shows want, row by
// row, and its two services. On a mismatch it says what it saw and saves
// the page.
func (b *browser) checkTrace(link, traceID string, want []uiSpan) {
	b.t.Helper()
	if !strings.HasSuffix(link, "/trace/"+traceID) {
		b.t.Fatalf("the trace link %q does not end in /trace/%s", link, traceID)
	}
	b.open(link, `document.querySelectorAll('.span-row').length > 0`, "the trace page of "+traceID+" with its spans")

	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]uiSpan](timelineRows))
	if err != nil {
		b.fail("reading the timeline of %s: %v", link, err)
	}
	if !slices.Equal(rows, want) {
		b.fail("the trace page %s shows:\n%s\nwant:\n%s", link, rowsText(rows), rowsText(want))
	}
	depth := 0
	for _, w := range want {
		depth = max(depth, w.Depth)
	}
	header := b.text(".TracePageHeader")
	for _, w := range []string{"frontend: GET /", traceID[:7], "Services2", fmt.Sprintf("Depth%d", depth), fmt.Sprintf("Total Spans%d", len(want))} {
		if !strings.Contains(header, w) {
			b.fail("the header of the trace page %s does not say %q:\n%s", link, w, header)
		}
	}
}

// checkSearch opens the search page at base as a user would: picks the
// service frontend from the list, clicks Find Traces, and checks that the
// results link to each of traceIDs.
func (b *browser) checkSearch(base string, traceIDs ...string) {
	b.t.Helper()
	b.open(base+"/search", `document.querySelector('.SearchForm--submit') !== null`, "the search form")

	// The service list opens on a click, and lists what Jaeger has seen.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`.ant-select[name=service] .ant-select-selector`))); err != nil {
		b.fail("opening the service list: %v", err)
	}
	b.waitFor(`document.querySelectorAll('.ant-select-item-option').length > 0`, "the list of services")
	services, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.ant-select-item-option')].map(o => o.title)`))
	if err != nil {
		b.fail("reading the list of services: %v", err)
	}
	for _, s := range []string{"frontend", "backend"} {
		if !slices.Contains(services, s) {
			b.fail("the search page lists the services %q, without %q", services, s)
		}
	}

	// Pick frontend as a user does with the keyboard: type it, press Enter.
	// (A click on the option can land while the list still slides open.)
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS(`.ant-select[name=service] input`), "frontend"+kb.Enter)); err != nil {
		b.fail("picking the service frontend: %v", err)
	}
	b.waitFor(`(document.querySelector('.ant-select[name=service] .ant-select-selection-item') || {}).title === 'frontend'`+
		` && !document.querySelector('.SearchForm--submit').disabled`, "frontend as the service to search")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`.SearchForm--submit`))); err != nil {
		b.fail("searching for frontend's traces: %v", err)
	}
	b.waitFor(`document.querySelectorAll('.ResultItem').length > 0`, "search results")
	links, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.ResultItem .ResultItemTitle a')].map(a => a.getAttribute('href'))`))
	if err != nil {
		b.fail("reading the search results: %v", err)
	}
	for _, id := range traceIDs {
		if !slices.Contains(links, "/trace/"+id) {
			b.fail("the search for frontend's traces lists %q, without /trace/%s", links, id)
		}
	}
	if titles := b.text(".SearchResults"); !strings.Contains(titles, "frontend: GET /") || !strings.Contains(titles, "5 Spans") {
		b.fail("the search results do not show a trace \"frontend: GET /\" of 5 spans:\n%s", titles)
	}
}

// checkSystemArchitecture opens the System Architecture tab of the Jaeger
// UI at base, and checks that its graph shows the two services, frontend
// calling backend, with the count of calls on the edge.
func (b *browser) checkSystemArchitecture(base string) {
	b.t.Helper()
	b.open(base+"/dependencies", `document.body.innerText.includes('frontend') && document.body.innerText.includes('backend')`,
		"the graph of the services")
}

// open loads url and waits until ready, a JavaScript condition, holds.
func (b *browser) open(url, ready, what string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url)); err != nil {
		b.fail("opening %s: %v", url, err)
	}
	b.waitFor(ready, what+" at "+url)
}

// waitFor waits, 20 s at most, until the JavaScript condition holds.
func (b *browser) waitFor(condition, what string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](condition)); err != nil {
		b.fail("the page did not show %s within 20 s (%v)", what, err)
	}
}

// text is the text of the first element that matches the CSS selector, as
// the page shows it; "" if there is none.
func (b *browser) text(selector string) string {
	b.t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		fmt.Sprintf(`(document.querySelector(%q) || {innerText: ''}).innerText`, selector)))
	if err != nil {
		b.fail("reading %s: %v", selector, err)
	}
	return text
}

// fail ends the test with the message, and saves what the page shows (a
// screenshot, and its text) where the message says.
func (b *browser) fail(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	dir, err := os.MkdirTemp("", "tracingdemo-browser-")
	if err == nil {
		name := filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(b.t.Name(), "_"))
		if png, err := b.screenshot(""); err == nil {
			_ = os.WriteFile(name+".png", png, 0o644)
		}
		url, _ := chromedp.Run(b.ctx, chromedp.Location())
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		_ = os.WriteFile(name+".txt", []byte(text), 0o644)
		msg += fmt.Sprintf("\nthe browser is at %s; what it shows: %s.png (a screenshot) and %s.txt (the page's text)", url, name, name)
	}
	b.t.Fatal(msg)
}

// screenshot takes a PNG of the page, cropped to the bottom of the last
// element that matches the CSS selector below (the whole window if "").
func (b *browser) screenshot(below string) ([]byte, error) {
	bottom := 0.0
	if below != "" {
		var err error
		bottom, err = chromedp.Run(b.ctx, chromedp.Evaluate[float64](fmt.Sprintf(
			`window.scrollTo(0, 0); Math.max(...[...document.querySelectorAll(%q)].map(e => e.getBoundingClientRect().bottom))`, below)))
		if err != nil {
			return nil, err
		}
	}
	return chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		params := page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng}
		if bottom > 0 {
			params.Clip = &page.Viewport{Width: 1280, Height: bottom + 8, Scale: 1}
			params.CaptureBeyondViewport = new(true)
		}
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, params)
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	})
}

func rowsText(rows []uiSpan) string {
	if len(rows) == 0 {
		return "  (no span)"
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, "  "+r.String())
	}
	return strings.Join(lines, "\n")
}

// traceLink is the link in a frontend answer's last line, "trace: <url>".
var traceLink = regexp.MustCompile(`(?m)^trace: (\S+)$`)

// linkIn returns the trace link in body, or fails the test.
func linkIn(t *testing.T, body string) string {
	t.Helper()
	m := traceLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the answer %q has no line \"trace: <link>\"", body)
	}
	return m[1]
}
