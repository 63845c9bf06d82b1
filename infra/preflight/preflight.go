// Package preflight asks AWS what validation of the config alone cannot know, before the program
// registers any resource: who is running it (the cluster's creator becomes its admin for good, and
// anyone else needs an access entry), whether the configured zones are the region's, whether the
// certificate is the account's, issued and for the site's names, and whether the hosted zone of app.dns exists, holds the
// hostname and is the one the public DNS answers for (delegated). Each problem names its config key and the fix, like validation, all at once.
package preflight

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/openneuro/openneuro-infra/infra/cluster"
	"github.com/openneuro/openneuro-infra/stacks"
)

// Facts are what the checks learnt and the program needs.
type Facts struct {
	// HostedZoneID is the id of app.dns's hosted zone; "" without app.dns.
	HostedZoneID string
	// NatPublicIPs are the addresses of network.natEipAllocationIds, in their order.
	NatPublicIPs []string
}

// Check runs the checks of an eks-mode stack (validated config) and returns what they learnt.
func Check(ctx *pulumi.Context, cfg *stacks.Config) (*Facts, error) {
	facts := &Facts{}
	caller, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("preflight: who is running this (sts get-caller-identity): %w", err)
	}
	errs := []error{identity(ctx, cfg.Cluster, caller), zones(ctx, cfg.Network, cfg.Env.Region)}
	switch arn := cfg.OpenNeuro.CertificateARN; {
	case arn != "" && accountOf(arn) != caller.AccountId:
		errs = append(errs, fmt.Errorf("app.certificateArn: the certificate belongs to account %s but this stack deploys into account %s; an ALB only uses certificates of its own account: request one there or set app.dns", accountOf(arn), caller.AccountId))
	case arn != "":
		errs = append(errs, certificate(ctx.Context(), cfg.Env.Region, config.Get(ctx, "aws:profile"), arn, cfg.OpenNeuro.Hostname))
	}
	if cfg.OpenNeuro.DNS != "" {
		id, err := hostedZone(ctx, cfg.OpenNeuro)
		facts.HostedZoneID = id
		errs = append(errs, err)
	}
	ips, err := natAddresses(ctx, cfg.Network.NatEipAllocationIDs)
	facts.NatPublicIPs = ips
	errs = append(errs, err, storageGroupFollows(ctx, cfg.Cluster))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return facts, nil
}

// storageGroupFollows refuses an upgrade of the control plane the storage node group would not
// follow. That group does not roll without cluster.edgefsNodeGroup.rollNodes (its NVMe disks hold
// EdgeFS's data), and EKS refuses to upgrade a control plane while a managed node group runs
// another version than it (UpdateClusterVersion): a first upgrade would leave the group behind,
// and the next one fail half-way. So the version changes only with the group, through the
// renewal. A group already behind (upgraded by v0.1.0) only warns, so that the renewal's first
// steps can run.
func storageGroupFollows(ctx *pulumi.Context, c stacks.Cluster) error {
	if !c.EdgeFSNodeGroup.IsEnabled() || c.EdgeFSNodeGroup.RollNodes {
		return nil
	}
	group, err := cluster.LiveStorageGroupVersion(ctx, c.Name)
	if err != nil || group == "" || group == c.KubernetesVersion {
		return err
	}
	live, err := eks.LookupCluster(ctx, &eks.LookupClusterArgs{Name: c.Name})
	if err != nil {
		return fmt.Errorf("preflight: reading cluster %s's version (eks:DescribeCluster): %w", c.Name, err)
	}
	const renewal = `renew the storage nodes as README, "Storage nodes are not replaced by an update", says (datasets off EdgeFS, edgefs.enabled false, cluster.edgefsNodeGroup.rollNodes true with the new version)`
	if live.Version == c.KubernetesVersion {
		_ = ctx.Log.Warn(fmt.Sprintf("cluster.kubernetesVersion: the edgefs-target node group runs %s, behind the control plane's %s; EKS refuses the next Kubernetes upgrade until it follows: %s", group, live.Version, renewal), nil)
		return nil
	}
	return fmt.Errorf("cluster.kubernetesVersion: %s, but the edgefs-target node group runs %s and does not roll (its NVMe disks hold EdgeFS's data), and EKS upgrades a control plane only while every managed node group runs its version: %s, or keep kubernetesVersion at %s", c.KubernetesVersion, group, renewal, live.Version)
}

// natAddresses reads the public address of each network.natEipAllocationIds entry, which must be
// an Elastic IP of the stack's account and region.
func natAddresses(ctx *pulumi.Context, ids []string) ([]string, error) {
	var ips []string
	var errs []error
	for i, id := range ids {
		eip, err := ec2.GetElasticIp(ctx, &ec2.GetElasticIpArgs{Id: &id})
		if err != nil {
			errs = append(errs, fmt.Errorf("network.natEipAllocationIds[%d]: no Elastic IP %s in this account and region (%v); allocate it in aws:region (the bootstrap project's natEipAllocationIds output has the stack's)", i, id, err))
			continue
		}
		ips = append(ips, eip.PublicIp)
	}
	return ips, errors.Join(errs...)
}

// hostedZone finds app.dns's zone and checks that it is public and holds app.hostname.
func hostedZone(ctx *pulumi.Context, app stacks.OpenNeuro) (string, error) {
	id, name := app.HostedZone()
	args := &route53.LookupZoneArgs{PrivateZone: pulumi.BoolRef(false)}
	if id != "" {
		args.ZoneId = &id
	} else {
		args.Name = &name
	}
	zone, err := route53.LookupZone(ctx, args)
	if err != nil {
		return "", fmt.Errorf("app.dns: no public Route 53 hosted zone %q in this account (%v); create it, or name one `aws route53 list-hosted-zones` shows", app.DNS, err)
	}
	if zone.PrivateZone != nil && *zone.PrivateZone {
		return "", fmt.Errorf("app.dns: %s is a private hosted zone; ACM validates and users resolve the site through a public zone", app.DNS)
	}
	if !stacks.InZone(app.Hostname, zone.Name) {
		return "", fmt.Errorf("app.dns: the zone %s (%s) does not hold app.hostname %s; use the zone that does", zone.Name, zone.ZoneId, app.Hostname)
	}
	warn := func(msg string) { _ = ctx.Log.Warn(msg, nil) }
	if err := delegated(zone.Name, zone.NameServers, warn); err != nil {
		return "", err
	}
	return zone.ZoneId, nil
}

// LookupNS answers a name's NS records from the public DNS (net.LookupNS); the tests that cannot
// reach DNS replace it.
var LookupNS = net.LookupNS

// delegated checks that the public DNS sends the zone's name to the hosted zone's name servers:
// until it does, ACM cannot validate the certificate (its validation waits, up to the timeout of
// infra/dns) and nobody reaches the site. A lookup that fails for another reason than "no such
// name" (no DNS where the program runs) only warns: it proves nothing either way.
func delegated(zone string, servers []string, warn func(string)) error {
	answer, err := LookupNS(zone)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Errorf("app.dns: the public DNS answers no NS records for %s, so the hosted zone is not delegated: set its name servers (%s) at the domain's registrar or in the parent zone, then run again (ACM validates the certificate through them)", zone, strings.Join(servers, ", "))
	case err != nil:
		warn(fmt.Sprintf("app.dns: could not check that %s is delegated to its hosted zone (%v); if it is not, the certificate's validation waits until it times out", zone, err))
		return nil
	}
	ours := map[string]bool{}
	for _, s := range servers {
		ours[strings.ToLower(strings.TrimSuffix(s, "."))] = true
	}
	var theirs []string
	for _, ns := range answer {
		host := strings.ToLower(strings.TrimSuffix(ns.Host, "."))
		if ours[host] {
			return nil
		}
		theirs = append(theirs, host)
	}
	return fmt.Errorf("app.dns: the public DNS sends %s to %s, not to its hosted zone's name servers (%s): another hosted zone of the same name, or the registrar's old servers; set the hosted zone's name servers at the registrar or in the parent zone, or name the zone that is delegated", zone, strings.Join(theirs, ", "), strings.Join(servers, ", "))
}

// assumedRoleRE is an assumed-role session ARN: arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
var assumedRoleRE = regexp.MustCompile(`^arn:aws[\w-]*:sts::([0-9]{12}):assumed-role/([^/]+)/`)

// accountOf returns the account id of an ARN.
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// is reports whether the caller is a session of the role roleARN.
func is(caller *aws.GetCallerIdentityResult, roleARN string) bool {
	m := assumedRoleRE.FindStringSubmatch(caller.Arn)
	return m != nil && m[1] == accountOf(roleARN) && m[2] == stacks.RoleName(roleARN)
}

// identity checks that the identity running the program can reach the cluster: only the deploy role
// may create it (EKS makes the creator its admin, and pulumi-eks gives no way to choose otherwise),
// and an existing cluster answers only its creator and the roles with an access entry. A preview
// that would create the cluster only warns: it creates nothing.
func identity(ctx *pulumi.Context, c stacks.Cluster, caller *aws.GetCallerIdentityResult) error {
	if caller.AccountId != accountOf(c.DeployRoleARN) {
		return fmt.Errorf("cluster.deployRoleArn: is a role of account %s but this run uses account %s (%s); use credentials of the stack's account", accountOf(c.DeployRoleARN), caller.AccountId, caller.Arn)
	}
	clusters, err := eks.GetClusters(ctx)
	if err != nil {
		return fmt.Errorf("preflight: list EKS clusters: %w", err)
	}
	if is(caller, c.DeployRoleARN) {
		return nil
	}
	if !slices.Contains(clusters.Names, c.Name) {
		msg := fmt.Sprintf("cluster.deployRoleArn: this run would create EKS cluster %s as %s, and EKS makes the identity that creates a cluster its admin for good; run the first pulumi up as %s (the deploy workflow does, or assume that role)", c.Name, caller.Arn, c.DeployRoleARN)
		if ctx.DryRun() {
			return ctx.Log.Warn(msg+"; this preview creates nothing, so it goes on", nil)
		}
		return errors.New(msg)
	}
	listed := func(arns []string) bool {
		return slices.ContainsFunc(arns, func(arn string) bool { return is(caller, arn) })
	}
	switch {
	case listed(c.AdminRoleARNs):
		return nil
	case listed(c.ViewerRoleARNs) && ctx.DryRun():
		return nil
	case listed(c.ViewerRoleARNs):
		return fmt.Errorf("cluster.viewerRoleArns: %s may only preview cluster %s; run pulumi up as %s or a role of cluster.adminRoleArns", caller.Arn, c.Name, c.DeployRoleARN)
	}
	return fmt.Errorf("cluster.adminRoleArns: %s has no access entry on cluster %s, so every Kubernetes call would fail with Unauthorized; run as %s or a role of cluster.adminRoleArns (or cluster.viewerRoleArns, to preview), or add this role there and pulumi up as the deploy role", caller.Arn, c.Name, c.DeployRoleARN)
}

// zones checks the configured zones against the ones EC2 lists for the region, by name or ID.
func zones(ctx *pulumi.Context, n stacks.Network, region string) error {
	if n.UsesExistingVPC() {
		return nil // the subnets exist; their zones are whatever they are
	}
	all, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{AllAvailabilityZones: pulumi.BoolRef(true)})
	if err != nil {
		return fmt.Errorf("preflight: list the availability zones of %s: %w", region, err)
	}
	var errs []error
	for i, z := range n.AvailabilityZones {
		if !slices.Contains(all.ZoneIds, z) && !slices.Contains(all.Names, z) {
			errs = append(errs, fmt.Errorf("network.availabilityZones[%d]: %q is not a zone of %s in this account; its zones are %s (IDs %s)", i, z, region, strings.Join(all.Names, ", "), strings.Join(all.ZoneIds, ", ")))
		}
	}
	return errors.Join(errs...)
}
