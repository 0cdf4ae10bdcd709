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

what=engines
# shellcheck source=../lib/cached-build.sh
source "$here/../lib/cached-build.sh"

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
