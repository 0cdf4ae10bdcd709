package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The garbage collector's default (GOGC=100) spends a tenth of a plan's
// time collecting small heaps, which a larger growth factor saves at a
// small cost in memory; a large heap gets the default back, so that a
// plan of 100,000 workloads stays well within a gigabyte (a larger factor
// there buys little time for much memory). The live heap is looked at ten
// times a second. GOGC and GOMEMLIMIT, when set, rule.
const (
	smallHeap = 64 << 20  // below: collect at three times the live heap
	largeHeap = 256 << 20 // above: at twice (the default)
)

// gcPercent is the growth factor for a live heap of live bytes.
func gcPercent(live uint64) int {
	switch {
	case live < smallHeap:
		return 200
	case live < largeHeap:
		return 150
	}
	return 100
}

// tuneGC adjusts the collector's growth factor to the live heap until the
// returned function is called.
func tuneGC() func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	percent := -1
	apply := func() {
		metrics.Read(sample)
		want := gcPercent(sample[0].Value.Uint64())
		if want != percent {
			debug.SetGCPercent(want)
			percent = want
		}
	}
	apply()
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				apply()
			}
		}
	}()
	return func() { close(done) }
}
