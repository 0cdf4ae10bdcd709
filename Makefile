GO      ?= go
BIN     := bin/psp2psa
FUZZTIME ?= 2m
# Where make install puts psp2psa and the kubectl plugin kubectl-psp2psa.
PREFIX  ?= $(shell $(GO) env GOPATH)
BINDIR  ?= $(PREFIX)/bin
# --version prints the VCS revision the build records, even where GOFLAGS
# turns recording off.
BUILDFLAGS ?= -buildvcs=auto

.PHONY: all build install demo test unit lint bench fuzz testservers engines clean

all: build

build:
	$(GO) build $(BUILDFLAGS) -o $(BIN) ./cmd/psp2psa

# psp2psa, and the same binary as the kubectl plugin kubectl-psp2psa
# (kubectl psp2psa ... once BINDIR is on PATH).
install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/psp2psa
	ln -sf psp2psa $(DESTDIR)$(BINDIR)/kubectl-psp2psa

# The README's first command: build, then run the main job on the demo cluster.
demo: build
	./$(BIN) plan testdata/demo

# The whole suite: formatting and vet, the test apiservers, kubectl and the
# policy engines (built once and cached), unit and end-to-end tests.
test: lint testservers engines
	$(GO) test -count=1 ./...

# Unit tests only: no apiservers.
unit:
	$(GO) test -short ./...

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

testservers:
	bash hack/testservers/build.sh

engines:
	bash hack/engines/build.sh

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# Every fuzz target, $(FUZZTIME) each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list='^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin
