# groupsync — run `make help` for the targets.
GO      ?= go
BIN     ?= bin/groupsync
PKGS    := ./...
FUZZTIME ?= 10s
# The lint gate's version, pinned; `go run` fetches it from the Go module proxy.
GOLANGCI_LINT ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: demo
demo: ## run plan, apply and a second plan against the built-in emulator seeded from samples/
	$(GO) run ./cmd/groupsync demo

.PHONY: test
test: ## vet, then every test with the race detector
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -parallel 8 $(PKGS)

.PHONY: build
build: ## build the binary into bin/
	$(GO) build -o $(BIN) ./cmd/groupsync

.PHONY: bench
bench: ## benchmarks: 1M members offline, Diff, readers, the emulator scenario (prints figures; see docs/benchmarks.md)
	@echo "machine: $$(nproc) cores, $$(free -g | awk '/Mem:/ {print $$2}') GiB, $$($(GO) version)"
	$(GO) test -run '^$$' -bench . -benchtime 3x -benchmem -timeout 30m ./internal/bench/

.PHONY: fuzz
fuzz: ## run each fuzz target briefly (FUZZTIME=10s)
	@for spec in source:FuzzReadYAML source:FuzzReadGroupsCSV source:FuzzReadPhones source:FuzzReadUsers plan:FuzzNormalizePhone \
		sink/lox24:FuzzDecodeGroups sink/lox24:FuzzDecodePhones sink/lox24:FuzzScannerString sink/helloid:FuzzDecodeGroupList; do \
		pkg=$${spec%%:*}; target=$${spec#*:}; echo "fuzz $$target"; \
		$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) ./internal/$$pkg/ || exit 1; \
	done

.PHONY: lint
lint: ## gofmt, vet and golangci-lint (.golangci.yml: staticcheck, errorlint, errcheck, gocritic, revive, misspell, depguard layering)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	$(GOLANGCI_LINT) run $(PKGS)

.PHONY: clean
clean: ## remove build output
	rm -rf bin
