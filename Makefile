# One entry point for the project's checks and tools. `make test` is THE test command (README, CI).
SHELL := /bin/bash
STACK ?= staging
OUT   ?= out/$(STACK)

.PHONY: test lint generate unit tools e2e sim sim-down render render-all secrets golden local local-down

## test: lint, build the tools if missing (cached), run every test tier (1-4). Tiers 1-2 may come
## from Go's test cache, which re-runs a package when its code or a file its tests read (stack files,
## goldens, testdata) changes; tiers 3-4 talk to servers and always run (-count=1). -vet=off: lint,
## which runs first, has run every analyzer of go vet (golangci-lint's govet), so the tests do not
## repeat them (about 13 s of the tiers' 2 minutes).
test: lint
	@bin="$$(scripts/tools.sh sim)" && \
	  KUBEBUILDER_ASSETS="$$bin" go test -vet=off $$(go list ./... | grep -v '/internal/kubecheck$$') && \
	  KUBEBUILDER_ASSETS="$$bin" go test -vet=off -count=1 ./internal/kubecheck/ && \
	  OPENNEURO_SIM_BIN="$$bin" go test -vet=off -count=1 -tags e2e -v -timeout 30m ./e2e/

## unit: tiers 1 and 2, without the API server or the simulated cluster (3 and 4 skip with a message).
unit:
	go test ./...

## lint: every linter of the repository (scripts/lint.sh): golangci-lint (gofmt, vet and more, the e2e
## tier too), shellcheck, actionlint, kube-score on every stack's render, and generated files current.
## The linters are built or installed once into ~/.cache/openneuro-infra.
lint:
	@scripts/lint.sh

## generate: rewrite the generated files (go generate ./...): the EdgeFS CRDs from the Go types, the
## example secrets file from the secrets' spec. `make lint` fails while one is out of date.
generate:
	go generate ./...

## tools: build the envtest binaries, the simulated cluster, pulumi and the Kubernetes provider into
## ~/.cache/openneuro-infra (once; about 20 minutes on 2 cores), and print their folder.
tools:
	@scripts/tools.sh sim

## e2e: only tier 4, the real engine against the simulated cluster.
e2e:
	@bin="$$(scripts/tools.sh sim)" && OPENNEURO_SIM_BIN="$$bin" go test -count=1 -tags e2e -v -timeout 30m ./e2e/

## sim: both generations (the local stack's settings, and e2e/testdata/Pulumi.current.yaml) deployed by
## a real `pulumi up` onto a simulated cluster (no cloud, no Docker); a second run updates them.
sim:
	@bin="$$(scripts/tools.sh sim)" && OPENNEURO_SIM_BIN="$$bin" go run ./cmd/dev up sim

## sim-down: destroy the sim stacks and stop the simulated cluster.
sim-down:
	@bin="$$(scripts/tools.sh sim)" && OPENNEURO_SIM_BIN="$$bin" go run ./cmd/dev down sim

## render: offline render of STACK into OUT (no AWS, no cluster).
render:
	go run ./cmd/render --stack $(STACK) --out $(OUT)

## render-all: render every stack into out/<stack>.
render-all:
	@for f in Pulumi.*.yaml; do s=$${f#Pulumi.}; s=$${s%.yaml}; \
	  go run ./cmd/render --stack $$s --out out/$$s || exit 1; done

## secrets: load FILE (a filled copy of stacks/secrets.example.yaml) into STACK as Pulumi secrets.
secrets:
	@test -n "$(FILE)" || { echo "usage: make secrets STACK=<stack> FILE=<secrets.yaml>"; exit 2; }
	go run ./cmd/secrets --stack $(STACK) --file $(FILE)

## golden: rewrite the golden files after an intended change (review the diff!). Only the packages
## whose tests call infratest.Golden link the -update flag; any other package would reject it. The
## packages come first: go test passes everything after a flag it does not know to the test binary.
golden:
	go test -count=1 -run '^TestGolden$$' \
	  $$(grep -rlE --include='*_test.go' 'infratest\.Golden(Diff)?\(' . | xargs -n1 dirname | sort -u) -update

## local: OpenNeuro on a local kind cluster (needs Docker, kind, kubectl, pulumi; `pulumi login --local` first).
local:
	scripts/local-up.sh

## local-down: destroy the local stack, remove it and delete the kind cluster.
local-down:
	scripts/local-down.sh
