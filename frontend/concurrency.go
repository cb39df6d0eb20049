package frontend

import (
	"context"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"example.com/tracingdemo/params"
)

// maxCallsAtOnce bounds the backend calls of one request that run at once:
// of user=a,b,c,d,e, the fifth waits for a place.
const maxCallsAtOnce = 4

// helloEach serves GET /?user=alice,bob,carol: a backend call for each
// user, all at once (callEach), and one answer that lists the greetings in
// the order asked.
func (h *handler) helloEach(w http.ResponseWriter, r *http.Request, p params.Hello) {
	start := time.Now()
	replies, err := h.callEach(r.Context(), p)
	if err != nil {
		h.respondError(w, r, err)
		return
	}
	h.respond(w, r, http.StatusOK, answer{Message: strings.Join(replies, "\n"), took: time.Since(start), calls: len(replies)})
}

// callEach calls the backend for each of p.Users, each call in a goroutine
// and a span "backend call" of its own. The spans are siblings, children
// of the span in ctx (the root, "GET /"): each starts from a context made
// from ctx, whatever goroutine starts it. The first call that fails
// cancels the others, whose spans say so. With fail=true, the first
// user's call fails at once, and the others, waiting their delay, are
// canceled.
func (h *handler) callEach(ctx context.Context, p params.Hello) ([]string, error) {
	replies := make([]string, len(p.Users))
	// The group's ctx holds the root span too, and is canceled when a call
	// fails, with its error as the cause.
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(maxCallsAtOnce)
	for i, user := range p.Users {
		call := p
		if p.Fail && i == 0 {
			call.Delay = 0 // the first user's call fails at once…
		} else if p.Fail {
			call.Fail = false // …and cancels the others, still waiting
		}
		g.Go(func() error {
			var err error // each goroutine writes its own element: no lock
			replies[i], _, err = h.callBackend(withUserBaggage(ctx, user), call)
			return err
		})
	}
	return replies, g.Wait() // the first error, once every call is done
}
