#!/usr/bin/env bash
# local-up.sh (make local): OpenNeuro on a laptop with Docker, kind and the Pulumi CLI.
#   1. creates the kind cluster "openneuro" (dev/kind.yaml) unless it exists;
#   2. installs ingress-nginx for kind and a throw-away MongoDB (dev/mongo.yaml);
#   3. creates the Pulumi stack "local" with development secrets (random JWT secret and SSH key,
#      placeholders for mail/DOI/S3/OAuth) unless they are set;
#   4. runs pulumi up. Then open http://openneuro.localhost.
# Run `pulumi login --local` once before (no Pulumi Cloud account needed).
set -euo pipefail
cd "$(dirname "$0")/.."

cluster="openneuro"
context="kind-$cluster"
ingress_nginx="controller-v1.12.1" # pinned; its kind manifest publishes status, so Pulumi's Ingress await ends

for tool in docker kind kubectl pulumi go ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "local-up: $tool is not on PATH" >&2; exit 1; }
done

if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" --config dev/kind.yaml
fi
kubectl --context "$context" apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$ingress_nginx/deploy/static/provider/kind/deploy.yaml"
kubectl --context "$context" apply -f dev/mongo.yaml
kubectl --context "$context" -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
kubectl --context "$context" -n openneuro-dev rollout status deployment/mongo --timeout=300s

pulumi stack select --create local

if ! pulumi config get JWT_SECRET --stack local >/dev/null 2>&1; then
  secrets="$(mktemp)"
  trap 'rm -f "$secrets"' EXIT
  scripts/local-secrets.sh >"$secrets"
  go run ./cmd/secrets --stack local --file "$secrets"
fi

pulumi up --stack local --yes
echo "OpenNeuro is at http://openneuro.localhost (flower: kubectl -n openneuro port-forward svc/openneuro-local-flower 5555)"
