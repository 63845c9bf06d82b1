#!/usr/bin/env bash
# dataset-writers.sh stop|start NAMESPACE RELEASE stops the workloads that write datasets, before a
# restore or a copy of the datasets, and starts them again afterwards (README, "Restore from a
# backup" and "Switch the dataset store"). The writers are the dataset workers
# (statefulset/<release>-dataset-worker) and, in generation 2020, the DataLad service
# (deployment/<release>-datalad-service).
#
#   stop   scales each writer to 0 and waits until its pods are gone (each may take its termination
#          grace period to finish its task).
#   start  scales each writer to the count the program runs it with, its openneuro.org/replicas
#          annotation, and waits for the rollout.
#
# Needs kubectl pointed at the cluster. `start` is what brings the writers back: a `pulumi up` sets
# the configured counts only when it updates the workload (the program's workloads force their
# fields over kubectl's), which a diff against its state does not see; `pulumi up --refresh` does.
set -euo pipefail

usage() {
  echo "usage: $0 stop|start NAMESPACE RELEASE" >&2
  exit 2
}
[[ $# -eq 3 ]] || usage
action=$1 ns=$2 rel=$3
[[ $action == stop || $action == start ]] || usage

writers=("statefulset/$rel-dataset-worker")
if kubectl -n "$ns" get "deployment/$rel-datalad-service" >/dev/null 2>&1; then
  writers+=("deployment/$rel-datalad-service")
fi
kubectl -n "$ns" get "${writers[0]}" >/dev/null # a wrong namespace or release fails here, by name

for w in "${writers[@]}"; do
  component=${w#*/"$rel"-}
  pods="app.kubernetes.io/instance=$rel,app.kubernetes.io/component=$component"
  if [[ $action == stop ]]; then
    grace=$(kubectl -n "$ns" get "$w" -o jsonpath='{.spec.template.spec.terminationGracePeriodSeconds}')
    kubectl -n "$ns" scale "$w" --replicas=0
    deadline=$((SECONDS + ${grace:-30} + 120))
    # Pods that have ended (Failed, Succeeded) write nothing; a kubectl error aborts (set -e).
    while live=$(kubectl -n "$ns" get pods -l "$pods" -o name \
      --field-selector=status.phase!=Failed,status.phase!=Succeeded) && [[ -n $live ]]; do
      if ((SECONDS > deadline)); then
        echo "dataset-writers: the pods of $w are still there after $((${grace:-30} + 120))s:" >&2
        kubectl -n "$ns" get pods -l "$pods" >&2
        exit 1
      fi
      sleep 2
    done
    echo "dataset-writers: $w stopped"
  else
    replicas=$(kubectl -n "$ns" get "$w" -o jsonpath='{.metadata.annotations.openneuro\.org/replicas}')
    if [[ -z $replicas ]]; then
      echo "dataset-writers: $w has no openneuro.org/replicas annotation; run pulumi up, which sets its count" >&2
      exit 1
    fi
    kubectl -n "$ns" scale "$w" --replicas="$replicas"
    kubectl -n "$ns" rollout status "$w" --timeout=30m
  fi
done
