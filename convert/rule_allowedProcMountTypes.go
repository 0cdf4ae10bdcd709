package convert

import (
	"slices"
	"strings"

	"github.com/psp2psa/psp2psa/psp"
	corev1 "k8s.io/api/core/v1"
)

/*
PSP field: spec.allowedProcMountTypes (Default, Unmasked).

PSS control: /proc Mount Type (check procMount, baseline; from v1.35 also
procMount_restricted, restricted).

Allowed values:
  - baseline: empty or [Default]
  - restricted: empty or [Default]

1.24 admission: the ProcMountType feature gate was off by default, so the
apiserver dropped allowedProcMountTypes from stored PSPs and admission
rejected every procMount: Unmasked pod whatever the PSP said (REFERENCE
§7). No witness, whatever the list; listing Unmasked gets a note, since the
docs' table would call the PSP privileged.
*/

func init() { register(rule{field: "allowedProcMountTypes", analyze: analyzeAllowedProcMountTypes}) }

func analyzeAllowedProcMountTypes(p *psp.PodSecurityPolicy) analysis {
	others := slices.DeleteFunc(slices.Clone(p.Spec.AllowedProcMountTypes), func(t corev1.ProcMountType) bool {
		return t == corev1.DefaultProcMount
	})
	if len(others) == 0 {
		return analysis{}
	}
	var names []string
	for _, t := range others {
		names = append(names, string(t))
	}
	return analysis{notes: []Note{{
		Field: "allowedProcMountTypes",
		Message: "allowedProcMountTypes lists " + strings.Join(names, ", ") + ", but the ProcMountType feature gate was off by default in 1.24: " +
			"the apiserver dropped the field and admission rejected every non-Default procMount (the docs' table would call this PSP privileged)",
	}}}
}
