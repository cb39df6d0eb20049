// Package backend is the service the frontend calls. Its spans join the
// frontend's trace because otelhttp reads the trace context from the
// request's traceparent header.
//
// handler.go holds the path of a request, the lesson. The backend has no
// settings of its own: cmd/tracingdemo builds it with New.
package backend
