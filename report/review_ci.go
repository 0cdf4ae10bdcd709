package report

import (
	"io"

	"github.com/psp2psa/psp2psa/review"
)

func reviewMarkdown(w io.Writer, r *review.Review, o ReviewOptions) error {
	ew := &errWriter{w: w}
	ew.printf("**%s**\n\n```\n", r.Verdict.Summary)
	if err := reviewText(ew, r); err != nil {
		return err
	}
	ew.printf("```\n")
	return ew.err
}

func reviewSARIF(w io.Writer, r *review.Review, tool ToolInfo) error { return reviewText(w, r) }

func reviewJUnit(w io.Writer, r *review.Review) error { return reviewText(w, r) }
