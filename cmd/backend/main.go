// Command backend runs the backend service; see package backend, and
// internal/server for the signals, the exit codes and -healthcheck.
package main

import (
	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/internal/server"
)

func main() { server.Main(backend.Service) }
