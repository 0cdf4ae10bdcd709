package report

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffContext is how many unchanged lines surround each change, as in
// diff -u.
const diffContext = 3

// UnifiedDiff renders the change from old to new as a unified diff, the
// format of diff -u and git diff, which patch and git apply accept. The
// names are written as given on the "---" and "+++" lines: pass "a/x" and
// "b/x" for git's style. A last line without a newline is marked
// "\ No newline at end of file". Equal contents give "".
func UnifiedDiff(oldName, newName string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	ops := lineOps(string(old), string(new))
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", oldName, newName)
	// The lines before each hunk are counted on from the hunk before, so
	// that a file with many changes costs its length, not its length
	// times its hunks.
	var at position
	for _, h := range hunks(ops) {
		at = at.advance(ops, h.start)
		writeHunk(&b, ops, h, at)
	}
	return b.String()
}

// position is how many old and new lines the ops before op hold.
type position struct{ op, old, new int }

func (p position) advance(ops []lineOp, to int) position {
	for ; p.op < to; p.op++ {
		p.old, p.new = countLine(ops[p.op], p.old, p.new)
	}
	return p
}

// lineOp is one line of the diff: ' ' kept, '-' removed, '+' added.
type lineOp struct {
	kind byte
	text string // with its newline, if it has one
}

// lineOps diffs two texts line by line: each distinct line stands for
// one rune, as diffmatchpatch's DiffLinesToRunes makes them (the diff
// depends only on which lines are equal), and each rune of the result is
// turned back into its line.
func lineOps(old, new string) []lineOp {
	var lines lineTable
	a, b := lines.runes(old), lines.runes(new)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // a minimal diff, the same on every run
	var ops []lineOp
	for _, d := range dmp.DiffMainRunes(a, b, false) {
		kind := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			kind = '-'
		case diffmatchpatch.DiffInsert:
			kind = '+'
		}
		for _, r := range d.Text {
			ops = append(ops, lineOp{kind: kind, text: lines.line(r)})
		}
	}
	return ops
}

// lineTable numbers the distinct lines of two texts with runes that are
// valid (no surrogate halves), so that they survive diffmatchpatch's
// conversions to strings and back.
type lineTable struct {
	index map[string]rune
	lines []string
}

const surrogates = 0xd800

func (t *lineTable) runes(text string) []rune {
	lines := strings.Count(text, "\n") + 1
	if t.index == nil {
		t.index = make(map[string]rune, lines)
	}
	out := make([]rune, 0, lines)
	for len(text) > 0 {
		n := strings.IndexByte(text, '\n') + 1
		if n == 0 {
			n = len(text)
		}
		line := text[:n]
		text = text[n:]
		r, ok := t.index[line]
		if !ok {
			r = rune(len(t.lines) + 1)
			if r >= surrogates {
				r += 0x800
			}
			t.index[line] = r
			t.lines = append(t.lines, line)
		}
		out = append(out, r)
	}
	return out
}

func (t *lineTable) line(r rune) string {
	if r >= surrogates {
		r -= 0x800
	}
	return t.lines[r-1]
}

// hunk is a range of ops [start, end) written as one @@ block.
type hunk struct{ start, end int }

// hunks groups the changed lines with their context; changes whose
// contexts touch or overlap share a hunk, as diff -u does.
func hunks(ops []lineOp) []hunk {
	var out []hunk
	for i := 0; i < len(ops); i++ {
		if ops[i].kind == ' ' {
			continue
		}
		start := max(0, i-diffContext)
		if n := len(out); n > 0 && start <= out[n-1].end {
			out[n-1].end = min(len(ops), i+1+diffContext)
			continue
		}
		out = append(out, hunk{start: start, end: min(len(ops), i+1+diffContext)})
	}
	return out
}

func writeHunk(b *strings.Builder, ops []lineOp, h hunk, before position) {
	oldBefore, newBefore := before.old, before.new
	oldCount, newCount := 0, 0
	for _, op := range ops[h.start:h.end] {
		oldCount, newCount = countLine(op, oldCount, newCount)
	}
	fmt.Fprintf(b, "@@ -%s +%s @@\n", hunkRange(oldBefore, oldCount), hunkRange(newBefore, newCount))
	for _, op := range ops[h.start:h.end] {
		b.WriteByte(op.kind)
		b.WriteString(op.text)
		if !strings.HasSuffix(op.text, "\n") {
			b.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

func countLine(op lineOp, old, new int) (int, int) {
	if op.kind != '+' {
		old++
	}
	if op.kind != '-' {
		new++
	}
	return old, new
}

// hunkRange writes a side of a hunk header as diff -u does: the first
// line and the count, the count left out when it is 1, and for an empty
// range the line before it.
func hunkRange(before, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", before)
	case 1:
		return fmt.Sprintf("%d", before+1)
	}
	return fmt.Sprintf("%d,%d", before+1, count)
}
