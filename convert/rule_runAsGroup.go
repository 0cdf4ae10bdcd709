package convert

import (
	"fmt"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.runAsGroup ({rule: MustRunAs|MayRunAs|RunAsAny, ranges};
omitted = RunAsAny).

PSS control: none; no check looks at runAsGroup.

Allowed values:
  - baseline: no opinion
  - restricted: no opinion

Witnesses: GID 0 for RunAsAny, each range's minimum otherwise (PSA passes
them all; they keep the enumeration complete). Restrictions: a GID outside
the ranges, always a gap.
*/

func init() { register(rule{field: "runAsGroup", analyze: analyzeRunAsGroup}) }

func analyzeRunAsGroup(p *psp.PodSecurityPolicy) analysis {
	if p.Spec.RunAsGroup == nil {
		return groupAnalysis("runAsGroup", psp.RunAsGroupStrategyRunAsAny, nil, runAsGroupChange)
	}
	return groupAnalysis("runAsGroup", string(p.Spec.RunAsGroup.Rule), p.Spec.RunAsGroup.Ranges, runAsGroupChange)
}

func runAsGroupChange(gid int64) podChange {
	return podChange{
		name:  fmt.Sprintf("GID %d", gid),
		apply: func(pod *corev1.Pod) { appSecurity(pod).RunAsGroup = new(gid) },
	}
}

// groupAnalysis is shared by runAsGroup, supplementalGroups and fsGroup,
// whose 1.24 strategies are the same: RunAsAny allows anything, MayRunAs
// checks the ranges when set, MustRunAs also fills in the first minimum.
func groupAnalysis[R ~string](field string, ruleName R, ranges []psp.IDRange, change func(int64) podChange) analysis {
	ruleText := string(ruleName)
	switch ruleText {
	case string(psp.RunAsGroupStrategyRunAsAny):
		return analysis{witnesses: []podChange{change(0)}}
	case string(psp.RunAsGroupStrategyMustRunAs), string(psp.RunAsGroupStrategyMayRunAs):
	default:
		return admitsNothing(field, field+".rule "+quoteRule(ruleText)+" is not a rule 1.24 knows, so the PSP admits no pod")
	}
	if len(ranges) == 0 {
		return admitsNothing(field, field+" "+ruleText+" without ranges: 1.24 could not build the strategy, so the PSP admits no pod")
	}
	a := analysis{
		restrictions: []podChange{change(outsideIDRanges(ranges, 0))},
		explainGap: func([]lostRestriction) string {
			return field + " " + ruleText + " limits IDs to " + idRanges(ranges) + "; PSS does not check " + field
		},
	}
	for _, r := range ranges {
		a.witnesses = append(a.witnesses, change(r.Min))
	}
	if ruleText == string(psp.RunAsGroupStrategyMustRunAs) {
		a.mutations = []Mutation{groupMutation(field, ranges[0].Min)}
	}
	return a
}

func groupMutation(field string, id int64) Mutation {
	sets := map[string]string{
		"runAsGroup":         fmt.Sprintf("container securityContext.runAsGroup: %d", id),
		"supplementalGroups": fmt.Sprintf("pod securityContext.supplementalGroups: [%d]", id),
		"fsGroup":            fmt.Sprintf("pod securityContext.fsGroup: %d", id),
	}[field]
	when := " when unset"
	if field == "runAsGroup" {
		when = " when neither the container nor the pod sets it"
	}
	return Mutation{Field: field, Sets: sets, Message: field + " MustRunAs → " + sets + when}
}
