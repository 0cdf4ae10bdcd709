package convert

import "testing"

func TestRuleAllowedCSIDrivers(t *testing.T) {
	runRuleCases(t, "allowedCSIDrivers", []ruleCase{
		{
			name:  "allowedCSIDrivers without csi volumes has no effect",
			patch: `spec: {allowedCSIDrivers: [{name: secrets-store.csi.k8s.io}]}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:  "allowedCSIDrivers with csi volumes is restricted and a gap",
			patch: `spec: {volumes: [configMap, csi], allowedCSIDrivers: [{name: secrets-store.csi.k8s.io}]}`,
			level: "restricted",
			gaps:  []string{"allowedCSIDrivers"},
		},
	})
}
