#!/usr/bin/env bash
# Prints the aws:region of a stack (Pulumi.<stack>.yaml), so the workflows assume the stack's role in
# the stack's own region and no separate setting can disagree with the stack file.
# Usage: .github/scripts/stack-region.sh <stack>
set -euo pipefail
stack="${1:?usage: stack-region.sh <stack>}"
file="Pulumi.${stack}.yaml"
[ -f "$file" ] || { echo "no stack file $file" >&2; exit 1; }
region="$(sed -n 's/^  aws:region: *\([a-z0-9-]*\) *$/\1/p' "$file")"
[ -n "$region" ] || { echo "$file sets no aws:region" >&2; exit 1; }
echo "$region"
