package backend

// The mechanics of the jobs, beside the lesson of jobs.go: a buffered
// channel that holds them, workers that take from it, and a stop that lets
// the workers finish, within a time, then cuts short the jobs left.

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// publish's errors when it queues nothing: for the caller, who gets them
// in a 503; the log line has the figures.
var (
	errQueueFull = errors.New("job queue full; try again later")
	errStopping  = errors.New("the backend is stopping: no new jobs")
)

type queue struct {
	mu      sync.Mutex // put against finish: no send on a closed channel
	stopped bool
	jobs    chan queued

	logger   *slog.Logger
	cutShort context.CancelFunc // ends the context of every job
	workers  sync.WaitGroup
	// For the line "jobs at stop": done, cut short while running, cut short
	// before a worker took them.
	done, cut, notStarted atomic.Int64
	// A refusal is logged at most once per 10 s, with the count since the
	// last line: one caller cannot flood the log.
	refused atomic.Int64
	warn    rate.Sometimes
}

type queued struct {
	msg message
	at  time.Time
}

// startQueue starts workers that each call do for one job at a time, with
// how long it waited, from a queue of size jobs. A job not started when
// finish runs out of time is still given to do, its context ended, so that
// it too ends a span.
func startQueue(size, workers int, logger *slog.Logger, do func(context.Context, message, time.Duration)) *queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queue{jobs: make(chan queued, size), logger: logger, cutShort: cancel, warn: rate.Sometimes{Interval: 10 * time.Second}}
	for range workers {
		q.workers.Go(func() {
			for j := range q.jobs {
				started := ctx.Err() == nil
				do(ctx, j.msg, time.Since(j.at))
				switch {
				case !started:
					q.notStarted.Add(1)
				case ctx.Err() != nil:
					q.cut.Add(1)
				default:
					q.done.Add(1)
				}
			}
		})
	}
	return q
}

// put queues msg, or says why not: the queue is full, or stopping.
func (q *queue) put(msg message) error {
	err := q.send(msg)
	if err != nil {
		q.refused.Add(1)
		q.warn.Do(func() {
			q.logger.Warn("job not queued", "err", err, "jobs_waiting", len(q.jobs), "refused_since_last_line", q.refused.Swap(0))
		})
	}
	return err
}

func (q *queue) send(msg message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return errStopping
	}
	select {
	case q.jobs <- queued{msg, time.Now()}:
		return nil
	default:
		return errQueueFull
	}
}

// Finish takes no more jobs, and lets the workers do those queued until
// ctx ends; then the jobs left are cut short, each ending its span. It
// logs the line "jobs at stop".
func (q *queue) Finish(ctx context.Context) {
	q.mu.Lock()
	if !q.stopped {
		q.stopped = true
		close(q.jobs)
	}
	q.mu.Unlock()

	stop := context.AfterFunc(ctx, q.cutShort) // should ctx end first
	q.workers.Wait()
	stop()
	q.cutShort() // release the workers' context
	q.logger.Info("jobs at stop", "done", q.done.Load(), "cut_short", q.cut.Load(), "never_started", q.notStarted.Load())
}
