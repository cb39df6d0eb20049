package settings

import (
	"bytes"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// lineQueue is the log's writer. A log reader that stalls (a paused
// terminal, make run | less, a blocked log driver) must hold up no
// request, no health check and no stop: each line waits in a queue for a
// goroutine that writes it out, and when the queue is full the line is
// dropped, counted, and the count logged once lines get through again.
type lineQueue struct {
	lines   chan queuedLine
	dropped atomic.Int64
	warn    rate.Sometimes // the count at most once per 10 s
	// direct logs the count straight to the output, from the goroutine
	// that writes the lines: through the queue, full, it would be dropped.
	direct *slog.Logger
}

type queuedLine struct {
	text    []byte
	flushed chan struct{} // FlushLog's mark: closed once the lines before it are out
}

// maxQueuedLines holds a few seconds of lines under load, about 1 MB.
const maxQueuedLines = 4096

// stdout is the services' log (Load), which FlushLog flushes.
var stdout *lineQueue

func newLineQueue(out io.Writer) *lineQueue {
	q := &lineQueue{lines: make(chan queuedLine, maxQueuedLines), warn: rate.Sometimes{Interval: 10 * time.Second}}
	go func() {
		for line := range q.lines {
			if line.flushed != nil {
				close(line.flushed)
				continue
			}
			out.Write(line.text) // a reader gone away costs the line, nothing else
			if q.dropped.Load() > 0 {
				q.warn.Do(func() {
					q.direct.Warn("log lines dropped: the log's reader was too slow", "dropped", q.dropped.Swap(0))
				})
			}
		}
	}()
	return q
}

// Write queues a copy of p (slog reuses its buffer), or drops it when the
// queue is full. It never waits.
func (q *lineQueue) Write(p []byte) (int, error) {
	select {
	case q.lines <- queuedLine{text: bytes.Clone(p)}:
	default:
		q.dropped.Add(1)
	}
	return len(p), nil
}

// FlushLog waits until the log lines so far are written out, for at most
// 2 s: the log's reader may be stalled, and a stop must not wait for it.
func FlushLog() {
	if stdout == nil {
		return
	}
	marker, timeout := make(chan struct{}), time.After(2*time.Second)
	select {
	case stdout.lines <- queuedLine{flushed: marker}:
		select {
		case <-marker:
		case <-timeout:
		}
	case <-timeout:
	}
}
