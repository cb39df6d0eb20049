package backend

// This file is what the backend's /hello accepts: the query parameters
// delay, fail and async, which a user gives the frontend and the frontend
// passes on, and the user, which travels in the baggage, not the query. Both
// services read them with ParamsFromQuery and CheckUser, so both accept
// and refuse the same values.

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"example.com/tracingdemo/internal/server"
)

// Params are what a request asks of the backend.
type Params struct {
	Delay time.Duration // delay=200ms: the backend waits that long
	Fail  bool          // fail=true: the backend answers 500
	Async bool          // async=true: the backend answers at once, and a job does the above
	User  string        // user=alice: "" if absent; Params.Query leaves it out
}

// ParamsFromQuery reads the query string rawQuery, and the Params in it. Unlike
// net/http's Request.URL.Query, it refuses a query that it cannot read
// whole (a bad %-escape, too many parameters) instead of dropping what it
// cannot read. An error names what was wrong.
func ParamsFromQuery(rawQuery string) (Params, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Params{}, fmt.Errorf("query: %v", err)
	}
	return parseParams(q)
}

// parseParams reads delay (a Go duration from 0s to MaxDelay), fail and
// async (booleans) and user (CheckUser) from q. An error names the parameter and what it
// allows.
func parseParams(q url.Values) (Params, error) {
	var p Params
	if users, ok := q["user"]; ok {
		if err := CheckUser(users[0]); err != nil {
			return p, err
		}
		p.User = users[0]
	}
	if v := q.Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > server.MaxDelay {
			return p, fmt.Errorf("delay=%s: want a Go duration from 0s to %s, e.g. delay=200ms", quote(v), server.MaxDelay)
		}
		p.Delay = d
	}
	var err error
	if p.Fail, err = parseBool(q, "fail"); err != nil {
		return p, err
	}
	p.Async, err = parseBool(q, "async")
	return p, err
}

// parseBool reads the parameter name from q: absent, true or false. Only
// the two words: strconv.ParseBool would also take 1, t and TRUE, which the
// README does not promise.
func parseBool(q url.Values, name string) (bool, error) {
	switch v := q.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, fmt.Errorf("%s=%s: want true or false", name, quote(v))
	}
}

var userPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckUser returns an error unless user is a name the services will put in
// a span, a log line and an answer: 1 to 64 letters, digits, '_' or '-'.
func CheckUser(user string) error {
	if !userPattern.MatchString(user) {
		return fmt.Errorf("user=%s: want 1 to 64 letters, digits, '_' or '-'", quote(user))
	}
	return nil
}

// maxQuoted is the most of a refused value that an error message repeats:
// enough to recognize it, not enough to turn a 400 into an echo service.
const maxQuoted = 64

// quote is v quoted for an error message, cut to its first maxQuoted bytes.
func quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%q… (%d bytes)", v[:maxQuoted], len(v))
}

// Query is p as a query string that parseParams reads back, e.g.
// "delay=200ms&fail=true"; empty when p asks for nothing.
func (p Params) Query() string {
	q := url.Values{}
	if p.Delay > 0 {
		q.Set("delay", p.Delay.String())
	}
	if p.Fail {
		q.Set("fail", "true")
	}
	if p.Async {
		q.Set("async", "true")
	}
	return q.Encode()
}
