//go:build tools

// Package tools pins the kube-apiserver v1.29.15 used by the e2e test clusters.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
