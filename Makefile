GO      ?= go
BIN     := bin/psp2psa
FUZZTIME ?= 2m
# Where make install puts psp2psa and the kubectl plugin kubectl-psp2psa.
PREFIX  ?= $(shell $(GO) env GOPATH)
BINDIR  ?= $(PREFIX)/bin
# --version prints the VCS revision the build records, even where GOFLAGS
# turns recording off.
BUILDFLAGS ?= -buildvcs=auto

.PHONY: all build install demo test unit lint bench bench-scale bench-live fuzz testservers engines clean

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

# The whole-process benchmark: psp2psa against the floor (decoding every
# workload and evaluating it once) in the same run, for each N of
# SCALE_N (e.g. SCALE_N=100000); RUNS and MODES as hack/scale/run.sh says.
SCALE_N ?= 1000 10000 20000
bench-scale:
	bash hack/scale/run.sh $(SCALE_N)

# The live benchmark: a cluster of LIVE_N workloads (a tenth as many
# namespaces) created through the API of a private 1.24 apiserver, read by
# plan and snapshot; it logs the time and the requests per resource.
LIVE_N ?= 20000
bench-live: testservers
	PSP2PSA_LIVE_BENCH=$(LIVE_N) $(GO) test -count=1 -run '^TestLiveScale$$' -v -timeout 60m ./cmd/psp2psa

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
