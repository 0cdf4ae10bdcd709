// Package parallel runs independent pieces of work on every processor.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For runs f(0), ..., f(n-1) on all processors and returns when all have
// returned. Each call must touch only its own part of any shared output;
// work is handed out in index order, so neighbours run at about the same
// time.
func For(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

// Ordered computes f(0), ..., f(n-1) on all processors, chunk of them at
// a time, and hands each result to emit in index order, on the calling
// goroutine: output made in parallel, written in sequence, never held
// whole.
func Ordered[T any](n, chunk int, f func(i int) T, emit func(T)) {
	results := make([]T, min(n, chunk))
	for start := 0; start < n; start += chunk {
		part := results[:min(chunk, n-start)]
		For(len(part), func(i int) { part[i] = f(start + i) })
		for _, r := range part {
			emit(r)
		}
	}
}
