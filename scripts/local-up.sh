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

for tool in docker kind kubectl pulumi go; do
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

if ! pulumi config get JWT_SECRET >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  ssh-keygen -q -t ed25519 -N "" -C "openneuro-local" -f "$tmp/datalad-key"
  {
    echo "JWT_SECRET: \"$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')\""
    echo "MONGO_URL: \"mongodb://mongo.openneuro-dev.svc.cluster.local:27017/crn\""
    echo "GOOGLE_CLIENT_ID: \"local-development\""
    echo "GOOGLE_CLIENT_SECRET: \"local-development\""
    for key in CRN_SERVER_MAIL_SERVICE CRN_SERVER_MAIL_USER CRN_SERVER_MAIL_PASS AWS_ACCESS_KEY_ID \
      AWS_SECRET_ACCESS_KEY DOI_USERNAME DOI_PASSWORD; do
      echo "$key: \"local-development\""
    done
    echo "CRN_SERVER_MAIL_URL: \"openneuro.localhost\""
    echo "AWS_REGION: \"us-east-1\""
    echo "AWS_ACCOUNT_ID: \"000000000000\""
    echo "AWS_S3_PRIVATE_BUCKET: \"openneuro-local-private\""
    echo "AWS_S3_PUBLIC_BUCKET: \"openneuro-local-public\""
    echo "DOI_PREFIX: \"10.5072\""
    echo "DOI_URL: \"https://mds.test.datacite.org\""
    echo "FLOWER_BASIC_AUTH: \"admin:$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')\""
    echo "DATALAD_SSH_KEY: |"
    sed 's/^/  /' "$tmp/datalad-key"
  } >"$tmp/secrets.yaml"
  go run ./cmd/secrets --stack local --file "$tmp/secrets.yaml"
fi

pulumi up --stack local --yes
echo "OpenNeuro is at http://openneuro.localhost (flower: kubectl -n openneuro port-forward svc/openneuro-local-flower 5555)"
