GO ?= go
PKGS := ./...

.PHONY: all build test test-short vet fmt fuzz bench clean

all: build

build:
	$(GO) build -o bin/fineod ./cmd/fineod

# The whole test suite, as CI runs it. Tests that need an outside client or
# server skip with a message saying what is missing.
test: vet
	$(GO) test -race -timeout 25m $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)

fmt:
	gofmt -w .

# Run each fuzzer for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./ingest/lineprotocol -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./sql/pgwire -run '^$$' -fuzz FuzzServerMessages -fuzztime $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
