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

log() { printf 'testservers: %s\n' "$*" >&2; }

# stamp_of prints a hash of what determines the binary: the tool module's
# pinned dependencies plus the package and link flags it is built with.
stamp_of() {
	local dir="$1" pkg="$2" ldflags="$3"
	{ cat "$here/$dir/go.mod" "$here/$dir/go.sum"; echo "$pkg $ldflags"; } |
		sha256sum | cut -d' ' -f1
}

# up_to_date succeeds when the binary exists and was built from this module.
up_to_date() {
	local bin="$1" want="$2"
	[[ -x "$bin" && -f "$bin.stamp" && "$(cat "$bin.stamp")" == "$want" ]]
}

# build MODULE_DIR OUTPUT_NAME PACKAGE [LDFLAGS]
build() {
	local dir="$1" out="$cache/$2" pkg="$3" ldflags="${4:-}"
	local want
	want="$(stamp_of "$dir" "$pkg" "$ldflags")"
	if up_to_date "$out" "$want"; then
		log "skip $2 (up to date in $cache)"
		return 0
	fi
	log "build $2 from $dir ($pkg)"
	local start=$SECONDS
	# Build to a temporary name so an interrupted build never looks complete.
	rm -f "$out.stamp"
	(cd "$here/$dir" && go build -mod=readonly -trimpath \
		-ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg")
	mv -f "$out.tmp" "$out"
	echo "$want" >"$out.stamp"
	log "built $2 in $((SECONDS - start))s"
}

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
for v in v1.24.17 v1.37.2; do
	minor="${v%.*}"
	build "kube-apiserver-$minor" "kube-apiserver-$v" \
		k8s.io/kubernetes/cmd/kube-apiserver "$(version_ldflags "$v")"
done
# kubectl, for the end-to-end tests of psp2psa as a kubectl plugin.
build kubectl-v1.37 kubectl-v1.37.2 k8s.io/kubernetes/cmd/kubectl "$(version_ldflags v1.37.2)"
log "all binaries ready in $cache"
