// Command frontend runs the frontend service; see package frontend.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/tracing"
)

func main() {
	// SIGINT (Ctrl-C) and SIGTERM (docker stop) start a graceful stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := frontend.Run(ctx, os.Stdout)
	stop()
	if err != nil {
		slog.Error("frontend stopped", "err", err)
		os.Exit(tracing.ExitCode(err))
	}
}
