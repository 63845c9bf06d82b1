package openneuro_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/openneuro"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// inputsByKey are the layer's resources' inputs (secrets in clear) by "<Kind> <logical name>".
func inputsByKey(t *testing.T, rec *infratest.Recorder) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, res := range rec.Descendants(openneuro.Token) {
		kind := res.Type[strings.LastIndex(res.Type, ":")+1:]
		out[kind+" "+res.Name] = res.Plain(false)
	}
	return out
}

// diff runs the layer twice, the second time with opts, and returns what a preview would show:
// the resources whose inputs changed, were added or were removed.
func diff(t *testing.T, opts ...infratest.Option) (changed, added, removed []string) {
	t.Helper()
	before := inputsByKey(t, run(t, "staging", nil))
	// A fresh run, so that "the same config twice" compares two runs of the layer.
	after := inputsByKey(t, runFresh(t, "staging", nil, opts...))
	for key, in := range after {
		old, ok := before[key]
		switch {
		case !ok:
			added = append(added, key)
		case !reflect.DeepEqual(old, in):
			changed = append(changed, key)
		}
	}
	for key := range before {
		if _, ok := after[key]; !ok {
			removed = append(removed, key)
		}
	}
	sort.Strings(changed)
	sort.Strings(added)
	sort.Strings(removed)
	return changed, added, removed
}

// configConsumers are the workloads whose pods read the ConfigMap and the Secret through envFrom:
// a change to either rolls exactly these (the indexer's Jobs read them when they start).
var configConsumers = []string{
	"Deployment openneuro-api",
	"Deployment openneuro-beat-scheduler",
	"Deployment openneuro-datalad-service",
	"Deployment openneuro-flower",
	"StatefulSet openneuro-dataset-worker",
}

func with(keys []string, more ...string) []string {
	out := append(append([]string{}, keys...), more...)
	sort.Strings(out)
	return out
}

func TestChangeTouchesOnlyWhatItShould(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		opts                    []infratest.Option
		changed, added, removed []string
	}{
		{
			name: "app.workers: the StatefulSet, DATALAD_WORKERS and its consumers, the shard Services",
			// 5: six workers of 450m no longer fit the staging storage pool next to Container Insights.
			opts:    []infratest.Option{infratest.WithValue("app.workers", 5)},
			changed: with(configConsumers, "ConfigMap openneuro-configmap"),
			added:   []string{"Service openneuro-dataset-worker-4"},
		},
		{
			name:    "fewer workers remove their shard Services",
			opts:    []infratest.Option{infratest.WithValue("app.workers", 3)},
			changed: with(configConsumers, "ConfigMap openneuro-configmap"),
			removed: []string{"Service openneuro-dataset-worker-3"},
		},
		{
			name:    "a ConfigMap value rolls exactly its consumers",
			opts:    []infratest.Option{infratest.WithValue("app.googleTrackingId", "G-K092KXB4WL")},
			changed: with(configConsumers, "ConfigMap openneuro-configmap"),
		},
		{
			name:    "a Secret value rolls exactly its consumers",
			opts:    []infratest.Option{infratest.WithSecret("JWT_SECRET", "another-jwt-secret")},
			changed: with(configConsumers, "Secret openneuro-secret"),
		},
		{
			name:    "a new SSH key restarts the workers only",
			opts:    []infratest.Option{infratest.WithSecret("DATALAD_SSH_KEY", "-----BEGIN OPENSSH PRIVATE KEY-----\nnew\n-----END OPENSSH PRIVATE KEY-----\n")},
			changed: []string{"Secret openneuro-ssh-key", "StatefulSet openneuro-dataset-worker"},
		},
		{
			name:    "the certificate changes the Ingress only",
			opts:    []infratest.Option{infratest.WithValue("app.certificateArn", "arn:aws:acm:us-east-1:488777458602:certificate/00000000-1111-2222-3333-444444444444")},
			changed: []string{"Ingress openneuro-ingress"},
		},
		{
			// The HPA's minimum; the Deployment's rollout timeout follows the HPA's maximum.
			name:    "web replicas change the web Deployment and its HPA only",
			opts:    []infratest.Option{infratest.WithValue("app.replicas.web", 4)},
			changed: []string{"Deployment openneuro-web", "HorizontalPodAutoscaler openneuro-web"},
		},
		{
			name:    "API resources change the API Deployment only",
			opts:    []infratest.Option{infratest.WithValue("app.resources.api.limits.cpu", "1200m")},
			changed: []string{"Deployment openneuro-api"},
		},
		{
			name:    "the indexer schedule changes the CronJob only",
			opts:    []infratest.Option{infratest.WithValue("app.indexerSchedule", "0 * * * *")},
			changed: []string{"CronJob openneuro-indexer"},
		},
		{
			name: "the same config twice changes nothing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed, added, removed := diff(t, tc.opts...)
			equal(t, "changed", changed, tc.changed)
			equal(t, "added", added, tc.added)
			equal(t, "removed", removed, tc.removed)
		})
	}
}
