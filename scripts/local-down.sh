#!/usr/bin/env bash
# local-down.sh (make local-down): undoes make local. Destroys the stack "local" and removes it
# (with its config, secrets and passphrase in ~/.local/state/openneuro-infra/local), then deletes
# the kind cluster "openneuro".
set -euo pipefail
cd "$(dirname "$0")/.."

cluster="openneuro"
for tool in kind go pulumi; do
  command -v "$tool" >/dev/null || { echo "local-down: $tool is not on PATH" >&2; exit 1; }
done
go run ./cmd/dev down local
if kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  kind delete cluster --name "$cluster"
fi
