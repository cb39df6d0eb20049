package frontend_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/frontend"
)

// FuzzFrontend sends requests to / with arbitrary methods, query strings,
// traceparent, tracestate, baggage and User-Agent headers through the real
// frontend and backend handlers. Whatever comes in:
//   - the answer is 200, 400, 405, 502 or 504, never a panic or a 500;
//   - a 400 repeats a bounded part of the input, not all of it;
//   - no span name grows with the input: a caller cannot mint operations;
//   - no traceparent, valid or not, is joined: the frontend is the public
//     edge, and starts a trace of its own;
//   - the backend gets no baggage but the one user the frontend checked.
//
// `make test` replays the seeds below and the corpus in testdata/fuzz;
// `make fuzz` searches for new inputs for a fixed time.
func FuzzFrontend(f *testing.F) {
	f.Add("GET", "user=alice&delay=10ms", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "user=mallory,secret=s3cr3t", "")
	f.Add("GET", "fail=true", "not-a-traceparent", "vendor=opaque", "", "curl/8.0")
	f.Add("GET", "delay=1h&user=%ZZ", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", strings.Repeat("k=v,", 40), strings.Repeat("x", 9000), "")
	f.Add("GET", "user=a&user=b&fail=1&fail=maybe", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "user=%20", "")
	f.Add("GET", "delay=-1s", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "", "", "")
	f.Add("GET", "", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", "", "", "")
	f.Add("FOO", "", "", "", "", "")
	f.Add(strings.Repeat("X", 4000), "", "", "", "", "")
	f.Add("GET", "delay="+strings.Repeat("9", 20000), "", "", "", strings.Repeat("u", 17000))
	f.Add("GET", "fail=true"+strings.Repeat("&a=1", 10000), "", "", "", "")
	f.Add("GET", "async=true&delay=10s&fail=true&user=bob", "", "", "user=mallory", "")
	f.Add("GET", "async=yes", "", "", "", "")

	// Knobs that wait answer 504 after 50 ms instead of waiting up to 10 s.
	p := newPair(f, func(c *frontend.Config) { c.BackendTimeout = 50 * time.Millisecond })
	client := &http.Client{Timeout: 10 * time.Second}
	// The propagators report every malformed header to otel's error
	// handler; the services log those at a bounded rate (tracing.Setup).
	// Here they would flood the fuzzer's output, so they are dropped.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))

	f.Fuzz(func(t *testing.T, method, query, traceparent, tracestate, baggage, userAgent string) {
		// Keep memory flat over millions of runs.
		defer p.spans.Reset()
		defer p.logs.Reset()
		req, err := http.NewRequest(method, p.frontend.URL+"/?"+query, nil)
		if err != nil {
			return // not a method or a URL any client could send
		}
		header := map[string]string{"traceparent": traceparent, "tracestate": tracestate, "baggage": baggage, "User-Agent": userAgent}
		for name, value := range header {
			if value != "" {
				req.Header.Set(name, value)
			}
		}
		callsBefore := len(p.backendCalls())

		resp, err := client.Do(req)
		if err != nil {
			if strings.Contains(err.Error(), "invalid header field") {
				return // not a header any client could send
			}
			t.Fatalf("GET /?%s: %v", query, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		switch resp.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusBadGateway, http.StatusGatewayTimeout:
		default:
			t.Fatalf("GET /?%s answered %d", query, resp.StatusCode)
		}
		// The message, the trace link and at most 64 bytes of a bad value,
		// escaped (so up to 4 times as long).
		if resp.StatusCode == http.StatusBadRequest && len(body) > 600 {
			t.Fatalf("GET /?%s answered 400 with %d bytes: %q", query, len(body), body)
		}
		for _, span := range p.spans.Ended() {
			if len(span.Name()) > len("_OTHER MethodNotAllowed") {
				t.Fatalf("%s /?%s made the span name %q", method, query, span.Name())
			}
		}

		// The trace: never the caller's, at the public edge, whatever the
		// traceparent.
		m := traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse"))
		if m == nil {
			if resp.StatusCode == http.StatusBadRequest && len(p.backendCalls()) == callsBefore {
				return // net/http refused a malformed request line before any handler ran
			}
			if resp.StatusCode == http.StatusMethodNotAllowed && !slices.Contains(httpMethods, method) {
				return // refused before any span: not one of HTTP's methods (server.KnownMethods)
			}
			t.Fatalf("GET /?%s answered %d with traceresponse %q", query, resp.StatusCode, resp.Header.Get("traceresponse"))
		}
		if len(traceparent) >= 35 && strings.EqualFold(m[1], traceparent[3:35]) {
			t.Fatalf("traceparent %q was joined at the public edge: trace %s", traceparent, m[1])
		}

		// The baggage: at most the one member the frontend checked.
		for _, h := range p.backendCalls()[callsBefore:] {
			if got := h.Get("baggage"); got != "" && !checkedUser.MatchString(got) {
				t.Fatalf("the backend got baggage %q", got)
			}
		}
	})
}

// httpMethods are HTTP's own methods, the ones the services trace.
var httpMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace}

var (
	traceresponse = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)
	checkedUser   = regexp.MustCompile(`^user=[A-Za-z0-9_-]{1,64}$`)
)
