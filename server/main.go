package server

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/tracing"
)

// Main is the whole main function of a service called name, which listens
// on ADDR (default defaultAddr) and runs as run:
//   - SIGINT (Ctrl-C) and SIGTERM (docker stop) cancel run's context, which
//     starts its graceful stop;
//   - run's error is logged, and the process exits 2 for a bad setting, 1
//     for anything else;
//   - with -healthcheck, it instead asks the service already running on
//     ADDR for /healthz and exits 0 if it is healthy: the container health
//     check, in an image with no shell and no curl.
func Main(name, defaultAddr string, run func(context.Context, io.Writer, ...tracing.Option) error) {
	healthcheck := flag.Bool("healthcheck", false, "check the running "+name+"'s /healthz and exit")
	flag.Parse()
	if *healthcheck {
		if err := HealthCheck(cmp.Or(os.Getenv("ADDR"), defaultAddr)); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		slog.Error(name+" stopped", "err", err)
		os.Exit(tracing.ExitCode(err))
	}
}
