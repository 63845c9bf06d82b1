package infratest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/internal/recorded"
)

// AccountID is the AWS account the mocks pretend to deploy into.
const AccountID = "123456789012"

// hexOf returns n deterministic hex characters derived from s.
func hexOf(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// idPrefixes are the AWS id shapes of the resource types whose ids other resources consume.
var idPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                           "vpc-",
	"aws:ec2/subnet:Subnet":                                     "subnet-",
	"aws:ec2/securityGroup:SecurityGroup":                       "sg-",
	"aws:ec2/internetGateway:InternetGateway":                   "igw-",
	"aws:ec2/natGateway:NatGateway":                             "nat-",
	"aws:ec2/eip:Eip":                                           "eipalloc-",
	"aws:ec2/routeTable:RouteTable":                             "rtb-",
	"aws:ec2/launchTemplate:LaunchTemplate":                     "lt-",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           "vpce-",
	"aws:efs/fileSystem:FileSystem":                             "fs-",
	"aws:efs/mountTarget:MountTarget":                           "fsmt-",
	"aws:ec2/securityGroupRule:SecurityGroupRule":               "sgrule-",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "sgr-",
}

// fakeID returns a realistic, deterministic physical id.
func fakeID(typ, urn string) string {
	if p, ok := idPrefixes[typ]; ok {
		return p + hexOf(urn, 17)
	}
	if strings.HasPrefix(typ, "kubernetes:") || strings.HasPrefix(typ, "pulumi:providers:") {
		return hexOf(urn, 8) + "-" + hexOf(urn+"/", 4) + "-" + hexOf(urn+"//", 4) + "-" + hexOf(urn+"///", 12)
	}
	return urnName(urn) + "-" + hexOf(urn, 7)
}

func urnName(urn string) string { return resource.URN(urn).Name() }

// outputs are the inputs plus what AWS, EKS or Kubernetes would add that the program reads.
func (r *Recorder) outputs(rec Resource) resource.PropertyMap {
	out := rec.Inputs.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	if strings.HasPrefix(rec.Type, "aws:") {
		set("id", rec.ID)
		if _, ok := out["arn"]; !ok {
			set("arn", r.arn(rec))
		}
		if _, ok := out["name"]; !ok && strings.HasPrefix(rec.Type, "aws:iam/") {
			set("name", rec.ID)
		}
	}
	switch rec.Type {
	case "eks:index:Cluster":
		for k, v := range r.eksClusterOutputs(rec) {
			set(k, v)
		}
	case "aws:kms/key:Key":
		set("keyId", hexOf(rec.URN, 8)+"-"+hexOf(rec.URN+"a", 4)+"-"+hexOf(rec.URN+"b", 4)+"-"+hexOf(rec.URN+"c", 4)+"-"+hexOf(rec.URN+"d", 12))
	case "aws:efs/fileSystem:FileSystem":
		set("dnsName", rec.ID+".efs."+r.region+".amazonaws.com")
	case "aws:eks/nodeGroup:NodeGroup", "eks:index:ManagedNodeGroup":
		set("status", "ACTIVE")
		if _, ok := out["nodeGroupName"]; !ok {
			set("nodeGroupName", rec.Name+"-"+hexOf(rec.URN, 7)) // the provider's auto-name
		}
	case "aws:s3/bucketV2:BucketV2":
		if prefix, ok := rec.Inputs["bucketPrefix"]; ok && prefix.IsString() {
			set("bucket", prefix.StringValue()+hexOf(rec.URN, 20))
		}
	case "aws:ec2/eip:Eip":
		// An address of TEST-NET-3 (RFC 5737), reserved for documentation.
		sum := sha256.Sum256([]byte(rec.URN))
		set("publicIp", fmt.Sprintf("203.0.113.%d", 1+sum[0]%254))
	case "aws:acm/certificate:Certificate":
		in := rec.Plain(false)
		names := []any{in["domainName"]}
		if sans, ok := in["subjectAlternativeNames"].([]any); ok {
			names = append(names, sans...)
		}
		var opts []any
		for _, n := range names {
			name, _ := n.(string)
			opts = append(opts, map[string]any{
				"domainName":          name,
				"resourceRecordName":  "_" + hexOf(name, 32) + "." + name + ".",
				"resourceRecordType":  "CNAME",
				"resourceRecordValue": "_" + hexOf(name+"v", 32) + ".mock-acm-validations.invalid.",
			})
		}
		set("domainValidationOptions", opts)
		set("status", "ISSUED")
	case "aws:route53/record:Record":
		if name, ok := rec.Inputs["name"]; ok && name.IsString() {
			set("fqdn", strings.TrimSuffix(name.StringValue(), "."))
		}
	case "aws:ec2/launchTemplate:LaunchTemplate":
		set("latestVersion", 1.0)
		set("defaultVersion", 1.0)
	case "kubernetes:core/v1:Service":
		r.serviceOutputs(rec, out)
	case "kubernetes:networking.k8s.io/v1:Ingress":
		md, _ := recorded.PlainValue(rec.Inputs["metadata"], false).(map[string]any)
		ns, _ := md["namespace"].(string)
		name, _ := md["name"].(string)
		host := r.albDNSName(ns + "/" + name)
		out["status"] = resource.NewPropertyValue(map[string]any{
			"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": host}}},
		})
	case "kubernetes:helm.sh/v3:Release":
		name := rec.Name
		if v, ok := rec.Inputs["name"]; ok && v.IsString() {
			name = v.StringValue()
		}
		ns := "default"
		if v, ok := rec.Inputs["namespace"]; ok && v.IsString() {
			ns = v.StringValue()
		}
		out["status"] = resource.NewPropertyValue(map[string]any{"name": name, "namespace": ns, "status": "deployed", "revision": 1.0})
	}
	return out
}

// serviceOutputs gives a Service without an explicit clusterIP a deterministic one, as the API
// server would (headless Services keep None).
func (r *Recorder) serviceOutputs(rec Resource, out resource.PropertyMap) {
	spec := map[string]any{}
	if v, ok := rec.Inputs["spec"]; ok && v.IsObject() {
		spec = recorded.PlainValue(v, false).(map[string]any)
	}
	if ip, _ := spec["clusterIP"].(string); ip == "" {
		sum := sha256.Sum256([]byte(rec.URN))
		spec["clusterIP"] = fmt.Sprintf("172.20.%d.%d", sum[0], 1+sum[1]%254)
	}
	out["spec"] = resource.NewPropertyValue(spec)
}

func (r *Recorder) arn(rec Resource) string {
	// aws:<module>/<resource>:<Type> -> service <module>
	mod := strings.SplitN(strings.TrimPrefix(rec.Type, "aws:"), "/", 2)[0]
	switch mod {
	case "iam":
		kind := "role"
		switch {
		case strings.HasSuffix(rec.Type, ":Policy"):
			kind = "policy"
		case strings.HasSuffix(rec.Type, ":OpenIdConnectProvider"):
			kind = "oidc-provider"
			if url, ok := rec.Inputs["url"]; ok && url.IsString() {
				return fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, strings.TrimPrefix(url.StringValue(), "https://"))
			}
		}
		name := rec.ID
		if n, ok := rec.Inputs["name"]; ok && n.IsString() { // an explicit name is the ARN's
			name = n.StringValue()
		}
		return fmt.Sprintf("arn:aws:iam::%s:%s/%s", AccountID, kind, name)
	case "kms":
		return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", r.region, AccountID, rec.ID)
	case "efs":
		return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", r.region, AccountID, rec.ID)
	default:
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", mod, r.region, AccountID, strings.ToLower(rec.Type[strings.LastIndex(rec.Type, ":")+1:]), rec.ID)
	}
}

// eksClusterOutputs are the outputs of pulumi-eks's remote Cluster component that the program reads.
func (r *Recorder) eksClusterOutputs(rec Resource) map[string]any {
	name := rec.Name
	if v, ok := rec.Inputs["name"]; ok && v.IsString() {
		name = v.StringValue()
	}
	oidcID := strings.ToUpper(hexOf(rec.URN, 32))
	issuer := fmt.Sprintf("oidc.eks.%s.amazonaws.com/id/%s", r.region, oidcID)
	endpoint := fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", strings.ToUpper(hexOf(rec.URN+"ep", 32)), r.region)
	kubeconfig := map[string]any{
		"apiVersion": "v1", "kind": "Config",
		"clusters": []any{map[string]any{"name": "kubernetes", "cluster": map[string]any{
			"server": endpoint, "certificate-authority-data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==",
		}}},
		"contexts":        []any{map[string]any{"name": "aws", "context": map[string]any{"cluster": "kubernetes", "user": "aws"}}},
		"current-context": "aws",
		"users": []any{map[string]any{"name": "aws", "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
			"args": []any{"eks", "get-token", "--cluster-name", name, "--output", "json"},
		}}}},
	}
	kubeconfigJSON, _ := json.Marshal(kubeconfig)
	return map[string]any{
		"kubeconfig":             kubeconfig,
		"kubeconfigJson":         string(kubeconfigJSON),
		"oidcProviderArn":        fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, issuer),
		"oidcProviderUrl":        "https://" + issuer,
		"oidcIssuer":             issuer,
		"clusterSecurityGroupId": "sg-" + hexOf(rec.URN+"csg", 17),
		"nodeSecurityGroupId":    "sg-" + hexOf(rec.URN+"nsg", 17),
		"core": map[string]any{
			"endpoint":               endpoint,
			"oidcProvider":           map[string]any{"arn": fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", AccountID, issuer), "url": issuer},
			"clusterSecurityGroupId": "sg-" + hexOf(rec.URN+"csg", 17),
		},
	}
}

// hostedZone answers a Route 53 zone lookup by id or name from the mock account's zones (WithHostedZone),
// failing like the provider when none matches.
func (r *Recorder) hostedZone(args resource.PropertyMap) (resource.PropertyMap, error) {
	in := recorded.PlainMap(args, false)
	id, _ := in["zoneId"].(string)
	name, _ := in["name"].(string)
	for _, z := range r.account.zones {
		if (id != "" && z.id == id) || (id == "" && z.name == strings.TrimSuffix(name, ".")) {
			return resource.NewPropertyMapFromMap(map[string]any{
				"id": z.id, "zoneId": z.id, "name": z.name, "privateZone": z.private,
				"arn": "arn:aws:route53:::hostedzone/" + z.id, "nameServers": []any{},
			}), nil
		}
	}
	return nil, fmt.Errorf("no matching Route 53 Hosted Zone found")
}

// albDNSName is the DNS name of the ALB the load balancer controller makes for the Ingress group
// (namespace/name of an Ingress without group.name), the same from the Ingress status and a lookup.
func (r *Recorder) albDNSName(group string) string {
	return fmt.Sprintf("k8s-%s-%s.%s.elb.amazonaws.com", hexOf(group, 8), hexOf(group+"lb", 10), r.region)
}

// ALBZoneID is the canonical hosted zone id the mocks give every ALB: obviously not AWS's.
const ALBZoneID = "ZMOCKALBZONE"

// invoke answers data-source calls with what AWS would return for this account and region.
func (r *Recorder) invoke(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:route53/getZone:getZone":
		return r.hostedZone(args.Args)
	case "aws:ec2/getElasticIp:getElasticIp":
		id := args.Args["id"].StringValue()
		ip, ok := r.account.elasticIPs[id]
		if !ok {
			// An allocation id the region does not hold.
			return nil, fmt.Errorf("infratest: no Elastic IP %s in the region", id)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": id, "publicIp": ip, "domain": "vpc"}), nil
	case "aws:lb/getLoadBalancer:getLoadBalancer":
		tags, _ := recorded.PlainValue(args.Args["tags"], false).(map[string]any)
		group, _ := tags["ingress.k8s.aws/stack"].(string)
		if group == "" {
			return nil, fmt.Errorf("infratest: no load balancer matches %v", tags)
		}
		dns := r.albDNSName(group)
		host, _, _ := strings.Cut(dns, ".")
		suffix := "app/" + strings.TrimSuffix(host, "-"+hexOf(group+"lb", 10)) + "/" + hexOf(group, 16)
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn":       fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/%s", r.region, AccountID, suffix),
			"arnSuffix": suffix, "dnsName": dns, "zoneId": ALBZoneID, "tags": tags, "id": dns,
		}), nil
	case "aws:lb/getTargetGroup:getTargetGroup":
		tags, _ := recorded.PlainValue(args.Args["tags"], false).(map[string]any)
		res, _ := tags["ingress.k8s.aws/resource"].(string)
		if res == "" || tags["ingress.k8s.aws/stack"] == nil {
			return nil, fmt.Errorf("infratest: no target group matches %v", tags)
		}
		suffix := "targetgroup/k8s-" + hexOf(res, 20) + "/" + hexOf(res+"tg", 16)
		return resource.NewPropertyMapFromMap(map[string]any{
			"arn":       fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", r.region, AccountID, suffix),
			"arnSuffix": suffix, "name": "k8s-" + hexOf(res, 20), "tags": tags, "id": suffix,
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{"name": r.region, "id": r.region, "region": r.region}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		a := r.account
		return resource.NewPropertyMapFromMap(map[string]any{"accountId": a.callerAccount, "arn": a.callerARN, "userId": "AROAMOCKSESSION", "id": a.callerAccount}), nil
	case "aws:eks/getCluster:getCluster":
		name := args.Args["name"].StringValue()
		v, ok := r.account.clusterVersions[name]
		if !ok {
			return nil, fmt.Errorf("infratest: no cluster %s with a version (WithClusterVersion)", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"name": name, "version": v, "id": name}), nil
	case "aws:eks/getClusters:getClusters":
		return resource.NewPropertyMapFromMap(map[string]any{"names": toAny(r.account.clusters), "id": r.region}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		a := r.account
		return resource.NewPropertyMapFromMap(map[string]any{"names": toAny(a.azNames), "zoneIds": toAny(a.azIDs), "id": r.region}), nil
	case "aws:eks/getNodeGroups:getNodeGroups":
		// The EKS API's answer before the first up: the cluster does not exist.
		if len(r.account.nodeGroups) == 0 {
			return nil, fmt.Errorf("reading EKS Node Groups: ResourceNotFoundException: No cluster found for name: %v", args.Args["clusterName"].StringValue())
		}
		var names []any
		for _, n := range sortedNames(r.account.nodeGroups) {
			names = append(names, n)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"clusterName": args.Args["clusterName"].StringValue(), "names": names, "id": "groups"}), nil
	case "aws:eks/getNodeGroup:getNodeGroup":
		s, ok := r.account.nodeGroups[args.Args["nodeGroupName"].StringValue()]
		if !ok {
			return nil, fmt.Errorf("ResourceNotFoundException: node group %s", args.Args["nodeGroupName"].StringValue())
		}
		out := map[string]any{
			"clusterName": args.Args["clusterName"].StringValue(), "nodeGroupName": args.Args["nodeGroupName"].StringValue(),
			"scalingConfigs": []any{map[string]any{"desiredSize": s[0], "minSize": s[1], "maxSize": s[2]}},
		}
		if v, ok := r.account.nodeGroupVersions[args.Args["nodeGroupName"].StringValue()]; ok {
			out["version"] = v
		}
		return resource.NewPropertyMapFromMap(out), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}), nil
	}
	return nil, fmt.Errorf("infratest: no mock for invoke %s; add one in internal/infratest/outputs.go", args.Token)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func sortedNames(m map[string][3]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
