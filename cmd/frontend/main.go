// Command frontend runs the frontend service; see package frontend, and
// server.Main for the signals, the exit codes and -healthcheck.
package main

import (
	"example.com/tracingdemo/frontend"
	"example.com/tracingdemo/server"
)

func main() { server.Main("frontend", frontend.DefaultAddr, frontend.Run) }
