package parallel

import (
	"slices"
	"sync/atomic"
	"testing"
)

func TestFor(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		var calls atomic.Int64
		seen := make([]int32, n)
		For(n, func(i int) {
			calls.Add(1)
			atomic.AddInt32(&seen[i], 1)
		})
		if calls.Load() != int64(n) || slices.ContainsFunc(seen, func(c int32) bool { return c != 1 }) {
			t.Errorf("n=%d: %d calls, counts %v", n, calls.Load(), seen)
		}
	}
}

func TestOrdered(t *testing.T) {
	for _, tt := range []struct{ n, chunk int }{{0, 3}, {1, 3}, {3, 3}, {7, 3}, {1000, 64}, {5, 100}} {
		var got []int
		Ordered(tt.n, tt.chunk, func(i int) int { return i * i }, func(v int) { got = append(got, v) })
		want := make([]int, tt.n)
		for i := range want {
			want[i] = i * i
		}
		if !slices.Equal(got, want) {
			t.Errorf("n=%d chunk=%d: got %v", tt.n, tt.chunk, got)
		}
	}
}
