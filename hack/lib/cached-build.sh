# Sourced by the build scripts of binaries the tests run (test servers,
# policy engines). Each binary is built from its own tool module, so the
# versions are pinned by the committed go.mod/go.sum, and rebuilt only when
# its stamp (a hash of the tool module's go.mod, go.sum and build flags) is
# stale. The sourcing script sets:
#   here   the directory holding the tool modules
#   cache  where the binaries go
#   what   the prefix of log lines

log() { printf '%s: %s\n' "$what" "$*" >&2; }

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
