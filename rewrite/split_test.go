package rewrite

import (
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		texts []string // each document's text, in order
		lines []int    // each document's first line
	}{
		{
			name:  "file without separator is document 0",
			in:    "a: 1\nb: 2\n",
			texts: []string{"a: 1\nb: 2\n"},
			lines: []int{1},
		},
		{
			name:  "leading separator leaves an empty document 0",
			in:    "---\na: 1\n",
			texts: []string{"", "a: 1\n"},
			lines: []int{1, 2},
		},
		{
			name:  "licence header before the first separator is document 0",
			in:    "# Copyright\n---\na: 1\n---\nb: 2\n",
			texts: []string{"# Copyright\n", "a: 1\n", "b: 2\n"},
			lines: []int{1, 3, 5},
		},
		{
			name:  "consecutive separators count an empty document",
			in:    "a: 1\n---\n---\nb: 2\n",
			texts: []string{"a: 1\n", "", "b: 2\n"},
			lines: []int{1, 3, 4},
		},
		{
			name:  "trailing separator leaves an empty last document",
			in:    "a: 1\n---\n",
			texts: []string{"a: 1\n", ""},
			lines: []int{1, 3},
		},
		{
			name:  "separator with a comment and blanks",
			in:    "a: 1\n---   # next\nb: 2\n",
			texts: []string{"a: 1\n", "b: 2\n"},
			lines: []int{1, 3},
		},
		{
			name:  "CRLF separator",
			in:    "a: 1\r\n---\r\nb: 2\r\n",
			texts: []string{"a: 1\r\n", "b: 2\r\n"},
			lines: []int{1, 3},
		},
		{
			name:  "dashes inside a value or a block scalar are not separators",
			in:    "a: |\n  ---\n---foo: 1\n",
			texts: []string{"a: |\n  ---\n---foo: 1\n"},
			lines: []int{1},
		},
		{
			name:  "empty file is one empty document",
			in:    "",
			texts: []string{""},
			lines: []int{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans, err := Split([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != len(tt.texts) {
				t.Fatalf("got %d documents, want %d: %+v", len(spans), len(tt.texts), spans)
			}
			for i, s := range spans {
				if s.Index != i {
					t.Errorf("document %d: Index %d", i, s.Index)
				}
				if got := tt.in[s.Start:s.End]; got != tt.texts[i] {
					t.Errorf("document %d: text %q, want %q", i, got, tt.texts[i])
				}
				if s.Line != tt.lines[i] {
					t.Errorf("document %d: line %d, want %d", i, s.Line, tt.lines[i])
				}
			}
		})
	}
}

func TestSplitRejectsContentAfterSeparator(t *testing.T) {
	_, err := Split([]byte("a: 1\n--- b: 2\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("got %v, want an error naming line 2", err)
	}
}
