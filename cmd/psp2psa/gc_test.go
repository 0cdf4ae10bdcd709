package main

import "testing"

func TestGCPercent(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		live uint64
		want int
	}{
		{0, 200},
		{63 * mb, 200},
		{64 * mb, 150},
		{255 * mb, 150},
		{256 * mb, 150}, // 800 MB would allow 212
		{320 * mb, 150},
		{350 * mb, 128}, // the heap may reach the budget, not more
		{399 * mb, 100},
		{400 * mb, 100},
		{2048 * mb, 100},
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live); got != tt.want {
			t.Errorf("gcPercent(%d MB) = %d, want %d", tt.live/mb, got, tt.want)
		}
	}
	// Between the large heap and half the budget, the next collection
	// comes before the heap passes the budget.
	for live := uint64(largeHeap); live < heapBudget/2; live += mb {
		if goal := live + live*uint64(gcPercent(live))/100; goal > heapBudget {
			t.Errorf("live %d MB: heap goal %d MB over the budget", live/mb, goal/mb)
		}
	}
}
