// Command backend runs the backend service; see package backend.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/tracing"
)

func main() {
	// SIGINT (Ctrl-C) and SIGTERM (docker stop) start a graceful stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := backend.Run(ctx, os.Stdout)
	stop()
	if err != nil {
		slog.Error("backend stopped", "err", err)
		os.Exit(tracing.ExitCode(err))
	}
}
