//go:build tools

// Package tools pins the kube-apiserver v1.37.2 used by the e2e test clusters.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
