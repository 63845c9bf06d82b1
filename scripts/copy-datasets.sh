#!/usr/bin/env bash
# copy-datasets.sh NAMESPACE RELEASE FROM_CLAIM TO_CLAIM copies every dataset from one datasets
# claim to another (`cp -a`, owners, modes and git-annex's symlinks kept) in a Job that mounts
# both and runs the dataset workers' own image, then deletes the Job. Run it with the writers
# stopped (scripts/dataset-writers.sh stop): a dataset written during the copy is copied half.
# README, "Switch the dataset store".
#
# A Job, not a bare pod: it is retried when its node goes away, and its conditions tell its success
# (Complete) from its failure (Failed). It may run for hours (EFS or NFS at their throughput); the
# wait gives up after COPY_TIMEOUT seconds (default 86400, a day) and leaves the Job to look at, as
# it does a failed one. A Job left from an earlier run is refused, not reused.
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 NAMESPACE RELEASE FROM_CLAIM TO_CLAIM" >&2
  exit 2
fi
ns=$1 rel=$2 from=$3 to=$4
job=dataset-copy
for claim in "$from" "$to"; do
  kubectl -n "$ns" get "pvc/$claim" >/dev/null
done
if kubectl -n "$ns" get "job/$job" >/dev/null 2>&1; then
  echo "copy-datasets: job/$job exists from an earlier run; look at it (kubectl -n $ns logs job/$job)," >&2
  echo "then delete it (kubectl -n $ns delete job/$job) and run this again" >&2
  exit 1
fi
image=$(kubectl -n "$ns" get "statefulset/$rel-dataset-worker" -o jsonpath='{.spec.template.spec.containers[0].image}')

kubectl -n "$ns" apply -f - <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $job
  labels: {app.kubernetes.io/part-of: openneuro, app.kubernetes.io/instance: $rel}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: copy
        image: $image
        command: [sh, -c, "cp -a /from/. /to/"]
        volumeMounts: [{name: from, mountPath: /from}, {name: to, mountPath: /to}]
      volumes:
      - {name: from, persistentVolumeClaim: {claimName: $from}}
      - {name: to, persistentVolumeClaim: {claimName: $to}}
EOF
deadline=$((SECONDS + ${COPY_TIMEOUT:-86400}))
while :; do
  state=$(kubectl -n "$ns" get "job/$job" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
  case " $state " in
  *" Complete "*) break ;;
  *" Failed "*)
    echo "copy-datasets: job/$job failed; its logs: kubectl -n $ns logs job/$job" >&2
    exit 1
    ;;
  esac
  if ((SECONDS > deadline)); then
    echo "copy-datasets: job/$job has not finished after ${COPY_TIMEOUT:-86400}s; it is left running" >&2
    exit 1
  fi
  sleep 5
done
kubectl -n "$ns" delete "job/$job" --wait=true
echo "copy-datasets: $from copied to $to"
