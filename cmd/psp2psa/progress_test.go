package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestProgressLine draws the status line of a run past its delay, and
// clears it when the run finishes.
func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, start: time.Now().Add(-2 * progressDelay), stop: make(chan struct{}), stopped: make(chan struct{})}
	close(p.stopped) // no drawing goroutine: draw is called by hand
	p.draw()
	if buf.Len() != 0 {
		t.Errorf("a line before any step: %q", buf.String())
	}
	p.begin("planning", "workloads", 3)
	p.add()
	p.add()
	p.draw()
	if got := buf.String(); !strings.HasPrefix(got, "\rplanning 2/3 workloads (") || !strings.HasSuffix(got, "s)\x1b[K") {
		t.Errorf("line %q", got)
	}
	buf.Reset()
	p.finish()
	p.finish()
	if got := buf.String(); got != "\r\x1b[K" {
		t.Errorf("finishing wrote %q, want the line cleared once", got)
	}
	var none *progress
	none.begin("x", "y", 1)
	none.add()
	none.finish()
}

// TestProgressOnlyOnATerminal: a pipe or a buffer gets no status line.
func TestProgressOnlyOnATerminal(t *testing.T) {
	if p := startProgress(&bytes.Buffer{}); p != nil {
		t.Error("a status line on a buffer")
	}
}
