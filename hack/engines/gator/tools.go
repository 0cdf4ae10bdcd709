//go:build tools

// Package tools pins the Gatekeeper CLI (gator) that the differential tests
// run over the generated Constraints and the gatekeeper-library templates.
package tools

import _ "github.com/open-policy-agent/gatekeeper/v3/cmd/gator"
