#!/usr/bin/env bash
# Builds etcd and the kube-apiservers that the e2e tests start on loopback, and
# the kubectl the plugin tests run psp2psa under.
# Each binary is built from its own tool module in this directory, so the
# versions are pinned by the committed go.mod/go.sum. A binary is rebuilt only
# when its stamp (hash of the tool module's go.mod, go.sum and build flags)
# is stale.
# Builds run one after another on purpose: each kube-apiserver link needs
# several GiB of memory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${PSP2PSA_TESTSERVERS:-$HOME/.cache/psp2psa/testservers}"
mkdir -p "$cache"

what=testservers
# shellcheck source=../lib/cached-build.sh
source "$here/../lib/cached-build.sh"

# version_ldflags stamps the server's reported version; without it a module
# build reports v0.0.0-master and clients cannot tell 1.24 from 1.37.
version_ldflags() {
	local v="$1" major minor flags="" p
	major="${v#v}"
	major="${major%%.*}"
	minor="$(echo "$v" | cut -d. -f2)"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
	done
	echo "$flags"
}

build etcd etcd go.etcd.io/etcd/server/v3
for v in v1.24.17 v1.29.15 v1.37.2; do
	minor="${v%.*}"
	build "kube-apiserver-$minor" "kube-apiserver-$v" \
		k8s.io/kubernetes/cmd/kube-apiserver "$(version_ldflags "$v")"
done
# kubectl, for the end-to-end tests of psp2psa as a kubectl plugin.
build kubectl-v1.37 kubectl-v1.37.2 k8s.io/kubernetes/cmd/kubectl "$(version_ldflags v1.37.2)"
log "all binaries ready in $cache"
