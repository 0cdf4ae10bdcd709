//go:build tools

// Package tools pins the etcd server used by the e2e test clusters.
package tools

import _ "go.etcd.io/etcd/server/v3"
