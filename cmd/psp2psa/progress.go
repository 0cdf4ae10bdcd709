package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progressDelay is how long a run works silently: a status line for what
// is over in a blink would only flicker.
const progressDelay = time.Second

// progressInterval limits how often the status line is redrawn.
const progressInterval = 100 * time.Millisecond

// progress draws one status line on standard error when it is a terminal,
// once the run has taken more than progressDelay: the step under way and
// how far it got ("planning 52000/100000 workloads"). It is rewritten in
// place and cleared before anything else is printed. A nil *progress
// draws nothing, and all its methods may be called from any goroutine.
type progress struct {
	w     io.Writer
	start time.Time

	mu    sync.Mutex
	step  string
	unit  string
	total int
	drawn bool
	done  atomic.Int64

	stop    chan struct{}
	stopped chan struct{}
}

// startProgress starts the status line on stderr if it is a terminal;
// nil otherwise.
func startProgress(stderr io.Writer) *progress {
	w := progressWriter(stderr)
	if w == nil {
		return nil
	}
	p := &progress{w: w, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	go p.run()
	return p
}

// begin names the step under way, what it counts and how many there are
// (0: not known).
func (p *progress) begin(step, unit string, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step, p.unit, p.total = step, unit, total
	p.done.Store(0)
}

// add counts one more done.
func (p *progress) add() {
	if p != nil {
		p.done.Add(1)
	}
}

// finish stops the line and clears it.
func (p *progress) finish() {
	if p == nil {
		return
	}
	select {
	case <-p.stop:
		return // finished already
	default:
	}
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func (p *progress) run() {
	defer close(p.stopped)
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-tick.C:
			if now.Sub(p.start) >= progressDelay {
				p.draw()
			}
		}
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.step == "" {
		return
	}
	count := fmt.Sprint(p.done.Load())
	if p.total > 0 {
		count += fmt.Sprintf("/%d", p.total)
	}
	// \x1b[K clears what a longer previous line left behind.
	fmt.Fprintf(p.w, "\r%s %s %s (%.0fs)\x1b[K", p.step, count, p.unit, time.Since(p.start).Seconds())
	p.drawn = true
}
