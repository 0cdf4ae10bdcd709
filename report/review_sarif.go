package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/psp2psa/psp2psa/review"
)

// sarifSchema is the OASIS schema of SARIF 2.1.0 (errata 01).
const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// The SARIF 2.1.0 objects review writes: a log with one run, the rules of
// the tool's driver, one result per finding.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	Help                 sarifMessage `json:"help"`
	DefaultConfiguration sarifConfig  `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
	// PartialFingerprints let code scanning follow a finding across runs
	// as lines move: the rule and the object it concerns.
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

// reviewSARIF writes one result per finding. Its ruleId is the finding's
// stable rule ID; its location the manifest file and the line where the
// object's document starts, where the finding has one, and the Kubernetes
// object it concerns as a logical location.
func reviewSARIF(w io.Writer, r *review.Review, tool ToolInfo) error {
	if tool.Name == "" {
		tool.Name = "psp2psa"
	}
	driver := sarifDriver{Name: tool.Name, Version: tool.Version, InformationURI: tool.InformationURI, Rules: []sarifRule{}}
	index := map[string]int{}
	for i, rule := range review.Rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID: rule.ID, ShortDescription: sarifMessage{rule.Summary}, Help: sarifMessage{rule.Help},
			DefaultConfiguration: sarifConfig{Level: string(rule.Severity)},
		})
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: driver},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     make([]sarifResult, 0, len(r.Findings)),
		Properties: map[string]any{
			"verdict": r.Verdict.Status, "summary": r.Verdict.Summary, "failOn": string(r.Verdict.FailOn),
			"target": r.Target.String(), "pssVersion": r.PSSVersion,
		},
	}
	for _, f := range r.Findings {
		run.Results = append(run.Results, sarifResultOf(f, index[f.Rule]))
	}
	data, err := json.MarshalIndent(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func sarifResultOf(f review.Finding, ruleIndex int) sarifResult {
	res := sarifResult{RuleID: f.Rule, RuleIndex: ruleIndex, Level: string(f.Severity), Message: sarifMessage{f.Message}}
	var loc sarifLocation
	if f.Location != nil {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: fileURI(f.Location.File)}}
		if f.Location.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Location.Line}
		}
	}
	object := objectOf(f)
	if object != "" {
		loc.LogicalLocations = []sarifLogical{{Name: object, FullyQualifiedName: qualified(f, object), Kind: "object"}}
	}
	if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
		res.Locations = []sarifLocation{loc}
	}
	res.PartialFingerprints = map[string]string{"psp2psa/v1": f.Rule + ":" + qualified(f, object) + ":" + strings.Join(f.Containers, ",")}
	return res
}

// objectOf names the Kubernetes object a finding concerns.
func objectOf(f review.Finding) string {
	switch {
	case f.Workload != "":
		return f.Workload
	case f.Object != "":
		return f.Object
	case f.Namespace != "":
		return "Namespace " + f.Namespace
	}
	return ""
}

func qualified(f review.Finding, object string) string {
	if f.Namespace != "" && !strings.Contains(object, f.Namespace) {
		return f.Namespace + ": " + object
	}
	return object
}

// fileURI is a path as a URI reference: slashes, and escapes where a path
// character is not allowed in a URI.
func fileURI(path string) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	return u.String()
}
