package settings

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/propagators/autoprop"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"golang.org/x/net/http/httpguts"

	"example.com/tracingdemo/internal/sampling"
)

// The OpenTelemetry libraries read the OTEL_* variables themselves. The
// services check at start only the values that those libraries would
// panic on, ignore or replace without a word: a typo would send every span
// somewhere else, or nowhere, or undo a bound. Each check says why it is
// here; every other value is the SDK's to read, and to refuse.
var otelChecks = []struct {
	name   string
	why    string // what the libraries do with a bad value
	secret bool   // its value may hold a secret: the error does not show it
	check  func(v string) error
}{
	{"OTEL_SDK_DISABLED", "the SDK leaves it to programs", false, boolean},
	{"OTEL_TRACES_SAMPLER", "the SDK logs an unknown name and uses its default", false, knownSampler},
	{"OTEL_TRACES_SAMPLER_ARG", "the SDK logs a bad ratio and uses 1; jaegerremote logs a bad key to a logger that is off", false, samplerArg},
	{"OTEL_PROPAGATORS", "autoprop logs an unknown name and uses its default", false, propagators},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "the exporter logs a bad URL and sends to its default", false, endpoint},
	{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "the exporter logs a bad URL and sends to its default", false, endpoint},
	{"OTEL_EXPORTER_JAEGER_ENDPOINT", "the exporter sends to whatever it is given", false, endpoint},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "autoexport refuses it, naming neither variable", false, choice("http/protobuf", "grpc")},
	{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "autoexport refuses it, naming neither variable", false, choice("http/protobuf", "grpc")},
	{"OTEL_EXPORTER_OTLP_HEADERS", "the exporter leaves out a pair it cannot read, logging its value, a secret", true, headers},
	{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "the exporter leaves out a pair it cannot read, logging its value, a secret", true, headers},
	{"OTEL_RESOURCE_ATTRIBUTES", "the SDK keeps the attributes before a bad pair, and a bad %-escape as it is", false, resourceAttributes},
	{"OTEL_EXPORTER_OTLP_COMPRESSION", "the exporter sends uncompressed what it does not know", false, choice("gzip", "none")},
	{"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "the exporter sends uncompressed what it does not know", false, choice("gzip", "none")},
	// A file the exporter cannot read is logged, and then every export fails.
	{"OTEL_EXPORTER_OTLP_CERTIFICATE", "every export fails", false, certificate},
	{"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "every export fails", false, certificate},
	{"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "every export fails", false, clientPair("OTEL_EXPORTER_OTLP_CLIENT_KEY")},
	{"OTEL_EXPORTER_OTLP_CLIENT_KEY", "every export fails", false, clientPair("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")},
	{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "every export fails", false, clientPair("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY")},
	{"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "every export fails", false, clientPair("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE")},
	// The SDK takes a number it cannot read, or one out of range, without a
	// word: "abc" means no attribute length limit at all, a negative queue
	// panics, and a queue of two billion spans is allocated at start. A
	// full queue of 16,384 spans, each of at most about 32 attributes of
	// 1,024 characters, stays well under the pods' memory limit.
	{"OTEL_BSP_MAX_QUEUE_SIZE", "ignored, or a panic", false, number(1, 16384, "spans")},
	{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "ignored", false, number(1, 16384, "spans")},
	{"OTEL_BSP_SCHEDULE_DELAY", "ignored", false, number(1, 60000, "milliseconds")},
	{"OTEL_BSP_EXPORT_TIMEOUT", "ignored", false, number(1, 300000, "milliseconds")},
	{"OTEL_EXPORTER_OTLP_TIMEOUT", "ignored", false, number(1, 300000, "milliseconds")},
	{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "ignored", false, number(1, 300000, "milliseconds")},
	{"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "ignored: no limit", false, number(1, 65536, "characters")},
	{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "ignored: no limit", false, number(1, 65536, "characters")},
	{"OTEL_ATTRIBUTE_COUNT_LIMIT", "ignored", false, number(0, 1024, "attributes")},
	{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "ignored", false, number(0, 1024, "attributes")},
	{"OTEL_SPAN_EVENT_COUNT_LIMIT", "ignored", false, number(0, 1024, "events")},
	{"OTEL_SPAN_LINK_COUNT_LIMIT", "ignored", false, number(0, 1024, "links")},
	{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "ignored", false, number(0, 1024, "attributes")},
	{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "ignored", false, number(0, 1024, "attributes")},
}

// MaxAttributeLength bounds a span attribute's value, in characters,
// unless OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT (or its span-only twin) says
// otherwise; the SDK sets no bound. Span attributes copy what a caller
// sends (user_agent.original, url.path, up to the 32 KiB header cap), and
// while Jaeger is slow up to 2,048 spans wait in memory.
const MaxAttributeLength = 1024

// loadTracing checks the OTEL_* variables (otelChecks), and reads what the
// sampler and the span accounting need of them.
func loadTracing(service string) (Tracing, error) {
	for _, c := range otelChecks {
		if v := os.Getenv(c.name); v != "" {
			if err := c.check(v); err != nil {
				return Tracing{}, &EnvError{Name: c.name, Value: v, Reason: err.Error(), Secret: c.secret}
			}
		}
	}
	setDefaultEndpoint()
	t := Tracing{Sampler: samplerName(), Ratio: 1} // 1: the SDK's default ratio
	// The service's name as the SDK will give it: OTEL_SERVICE_NAME wins.
	res, _ := resource.New(context.Background(), resource.WithAttributes(semconv.ServiceName(service)), resource.WithFromEnv())
	name, _ := res.Set().Value(semconv.ServiceNameKey)
	t.ServiceName = name.AsString()
	if disabled, _ := strconv.ParseBool(os.Getenv("OTEL_SDK_DISABLED")); disabled {
		t.Sampler = "always_off" // the SDK leaves OTEL_SDK_DISABLED to programs
	}
	arg := os.Getenv("OTEL_TRACES_SAMPLER_ARG")
	if r, err := ratio(arg); err == nil {
		t.Ratio = r
	}
	t.Remote, _ = sampling.ParseArg(arg) // checked above, for jaeger_remote

	queue := envInt("OTEL_BSP_MAX_QUEUE_SIZE", sdktrace.DefaultMaxQueueSize)
	t.SpanCapacity = queue + min(envInt("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", sdktrace.DefaultMaxExportBatchSize), queue)
	t.SpanLimits = sdktrace.NewSpanLimits()
	if os.Getenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT") == "" && os.Getenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT") == "" {
		t.SpanLimits.AttributeValueLengthLimit = MaxAttributeLength
	}
	return t, nil
}

// setDefaultEndpoint sets OTEL_EXPORTER_OTLP_ENDPOINT, when no endpoint is
// set, to the OpenTelemetry specification's default: http://localhost:4318,
// or :4317 for gRPC, over plain HTTP, where Go's exporters would use HTTPS.
// The exporter then reads it as if the user had set it.
func setDefaultEndpoint() {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return
	}
	endpoint := "http://localhost:4318"
	if cmp.Or(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")) == "grpc" {
		endpoint = "http://localhost:4317"
	}
	os.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
}

// samplerName is OTEL_TRACES_SAMPLER as the SDK reads it.
func samplerName() string {
	return strings.ToLower(strings.TrimSpace(os.Getenv("OTEL_TRACES_SAMPLER")))
}

// envInt reads the variable name, checked, or fallback where it is unset.
func envInt(name string, fallback int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return fallback
}

func boolean(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf(`want "true" or "false"`)
	}
	return nil
}

func knownSampler(string) error {
	if !sampling.Known(samplerName()) {
		return fmt.Errorf("want always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio or %s", sampling.Remote)
	}
	return nil
}

// samplerArg checks the argument of the sampler OTEL_TRACES_SAMPLER names:
// a ratio for the two ratio samplers, key=value pairs for jaeger_remote.
func samplerArg(v string) error {
	switch name := samplerName(); {
	case name == sampling.Remote:
		_, err := sampling.ParseArg(v)
		return err
	case strings.HasSuffix(name, "traceidratio") && strings.TrimSpace(v) != "":
		if _, err := ratio(v); err != nil {
			return fmt.Errorf("%v, e.g. 0.1", err)
		}
	}
	return nil
}

// ratio reads v as a ratio from 0 to 1. NaN, which strconv.ParseFloat
// reads, is none: every comparison with it is false.
func ratio(v string) (float64, error) {
	r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(r >= 0 && r <= 1) {
		return 0, fmt.Errorf("want a ratio from 0 to 1")
	}
	return r, nil
}

// propagators asks autoprop for the names, which returns the error that
// autoprop.NewTextMapPropagator would only log.
func propagators(v string) error {
	_, err := autoprop.TextMapPropagator(strings.Split(v, ",")...)
	return err
}

func endpoint(v string) error {
	_, err := httpURL(v)
	return err
}

// headers checks the headers that the OTLP exporter sends, as it reads
// them (key=value,…, each value %-escaped). The error names a key at most,
// never a value.
func headers(v string) error {
	for i, pair := range strings.Split(v, ",") {
		key, _, found := strings.Cut(pair, "=")
		if !found || !httpguts.ValidHeaderFieldName(strings.TrimSpace(key)) {
			return fmt.Errorf("pair %d is not key=value with a header name for key; want key=value,… with each value %%-escaped", i+1)
		}
	}
	return badEscape(v)
}

// badEscape is the error for the first key=value pair of v whose value has
// a bad %-escape, naming its key, never the value; nil if none has.
func badEscape(v string) error {
	for _, pair := range strings.Split(v, ",") {
		key, value, _ := strings.Cut(pair, "=")
		if _, err := url.PathUnescape(strings.TrimSpace(value)); err != nil {
			return fmt.Errorf("the value of %s has a bad %%-escape; want key=value,… with each value %%-escaped", strconv.Quote(strings.TrimSpace(key)))
		}
	}
	return nil
}

// resourceAttributes reads OTEL_RESOURCE_ATTRIBUTES as the SDK does, and
// wants each %-escape whole: the SDK would keep "a%zz" as it is.
func resourceAttributes(v string) error {
	if _, err := resource.New(context.Background(), resource.WithFromEnv()); err != nil {
		return err
	}
	return badEscape(v)
}

// certificate wants the file v names to hold a PEM certificate.
func certificate(v string) error {
	pem, err := os.ReadFile(v)
	if err == nil && !x509.NewCertPool().AppendCertsFromPEM(pem) {
		err = errors.New("no certificate in it")
	}
	if err != nil {
		return fmt.Errorf("want a file of PEM certificates: %w", err)
	}
	return nil
}

// clientPair checks a client certificate and its key, the variable checked
// and the variable other: both, or neither, and a key that belongs to the
// certificate. The error shows neither file's text.
func clientPair(other string) func(string) error {
	return func(v string) error {
		if os.Getenv(other) == "" {
			return fmt.Errorf("want %s set too: a client certificate goes with its key", other)
		}
		cert, key := v, os.Getenv(other)
		if strings.HasSuffix(other, "_CERTIFICATE") {
			cert, key = key, cert
		}
		_, err := tls.LoadX509KeyPair(cert, key)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			err = errors.New("the files do not hold a certificate and the key that goes with it") // not their text
		}
		if err != nil {
			return fmt.Errorf("want a PEM certificate and its key: %w", err)
		}
		return nil
	}
}

func number(min, max int64, unit string) func(string) error {
	return func(v string) error {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < min || n > max {
			return fmt.Errorf("want a whole number of %s from %d to %d", unit, min, max)
		}
		return nil
	}
}
