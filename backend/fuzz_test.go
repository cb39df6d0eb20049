package backend_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"example.com/tracingdemo/backend"
)

// FuzzBackend sends GET /hello with arbitrary query strings, traceparent
// and baggage headers, async=true among them, straight to the real
// backend, as anyone who reaches it could. Whatever comes in:
//   - the answer is 200, 400, 500 for fail=true, or 503 for a job not
//     queued, never a panic or another status;
//   - a 400 repeats a bounded part of the input, not all of it.
//
// `make test` replays the seeds below; `go test -fuzz FuzzBackend
// ./backend/` searches for new inputs.
func FuzzBackend(f *testing.F) {
	f.Add("user=alice&delay=10ms", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "user=alice")
	f.Add("async=true&delay=10ms&fail=true", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "user=mallory,secret=s3cr3t")
	f.Add("async=true", "not-a-traceparent", "user=%3Cscript%3E")
	f.Add("async=maybe&delay=1h", "", strings.Repeat("k=v,", 100))
	f.Add("fail=true"+strings.Repeat("&a=1", 10000), "", "")
	f.Add("delay=%zz", "", "user="+strings.Repeat("x", 9000))

	b := newJobsBackend(f, backend.LinkedTrace)
	f.Cleanup(func() { // the workers stop with the jobs the fuzzer queued
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.stop(ctx)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) // malformed headers, by the thousand

	f.Fuzz(func(t *testing.T, query, traceparent, baggage string) {
		// The delays a fuzzer finds are cut, to keep each run short.
		query = strings.ReplaceAll(query, "delay=", "d=")
		req, err := http.NewRequest(http.MethodGet, b.srv.URL+"/hello?"+query, nil)
		if err != nil {
			return // not a URL any client could send
		}
		for name, value := range map[string]string{"traceparent": traceparent, "baggage": baggage} {
			if value != "" {
				req.Header.Set(name, value)
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			if strings.Contains(err.Error(), "invalid header field") {
				return // not a header any client could send
			}
			t.Fatalf("GET /hello?%s: %v", query, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusServiceUnavailable:
		case http.StatusInternalServerError:
			if !strings.Contains(string(body), "simulated failure (fail=true)") {
				t.Fatalf("GET /hello?%s answered 500 %q", query, body)
			}
		default:
			t.Fatalf("GET /hello?%s answered %d %q", query, resp.StatusCode, body)
		}
		if len(body) > 1024 {
			t.Fatalf("GET /hello?%s answered %d bytes: a 400 must not echo its input whole", query, len(body))
		}
	})
}
