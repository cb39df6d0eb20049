// Package params is the backend's API: what its GET /hello accepts, the
// query parameters delay, fail and async, which a user gives the frontend
// and the frontend passes on, and the user, which travels in the baggage.
// Both services import it, so that the frontend checks a request exactly
// as the backend will, and neither imports the other.
package params

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MaxDelay is the longest delay= a caller may ask for.
const MaxDelay = 10 * time.Second

// MaxJobDelay is the longest delay= of a job (async=true). The backend's 4
// workers then free at least 2 places a second in its queue of 100, so that
// a caller who asks for a job every second cannot keep it full for others,
// as it could with 10 s jobs (0.4 places a second).
const MaxJobDelay = 2 * time.Second

// Hello is what a request asks of the backend.
type Hello struct {
	Delay time.Duration // delay=200ms: the backend waits that long
	Fail  bool          // fail=true: the backend answers 500
	Async bool          // async=true: the backend answers at once, and a job does the above
	// user=alice, or user=alice,bob,carol (at most MaxUsers): none if
	// absent. They travel in the baggage: Hello.Query leaves them out.
	Users []string
}

// MaxUsers is the most names one user= may list: the frontend calls the
// backend once for each.
const MaxUsers = 8

// User is the request's one user, for the baggage: "" if it names none,
// or more than one.
func (p Hello) User() string {
	if len(p.Users) != 1 {
		return ""
	}
	return p.Users[0]
}

// FromQuery reads the query string rawQuery. Unlike net/http's
// Request.URL.Query, it refuses a query that it cannot read whole (a bad
// %-escape, too many parameters) instead of dropping what it cannot read.
// An error names the parameter and what it allows.
func FromQuery(rawQuery string) (Hello, error) {
	var p Hello
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, fmt.Errorf("query: %v", err)
	}
	if users, ok := q["user"]; ok {
		if p.Users, err = checkUsers(users[0]); err != nil {
			return p, err
		}
	}
	if v := q.Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > MaxDelay {
			return p, fmt.Errorf("delay=%s: want a Go duration from 0s to %s, e.g. delay=200ms", Quote(v), MaxDelay)
		}
		p.Delay = d
	}
	for _, flag := range []struct {
		name  string
		value *bool
	}{{"fail", &p.Fail}, {"async", &p.Async}} {
		if *flag.value, err = parseBool(q.Get(flag.name)); err != nil {
			return p, fmt.Errorf("%s=%s: %v", flag.name, Quote(q.Get(flag.name)), err)
		}
	}
	if p.Async && p.Delay > MaxJobDelay {
		return p, fmt.Errorf("delay=%s: a job (async=true) waits at most %s", Quote(q.Get("delay")), MaxJobDelay)
	}
	return p, nil
}

// parseBool reads a flag: absent (""), "true" or "false". Only the two
// words: strconv.ParseBool would also take 1, t and TRUE, which the docs
// do not promise.
func parseBool(v string) (bool, error) {
	switch v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fmt.Errorf("want true or false")
}

// checkUsers reads v, one name or names separated by commas.
func checkUsers(v string) ([]string, error) {
	names := strings.Split(v, ",")
	if len(names) == 1 {
		return names, CheckUser(v)
	}
	if len(names) > MaxUsers {
		return nil, fmt.Errorf("user=%s: want at most %d names, separated by commas", Quote(v), MaxUsers)
	}
	for i, name := range names {
		if !userPattern.MatchString(name) {
			return nil, fmt.Errorf("user=%s: name %d: want 1 to 64 letters, digits, '_' or '-', the names separated by commas", Quote(v), i+1)
		}
	}
	return names, nil
}

var userPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckUser returns an error unless user is a name the services will put in
// a span, a log line and an answer: 1 to 64 letters, digits, '_' or '-'.
func CheckUser(user string) error {
	if !userPattern.MatchString(user) {
		return fmt.Errorf("user=%s: want 1 to 64 letters, digits, '_' or '-'", Quote(user))
	}
	return nil
}

// maxQuoted is the most of a refused value that an error message repeats:
// enough to recognize it, not enough to turn a 400 into an echo service.
const maxQuoted = 64

// Quote is v quoted for an error message, cut to its first maxQuoted bytes.
func Quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%q… (%d bytes)", v[:maxQuoted], len(v))
}

// Query is p as a query string that FromQuery reads back, e.g.
// "delay=200ms&fail=true"; empty when p asks for nothing.
func (p Hello) Query() string {
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
