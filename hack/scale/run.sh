#!/usr/bin/env bash
# Whole-process benchmark: psp2psa against a floor measured in the same run.
#
#   hack/scale/run.sh [N ...]        default: 1000 10000 20000
#
# For each N, hack/scale/gen writes a synthetic cluster of N workloads as a
# GitOps repository (and as a snapshot List); then, RUNS times in turn, the
# floor (hack/scale/floor: decode every workload and evaluate its pod
# template once with the Pod Security Admission evaluator) and each psp2psa
# command of MODES run as whole processes under /usr/bin/time -v. Printed
# per N and mode: the median wall time of psp2psa and of the floor, the
# median of the run-by-run ratios, the median peak RSS and the time per
# workload.
#
# Environment:
#   RUNS=3                  runs of each command per N (medians are printed)
#   MODES="plan"            any of: plan (plan DIR: report and diffs),
#                           json (plan -o json --from-snapshot FILE),
#                           writedir (plan --write-dir), inplace (plan
#                           --in-place on a copy), patch (patch --output-dir),
#                           convert (convert DIR)
#   SCALE_DIR=/tmp/psp2psa-scale   where the binaries and clusters go (kept
#                           between runs: a cluster is generated once per N)
set -euo pipefail

cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
MODES=${MODES:-plan}
SCALE_DIR=${SCALE_DIR:-${TMPDIR:-/tmp}/psp2psa-scale}
SIZES=("$@")
if [ ${#SIZES[@]} -eq 0 ]; then
	SIZES=(1000 10000 20000)
fi

bin=$SCALE_DIR/bin
mkdir -p "$bin"
go build -o "$bin/psp2psa" ./cmd/psp2psa
go build -o "$bin/gen" ./hack/scale/gen
go build -o "$bin/floor" ./hack/scale/floor

# measure CMD...: runs it under /usr/bin/time -v with stdout discarded and
# prints "WALL_SECONDS PEAK_RSS_KB"; fails when the command fails.
measure() {
	local out=$SCALE_DIR/time.out
	if ! /usr/bin/time -v -o "$out" "$@" >/dev/null 2>"$SCALE_DIR/stderr.out"; then
		echo "failed: $*" >&2
		cat "$SCALE_DIR/stderr.out" "$out" >&2
		exit 1
	fi
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); wall = (n == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
		/Maximum resident set size/ { rss = $2 }
		END { printf "%.2f %d\n", wall, rss }' "$out"
}

# median of the numbers on standard input
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2] + v[NR/2+1]) / 2 }'
}

# command MODE N: the psp2psa command line of a mode
command_of() {
	local mode=$1 dir=$SCALE_DIR/n$2
	case $mode in
	plan) echo "$bin/psp2psa plan $dir/repo" ;;
	json) echo "$bin/psp2psa plan -o json --from-snapshot $dir/snapshot.yaml" ;;
	writedir) echo "$bin/psp2psa plan --write-dir $dir/out/write-dir $dir/repo" ;;
	inplace) echo "$bin/psp2psa plan --in-place $dir/out/in-place" ;;
	patch) echo "$bin/psp2psa patch --output-dir $dir/out/patched $dir/repo" ;;
	convert) echo "$bin/psp2psa convert $dir/repo" ;;
	*) echo "unknown mode $mode" >&2; exit 2 ;;
	esac
}

# prepare MODE N: a fresh output for the modes that write
prepare() {
	local dir=$SCALE_DIR/n$2
	rm -rf "$dir/out"
	mkdir -p "$dir/out"
	if [ "$1" = inplace ]; then
		cp -r "$dir/repo" "$dir/out/in-place"
	fi
}

printf '%-8s %-9s %9s %9s %7s %10s %12s\n' N MODE WALL_S FLOOR_S RATIO PEAK_MB US_PER_WL
for n in "${SIZES[@]}"; do
	dir=$SCALE_DIR/n$n
	if [ ! -f "$dir/snapshot.yaml" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		"$bin/gen" -n "$n" -out "$dir/repo" -snapshot "$dir/snapshot.yaml.tmp"
		mv "$dir/snapshot.yaml.tmp" "$dir/snapshot.yaml"
	fi
	for mode in $MODES; do
		: >"$SCALE_DIR/runs"
		for _ in $(seq "$RUNS"); do
			read -r floor_wall _ < <(measure "$bin/floor" "$dir/repo")
			prepare "$mode" "$n"
			# shellcheck disable=SC2046
			read -r wall rss < <(measure $(command_of "$mode" "$n"))
			echo "$wall $floor_wall $rss" >>"$SCALE_DIR/runs"
		done
		wall=$(awk '{ print $1 }' "$SCALE_DIR/runs" | median)
		floor=$(awk '{ print $2 }' "$SCALE_DIR/runs" | median)
		ratio=$(awk '{ printf "%.3f\n", ($2 > 0) ? $1 / $2 : 0 }' "$SCALE_DIR/runs" | median)
		rss=$(awk '{ print $3 }' "$SCALE_DIR/runs" | median)
		awk -v n="$n" -v mode="$mode" -v wall="$wall" -v floor="$floor" -v ratio="$ratio" -v rss="$rss" \
			'BEGIN { printf "%-8s %-9s %9.2f %9.2f %7.2f %10.0f %12.1f\n", n, mode, wall, floor, ratio, rss / 1024, wall * 1000000 / n }'
	done
done
