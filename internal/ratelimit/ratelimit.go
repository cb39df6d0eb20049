// Package ratelimit bounds the services' repeated warnings (spans dropped, a
// sampling endpoint that fails) to one line per Interval, so that none
// buries the service's own lines.
package ratelimit

import (
	"sync/atomic"
	"time"
)

// Interval is the most often a Limiter lets a line through.
const Interval = 10 * time.Second

// Limiter lets a line through at most once per Interval. Its zero value is
// ready; it is safe for concurrent use.
type Limiter struct {
	last atomic.Int64 // when a line last went through, in Unix nanoseconds
}

// Allow reports whether a line may be written now.
func (l *Limiter) Allow() bool {
	now, last := time.Now().UnixNano(), l.last.Load()
	return now-last >= int64(Interval) && l.last.CompareAndSwap(last, now)
}
