//go:build tools

// Package tools pins the Kyverno CLI (kubectl-kyverno) that the differential
// tests run over the generated ClusterPolicies.
package tools

import _ "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno"
