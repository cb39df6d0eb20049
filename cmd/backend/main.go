// Command backend runs the backend service; see package backend, and
// server.Main for the signals, the exit codes and -healthcheck.
package main

import (
	"example.com/tracingdemo/backend"
	"example.com/tracingdemo/server"
)

func main() { server.Main("backend", backend.DefaultAddr, backend.Run) }
