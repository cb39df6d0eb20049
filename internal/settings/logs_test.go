package settings

import (
	"bufio"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestStalledLogDropsAndCounts: with the log's reader stalled, logging
// never waits; what the queue cannot hold is dropped, and once the reader
// reads again a line says how many.
func TestStalledLogDropsAndCounts(t *testing.T) {
	r, w := io.Pipe() // a write waits until it is read: a stalled reader
	q := newLineQueue(w)
	q.direct = slog.New(slog.NewJSONHandler(w, nil))
	logger := slog.New(slog.NewJSONHandler(q, nil))
	const extra = 100
	done := make(chan struct{})
	go func() {
		for i := range maxQueuedLines + extra {
			logger.Info("line", "i", i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("logging waited for the stalled reader")
	}

	// One line was being written when the reader stalled, the queue held
	// the next maxQueuedLines, and the rest were dropped.
	lines := make(chan string)
	go func() {
		for scan := bufio.NewScanner(r); scan.Scan(); {
			lines <- scan.Text()
		}
	}()
	written, count := 0, ""
	for written < maxQueuedLines+1 || count == "" {
		select {
		case line := <-lines:
			if strings.Contains(line, `"msg":"line"`) {
				written++
			} else {
				count = line
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("after %d of %d lines, none for 10 s; the count: %q", written, maxQueuedLines+1, count)
		}
	}
	assert.Contains(t, count, `"msg":"log lines dropped: the log's reader was too slow","dropped":99`)
}
