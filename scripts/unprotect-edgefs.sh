#!/usr/bin/env bash
# unprotect-edgefs.sh STACK removes Pulumi's protect from what disabling EdgeFS deletes in a stack
# with storage.protect (prod): every resource of the EdgeFS component (the protected ones are its
# cluster namespace, the clusters CRD and the Cluster) and the datasets claim and volume of its NFS
# export. Nothing else: the storage node group and the app namespace stay protected (the other
# data claims are not protected but retained on delete: Pulumi never deletes them).
# README, "EdgeFS: discovery, recovery and its nodes", step 2. Run it where `pulumi` reaches the
# stack (its project folder, logged in to its backend).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 STACK" >&2
  exit 2
fi
stack=$1
urns=()
while IFS= read -r urn; do
  case "$urn" in
  *'openneuro:edgefs:EdgeFS$'* | *::openneuro-datasets-edgefs) urns+=("$urn") ;;
  esac
done < <(pulumi stack export --stack "$stack" | sed -n 's/^ *"urn": "\(urn:pulumi:[^"]*\)",\{0,1\}$/\1/p')
if [[ ${#urns[@]} -eq 0 ]]; then
  echo "unprotect-edgefs: stack $stack has no EdgeFS resource" >&2
  exit 1
fi
pulumi state unprotect --yes --stack "$stack" "${urns[@]}"
echo "unprotect-edgefs: ${#urns[@]} resources unprotected"
