#!/usr/bin/env bash
# local-secrets.sh prints a secrets file (the format of stacks/secrets.example.yaml) for the local
# development stack: a random JWT secret, flower password and SSH deploy key, the throw-away MongoDB
# of dev/mongo.yaml, and obvious development placeholders for mail, DOI, S3 and OAuth, which are
# external services a laptop does not have. Used by scripts/local-up.sh; tested by internal/cicheck.
set -euo pipefail

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ssh-keygen -q -t ed25519 -N "" -C "openneuro-local" -f "$tmp/datalad-key"
random() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

echo "JWT_SECRET: \"$(random 32)\""
echo "MONGO_URL: \"mongodb://mongo.openneuro-dev.svc.cluster.local:27017/crn\""
echo "GOOGLE_CLIENT_ID: \"local-development\""
echo "GOOGLE_CLIENT_SECRET: \"local-development\""
# The mail keys of both generations (nodemailer in 2020, Mailjet in current) and the current
# generation's backup bucket keys: a stack ignores the other generation's.
for key in CRN_SERVER_MAIL_SERVICE CRN_SERVER_MAIL_USER CRN_SERVER_MAIL_PASS CRN_SERVER_MAIL_API_KEY \
  CRN_SERVER_MAIL_API_SECRET AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY GCP_ACCESS_KEY_ID \
  GCP_SECRET_ACCESS_KEY DOI_USERNAME DOI_PASSWORD; do
  echo "$key: \"local-development\""
done
echo "CRN_SERVER_MAIL_FROM: \"openneuro@openneuro.localhost\""
echo "GCP_S3_BACKUP_BUCKET: \"openneuro-local-backup\""
# Not the site's hostname: Pulumi masks every output that contains a secret value, and the url
# output would print as http://[secret].
echo "CRN_SERVER_MAIL_URL: \"mail.openneuro.localhost\""
echo "AWS_REGION: \"us-east-1\""
echo "AWS_ACCOUNT_ID: \"000000000000\""
echo "AWS_S3_PRIVATE_BUCKET: \"openneuro-local-private\""
echo "AWS_S3_PUBLIC_BUCKET: \"openneuro-local-public\""
echo "DOI_PREFIX: \"10.5072\""
echo "DOI_URL: \"https://mds.test.datacite.org\""
echo "FLOWER_BASIC_AUTH: \"admin:$(random 12)\""
echo "DATALAD_SSH_KEY: |"
sed 's/^/  /' "$tmp/datalad-key"
