package backend

// This file is the work that outlives the request: with async=true, hello
// publishes a job and answers at once; a worker does it later, in a span
// linked to the one that sent it, through the trace context in the
// message's headers. The queue is in-process (queue.go); through a
// broker such as NATS, propagation.HeaderCarrier(msg.Header) takes the place
// of MapCarrier below, and nothing else changes.

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"example.com/tracingdemo/params"
)

// JobTrace is how a job's span relates to the span that sent it
// (JOB_TRACE): linked, from a trace of its own, or its child.
type JobTrace string

const (
	LinkedTrace JobTrace = "link"
	ChildSpan   JobTrace = "child"
)

// queueName is the queue's name in the spans: "send jobs", "process jobs".
const queueName = "jobs"

// A message is the job, and headers beside it, like a Kafka record's.
type message struct {
	id      string
	headers map[string]string
	job     params.Hello // the delay to wait, the failure to simulate
}

// Jobs is the backend's queue of jobs: 100 at most, done by 4 workers. Its
// Finish (queue.go) lets them finish, then cuts short the rest.
type Jobs struct {
	*queue
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	logger     *slog.Logger
	trace      JobTrace
}

// StartJobs starts the workers, traced with tp and propagator.
func StartJobs(tp trace.TracerProvider, propagator propagation.TextMapPropagator, logger *slog.Logger, jobTrace JobTrace) *Jobs {
	j := &Jobs{tracer: tp.Tracer("example.com/tracingdemo/backend"), propagator: propagator, logger: logger, trace: jobTrace}
	j.queue = startQueue(100, 4, logger, j.process)
	return j
}

// publish puts a job on the queue, inside the PRODUCER span "send jobs".
func (j *Jobs) publish(ctx context.Context, job params.Hello) error {
	msg := message{id: rand.Text(), headers: map[string]string{}, job: job}
	ctx, span := j.tracer.Start(ctx, "send "+queueName,
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(messageAttrs(msg, semconv.MessagingOperationTypeSend)...))
	defer span.End()
	// Write the trace context (this span) and the baggage into the
	// message's headers: the worker reads them back in process.
	j.propagator.Inject(ctx, propagation.MapCarrier(msg.headers))
	err := j.put(msg)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// process does one job, which waited for a worker, inside the CONSUMER span
// "process jobs". The request that sent it was answered long ago, its trace
// complete: so by default the job's span begins a trace of its own, linked.
func (j *Jobs) process(ctx context.Context, msg message, waited time.Duration) {
	// The trace context and the baggage (the user) the headers carry.
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
	span.SetAttributes(attribute.String("waited", waited.String()))
	if user := baggage.FromContext(ctx).Member("user").Value(); user != "" {
		span.SetAttributes(attribute.String("user", user))
	}
	if ctx.Err() != nil { // the backend stopped before a worker was free
		span.SetStatus(codes.Error, "never started: the backend stopped first")
		return
	}
	span.AddEvent("job started")

	if msg.job.Delay > 0 {
		span.AddEvent("working", trace.WithAttributes(attribute.String("delay", msg.job.Delay.String())))
		select {
		case <-time.After(msg.job.Delay):
		case <-ctx.Done(): // the backend stopped first
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
}

// messageAttrs are the messaging conventions' attributes of msg's spans.
func messageAttrs(msg message, op attribute.KeyValue) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.MessagingSystemKey.String("in-process"),
		semconv.MessagingDestinationName(queueName),
		semconv.MessagingOperationName(op.Value.AsString()),
		op,
		semconv.MessagingMessageID(msg.id),
	}
}
