package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"example.com/tracingdemo/internal/server"
)

// command reads the command line, args (os.Args): the service's name, one
// of those defaultAddr lists, then flags. It returns the name and the
// address to listen on, ADDR or the service's default. With -healthcheck it
// instead asks the service running there for /healthz, and exits 0 if it
// is healthy, 1 if not (the images have no shell and no curl). A bad
// command line exits 2, with the usage.
func command(args []string, defaultAddr map[string]string) (name, addr string) {
	// A log reader that went away (make run | head) costs log lines, not
	// the service: a write to stdout fails instead of ending the process.
	signal.Ignore(syscall.SIGPIPE)
	if len(args) > 1 {
		name = args[1]
	}
	if defaultAddr[name] == "" {
		fmt.Fprintln(os.Stderr, "usage: tracingdemo frontend|backend [-healthcheck]")
		os.Exit(2)
	}
	flags := flag.NewFlagSet(name, flag.ExitOnError)
	healthcheck := flags.Bool("healthcheck", false, "check the running "+name+"'s /healthz and exit")
	flags.Parse(args[2:])
	addr = cmp.Or(os.Getenv("ADDR"), defaultAddr[name])
	if *healthcheck {
		if err := healthCheck(addr); err != nil {
			fmt.Fprintln(os.Stderr, "unhealthy:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	return name, addr
}

// healthCheck asks the service listening on addr (an ADDR value, such as
// ":8080") for GET /healthz, and returns an error unless it answers 200 with
// the body "ok\n", itself, not through a redirect.
func healthCheck(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ADDR=%q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every address: ask on loopback
	}
	// A redirect is not the service's answer: it would lead elsewhere.
	client := &http.Client{Timeout: 2 * time.Second, CheckRedirect: server.NoRedirect}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + server.HealthPath)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if string(body) != server.Healthy {
		return fmt.Errorf("/healthz answered 200 with %q, not the service's %q: is another server on %s?", body, server.Healthy, addr)
	}
	return nil
}
