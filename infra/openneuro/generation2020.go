package openneuro

import (
	"fmt"

	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"

	"github.com/openneuro/openneuro-infra/infra/exposure"
)

// build2020 deploys the 2020 topology (OpenNeuro v3.14.x, the 2020 Helm chart): the API, the web
// front end, the DataLad service and the Celery dataset workers on one shared datasets volume,
// beat, flower, the indexer and redis, behind one Ingress. Each component is a function of what it
// needs; the order here is the order of their inputs.
func build2020(k *kit) (*networkingv1.Ingress, error) {
	if err := newNetworkPolicies(k, topology2020()); err != nil {
		return nil, err
	}
	conf, err := newSettings(k, configData2020(k))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	data, err := newDatasets(k)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	cache, err := newRedis(k)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	api, err := newAPI(k, conf, cache)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	web, err := newWeb(k)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if err := newAutoscaler(k, "api", k.objectName(compAPI), k.labelSet(compAPI, k.cfg.Images.Server), k.cfg.Replicas.API, k.cfg.Autoscaling.APIMaxReplicas); err != nil {
		return nil, fmt.Errorf("api autoscaler: %w", err)
	}
	if err := newAutoscaler(k, "web", k.objectName(compWeb), k.labelSet(compWeb, k.cfg.Images.App), k.cfg.Replicas.Web, k.cfg.Autoscaling.WebMaxReplicas); err != nil {
		return nil, fmt.Errorf("web autoscaler: %w", err)
	}
	if err := newDataladService(k, conf, data); err != nil {
		return nil, fmt.Errorf("datalad-service: %w", err)
	}
	if err := newCeleryWorkers(k, conf, data); err != nil {
		return nil, fmt.Errorf("dataset-worker: %w", err)
	}
	if err := newBeat(k, conf); err != nil {
		return nil, fmt.Errorf("beat-scheduler: %w", err)
	}
	if err := newFlower(k, conf); err != nil {
		return nil, fmt.Errorf("flower: %w", err)
	}
	if err := newIndexer(k, conf); err != nil {
		return nil, fmt.Errorf("indexer: %w", err)
	}
	ing, err := newIngress(k, routes2020(k), api, web)
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	return ing, nil
}

// routes2020 are the chart's rules for <hostname>, in its order: the websocket endpoint, the API,
// the sitemap the API renders, then everything else to web.
func routes2020(k *kit) []exposure.Route {
	api, web := k.objectName(compAPI), k.objectName(compWeb)
	return []exposure.Route{
		{Path: "/graphql-subscriptions", Service: api, Port: apiPort},
		{Path: "/crn", Prefix: true, Service: api, Port: apiPort},
		{Path: "/sitemap.xml", Service: api, Port: apiPort},
		{Path: "/", Prefix: true, Service: web, Port: webPort},
	}
}
