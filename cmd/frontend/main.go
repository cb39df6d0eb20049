// Command frontend runs the frontend service; see package frontend.
//
// With -healthcheck it instead asks the frontend already running (on ADDR)
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

	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/server"
	"example.com/tracingdemo/tracing"
)

func main() {
	healthcheck := flag.Bool("healthcheck", false, "check the running frontend's /healthz and exit")
	flag.Parse()
	if *healthcheck {
		if err := server.HealthCheck(cmp.Or(os.Getenv("ADDR"), frontend.DefaultAddr)); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		return
	}

	// SIGINT (Ctrl-C) and SIGTERM (docker stop) start a graceful stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := frontend.Run(ctx, os.Stdout)
	stop()
	if err != nil {
		slog.Error("frontend stopped", "err", err)
		os.Exit(tracing.ExitCode(err))
	}
}
