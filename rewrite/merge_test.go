package rewrite

import "testing"

func TestMerge3(t *testing.T) {
	tests := []struct {
		name               string
		base, ours, theirs string
		want               string
	}{
		{
			name:   "edit and formatting in different lines both apply",
			base:   "a: 1\nb: 2\nc: 3\n",
			ours:   "a:   1\nb: 2\nc: 3\n",
			theirs: "a: 1\nb: 2\nc: 4\n",
			want:   "a:   1\nb: 2\nc: 4\n",
		},
		{
			name:   "edit of a reformatted line takes the edited line",
			base:   "a: 1\nb: 2 # x\nc: 3\n",
			ours:   "a: 1\nb: 2   # x\nc: 3\n",
			theirs: "a: 1\nb: 5 # x\nc: 3\n",
			want:   "a: 1\nb: 5 # x\nc: 3\n",
		},
		{
			name:   "insertion goes before the original's blank line",
			base:   "m:\n  a: 1\nn: 2\n",
			ours:   "m:\n  a: 1\n\nn: 2\n",
			theirs: "m:\n  a: 1\n  b: 2\nn: 2\n",
			want:   "m:\n  a: 1\n  b: 2\n\nn: 2\n",
		},
		{
			name:   "blank line added after a reformatted line stays before the next key",
			base:   "m:\n  a: 1 # c\nn: 2\n",
			ours:   "m:\n  a: 1   # c\n\nn: 2\n",
			theirs: "m:\n  a: 1 # c\n  b: 2\nn: 2\n",
			want:   "m:\n  a: 1   # c\n  b: 2\n\nn: 2\n",
		},
		{
			name:   "deletion next to a blank line",
			base:   "a: 1\nb: 2\nc: 3\n",
			ours:   "a: 1\n\nb: 2\nc: 3\n",
			theirs: "a: 1\nc: 3\n",
			want:   "a: 1\n\nc: 3\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := merge3(tt.base, tt.ours, tt.theirs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
