// Package irsa makes IAM roles for Kubernetes service accounts (IRSA): roles that only one
// namespace/service account of one cluster can assume, through the cluster's OIDC provider. It also
// holds the typed IAM policy documents the platform layers render with encoding/json.
package irsa

import (
	"errors"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RoleArgs describes one IRSA role.
type RoleArgs struct {
	// OIDCProviderARN is the ARN of the cluster's IAM OIDC provider. Required.
	OIDCProviderARN pulumi.StringInput
	// OIDCIssuer is the cluster's OIDC issuer (oidc.eks.<region>.amazonaws.com/id/<id>). Required.
	OIDCIssuer pulumi.StringInput
	// Namespace and ServiceAccount name the only Kubernetes identity allowed to assume the role.
	// Required.
	Namespace      string
	ServiceAccount string
	// Description is the IAM role's description.
	Description string
	// Policies are the permission policies to attach, keyed by a short stable name that becomes part
	// of the attachment's logical name (e.g. "AmazonEFSCSIDriverPolicy" -> its ARN).
	Policies map[string]pulumi.StringInput
}

// Role is an IRSA role and what a pod using it must wait for.
type Role struct {
	// ARN is the role's ARN: the eks.amazonaws.com/role-arn annotation value or an EKS add-on's
	// serviceAccountRoleArn.
	ARN pulumi.StringOutput
	// Ready is the role and its policy attachments. Whatever starts pods that use the role depends
	// on them, so the pods never run with a role that has no permissions yet.
	Ready []pulumi.Resource
}

// NewRole creates the role <name>-role trusted only by args.Namespace/args.ServiceAccount, and one
// attachment <name>-<policy key> per policy. Pass pulumi.Parent(component) in opts.
func NewRole(ctx *pulumi.Context, name string, args *RoleArgs, opts ...pulumi.ResourceOption) (*Role, error) {
	if args == nil || args.OIDCProviderARN == nil || args.OIDCIssuer == nil {
		return nil, errors.New("irsa: OIDCProviderARN and OIDCIssuer are required")
	}
	if args.Namespace == "" || args.ServiceAccount == "" {
		return nil, errors.New("irsa: Namespace and ServiceAccount are required")
	}
	trust := pulumi.All(args.OIDCProviderARN, args.OIDCIssuer).ApplyT(func(v []any) (string, error) {
		return TrustPolicy(v[0].(string), v[1].(string), args.Namespace, args.ServiceAccount)
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name+"-role", &iam.RoleArgs{
		Description:      pulumi.String(args.Description),
		AssumeRolePolicy: trust,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("irsa: %s role: %w", name, err)
	}
	ready := []pulumi.Resource{role}
	keys := make([]string, 0, len(args.Policies))
	for k := range args.Policies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-"+key, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: args.Policies[key],
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("irsa: %s policy %s: %w", name, key, err)
		}
		ready = append(ready, att)
	}
	return &Role{ARN: role.Arn, Ready: ready}, nil
}

// ManagedPolicyARN is the ARN of an AWS managed policy, e.g. ManagedPolicyARN("service-role/
// AmazonEBSCSIDriverPolicy"). The stacks run in the aws partition (commercial regions).
func ManagedPolicyARN(path string) string { return "arn:aws:iam::aws:policy/" + path }
