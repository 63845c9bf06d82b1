package edgefs

import (
	"strings"

	"github.com/openneuro/openneuro-infra/stacks"
)

// EdgeFS keeps its namespace (cluster/tenant/bucket) and its services inside itself, not in
// Kubernetes: they are created once, imperatively, with efscli in the mgr pod's toolbox, after the
// Cluster is up and before the NFS gateway can serve (the NFS CR's name must be an EdgeFS service).
// Rook v1.5 Documentation/edgefs-nfs-crd.md and edgefs-s3-crd.md describe the steps; `toolbox <cmd>`
// runs one command in the toolbox environment, as the operator's own daemon-zap container does
// (`toolbox "nezap --do-as-i-say"`), and `system init -f` accepts the discovered layout without the
// interactive prompt.
//
// setupCommand is that procedure as one shell command: wait until the operator reports the Cluster
// Created and the targets and mgr are ready, then initialise the system, create the cluster, tenant
// and bucket, create the NFS service and serve the bucket, and, with S3, create the S3 service, serve
// the tenant and set its domain (path-style S3 needs X-Domain). Run it once per EdgeFS cluster: it
// is not idempotent, every step creates something.
func setupCommand(cfg stacks.EdgeFS) string {
	n := cfg.NFS
	tenant := n.Cluster + "/" + n.Tenant
	bucket := tenant + "/" + n.Bucket
	kubectl := "kubectl -n " + ClusterNamespace + " "
	efscli := func(args ...string) string {
		return kubectl + "exec deploy/" + mgrDeployment + " -c " + mgrDeployment + " -- toolbox efscli " + strings.Join(args, " ")
	}
	steps := []string{
		kubectl + "wait --for=jsonpath={.status.state}=Created cluster.edgefs.rook.io/" + ClusterName + " --timeout=30m",
		kubectl + "rollout status statefulset/rook-edgefs-target --timeout=30m",
		kubectl + "rollout status deploy/" + mgrDeployment + " --timeout=10m",
		efscli("system", "init", "-f"),
		efscli("cluster", "create", n.Cluster),
		efscli("tenant", "create", tenant),
		efscli("bucket", "create", bucket),
		efscli("service", "create", "nfs", n.Name),
		efscli("service", "serve", n.Name, bucket),
	}
	if cfg.S3.Enabled {
		steps = append(steps,
			efscli("service", "create", "s3", cfg.S3.Name),
			efscli("service", "serve", cfg.S3.Name, tenant),
			efscli("service", "config", cfg.S3.Name, "X-Domain", "rook-edgefs-s3-"+cfg.S3.Name+"."+ClusterNamespace+".svc"),
		)
	}
	return strings.Join(steps, " && ")
}
