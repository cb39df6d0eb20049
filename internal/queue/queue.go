// Package queue is the mechanics of the backend's jobs, beside the lesson
// of backend/jobs.go: a bounded queue, workers that take from it, and a
// stop that lets them finish, within a time, and then cuts short the jobs
// left.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Put's answers when it queues nothing. Neither names the queue's size:
// they are for whoever sent the request, the span and the log say more.
var (
	ErrFull     = errors.New("job queue full; try again later")
	ErrStopping = errors.New("the backend is stopping: no new jobs")
)

// Queue holds jobs of type T until a worker does them.
type Queue[T any] struct {
	mu      sync.Mutex // Put against Finish: no send on a closed queue
	stopped bool
	jobs    chan queued[T]

	logger   *slog.Logger
	cutShort context.CancelFunc // ends the context of every job still running
	running  sync.WaitGroup
	// For the line at stop: jobs done, cut short while running, and cut
	// short before a worker took them.
	done, cut, notStarted atomic.Int64
	// Refused jobs are logged at most once per 10 s, with the count since
	// the last line: one caller cannot flood the log.
	refused atomic.Int64
	warn    rate.Sometimes
}

// queued is a job, and when it was queued.
type queued[T any] struct {
	job T
	at  time.Time
}

// Start starts workers, each of which calls do for one job at a time,
// from a queue that holds size jobs, with how long the job waited for a
// worker. A job's context ends when Finish runs out of time: do returns
// then, and the job counts as cut short. A job that had not started then
// is still given to do, its context already ended, so that it too ends a
// span: do can tell it from a job that ran by ctx.Err() on entry.
func Start[T any](size, workers int, logger *slog.Logger, do func(ctx context.Context, job T, waited time.Duration)) *Queue[T] {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue[T]{
		jobs:     make(chan queued[T], size),
		logger:   logger,
		cutShort: cancel,
		warn:     rate.Sometimes{Interval: 10 * time.Second},
	}
	for range workers {
		q.running.Go(func() {
			for j := range q.jobs {
				started := ctx.Err() == nil
				do(ctx, j.job, time.Since(j.at))
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

// Put queues job, or says why it cannot: the queue is full, or stopping.
// A refusal is logged too, at most once per 10 s.
func (q *Queue[T]) Put(job T) error {
	err := q.put(job)
	if err != nil {
		q.refused.Add(1)
		q.warn.Do(func() { q.logger.Warn("job not queued", "err", err, "refused_since_last_line", q.refused.Swap(0)) })
	}
	return err
}

func (q *Queue[T]) put(job T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return ErrStopping
	}
	select {
	case q.jobs <- queued[T]{job, time.Now()}:
		return nil
	default:
		return fmt.Errorf("%w (%d jobs waiting)", ErrFull, len(q.jobs))
	}
}

// Finish takes no more jobs, and waits for the workers to do those queued,
// until ctx ends: then the jobs left are cut short, so that each ends its
// span and none vanishes from the traces. It logs the line "jobs at stop".
func (q *Queue[T]) Finish(ctx context.Context) {
	q.mu.Lock()
	if !q.stopped {
		q.stopped = true
		close(q.jobs)
	}
	q.mu.Unlock()

	// Should ctx end first, the jobs still running end at once.
	stop := context.AfterFunc(ctx, q.cutShort)
	q.running.Wait()
	stop()
	q.cutShort() // the workers are gone: release their context
	q.logger.Info("jobs at stop", "done", q.done.Load(), "cut_short", q.cut.Load(), "never_started", q.notStarted.Load())
}
