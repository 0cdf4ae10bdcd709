#!/usr/bin/env bash
# Builds the release archives of psp2psa for every platform krew installs
# it on, and fills in the krew plugin manifest (deploy/krew/psp2psa.yaml)
# with the version and each archive's sha256.
#
#   hack/release.sh v1.2.0            # from a checkout of the tag v1.2.0
#   hack/release.sh v0.0.0 --manifest-only   # rewrite the manifest with zero checksums
#
# The archives go to dist/; upload them to the GitHub release of the tag,
# then submit deploy/krew/psp2psa.yaml to the krew index. The binaries
# record the module version and VCS revision (psp2psa --version).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${1:?usage: hack/release.sh vX.Y.Z [--manifest-only]}"
mode="${2:-}"
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "release: $version is not vX.Y.Z" >&2; exit 2; }

repo="https://github.com/psp2psa/psp2psa"
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64)
dist="$here/dist"
declare -A sums

archive_of() { # os arch
	local ext=tar.gz
	[[ "$1" == windows ]] && ext=zip
	echo "psp2psa_${version}_$1_$2.$ext"
}

if [[ "$mode" == --manifest-only ]]; then
	for p in "${platforms[@]}"; do sums[$p]=0000000000000000000000000000000000000000000000000000000000000000; done
else
	if [[ -n "$(git -C "$here" status --porcelain)" ]]; then
		echo "release: the work tree has changes; release from a clean checkout of $version" >&2
		exit 2
	fi
	if [[ "$(git -C "$here" describe --tags --exact-match 2>/dev/null)" != "$version" ]]; then
		echo "release: HEAD is not tagged $version (git tag $version first): the binary's version comes from the tag" >&2
		exit 2
	fi
	rm -rf "$dist" && mkdir -p "$dist"
	for p in "${platforms[@]}"; do
		os="${p%/*}" arch="${p#*/}"
		work="$(mktemp -d)"
		bin=psp2psa
		[[ "$os" == windows ]] && bin=psp2psa.exe
		(cd "$here" && CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -trimpath -buildvcs=true -ldflags "-s -w" -o "$work/$bin" ./cmd/psp2psa)
		cp "$here/README.md" "$work/"
		name="$(archive_of "$os" "$arch")"
		if [[ "$os" == windows ]]; then
			(cd "$work" && zip -q "$dist/$name" "$bin" README.md)
		else
			tar -C "$work" -czf "$dist/$name" "$bin" README.md
		fi
		rm -rf "$work"
		sums[$p]="$(sha256sum "$dist/$name" | cut -d' ' -f1)"
		echo "release: $name ${sums[$p]}" >&2
	done
fi

manifest="$here/deploy/krew/psp2psa.yaml"
{
	cat <<HEADER
# krew plugin manifest (kubectl krew install psp2psa). Version, archives and
# checksums are written by hack/release.sh; do not edit them by hand.
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: psp2psa
spec:
  version: $version
  homepage: $repo
  shortDescription: Move a cluster from PodSecurityPolicy to Pod Security Admission
  description: |
    psp2psa takes a Kubernetes cluster off PodSecurityPolicy (removed in
    1.25) and onto Pod Security Admission without breaking a workload or
    silently losing a restriction: which PSP admits each workload and what it
    injected, the patches that keep it, the labels per namespace, and
    "kubectl psp2psa review", a pre-upgrade verdict for CI and for people.
    It reads the cluster read-only unless told to label namespaces.
  platforms:
HEADER
	for p in "${platforms[@]}"; do
		os="${p%/*}" arch="${p#*/}"
		bin=psp2psa
		[[ "$os" == windows ]] && bin=psp2psa.exe
		cat <<PLATFORM
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $repo/releases/download/$version/$(archive_of "$os" "$arch")
    sha256: "${sums[$p]}"
    files:
    - from: $bin
      to: .
    - from: README.md
      to: .
    bin: $bin
PLATFORM
	done
} >"$manifest"
echo "release: wrote $manifest" >&2
