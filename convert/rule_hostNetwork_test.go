package convert

import "testing"

func TestRuleHostNetwork(t *testing.T) {
	runRuleCases(t, "hostNetwork", []ruleCase{
		{name: "hostNetwork false is restricted", patch: `spec: {hostNetwork: false}`, level: "restricted"},
		{
			// 1.24 admission never looked at hostProcess, which needs
			// hostNetwork: true.
			name:     "hostNetwork true is privileged and admits Windows HostProcess pods",
			patch:    `spec: {hostNetwork: true}`,
			level:    "privileged",
			findings: []string{"hostNetwork@baseline: hostNamespaces,windowsHostProcess"},
			messages: []string{
				"lets Windows HostProcess pods in, which need it and which 1.24 admission never checked",
				"baseline forbids host namespaces and HostProcess pods",
			},
		},
	})
}
