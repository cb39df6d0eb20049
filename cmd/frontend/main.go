// Command frontend runs the frontend service; see package frontend, and
// internal/server for the signals, the exit codes and -healthcheck.
package main

import (
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/internal/server"
)

func main() { server.Main(frontend.Service) }
