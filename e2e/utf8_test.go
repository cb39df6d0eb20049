//go:build e2e

package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestPoisonedRequestInJaeger: one request with a byte that is not UTF-8
// in its User-Agent, and one in its path, among ten clean requests in one
// batch, cost nobody their spans in the real Jaeger, over OTLP/HTTP and
// OTLP/gRPC: both exporters refuse a whole batch with such a string, and
// the services make each valid first. The poisoned requests are stored
// too, with the replacement character.
func TestPoisonedRequestInJaeger(t *testing.T) {
	for _, exporter := range []string{"otlp-http", "otlp-grpc"} {
		t.Run(exporter, func(t *testing.T) {
			// One batch: every span of the 12 requests within 3 s.
			p := startPair(t, 0, append(exporterEnv(exporter), "OTEL_BSP_SCHEDULE_DELAY=3000")...)
			var clean []string
			for range 10 {
				_, _, traceID := p.get(t, "/")
				clean = append(clean, traceID)
			}
			get := func(path, agent string) string {
				req, err := http.NewRequest(http.MethodGet, p.frontendURL(path), nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("User-Agent", agent)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return traceresponse.FindStringSubmatch(resp.Header.Get("traceresponse"))[1]
			}
			badAgent := get("/", "x\xff")
			badPath := get("/%ff", "curl/8.0")

			if complete, lost := completeTraces(jg.jaegerAPI, clean, 5); complete != 10 {
				t.Errorf("%d of 10 clean traces complete in Jaeger, %d spans lost", complete, lost)
			}
			if complete, _ := completeTraces(jg.jaegerAPI, []string{badAgent}, 5); complete != 1 {
				t.Fatalf("the trace with a bad byte in its User-Agent is not in Jaeger whole")
			}
			tr, _, err := jg.fetch(badAgent)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tr.Spans {
				if s.OperationName == "GET /" && s.tag("user_agent.original") != "x\uFFFD" {
					t.Errorf("the root span's user_agent.original is %q, want %q", s.tag("user_agent.original"), "x\uFFFD")
				}
			}
			if complete, _ := completeTraces(jg.jaegerAPI, []string{badPath}, 1); complete != 1 {
				t.Errorf("the trace of the path with a bad byte is not in Jaeger")
			} else if tr, _, _ := jg.fetch(badPath); !strings.Contains(tr.Spans[0].tag("url.path"), "\uFFFD") {
				t.Errorf("its url.path is %q, want the replacement character in it", tr.Spans[0].tag("url.path"))
			}
		})
	}
}
