package cluster

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressInterval limits how often the status line is redrawn; paging
// through a large cluster produces far more updates than anyone can read.
const progressInterval = 100 * time.Millisecond

// progress draws one status line, "reading pods 1200/5000 (3 of 15 kinds
// done)", rewriting it in place with a carriage return. Kinds are listed
// concurrently, so the line shows whichever reported last. A nil
// *progress draws nothing.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	kinds    int
	finished int
	drawn    time.Time
	now      func() time.Time
}

func newProgress(w io.Writer, kinds int) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, kinds: kinds, now: time.Now}
}

// update reports that read objects of plural are in; total is -1 when the
// server did not say how many there are.
func (p *progress) update(plural string, read, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Sub(p.drawn) >= progressInterval {
		p.drawn = now
		p.draw(plural, read, total)
	}
}

func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished++
}

func (p *progress) draw(plural string, read, total int) {
	of := "…"
	if total >= 0 {
		of = fmt.Sprint(total)
	}
	// \x1b[K clears what a longer previous line left behind.
	fmt.Fprintf(p.w, "\rreading %s %d/%s (%d of %d kinds done)\x1b[K", plural, read, of, p.finished, p.kinds)
}

// clear removes the line once reading is over, so that what is printed
// next starts on a clean line.
func (p *progress) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.drawn.IsZero() {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
