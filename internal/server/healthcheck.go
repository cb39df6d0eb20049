package server

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// HealthCheck asks the service listening on addr (an ADDR value, such as
// ":8080") for GET /healthz, and returns an error unless it answers 200.
// The binaries run it for their -healthcheck flag: the container images
// have no shell and no curl to do it.
func HealthCheck(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("ADDR=%q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every address: ask on loopback
	}
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort(host, port) + healthPath)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/healthz answered %s", resp.Status)
	}
	return nil
}
