package vap

import (
	"strings"

	"github.com/psp2psa/psp2psa/internal/gapcases"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// pspRuleKey says which validation keeps the restriction a 1.24 PSP error
// reports, or "" for errors about what PSS already covers and the profile
// lists, which no validation keeps.
func pspRuleKey(e *field.Error) ruleKey {
	f := gapcases.FieldOf(e)
	if f == gapcases.SeccompProfilesField || f == gapcases.AppArmorProfilesField {
		return ""
	}
	return ruleKey(f)
}

// ruleKey names one validation: its field, plus "readOnly" for the second
// allowedHostPaths rule.
type ruleKey string

func keyOf(r Rule) ruleKey {
	if r.Field == "allowedHostPaths" && strings.Contains(r.Message, "mounted readOnly") {
		return "allowedHostPaths/readOnly"
	}
	return ruleKey(r.Field)
}

// warningKey reads the validation a policy warning names from its message
// ("… 'psp2psa-x': psp x: <field>: …").
func warningKey(text, pspName string) (ruleKey, bool) {
	_, rest, ok := strings.Cut(text, "psp "+pspName+": ")
	if !ok {
		return "", false
	}
	fieldName, what, ok := strings.Cut(rest, ": ")
	if !ok {
		return "", false
	}
	if fieldName == "allowedHostPaths" && strings.Contains(what, "mounted readOnly") {
		return "allowedHostPaths/readOnly", true
	}
	return ruleKey(fieldName), true
}
