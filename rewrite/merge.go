package rewrite

import (
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// A re-encoded document loses blank lines and may indent or place comments
// differently from the original. To keep the original's look, the edit is
// applied as a three-way merge: base is the original re-encoded unchanged,
// ours is the original text, theirs is the edited document re-encoded.
// What base→theirs changes is the edit; what base→ours changes is the
// original's formatting. Where the two touch the same base lines the
// edited (re-encoded) text wins for those lines only; the caller checks
// the merged text means the same as theirs and otherwise uses theirs.

// change replaces base lines [start, end) with lines.
type change struct {
	start, end int
	lines      []string
}

func (c change) isInsert() bool { return c.start == c.end }

// splitLines splits text into lines that keep their "\n".
func splitLines(text string) []string {
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lineChanges diffs two texts line by line into changes against a.
func lineChanges(a, b string) []change {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // a minimal diff, the same on every run
	ra, rb, lineArray := dmp.DiffLinesToRunes(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), lineArray)
	var out []change
	pos := 0
	var cur *change
	for _, d := range diffs {
		lines := splitLines(d.Text)
		if d.Type == diffmatchpatch.DiffEqual {
			if cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			pos += len(lines)
			continue
		}
		if cur == nil {
			cur = &change{start: pos, end: pos}
		}
		if d.Type == diffmatchpatch.DiffDelete {
			cur.end += len(lines)
			pos += len(lines)
		} else {
			cur.lines = append(cur.lines, lines...)
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

// detachBlankLines splits the blank lines the original adds at the end of
// a changed stretch into an insertion of their own. A blank line separates
// what follows it, so a field the edit appends there must come before it,
// which editFirst arranges for insertions at one point.
func detachBlankLines(changes []change) []change {
	var out []change
	for _, c := range changes {
		extra := len(c.lines) - (c.end - c.start)
		blanks := 0
		for blanks < extra && strings.TrimSpace(c.lines[len(c.lines)-1-blanks]) == "" {
			blanks++
		}
		if c.isInsert() || blanks == 0 {
			out = append(out, c)
			continue
		}
		cut := len(c.lines) - blanks
		out = append(out,
			change{start: c.start, end: c.end, lines: c.lines[:cut]},
			change{start: c.end, end: c.end, lines: c.lines[cut:]})
	}
	return out
}

// conflicts tells whether a formatting change and an edit touch the same
// base lines. An insertion at the boundary of a range does not: it goes
// before or after it.
func conflicts(f, e change) bool {
	switch {
	case f.isInsert() && e.isInsert():
		return false // both at one point: the edit goes first, see merge
	case f.isInsert():
		return e.start < f.start && f.start < e.end
	case e.isInsert():
		return f.start < e.start && e.start < f.end
	}
	return f.start < e.end && e.start < f.end
}

// merge3 applies the edits (base→theirs) to ours, keeping ours' lines
// wherever the edits do not reach. All three texts end in a newline.
func merge3(base, ours, theirs string) string {
	baseLines := splitLines(base)
	formats, edits := detachBlankLines(lineChanges(base, ours)), lineChanges(base, theirs)
	var out strings.Builder
	pos, fi, ei := 0, 0, 0
	for fi < len(formats) || ei < len(edits) {
		takeEdit := fi == len(formats) || (ei < len(edits) && editFirst(edits[ei], formats[fi]))
		var group []change
		var fromEdits []bool
		if takeEdit {
			group, fromEdits = append(group, edits[ei]), append(fromEdits, true)
			ei++
		} else {
			group, fromEdits = append(group, formats[fi]), append(fromEdits, false)
			fi++
		}
		// Grow the group with every change that conflicts with a member.
		for grown := true; grown; {
			grown = false
			if fi < len(formats) && conflictsAny(formats[fi], group, fromEdits, false) {
				group, fromEdits = append(group, formats[fi]), append(fromEdits, false)
				fi, grown = fi+1, true
			}
			if ei < len(edits) && conflictsAny(edits[ei], group, fromEdits, true) {
				group, fromEdits = append(group, edits[ei]), append(fromEdits, true)
				ei, grown = ei+1, true
			}
		}
		start, end := span(group)
		writeLines(&out, baseLines[pos:start])
		if len(group) == 1 {
			writeLines(&out, group[0].lines)
		} else {
			writeLines(&out, editedStretch(baseLines, start, end, group, fromEdits))
		}
		pos = end
	}
	writeLines(&out, baseLines[pos:])
	return out.String()
}

// editFirst orders an edit and a formatting change that do not conflict.
// At one point insertions come before a replacement starting there, and an
// inserted field comes before inserted original lines, so new fields land
// before the blank lines that separate the original's sections.
func editFirst(e, f change) bool {
	if e.start != f.start {
		return e.start < f.start
	}
	return e.isInsert() || !f.isInsert()
}

func conflictsAny(c change, group []change, fromEdits []bool, isEdit bool) bool {
	for i, g := range group {
		if fromEdits[i] == isEdit {
			// Changes from one diff never overlap; they join a group only
			// through a change of the other kind.
			continue
		}
		if isEdit && conflicts(g, c) || !isEdit && conflicts(c, g) {
			return true
		}
	}
	return false
}

func span(group []change) (int, int) {
	start, end := group[0].start, group[0].end
	for _, c := range group[1:] {
		start, end = min(start, c.start), max(end, c.end)
	}
	return start, end
}

// editedStretch renders base lines [start, end) with only the edits of a
// conflicting group applied: the re-encoded form of that stretch.
func editedStretch(baseLines []string, start, end int, group []change, fromEdits []bool) []string {
	var out []string
	pos := start
	for i, c := range group {
		if !fromEdits[i] {
			continue
		}
		out = append(out, baseLines[pos:c.start]...)
		out = append(out, c.lines...)
		pos = c.end
	}
	return append(out, baseLines[pos:end]...)
}

func writeLines(b *strings.Builder, lines []string) {
	for _, l := range lines {
		b.WriteString(l)
	}
}
