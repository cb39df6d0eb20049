package server

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// connLimiter admits a listener's connections: at most max in all, and at
// most perClient from one remote address. Past either cap, the connection
// idle the longest (of that address, or of anyone's) is closed to make
// room: a keep-alive connection waiting for its next request costs its
// owner a reconnect, a new caller no wait. Only when every connection is
// busy is the new one refused, with a 503. Either is logged, at most once
// per 10 s, with the counts.
type connLimiter struct {
	net.Listener
	max, perClient int
	logger         *slog.Logger

	mu       sync.Mutex
	conns    map[net.Conn]*connState
	byClient map[string]int
	shed     int // idle connections closed to make room, since the last line
	refused  int // connections refused, every one busy, since the last line
	warn     rate.Sometimes
	refusing chan struct{} // the refusals being answered, 64 at most
}

const refusal = "too many connections, every one busy; try again later\n"

// refuse answers c 503 and closes it, within 250 ms. The answer comes
// after the request: a client answered before it asked takes that for an
// error. And what the caller sent is read before the close: closed with
// it unread, the connection would be reset, and the answer could be lost.
func refuse(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(250 * time.Millisecond))
	c.Read(make([]byte, 4096))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(refusal), refusal)
	if tcp, ok := c.(*net.TCPConn); ok {
		tcp.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, maxHeaderBytes))
}

type connState struct {
	client    string
	idleSince time.Time // zero while a request is read or answered
}

func newConnLimiter(ln net.Listener, max, perClient int, logger *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, perClient: perClient, logger: logger,
		conns: map[net.Conn]*connState{}, byClient: map[string]int{}, warn: rate.Sometimes{Interval: 10 * time.Second},
		refusing: make(chan struct{}, 64)}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.admit(c) {
			return c, err
		}
		select {
		case l.refusing <- struct{}{}:
			go func() { refuse(c); <-l.refusing }()
		default:
			c.Close() // a flood of refusals: no answer, no goroutine
		}
	}
}

// admit counts c in, making room first if a cap is reached; false if it
// cannot.
func (l *connLimiter) admit(c net.Conn) bool {
	client, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.logSaturation()
	if (l.byClient[client] >= l.perClient && !l.closeIdle(client)) || (len(l.conns) >= l.max && !l.closeIdle("")) {
		l.refused++
		return false
	}
	l.conns[c] = &connState{client: client}
	l.byClient[client]++
	return true
}

// closeIdle closes the connection idle the longest, of client or, for "",
// of anyone's; false if none is idle.
func (l *connLimiter) closeIdle(client string) bool {
	var oldest net.Conn
	for c, s := range l.conns {
		if !s.idleSince.IsZero() && (client == "" || s.client == client) &&
			(oldest == nil || s.idleSince.Before(l.conns[oldest].idleSince)) {
			oldest = c
		}
	}
	if oldest == nil {
		return false
	}
	oldest.Close()
	l.forget(oldest)
	l.shed++
	return true
}

func (l *connLimiter) forget(c net.Conn) {
	if s, ok := l.conns[c]; ok {
		delete(l.conns, c)
		if l.byClient[s.client]--; l.byClient[s.client] == 0 {
			delete(l.byClient, s.client)
		}
	}
}

// track is the server's ConnState: it keeps which connections are idle.
func (l *connLimiter) track(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s := l.conns[c]; {
	case state == http.StateClosed || state == http.StateHijacked:
		l.forget(c)
	case s == nil:
	case state == http.StateIdle:
		s.idleSince = time.Now()
	default:
		s.idleSince = time.Time{}
	}
}

func (l *connLimiter) logSaturation() {
	if l.shed+l.refused == 0 {
		return
	}
	l.warn.Do(func() {
		l.logger.Warn("connections at their cap: idle ones closed to make room, or new ones refused",
			"idle_closed", l.shed, "refused", l.refused, "open", len(l.conns), "max_connections", l.max, "max_per_client", l.perClient)
		l.shed, l.refused = 0, 0
	})
}

// fitToFiles is conns, or fewer if the process may not open that many files
// (RLIMIT_NOFILE): each connection is a file, and the frontend opens one
// more to the backend for each request; some are the exporter's and Go's.
func fitToFiles(conns int) (fitted int, files uint64) {
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err != nil {
		return conns, 0
	}
	return min(conns, int(max(limit.Cur, 96)-64)/2), limit.Cur
}
