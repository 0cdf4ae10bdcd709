//go:build tools

// Package tools pins the kubectl v1.37.2 the plugin end-to-end tests run
// psp2psa under (as kubectl psp2psa), built from the same k8s.io/kubernetes
// release as the v1.37 test apiserver.
package tools

import _ "k8s.io/kubernetes/cmd/kubectl"
