package edgefs

import (
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
)

// nfsPorts are the NFSv3 ports of an EdgeFS NFS gateway, each over TCP and UDP (rook v1.5.12
// pkg/operator/edgefs/nfs/nfs.go makeNFSService, without its internal gRPC port 49000). A v3 client
// asks the portmapper for mountd, then talks to nfs, nlockmgr and statd: all of them must be reachable
// at the address it mounts.
var nfsPorts = []struct {
	name string
	port int
}{
	{"nfs", 2049},
	{"nlockmgr", 32803},
	{"mountd", 20048},
	{"portmapper", 111},
	{"statd", 662},
	{"rquotad", 875},
}

// NFSServiceName is the name of the program's Service of the NFS gateway nfs (edgefs.nfs.name), e.g.
// openneuro-datasets-nfs. kubecheck excepts these Services, which select the operator's pods, from its
// selector rule by NFSServiceName("*").
func NFSServiceName(nfs string) string { return "openneuro-" + nfs + "-nfs" }

// nfsSelector selects the gateway pods the operator creates for the NFS CR named nfs (nfs.go
// getLabels).
func nfsSelector(nfs string) pulumi.StringMap {
	return pulumi.StringMap{
		"app":            pulumi.String("rook-edgefs-nfs"),
		"rook_cluster":   pulumi.String(ClusterNamespace),
		"edgefs_svcname": pulumi.String(nfs),
		"edgefs_svctype": pulumi.String("nfs"),
	}
}

// newNFSService creates a Service in front of the NFS gateway pods. The operator makes one too
// (rook-edgefs-nfs-<name>), but only once the Cluster is up, and Pulumi cannot read its cluster IP at
// preview; this one exists from the start, so the dataset PersistentVolume can take its IP (kubelet
// mounts from the node, where cluster DNS does not resolve).
//
// It depends on the NFS CR, so whatever mounts it is created after and deleted before the gateway.
// Pulumi does not wait for endpoints (skipAwait): the gateways start only minutes after the Cluster,
// and serve only after the one-time efscli setup, well past the provider's await timeout on a first
// `pulumi up`.
func newNFSService(ctx *pulumi.Context, name string, comp pulumi.Resource, args *Args, h *home, nfs pulumi.Resource) (*corev1.Service, error) {
	var ports corev1.ServicePortArray
	for _, p := range nfsPorts {
		for _, proto := range []string{"TCP", "UDP"} {
			ports = append(ports, corev1.ServicePortArgs{
				Name:       pulumi.String(p.name + "-" + strings.ToLower(proto)),
				Port:       pulumi.Int(p.port),
				TargetPort: pulumi.Int(p.port),
				Protocol:   pulumi.String(proto),
			})
		}
	}
	svc, err := corev1.NewService(ctx, name+"-nfs-service", &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(NFSServiceName(args.Config.NFS.Name)),
			Namespace:   h.clusterNS.Metadata.Name(),
			Labels:      labelSet("nfs", args.Config.Image).Labels(),
			Annotations: kubeprovider.Annotations(pulumi.StringMap{"pulumi.com/skipAwait": pulumi.String("true")}),
		},
		Spec: corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: nfsSelector(args.Config.NFS.Name),
			Ports:    ports,
		},
	}, pulumi.Parent(comp), pulumi.DependsOn([]pulumi.Resource{nfs}))
	if err != nil {
		return nil, wrap("nfs service", err)
	}
	return svc, nil
}
