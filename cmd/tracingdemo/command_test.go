package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthCheck(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer healthy.Close()
	// Another server on the port: it answers 200 to anything, or redirects
	// to a place that does.
	impostor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "<html>welcome</html>")
	}))
	defer impostor.Close()
	redirector := httptest.NewServer(http.RedirectHandler(healthy.URL+"/healthz", http.StatusFound))
	defer redirector.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	_, healthyPort, _ := net.SplitHostPort(healthy.Listener.Addr().String())

	tests := []struct {
		name, addr, wantErr string
	}{
		{"healthy", healthy.Listener.Addr().String(), ""},
		{"ADDR without host means loopback", ":" + healthyPort, ""},
		{"unspecified host means loopback", "0.0.0.0:" + healthyPort, ""},
		{"unhealthy", sick.Listener.Addr().String(), "/healthz answered 503 Service Unavailable"},
		{"nothing listening", "127.0.0.1:1", "connection refused"},
		{"another server", impostor.Listener.Addr().String(), `/healthz answered 200 with "<html>welcome</html>\n", not the service's "ok\n"`},
		{"a redirect", redirector.Listener.Addr().String(), "/healthz answered 302 Found"},
		{"bad ADDR", "8080", `ADDR="8080"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := healthCheck(tt.addr)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("healthCheck(%q) = %v, want nil", tt.addr, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("healthCheck(%q) = %v, want an error containing %q", tt.addr, err, tt.wantErr)
			}
		})
	}
}
