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
	jobs    chan T

	logger   *slog.Logger
	cutShort context.CancelFunc // ends the context of every job still running
	running  sync.WaitGroup
	done     atomic.Int64 // jobs done, and cut short, for the line at stop
	cut      atomic.Int64
}

// Start starts workers, each of which calls do for one job at a time,
// from a queue that holds size jobs. A job's context ends when Finish runs
// out of time: do returns then, and the job counts as cut short.
func Start[T any](size, workers int, logger *slog.Logger, do func(context.Context, T)) *Queue[T] {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue[T]{
		jobs:     make(chan T, size),
		logger:   logger,
		cutShort: cancel,
	}
	for range workers {
		q.running.Go(func() {
			for job := range q.jobs {
				do(ctx, job)
				if ctx.Err() != nil {
					q.cut.Add(1)
				} else {
					q.done.Add(1)
				}
			}
		})
	}
	return q
}

// Put queues job, or says why it cannot: the queue is full, or stopping.
func (q *Queue[T]) Put(job T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return ErrStopping
	}
	select {
	case q.jobs <- job:
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
	q.logger.Info("jobs at stop", "done", q.done.Load(), "cut_short", q.cut.Load())
}
