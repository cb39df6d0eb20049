package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// holdConnections opens n connections to addr from the address from, each
// of which asks for path, then holds its connection: idle once answered,
// busy until then. It returns how many were answered 200 within 2 s.
func holdConnections(t *testing.T, addr, from, path string, n int) (answered int) {
	t.Helper()
	dialer := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	results := make(chan bool, n)
	for range n {
		c, err := dialer.Dial("tcp", addr)
		if err != nil {
			results <- false
			continue
		}
		t.Cleanup(func() { c.Close() })
		go func() {
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: backend\r\n\r\n", path)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			results <- err == nil && strings.HasPrefix(line, "HTTP/1.1 200")
		}()
	}
	for range n {
		if <-results {
			answered++
		}
	}
	return answered
}

// servedWithin1s asks addr for path, from the address from, on a new
// connection each time, tries times; it returns how many times it got 200
// within 1 s.
func servedWithin1s(addr, from, path string, tries int) (served int) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext,
	}}
	for range tries {
		if resp, err := client.Get("http://" + addr + path); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served++
			}
		}
	}
	return served
}

// TestOneClientCannotHoldEveryConnection: the fourth probe's attack, one
// client holding every connection it can, 1,100 idle keep-alive
// connections after a GET /healthz each, costs a new caller no wait: 50 of
// 50 are served within 1 s, from that same address too, since idle
// connections make room. The saturation is logged.
func TestOneClientCannotHoldEveryConnection(t *testing.T) {
	addr := freeAddr(t)
	p := startService(t, "backend", addr)
	held := holdConnections(t, addr, "127.0.0.1", "/healthz", 1100)
	assert.Equal(t, 50, servedWithin1s(addr, "127.0.0.1", "/hello", 50), "of 50 new callers, served within 1 s")
	assert.Equal(t, 50, servedWithin1s(addr, "127.0.0.2", "/healthz", 50), "of 50 health checks from elsewhere, served within 1 s")
	t.Logf("%d of 1,100 held connections answered", held)
	assert.True(t, strings.Contains(p.out.String(), `"msg":"connections at their cap: idle ones closed to make room, or new ones refused"`),
		"the saturation is logged")
}

// TestCapsFitTheFileLimit: run with `ulimit -n 256`, the backend caps its
// connections to fit, and says so; one client holding 300 connections then
// costs a new caller no wait, and no "Accept error" (too many open files)
// comes of it.
func TestCapsFitTheFileLimit(t *testing.T) {
	addr := freeAddr(t)
	p := startService(t, "backend", addr, "TRACINGDEMO_NOFILE=256")
	assert.True(t, strings.Contains(p.out.String(), `"max_connections":96,"max_per_client":96,"max_in_flight":256,"open_files_limit":256`),
		"the listening line gives the caps fitted to the limit")
	holdConnections(t, addr, "127.0.0.1", "/healthz", 300)
	assert.Equal(t, 50, servedWithin1s(addr, "127.0.0.1", "/hello", 50), "of 50 new callers, served within 1 s")
	assert.False(t, strings.Contains(p.out.String(), "Accept error"), "the server ran out of files")
}
