# One entry point for the project's checks and tools. `make test` is THE test command (README, CI).
SHELL := /bin/bash
STACK ?= staging
OUT   ?= out/$(STACK)

.PHONY: test lint unit envtest render render-all secrets golden local

## test: lint, build the envtest API server if missing (cached), run every test tier.
test: lint envtest
	KUBEBUILDER_ASSETS="$$(scripts/tools.sh envtest)" go test -count=1 ./...

## unit: the tests without the API server (tier 3 is skipped with a message).
unit:
	go test ./...

## lint: formatting and vet.
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt: not formatted: $$unformatted"; exit 1; fi
	go vet ./...

## envtest: build etcd and kube-apiserver into ~/.cache/openneuro-infra (once, ~4 minutes).
envtest:
	@scripts/tools.sh envtest >/dev/null

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

## golden: rewrite the golden files after an intended change (review the diff!).
golden:
	go test ./... -update

## local: OpenNeuro on a local kind cluster (needs Docker, kind, kubectl, pulumi; `pulumi login --local` first).
local:
	scripts/local-up.sh
