package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/psp2psa/psp2psa/review"
)

// JUnitSuites is the JUnit XML review writes, as CI systems read it: a
// testsuite per namespace (and one for what concerns the whole cluster),
// a testcase per workload and one for the namespace itself. A testcase
// fails when it has a finding that blocks the verdict; the other findings
// are its system-out.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one namespace.
type JUnitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []JUnitCase `xml:"testcase"`
}

// JUnitCase is one workload, or the namespace's own findings.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure lists a testcase's blocking findings.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// clusterSuite holds the findings that concern no namespace.
const clusterSuite = "(cluster)"

func reviewJUnit(w io.Writer, r *review.Review) error {
	out := JUnitSuites{Name: "psp2psa review: " + r.Verdict.Summary}
	var cluster []review.Finding
	byNamespace := map[string][]review.Finding{}
	for _, f := range r.Findings {
		switch {
		case f.Namespace == "":
			cluster = append(cluster, f)
		case f.Workload == "":
			byNamespace[f.Namespace] = append(byNamespace[f.Namespace], f)
		}
	}
	byWorkload := map[string][]review.Finding{}
	for _, f := range r.Findings {
		if f.Workload != "" {
			byWorkload[f.Workload] = append(byWorkload[f.Workload], f)
		}
	}
	if len(cluster) > 0 {
		s := JUnitSuite{Name: clusterSuite}
		for _, f := range cluster {
			s.add(junitCase(r, objectOrRule(f), clusterSuite, nil, []review.Finding{f}))
		}
		out.add(s)
	}
	for _, ns := range r.Namespaces {
		s := JUnitSuite{Name: ns.Name}
		s.add(junitCase(r, "Namespace "+ns.Name, ns.Name, nil, byNamespace[ns.Name]))
		for _, wl := range ns.Workloads {
			s.add(junitCase(r, wl.Ref, ns.Name, wl.Location, byWorkload[wl.Ref]))
		}
		out.add(s)
	}
	data, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, data)
	return err
}

func objectOrRule(f review.Finding) string {
	if o := objectOf(f); o != "" {
		return f.Rule + ": " + o
	}
	return f.Rule
}

func junitCase(r *review.Review, name, class string, loc *review.Location, fs []review.Finding) JUnitCase {
	c := JUnitCase{Name: name, Classname: class}
	if loc != nil {
		c.File, c.Line = loc.File, loc.Line
	}
	var failing, other []string
	var types []string
	for _, f := range fs {
		line := fmt.Sprintf("%s %s: %s", f.Severity, f.Rule, f.Message)
		if r.Verdict.Blocking(f) {
			failing = append(failing, line)
			if !contains(types, f.Rule) {
				types = append(types, f.Rule)
			}
		} else {
			other = append(other, line)
		}
	}
	if len(failing) > 0 {
		c.Failure = &JUnitFailure{Message: countOf(len(failing), "finding", "findings") + " blocking the verdict", Type: strings.Join(types, ","), Text: strings.Join(failing, "\n")}
	}
	c.SystemOut = strings.Join(other, "\n")
	return c
}

func (s *JUnitSuite) add(c JUnitCase) {
	s.Cases = append(s.Cases, c)
	s.Tests++
	if c.Failure != nil {
		s.Failures++
	}
}

func (t *JUnitSuites) add(s JUnitSuite) {
	t.Suites = append(t.Suites, s)
	t.Tests += s.Tests
	t.Failures += s.Failures
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
