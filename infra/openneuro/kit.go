package openneuro

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/kubeprovider"
	"github.com/openneuro/openneuro-infra/infra/labels"
	"github.com/openneuro/openneuro-infra/stacks"
)

// appName is the app.kubernetes.io/name of every object.
const appName = "openneuro"

// Components: the app.kubernetes.io/component label, and (for the workloads) the suffix of the
// chart's object names <release>-<component>.
const (
	compAPI     = "api"
	compWeb     = "web"
	compDatalad = "datalad-service"
	compWorker  = "dataset-worker"
	compBeat    = "beat-scheduler"
	// compScheduler is the current generation's taskiq scheduler.
	compScheduler = "scheduler"
	compFlower    = "flower"
	compIndexer   = "indexer"
	compRedis     = "redis"
	compConfig    = "config"
	compDatasets  = "datasets"
	compIngress   = "ingress"
	compNS        = "namespace"
)

// kit is what every component of the application needs: the config, the layer's args, the
// parent, and the namespace (set once, right after New creates it). Components read it and never
// change it; what one component gives another travels as a return value.
type kit struct {
	ctx    *pulumi.Context
	name   string
	args   *Args
	cfg    stacks.OpenNeuro
	parent pulumi.ResourceOption
	// ns is the namespace name as an output of the Namespace, so that every namespaced object
	// depends on it (and is deleted before it and the node groups).
	ns pulumi.StringPtrOutput
}

// objectName is the chart's <release>-<suffix>.
func (k *kit) objectName(suffix string) string { return k.cfg.Release + "-" + suffix }

// logical is the Pulumi name of a child: <component name>-<role>.
func (k *kit) logical(role string) string { return k.name + "-" + role }

// labelSet identifies a component; its version is the tag of the image it runs (the release for
// objects that run no image).
func (k *kit) labelSet(component, image string) labels.Set {
	version := labels.Version(image)
	if version == "" {
		version = labels.Value(k.cfg.Version)
	}
	return labels.Set{Name: appName, Instance: k.cfg.Release, Component: component, Version: version}
}

// meta is the metadata of a namespaced object: the recommended labels without the version, which
// only workloads carry (workloadMeta), so that an upgrade touches only what runs the new version,
// and every object's annotations (kubeprovider.Annotations; a caller that sets its own keeps them:
// meta.Annotations = kubeprovider.Annotations(its)).
func (k *kit) meta(name string, set labels.Set) *metav1.ObjectMetaArgs {
	return &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: k.ns, Labels: set.Common(), Annotations: kubeprovider.Annotations(nil)}
}

// workloadMeta is the metadata of a workload (Deployment, StatefulSet, CronJob): every
// recommended label, the version of the image it runs included, and annotations (nil for none)
// beside every object's (kubeprovider.Annotations).
func (k *kit) workloadMeta(name string, set labels.Set, annotations pulumi.StringMap) *metav1.ObjectMetaArgs {
	return &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: k.ns, Labels: set.Labels(), Annotations: kubeprovider.Annotations(annotations)}
}
