package openneuro_test

import (
	"slices"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// TestAutoscalers: the API and web each get an HPA on their Deployment, between app.replicas and
// app.autoscaling's maximum at the CPU target; the Deployment leaves spec.replicas to it after the
// first create; the PDB selects the same pods and allows a drain at any count the HPA picks.
func TestAutoscalers(t *testing.T) {
	rec := run(t, "staging", nil, infratest.WithValue("app.autoscaling.webMaxReplicas", 5), infratest.WithValue("app.autoscaling.targetCpuPercent", 60))
	o := layerObjects(t, rec)
	for component, want := range map[string][2]int32{"api": {2, 4}, "web": {2, 5}} {
		hpa := decode[autoscalingv2.HorizontalPodAutoscaler](t, o.get(t, "HorizontalPodAutoscaler", name(component)))
		equal(t, component+" target", hpa.Spec.ScaleTargetRef, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name(component)})
		equal(t, component+" min (app.replicas)", *hpa.Spec.MinReplicas, want[0])
		equal(t, component+" max", hpa.Spec.MaxReplicas, want[1])
		equal(t, component+" metrics", hpa.Spec.Metrics, []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(60)),
			}},
		}})
		equal(t, component+" labels (no version: an upgrade leaves the HPA alone)", hpa.Labels, commonLabelsOf(component))

		d := o.deployment(t, name(component))
		equal(t, component+" replicas at creation", *d.Spec.Replicas, want[0])
		if res := o.get(t, "Deployment", name(component)); !slices.Contains(res.IgnoreChanges, "spec.replicas") {
			t.Errorf("%s: the Deployment's spec.replicas is not ignored after creation (ignoreChanges %v): every up would fight the HPA", component, res.IgnoreChanges)
		}
		pdb := o.pdb(t, name(component))
		equal(t, component+" PDB selects the scaled pods", pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels)
		if pdb.Spec.MinAvailable != nil || pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != intstr.FromInt32(1) {
			t.Errorf("%s: PDB %+v; with an HPA it must be maxUnavailable 1 (a minAvailable blocks drains at the minimum)", component, pdb.Spec)
		}
	}
	// Nothing else is autoscaled, and nothing ignores its replicas.
	if n := len(rec.ByType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")); n != 2 {
		t.Errorf("%d HPAs, want 2 (api, web)", n)
	}
	for _, r := range rec.ByType("kubernetes:apps/v1:Deployment") {
		if ignored := slices.Contains(r.IgnoreChanges, "spec.replicas"); ignored != (r.Name == "openneuro-api" || r.Name == "openneuro-web") {
			t.Errorf("%s: ignores spec.replicas %v", r.Name, ignored)
		}
	}
}

// TestNoAutoscalersWhenOff: without app.autoscaling no HPA exists and Pulumi owns the replicas.
func TestNoAutoscalersWhenOff(t *testing.T) {
	rec := run(t, "staging", nil, infratest.WithValue("app.autoscaling.enabled", false))
	if n := len(rec.ByType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")); n != 0 {
		t.Errorf("%d HPAs with autoscaling off", n)
	}
	for _, r := range rec.ByType("kubernetes:apps/v1:Deployment") {
		if len(r.IgnoreChanges) > 0 {
			t.Errorf("%s ignores %v with autoscaling off", r.Name, r.IgnoreChanges)
		}
	}
}

// commonLabelsOf are the recommended labels of a component without the version.
func commonLabelsOf(component string) map[string]string {
	l := labelsOf(component, "")
	delete(l, "app.kubernetes.io/version")
	return l
}
