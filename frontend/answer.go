package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"example.com/tracingdemo/internal/settings"
)

// Config is the frontend's settings: BACKEND_URL, JAEGER_UI_URL,
// BACKEND_TIMEOUT and TRUST_CALLER_TRACE, read and checked at start.
type Config = settings.Frontend

// The errors of the frontend's handler, each answered with its own status
// by statusOf.
var (
	errBadRequest         = errors.New("bad request")         // 400: the caller's mistake
	errBackendFailed      = errors.New("backend failed")      // 502: the backend answered with an error
	errBackendUnavailable = errors.New("backend unavailable") // 502: the backend could not be reached
	errBackendTimeout     = errors.New("backend timed out")   // 504: the backend did not answer in time
	errBackendBusy        = errors.New("backend busy")        // 503: the backend answered 503, try again later
	errCallerGone         = errors.New("caller gone")         // 499: the caller hung up before its answer
)

// statusClientClosedRequest is nginx's status for a request whose caller
// went away before its answer, which no caller reads: for the log line
// and the span, which then say so instead of a 502 of the backend's.
const statusClientClosedRequest = 499

// statusOf maps the handler's errors to HTTP status codes, in one place.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errBackendTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, errBackendBusy):
		return http.StatusServiceUnavailable
	case errors.Is(err, errCallerGone):
		return statusClientClosedRequest
	default:
		return http.StatusBadGateway
	}
}

// backendError tells a backend that did not answer in time from one that
// could not be reached, and both from a caller who hung up: the call's
// context ctx is canceled when the request's is, or, among many calls at
// once, with the first failure as its cause (concurrency.go).
func (h *handler) backendError(ctx context.Context, err error) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer within %s (BACKEND_TIMEOUT)", errBackendTimeout, h.cfg.BackendTimeout)
	case cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded):
		// Go's client returns the cause, the other call's error.
		return fmt.Errorf("canceled, since another call failed: %w", cause)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %w", errCallerGone, err)
	}
	return fmt.Errorf("%w: %w", errBackendUnavailable, err)
}

// readReply reads the backend's reply, the first line of its answer, or
// the error that its answer is.
func (h *handler) readReply(ctx context.Context, resp *http.Response) (string, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", h.backendError(ctx, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusServiceUnavailable: // its queue is full, or it is stopping
		return "", fmt.Errorf("%w: %s", errBackendBusy, firstLine(body))
	case http.StatusMultipleChoices, http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusNotModified, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// Not followed (server.NoRedirect), and not repeated: its Location
		// and body may name an internal address.
		return "", fmt.Errorf("%w: %s, a redirect: not followed", errBackendFailed, resp.Status)
	default:
		return "", fmt.Errorf("%w: %s: %s", errBackendFailed, resp.Status, firstLine(body))
	}
	return firstLine(body), nil
}

// publicMessage is what the caller is told of err. Why the backend could not
// be reached (its internal address, a dial error) is for the log and the
// trace, not for whoever sent the request.
func publicMessage(err error) string {
	if errors.Is(err, errBackendUnavailable) {
		return errBackendUnavailable.Error() + " (the cause is in the trace and the frontend's log)"
	}
	return err.Error()
}

// callerGone reports whether err is a caller's hang-up.
func callerGone(err error) bool { return errors.Is(err, errCallerGone) }

// hangUps counts the callers who hung up since the last line about them.
type hangUps struct {
	n   atomic.Int64
	log rate.Sometimes
}

func newHangUps() *hangUps { return &hangUps{log: rate.Sometimes{Interval: 10 * time.Second}} }

// answer is what the frontend tells the user, as text or as JSON.
type answer struct {
	Message       string  `json:"message,omitempty"`
	Error         string  `json:"error,omitempty"`
	BackendMillis float64 `json:"backend_ms,omitempty"`
	TraceID       string  `json:"trace_id,omitempty"`
	TraceURL      string  `json:"trace_url,omitempty"`

	took  time.Duration // how long the backend call took
	calls int           // how many backend calls took that long, at once; 0: one
}

// respondError answers err with its status, and logs it with the trace ID.
// Callers who hung up are counted, and logged at most once per 10 s: one
// client cannot fill the log, or the error rate, by hanging up.
func (h *handler) respondError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == statusClientClosedRequest {
		trace.SpanFromContext(r.Context()).AddEvent("the caller went away before its answer")
		h.gone.n.Add(1)
		h.gone.log.Do(func() {
			h.logger.WarnContext(r.Context(), "callers went away before their answer", "since_last_line", h.gone.n.Swap(0))
		})
		w.WriteHeader(status)
		return
	}
	level := slog.LevelError
	if status < 500 {
		level = slog.LevelWarn
	}
	h.logger.Log(r.Context(), level, "request failed", "status", status, "err", err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	h.respond(w, r, status, answer{Error: publicMessage(err)})
}

// respond writes a as JSON when the request accepts it, else as text lines
// for curl. Both carry the link to the trace in the Jaeger UI.
func (h *handler) respond(w http.ResponseWriter, r *http.Request, status int, a answer) {
	sc := trace.SpanContextFromContext(r.Context())
	if sc.IsValid() {
		a.TraceID = sc.TraceID().String()
		// An unsampled trace has no spans anywhere: no link to it.
		if h.cfg.JaegerUIURL != "" && sc.IsSampled() {
			a.TraceURL = strings.TrimSuffix(h.cfg.JaegerUIURL, "/") + "/trace/" + a.TraceID
		}
	}
	a.BackendMillis = float64(a.took.Microseconds()) / 1000
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(a)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if a.Error != "" {
		fmt.Fprintln(w, a.Error)
	} else {
		took := a.took.Round(10 * time.Microsecond)
		if a.calls > 1 {
			fmt.Fprintf(w, "%s\n(%d backend calls, at most %d at once, took %s)\n", a.Message, a.calls, maxCallsAtOnce, took)
		} else {
			fmt.Fprintf(w, "%s (backend call took %s)\n", a.Message, took)
		}
	}
	switch {
	case a.TraceURL != "":
		fmt.Fprintln(w, "trace:", a.TraceURL)
	case a.TraceID != "" && !sc.IsSampled():
		fmt.Fprintln(w, "trace:", a.TraceID, "(not sampled: none of its spans was recorded)")
	case a.TraceID != "":
		fmt.Fprintln(w, "trace:", a.TraceID, "(no Jaeger configured: look for this trace ID in the services' output)")
	}
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}
