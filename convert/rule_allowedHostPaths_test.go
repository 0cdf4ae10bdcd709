package convert

import "testing"

func TestRuleAllowedHostPaths(t *testing.T) {
	runRuleCases(t, "allowedHostPaths", []ruleCase{
		{
			name:  "allowedHostPaths without hostPath volumes has no effect",
			patch: `spec: {allowedHostPaths: [{pathPrefix: /var/log}]}`,
			level: "restricted",
			gaps:  []string{},
		},
		{
			name:     "allowedHostPaths with hostPath volumes is a gap",
			patch:    `spec: {volumes: [configMap, hostPath], allowedHostPaths: [{pathPrefix: /var/log, readOnly: true}, {pathPrefix: /etc/ssl}]}`,
			level:    "privileged",
			findings: []string{"volumes@baseline: hostPathVolumes"},
			gaps:     []string{"allowedHostPaths"},
		},
		{
			name:     "allowedHostPaths / writable allows every path and is no gap",
			patch:    `spec: {volumes: [configMap, hostPath], allowedHostPaths: [{pathPrefix: /}]}`,
			level:    "privileged",
			findings: []string{"volumes@baseline: hostPathVolumes"},
			gaps:     []string{},
		},
		{
			name:     "allowedHostPaths / read-only is a gap for writable mounts",
			patch:    `spec: {volumes: [configMap, hostPath], allowedHostPaths: [{pathPrefix: /, readOnly: true}]}`,
			level:    "privileged",
			findings: []string{"volumes@baseline: hostPathVolumes"},
			gaps:     []string{"allowedHostPaths"},
		},
	})
}
