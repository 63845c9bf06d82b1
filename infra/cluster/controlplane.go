package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-eks/sdk/v3/go/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ClusterAdminPolicyARN is the EKS access policy that makes a principal cluster-admin.
const ClusterAdminPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

// LogRetentionDays is how long CloudWatch keeps the control-plane logs. Without our own log group
// EKS creates /aws/eks/<cluster>/cluster with no expiry, and the audit log grows (and costs) forever.
const LogRetentionDays = 90

// keyDeletionWindowDays is the longest pending-deletion window KMS allows: a key deleted by mistake
// can be recovered for 30 days.
const keyDeletionWindowDays = 30

// ControlPlaneType is the type token of the EKS control plane inside pulumi-eks's Cluster component.
const ControlPlaneType = "aws:eks/cluster:Cluster"

// protectControlPlane protects the control plane among pulumi-eks's children, and nothing else there.
// pulumi.Protect on the component itself would be inherited by every child that sets none (the Node
// SDK copies its parent's protect): the access entries, the OIDC provider, the add-ons, the service
// role. Removing an admin role, or any change that replaces one of those, would then fail in prod.
// Transforms, unlike transformations, reach the children of packaged components such as pulumi-eks
// (https://www.pulumi.com/docs/iac/concepts/resources/options/transformations/).
func protectControlPlane(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
	if args.Type != ControlPlaneType {
		return nil
	}
	opts := args.Opts
	opts.Protect = true
	return &pulumi.ResourceTransformResult{Props: args.Props, Opts: opts}
}

// controlPlaneDeps are the resources the control plane uses but that outlive it.
type controlPlaneDeps struct {
	key      *kms.Key
	logGroup *cloudwatch.LogGroup
}

// newControlPlaneDeps creates the KMS key that envelope-encrypts the cluster's Secrets and the log
// group of the control-plane logs. Both are inputs of the cluster, so Pulumi creates them first and
// deletes them last.
func newControlPlaneDeps(ctx *pulumi.Context, name, clusterName string, protect bool, parent pulumi.ResourceOption) (*controlPlaneDeps, error) {
	// Envelope encryption cannot be turned off or moved to another key once on: losing or replacing
	// this key loses every Secret of the cluster. Hence protect and retain in prod.
	key, err := kms.NewKey(ctx, name+"-secrets-key", &kms.KeyArgs{
		Description:          pulumi.String("Envelope encryption of Kubernetes Secrets of EKS cluster " + clusterName),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(keyDeletionWindowDays),
		Tags:                 pulumi.StringMap{"Name": pulumi.String(clusterName + "-secrets")},
	}, parent, pulumi.Protect(protect), pulumi.RetainOnDelete(protect))
	if err != nil {
		return nil, fmt.Errorf("cluster: secrets key: %w", err)
	}
	// The name EKS writes to; the audit log is evidence, so prod keeps it on delete.
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/eks/" + clusterName + "/cluster"),
		RetentionInDays: pulumi.Int(LogRetentionDays),
	}, parent, pulumi.Protect(protect), pulumi.RetainOnDelete(protect))
	if err != nil {
		return nil, fmt.Errorf("cluster: control-plane log group: %w", err)
	}
	return &controlPlaneDeps{key: key, logGroup: logGroup}, nil
}

// ViewPolicyARN is the EKS access policy that lets a principal view most Kubernetes objects, but not
// Secrets (EKS user guide, "Review access policy permissions": AmazonEKSViewPolicy).
const ViewPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

// accessEntries gives every admin role cluster-admin and every viewer role read-only access through
// EKS access entries, keyed by kind and role name so that reordering the lists changes nothing.
// The deploy role, which creates the cluster, is admin already (pulumi-eks sets
// bootstrapClusterCreatorAdminPermissions): EKS would reject a second entry for it, so validation
// keeps it out of both lists, as it keeps a role out of the second list.
func accessEntries(adminARNs, viewerARNs []string) (map[string]eks.AccessEntryArgs, error) {
	entries := map[string]eks.AccessEntryArgs{}
	for _, group := range []struct {
		kind, policyName, policyARN string
		arns                        []string
	}{
		{"admin", "cluster-admin", ClusterAdminPolicyARN, adminARNs},
		{"view", "view", ViewPolicyARN, viewerARNs},
	} {
		sorted := append([]string(nil), group.arns...)
		sort.Strings(sorted)
		for _, arn := range sorted {
			key := group.kind + "-" + arn[strings.LastIndex(arn, "/")+1:]
			if _, dup := entries[key]; dup {
				return nil, fmt.Errorf("cluster: two roles are named %q; access entries are keyed by role name, list each role once", key)
			}
			entries[key] = eks.AccessEntryArgs{
				PrincipalArn: pulumi.String(arn),
				AccessPolicies: map[string]eks.AccessPolicyAssociationInput{
					group.policyName: eks.AccessPolicyAssociationArgs{
						PolicyArn:   pulumi.String(group.policyARN),
						AccessScope: awseks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
					},
				},
			}
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return entries, nil
}
