package backend

// This file is the backend's work that outlives the request: with
// async=true, hello answers at once and publishes a job on a queue, and a
// worker does it later. The job's message carries the trace context in its
// headers, as a message through a broker does, and the worker's span is
// linked to the span that sent it.
//
// The queue is a Go channel, not a broker, so that the demo stays two
// processes; the tracing is the same through a broker. With NATS, say,
// propagation.HeaderCarrier(msg.Header) takes the place of MapCarrier
// below, and nothing else changes.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// JobTrace is how the span of a job relates to the request that queued it
// (JOB_TRACE).
type JobTrace string

const (
	// LinkedTrace: the job's span begins a trace of its own, with a link
	// to the span that sent the job. The default.
	LinkedTrace JobTrace = "link"
	// ChildSpan: the job's span is a child of the span that sent the job,
	// in the request's trace, which then lasts longer than its root.
	ChildSpan JobTrace = "child"
)

// The queue holds queueSize jobs; workers of them run at once.
const (
	queueSize = 100
	workers   = 4
)

// queueName is the queue's name in the spans: "send jobs", "process jobs".
const queueName = "jobs"

// errQueueFull is publish's answer when queueSize jobs already wait.
var errQueueFull = fmt.Errorf("job queue full: %d jobs waiting; try again later", queueSize)

// errStopping is publish's answer once Finish has begun.
var errStopping = errors.New("the backend is stopping: no new jobs")

// A message is what the queue carries: the job, and headers beside it, like
// the headers of a Kafka record or a NATS message. The trace context
// travels in the headers, written by the propagator that writes the HTTP
// call's traceparent.
type message struct {
	id      string
	headers map[string]string
	job     Params // the delay to wait, the failure to simulate
}

// Jobs is the backend's queue of jobs, and the workers that do them.
type Jobs struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	logger     *slog.Logger
	trace      JobTrace

	mu      sync.Mutex // publish against Finish: no send on a closed queue
	stopped bool
	queue   chan message

	cutShort context.CancelFunc // ends the wait of every job still running
	running  sync.WaitGroup
	done     atomic.Int64 // jobs done, and cut short, for the line at stop
	cut      atomic.Int64
}

// StartJobs starts the workers, traced with tp, reading the trace context
// with propagator; Finish stops them.
func StartJobs(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, jobTrace JobTrace) *Jobs {
	ctx, cancel := context.WithCancel(context.Background())
	j := &Jobs{
		tracer:     tp.Tracer("example.com/tracingdemo/backend"),
		propagator: propagator,
		logger:     logger,
		trace:      jobTrace,
		queue:      make(chan message, queueSize),
		cutShort:   cancel,
	}
	for range workers {
		j.running.Go(func() {
			for msg := range j.queue {
				j.process(ctx, msg)
			}
		})
	}
	return j
}

// publish puts a job on the queue, inside the PRODUCER span "send jobs".
func (j *Jobs) publish(ctx context.Context, job Params) error {
	msg := message{id: rand.Text(), headers: map[string]string{}, job: job}
	ctx, span := j.tracer.Start(ctx, "send "+queueName,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(messageAttrs(msg, semconv.MessagingOperationTypeSend)...))
	defer span.End()

	// Write the trace context (this span) and the baggage into the
	// message's headers: the worker reads them back in process.
	j.propagator.Inject(ctx, propagation.MapCarrier(msg.headers))

	j.mu.Lock()
	defer j.mu.Unlock()
	err := errStopping
	if !j.stopped {
		select {
		case j.queue <- msg:
			return nil
		default:
			err = errQueueFull
		}
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	return err
}

// process does one job, inside the CONSUMER span "process jobs". The
// request that sent it was answered long ago: its trace is complete, so by
// default the job begins a trace of its own, and links it to the span that
// sent the job. With JOB_TRACE=child the span is that span's child instead.
func (j *Jobs) process(ctx context.Context, msg message) {
	// The trace context and the baggage the headers carry, as a context.
	sent := j.propagator.Extract(ctx, propagation.MapCarrier(msg.headers))
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(messageAttrs(msg, semconv.MessagingOperationTypeProcess)...),
	}
	if j.trace != ChildSpan {
		// A trace of its own (a new root), linked to the span that sent
		// the job. A message without trace headers gets no link.
		opts = append(opts, trace.WithNewRoot(), trace.WithLinks(trace.LinkFromContext(sent)))
	}
	ctx, span := j.tracer.Start(sent, "process "+queueName, opts...)
	defer span.End()
	span.AddEvent("job started")
	// The baggage came in the headers too.
	if user := baggage.FromContext(ctx).Member("user").Value(); user != "" {
		span.SetAttributes(attribute.String("user", user))
	}

	if msg.job.Delay > 0 {
		span.AddEvent("working", trace.WithAttributes(attribute.String("delay", msg.job.Delay.String())))
		select {
		case <-time.After(msg.job.Delay):
		case <-ctx.Done():
			// Finish ran out of time: the job ends here, and says so.
			j.cut.Add(1)
			span.SetStatus(codes.Error, "cut short: the backend stopped before the job was done")
			return
		}
	}
	if msg.job.Fail {
		err := errors.New("simulated failure (fail=true)")
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		j.logger.ErrorContext(ctx, "job failed", "err", err)
	}
	span.AddEvent("job done")
	j.done.Add(1)
}

// messageAttrs are the OpenTelemetry conventions' attributes of a span
// that sends or processes msg.
func messageAttrs(msg message, op attribute.KeyValue) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.MessagingSystemKey.String("in-process"),
		semconv.MessagingDestinationName(queueName),
		semconv.MessagingOperationName(op.Value.AsString()),
		op,
		semconv.MessagingMessageID(msg.id),
	}
}

// Finish takes no more jobs, and waits for the workers to do those queued,
// until ctx ends: then the jobs left are cut short, each with its span ended
// as an error, so that no job vanishes from the traces. Called after the
// server's drain, and before the final flush of the spans.
func (j *Jobs) Finish(ctx context.Context) {
	j.mu.Lock()
	if !j.stopped {
		j.stopped = true
		close(j.queue)
	}
	j.mu.Unlock()

	// Should ctx end first, the jobs still running end at once.
	stop := context.AfterFunc(ctx, j.cutShort)
	j.running.Wait()
	stop()
	j.cutShort() // the workers are gone: release their context
	j.logger.Info("jobs at stop", "done", j.done.Load(), "cut_short", j.cut.Load())
}
