#!/usr/bin/env bash
# local-up.sh (make local): OpenNeuro on a laptop with Docker, kind and the Pulumi CLI.
#   1. creates the kind cluster "openneuro" (dev/kind.yaml) unless it exists;
#   2. installs ingress-nginx for kind and a throw-away MongoDB (dev/mongo.yaml) and waits for them,
#      the ingress-nginx admission jobs included (until they finish, its webhook rejects Ingresses);
#   3. deploys the stack "local" with `go run ./cmd/dev up local`: the plain config of
#      Pulumi.local.yaml and development secrets (scripts/local-secrets.sh), both kept in
#      ~/.local/state/openneuro-infra/local, never in a tracked file, with a generated passphrase
#      there unless PULUMI_CONFIG_PASSPHRASE(_FILE) is exported. Then open http://openneuro.localhost.
# Run `pulumi login --local` once before (no Pulumi Cloud account needed). make local-down undoes it.
set -euo pipefail
cd "$(dirname "$0")/.."

cluster="openneuro"
context="kind-$cluster"
ingress_nginx="controller-v1.12.1" # pinned; its kind manifest publishes status, so Pulumi's Ingress await ends

for tool in docker kind kubectl pulumi go ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "local-up: $tool is not on PATH" >&2; exit 1; }
done
pulumi whoami >/dev/null 2>&1 || { echo "local-up: not logged in to a Pulumi backend; run \`pulumi login --local\` first" >&2; exit 1; }

if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" --config dev/kind.yaml
fi
kubectl --context "$context" apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$ingress_nginx/deploy/static/provider/kind/deploy.yaml"
kubectl --context "$context" apply -f dev/mongo.yaml
kubectl --context "$context" -n ingress-nginx wait --for=condition=complete job --all --timeout=300s
kubectl --context "$context" -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
kubectl --context "$context" -n openneuro-dev rollout status deployment/mongo --timeout=300s

go run ./cmd/dev up local
