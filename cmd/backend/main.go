// Command backend runs the backend service; see package backend.
//
// With -healthcheck it instead asks the backend already running (on ADDR)
// whether it is healthy, and exits 0 if so: the container health check.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/server"
	"example.com/tracingdemo/tracing"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "check the running backend's /healthz and exit")
	flag.Parse()
	if *healthcheck {
		if err := server.HealthCheck(cmp.Or(os.Getenv("ADDR"), backend.DefaultAddr)); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		return
	}

	// SIGINT (Ctrl-C) and SIGTERM (docker stop) start a graceful stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := backend.Run(ctx, os.Stdout)
	stop()
	if err != nil {
		slog.Error("backend stopped", "err", err)
		os.Exit(tracing.ExitCode(err))
	}
}
