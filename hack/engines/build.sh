#!/usr/bin/env bash
# Builds the policy engines' CLIs that the differential tests of kyverno/ and
# gatekeeper/ run: the Kyverno CLI (kubectl-kyverno) and Gatekeeper's gator.
# Each is built from its own tool module in this directory, so the versions
# are pinned by the committed go.mod/go.sum. A binary is rebuilt only when its
# stamp (hash of the tool module's go.mod, go.sum and build flags) is stale.
# Builds run one after another on purpose: the machine has 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${PSP2PSA_ENGINES:-$HOME/.cache/psp2psa/engines}"
mkdir -p "$cache"

log() { printf 'engines: %s\n' "$*" >&2; }

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

# The versions the CLIs report; a module build would otherwise print none.
kyverno_version=v1.12.6
gator_version=v3.23.1

build gator "gator-$gator_version" \
	github.com/open-policy-agent/gatekeeper/v3/cmd/gator \
	"-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=$gator_version"
build kyverno "kyverno-$kyverno_version" \
	github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno \
	"-X github.com/kyverno/kyverno/pkg/version.BuildVersion=$kyverno_version"
log "all binaries ready in $cache"
