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
		{256 * mb, 100},
		{2048 * mb, 100},
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live); got != tt.want {
			t.Errorf("gcPercent(%d MB) = %d, want %d", tt.live/mb, got, tt.want)
		}
	}
}
