#!/usr/bin/env bash
# lint.sh is `make lint`: a linter for every language of the repository. Every check runs, even after
# one fails, and the summary names the ones that failed:
#
#   go         golangci-lint with .golangci.yml (gofmt, go vet, errcheck, staticcheck, revive's
#              exported rule, gocritic, misspell, unparam, ...), the e2e tier's files included
#   shell      shellcheck on every tracked shell script (found by its #! line)
#   workflows  actionlint on .github/workflows, with shellcheck on their run: scripts
#   kube-score every stack (Pulumi.*.yaml, and staging moved to the current generation) rendered
#              offline by cmd/render, scored by kube-score on the
#              checks the program guarantees: pod-networkpolicy (every pod under a NetworkPolicy) and
#              pod-probes-identical (no liveness probe equal to its readiness probe)
#   generated  `go generate ./...` in a copy of the work tree changes nothing (the EdgeFS CRDs from
#              controller-gen, stacks/secrets.example.yaml), and go.mod and go.sum are tidy
#
# The linters are pinned in scripts/tool-versions.env and come from `scripts/tools.sh lint` (built
# once, then cached); controller-gen is a tool of go.mod (`go tool controller-gen`).
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$(scripts/tools.sh lint)"
failed=()

# check NAME CMD... runs one check and records whether it failed.
check() {
  local name="$1" start=$SECONDS
  shift
  if "$@"; then
    echo "lint: $name ok ($((SECONDS - start))s)" >&2
  else
    echo "lint: $name FAILED ($((SECONDS - start))s)" >&2
    failed+=("$name")
  fi
}

# shell_scripts prints the tracked files whose first line runs sh or bash.
shell_scripts() {
  local f
  while IFS= read -r -d '' f; do
    if [[ -f "$f" ]] && head -n 1 "$f" | grep -qE '^#!(/usr)?/bin/(env )?(ba)?sh\b'; then
      echo "$f"
    fi
  done < <(git ls-files -z)
}

shell() {
  local scripts
  mapfile -t scripts < <(shell_scripts)
  [[ ${#scripts[@]} -gt 0 ]] || { echo "lint: no shell scripts found" >&2; return 1; }
  "$tools/shellcheck" --external-sources "${scripts[@]}"
}

# generated regenerates everything in a copy of the work tree (tracked and untracked files, not the
# ignored ones) made into a throw-away git repository, so the check never writes to the work tree
# and judges exactly the files that would be committed.
generated() {
  local copy rc=0
  copy="$(mktemp -d "${TMPDIR:-/tmp}/openneuro-generate.XXXXXX")"
  regenerate_in "$copy" || rc=1
  rm -rf "$copy"
  return "$rc"
}

regenerate_in() {
  local copy="$1" f changes
  while IFS= read -r -d '' f; do
    if [[ -e "$f" ]]; then printf '%s\0' "$f"; fi
  done < <(git ls-files -z --cached --others --exclude-standard) | xargs -0 cp --parents -t "$copy" || return 1
  (cd "$copy" && git init -q && git add -A &&
    git -c user.name=lint -c user.email=lint@localhost commit -q --no-verify -m "work tree") || return 1
  (cd "$copy" && go generate ./...) || return 1
  changes="$(cd "$copy" && git status --porcelain)" || return 1
  if [[ -n "$changes" ]]; then
    echo "lint: generated files are out of date; run \`make generate\` and commit the result:" >&2
    (cd "$copy" && git --no-pager diff --stat && git status --porcelain) >&2
    return 1
  fi
}

# kube_score_gated are the kube-score checks that fail `make lint`; the others are advice (the pods
# run the upstream images as those images are built, ALB actions are Ingress paths without a Service).
kube_score_gated='pod-networkpolicy|pod-probes-identical'

# kube_score renders every stack with the real program and its mocks (cmd/render) and scores the
# manifests with only the gated checks enabled; kube-score exits non-zero on a critical finding.
kube_score() {
  local out ignored stack name f rc=0 manifests
  out="$(mktemp -d "${TMPDIR:-/tmp}/openneuro-kube-score.XXXXXX")"
  go build -o "$out/render" ./cmd/render || { rm -rf "$out"; return 1; }
  ignored="$("$tools/kube-score" list | cut -d, -f1 | grep -vxE "$kube_score_gated" | paste -sd,)"
  local renders=()
  for f in Pulumi.*.yaml; do
    stack="${f#Pulumi.}"
    renders+=("${stack%.yaml}")
  done
  # And the current generation, as the tests render it: staging moved to it (cmd/render --current).
  renders+=("staging --current")
  for stack in "${renders[@]}"; do
    name="${stack// --/-}"
    # shellcheck disable=SC2086 # "<stack> --current" is two arguments
    if ! "$out/render" --stack $stack --out "$out/$name" >/dev/null; then
      rc=1
      continue
    fi
    mapfile -t manifests < <(find "$out/$name/manifests" -name '*.yaml' | sort)
    "$tools/kube-score" score --output-format ci --ignore-test "$ignored" "${manifests[@]}" \
      >"$out/$name.score" || rc=1
    grep -v '^\[OK\]' "$out/$name.score" | sed "s/^/kube-score: $name: /" >&2 || true
  done
  rm -rf "$out"
  return "$rc"
}

check go "$tools/golangci-lint" run ./...
check shell shell
check workflows "$tools/actionlint" -shellcheck "$tools/shellcheck"
check kube-score kube_score
check generated generated
check go.mod go mod tidy -diff

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all checks passed" >&2
