//go:build e2e

package e2e

// The browser checks of the README's later lessons: the critical path of a
// slow trace, the comparison of two traces, and the two traces of a job
// (async=true), linked or parent and child. TestJaegerUI runs them;
// TestScreenshots runs them before it takes each picture.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The share of the timeline's width that the critical path covers in each
// row, in percent, read from the black segments the UI draws over the bars.
const criticalPathRows = `[...document.querySelectorAll('.span-row .span-name')].map(a => {
	const row = a.closest('.span-row');
	return {
		operation: a.querySelector('.endpoint-name').innerText.trim(),
		percent: [...row.querySelectorAll('.SpanBar--criticalPath')].reduce((sum, e) => sum + parseFloat(e.style.width), 0),
	};
})`

// checkCriticalPath opens the trace of a request with delay=500ms and
// checks what the README says of its critical path: it runs the whole
// length of the trace, and almost all of it (95 % or more) on the backend's
// "handle backend call", the span that waits.
func (b *browser) checkCriticalPath(base, traceID string) {
	b.t.Helper()
	b.open(base+"/trace/"+traceID, `document.querySelectorAll('.span-row .SpanBar--criticalPath').length > 0`,
		"the critical path of "+traceID)
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]struct {
		Operation string  `json:"operation"`
		Percent   float64 `json:"percent"`
	}](criticalPathRows))
	if err != nil {
		b.fail("reading the critical path: %v", err)
	}
	total, handle := 0.0, 0.0
	for _, r := range rows {
		total += r.Percent
		if r.Operation == "handle backend call" {
			handle = r.Percent
		}
	}
	if total < 99 || handle < 95 {
		b.fail("the critical path covers %.1f %% of the trace, %.1f %% on handle backend call; want the whole trace, and 95 %% or more on handle backend call: %+v",
			total, handle, rows)
	}
}

// diffNode is one node of the UI's comparison graph: a span's service and
// operation, how its count differs between the traces (is-same, is-added,
// is-removed, is-more, is-less), and the number the node shows.
type diffNode struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	State     string `json:"state"`
	Metric    string `json:"metric"`
}

func (n diffNode) String() string {
	return fmt.Sprintf("%s %s: %s %s", n.Service, n.Operation, n.State, n.Metric)
}

// The graph's nodes are drawn scaled, where innerText reads nothing: their
// textContent is what they show.
const diffNodes = `[...document.querySelectorAll('.TraceDiffGraph--dag table.DiffNode')].map(n => {
	const labels = n.querySelectorAll('.DiffNode--labelCell');
	return {
		service: labels[0].textContent.trim(),
		operation: labels[1].textContent.trim(),
		state: ['is-same', 'is-added', 'is-removed', 'is-more', 'is-less'].filter(c => n.classList.contains(c)).join(' '),
		metric: n.querySelector('.DiffNode--metricCell').textContent.replace(/\s/g, ''),
	};
})`

// checkComparison compares trace a with trace b as a user does, from the
// search results that list both (checkSearch): ticks a, then b, clicks
// Compare Traces, and checks that the comparison's graph shows want, in
// any order.
func (b *browser) checkComparison(a, bID string, want []diffNode) {
	b.t.Helper()
	for _, id := range []string{a, bID} {
		tick := fmt.Sprintf(`[...document.querySelectorAll('.ResultItemTitle')].find(t => t.querySelector('a[href="/trace/%s"]')).querySelector('input[type=checkbox]')`, id)
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.JSPath(tick))); err != nil {
			b.fail("ticking the search result %s: %v", id, err)
		}
	}
	b.waitFor(`document.querySelector('.DiffSelection button') && !document.querySelector('.DiffSelection button').disabled`, "the Compare Traces button, enabled")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`.DiffSelection button`))); err != nil {
		b.fail("clicking Compare Traces: %v", err)
	}
	// The nodes are drawn hidden first, to be measured; the edges come
	// with the layout, which shows them.
	b.waitFor(fmt.Sprintf(`document.querySelectorAll('.TraceDiffGraph--dag .plexus-Digraph--SvgEdge').length >= %d`, len(want)-1),
		"the comparison's graph, laid out")
	nodes, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]diffNode](diffNodes))
	if err != nil {
		b.fail("reading the comparison: %v", err)
	}
	sortNodes := func(n []diffNode) []diffNode {
		n = slices.Clone(n)
		slices.SortFunc(n, func(x, y diffNode) int { return strings.Compare(x.String(), y.String()) })
		return n
	}
	if !slices.Equal(sortNodes(nodes), sortNodes(want)) {
		b.fail("the comparison of %s and %s shows:\n%v\nwant:\n%v", a, bID, sortNodes(nodes), sortNodes(want))
	}
	header := b.text(".TraceDiffHeader--traceHeader")
	if !strings.Contains(header, a[:7]) {
		b.fail("the comparison's header does not name trace A, %s, first:\n%s", a[:7], header)
	}
}

// sameShape is the comparison of two traces of the five spans each: every
// node gray (is-same), one span in each.
func sameShape() []diffNode {
	var nodes []diffNode
	for _, s := range wantTimeline(false) {
		nodes = append(nodes, diffNode{s.Service, s.Operation, "is-same", "1"})
	}
	return nodes
}

// checkJobTrace opens the job's trace, jobID, and its one span's
// references: a FOLLOWS_FROM to the span sendSpanID of the trace
// requestID, as a link to it.
func (b *browser) checkJobTrace(base, jobID, requestID, sendSpanID string) {
	b.t.Helper()
	b.open(base+"/trace/"+jobID, `document.querySelectorAll('.span-row').length > 0`, "the job's trace "+jobID)
	rows, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]uiSpan](timelineRows))
	if err != nil {
		b.fail("reading the timeline of %s: %v", jobID, err)
	}
	if want := []uiSpan{{"backend", "process jobs", 1, false}}; !slices.Equal(rows, want) {
		b.fail("the job's trace shows:\n%s\nwant:\n%s", rowsText(rows), rowsText(want))
	}
	if header := b.text(".TracePageHeader"); !strings.Contains(header, "backend: process jobs") || !strings.Contains(header, "Total Spans1") {
		b.fail("the header of the job's trace does not say \"backend: process jobs\" and 1 span:\n%s", header)
	}
	if err := chromedp.Do(b.ctx,
		chromedp.Click(chromedp.CSS(`.span-row .span-name`)),
		chromedp.Click(chromedp.CSS(`.detail-row .AccordianReferences--header`)),
	); err != nil {
		b.fail("opening the references of process jobs: %v", err)
	}
	b.waitFor(`document.querySelectorAll('.ReferencesList--Item a').length > 0`, "the references of process jobs")
	refs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.ReferencesList--Item a')].map(a => a.getAttribute('href') + ' ' + a.innerText.replace(/\s+/g, ' '))`))
	if err != nil {
		b.fail("reading the references: %v", err)
	}
	want := "/trace/" + requestID + "?uiFind=" + sendSpanID + " < span in another trace > FOLLOWS_FROM" + sendSpanID
	if !slices.Equal(refs, []string{want}) {
		b.fail("process jobs shows the references %q, want one: %q", refs, want)
	}
}

// checkChildTrace opens the trace of a request whose job was traced as a
// child (JOB_TRACE=child): seven spans, "process jobs" at the bottom of the
// tree, and a root whose bar ends long before the trace does.
func (b *browser) checkChildTrace(base, traceID string) {
	b.t.Helper()
	want := append(wantTimeline(false), uiSpan{"backend", "send jobs", 6, false}, uiSpan{"backend", "process jobs", 7, false})
	b.checkTrace(base+"/trace/"+traceID, traceID, want)
	bars, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](
		`[...document.querySelectorAll('.span-row .SpanBar--bar')].map(e => parseFloat(e.style.left) + parseFloat(e.style.width))`))
	if err != nil {
		b.fail("reading the bars: %v", err)
	}
	if len(bars) != len(want) || bars[0] > 10 || bars[len(bars)-1] < 99 {
		b.fail("the bars end at %v %% of the trace; want the root's before 10 %%, and process jobs' at the end", bars)
	}
}

// lessons are the traces the later lessons open, made through the pair p
// (whose jobs are linked) and a second pair whose jobs are children.
type lessons struct {
	slow          string // delay=500ms
	async         string // async=true&delay=300ms: the request's trace
	send          string // its span "send jobs"
	job           string // the job's own trace
	childOfParent string // async=true&delay=300ms with JOB_TRACE=child
}

// makeLessons makes the lessons' traces, and waits until Jaeger holds them
// whole.
func makeLessons(t *testing.T, p *pair) lessons {
	t.Helper()
	var l lessons
	_, _, l.slow = p.get(t, "/?user=alice&delay=500ms")
	_, _, l.async = p.get(t, "/?user=alice&async=true&delay=300ms")
	child := startPair(t, 0, append(exporterEnv("otlp-http"), "JOB_TRACE=child")...)
	_, _, l.childOfParent = child.get(t, "/?user=alice&async=true&delay=300ms")

	jg.waitTrace(t, l.slow, 5)
	send := jg.checkTree(t, l.async, jobTree(map[string]string{"user": "alice"}, false))["send jobs"]
	if send.SpanID == "" {
		t.FailNow() // checkTree has said what the trace holds
	}
	l.send = send.SpanID
	l.job = jg.findTrace(t, "backend", "process jobs", "messaging.message.id", send.tag("messaging.message.id")).TraceID
	jg.waitTrace(t, l.childOfParent, 7)
	return l
}
