package convert

import "testing"

func TestRuleAllowedFlexVolumes(t *testing.T) {
	runRuleCases(t, "allowedFlexVolumes", []ruleCase{
		{
			name:  "allowedFlexVolumes without flexVolume volumes has no effect",
			patch: `spec: {allowedFlexVolumes: [{driver: example/lvm}]}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:     "allowedFlexVolumes with flexVolume volumes is a gap",
			patch:    `spec: {volumes: [configMap, flexVolume], allowedFlexVolumes: [{driver: example/lvm}]}`,
			level:    "baseline",
			findings: []string{"volumes@restricted: restrictedVolumes"},
			gaps:     []string{"allowedFlexVolumes"},
		},
	})
}
