package openneuro

import (
	"fmt"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/infra/exposure"
)

// part is what a component gives the generation: the site's routes that lead to it, in the order
// the Ingress lists them, and the Services they name (the Ingress is created after them).
type part struct {
	routes   []exposure.Route
	services []pulumi.Resource
}

// component builds one part of the application from the settings every container reads.
type component func(k *kit, s *settings) (part, error)

// currentComponents are the current generation (OpenNeuro v5.x, OpenNeuroOrg/openneuro
// helm/openneuro/templates at v5.5.1), one file each. Their routes join the Ingress in this order,
// so web, whose catch-all must come last on an ALB, is last.
var currentComponents = []struct {
	name  string
	build component
}{
	{compRedis, newCurrentRedis},
	{compAPI, newCurrentAPI},
	{compWorker, newDatasetWorkers},
	{compScheduler, newScheduler},
	{compIndexer, newCurrentIndexer},
	{compWeb, newCurrentWeb},
}

// buildCurrent deploys the current generation: its network policies, its ConfigMap and Secrets,
// every component, and the Ingress over their routes. It returns the Ingress and the routes.
func buildCurrent(k *kit) (*networkingv1.Ingress, []exposure.Route, error) {
	if err := newNetworkPolicies(k, topologyCurrent()); err != nil {
		return nil, nil, err
	}
	conf, err := newSettings(k, configDataCurrent(k))
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	var routes []exposure.Route
	var services []pulumi.Resource
	for _, c := range currentComponents {
		p, err := c.build(k, conf)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.name, err)
		}
		routes = append(routes, p.routes...)
		services = append(services, p.services...)
	}
	ing, err := newIngress(k, routes, services...)
	if err != nil {
		return nil, nil, fmt.Errorf("ingress: %w", err)
	}
	return ing, routes, nil
}

// newCurrentRedis is the one redis of the current generation (the chart's bitnami redis,
// standalone, no auth): the taskiq queues and results in DB 8
// (services/datalad/datalad_service/broker/__init__.py), the API's redis-smq queues, locks and its
// cache (packages/openneuro-server). The queues must survive a restart and nothing may be evicted
// from them, and the API reads REDIS_HOST for both, so it is the 2020 broker (noeviction, append-only
// file on a volume) with no separate cache.
func newCurrentRedis(k *kit, _ *settings) (part, error) {
	return part{}, newRedisBroker(k)
}
