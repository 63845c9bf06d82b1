#!/usr/bin/env bash
# copy-datasets.sh NAMESPACE RELEASE FROM_CLAIM TO_CLAIM copies every dataset from one datasets
# claim to another (`cp -a`, owners, modes and git-annex's symlinks kept) in a Job that mounts
# both and runs the dataset workers' own image, then deletes the Job. Run it with the writers
# stopped (scripts/dataset-writers.sh stop): a dataset written during the copy is copied half.
# README, "Switch the dataset store".
#
# A Job, not a bare pod: it is retried when its node goes away, and `kubectl wait` can tell its
# success from its failure. It may run for hours (EFS or NFS at their throughput); the wait gives
# up after COPY_TIMEOUT (default 24h) and leaves the Job to look at.
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
kubectl -n "$ns" wait --for=condition=complete "job/$job" --timeout="${COPY_TIMEOUT:-24h}"
kubectl -n "$ns" delete "job/$job" --wait=true
echo "copy-datasets: $from copied to $to"
