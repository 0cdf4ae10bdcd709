package report

import (
	"strings"
	"unicode/utf8"
)

// Width is the column text reports wrap their prose at.
const Width = 100

// wrap breaks text into lines of at most Width columns: the first line
// starts with first (an indent and maybe a bullet), the others with rest
// (the indent the text hangs at). A word longer than a line stays whole.
func wrap(first, rest, text string) string {
	var b strings.Builder
	line, prefix := first, first
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > Width {
			b.WriteString(line)
			b.WriteByte('\n')
			line, prefix, empty = rest, rest, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	if empty && line == prefix {
		return strings.TrimRight(first, " ") + "\n"
	}
	b.WriteString(line)
	b.WriteByte('\n')
	return b.String()
}

// wrapf is wrap with the hanging indent as wide as first.
func wrapf(first, text string) string {
	return wrap(first, strings.Repeat(" ", utf8.RuneCountInString(first)), text)
}
