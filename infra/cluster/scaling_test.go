package cluster_test

import (
	"slices"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/cluster"
	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestPlanScaling walks every combination of configured and live sizes in a small range and checks
// that what pulumi sends is one EKS accepts (min <= desired <= max) and what each setting promises.
func TestPlanScaling(t *testing.T) {
	t.Parallel()
	for min := 1; min <= 4; min++ {
		for max := min; max <= 5; max++ {
			for desired := min; desired <= max; desired++ {
				ng := stacks.NodeGroup{DesiredSize: desired, MinSize: min, MaxSize: max}
				// Without an autoscaler pulumi owns the size.
				if p := cluster.PlanScaling(ng, false, &cluster.Scaling{Desired: 1, Min: 1, Max: 9}); p.IgnoreDesired || p.Desired != desired {
					t.Fatalf("no autoscaler %v: %+v, want the configured size %d", ng, p, desired)
				}
				// First up: created at the configured size, later left to the autoscaler.
				if p := cluster.PlanScaling(ng, true, nil); !p.IgnoreDesired || p.Desired != desired {
					t.Fatalf("create %v: %+v", ng, p)
				}
				for lmin := 1; lmin <= 5; lmin++ {
					for lmax := lmin; lmax <= 6; lmax++ {
						for ld := lmin; ld <= lmax; ld++ {
							live := cluster.Scaling{Desired: ld, Min: lmin, Max: lmax}
							p := cluster.PlanScaling(ng, true, &live)
							if p.Min != min || p.Max != max {
								t.Fatalf("%v live %v: sends min/max %d/%d", ng, live, p.Min, p.Max)
							}
							if p.IgnoreDesired {
								// The update carries the live desired size: it must fit the new range.
								if lmin != min || lmax != max {
									t.Fatalf("%v live %v: ignores the size while min/max change", ng, live)
								}
								continue
							}
							if p.Desired < min || p.Desired > max {
								t.Fatalf("%v live %v: desired %d outside %d..%d, EKS would reject it", ng, live, p.Desired, min, max)
							}
							if ld >= min && ld <= max && p.Desired != ld {
								t.Fatalf("%v live %v: changed an in-range size to %d", ng, live, p.Desired)
							}
						}
					}
				}
			}
		}
	}
}

// TestScalingFromLiveGroup: raising minSize above the autoscaler's current size sends that minimum
// as the size, instead of the stale one EKS would reject; an unchanged range ignores the size.
func TestScalingFromLiveGroup(t *testing.T) {
	t.Parallel()
	// prod: desired 4, min 3, max 8. Live: the autoscaler has it at 3.
	r := run(t, "prod", infratest.WithValue("cluster.defaultNodeGroup.minSize", 5), infratest.WithValue("cluster.defaultNodeGroup.desiredSize", 5), infratest.WithLiveNodeGroup("cluster-default-1a2b3c4", 3, 3, 8))
	ng := r.rec.Find(nodeGroupType, "cluster-default")
	sc := ng.Plain(false)["scalingConfig"].(map[string]any)
	if sc["desiredSize"] != int64(5) || sc["minSize"] != int64(5) || len(ng.IgnoreChanges) != 0 {
		t.Errorf("raised minSize: scaling %v ignore %v, want desired 5 min 5 sent", sc, ng.IgnoreChanges)
	}
	r = run(t, "prod", infratest.WithLiveNodeGroup("cluster-default-1a2b3c4", 7, 3, 8))
	ng = r.rec.Find(nodeGroupType, "cluster-default")
	if len(ng.IgnoreChanges) != 1 || ng.IgnoreChanges[0] != "scalingConfig.desiredSize" {
		t.Errorf("unchanged range: ignoreChanges %v, want the autoscaler's size kept", ng.IgnoreChanges)
	}
	// The storage group is never autoscaled: pulumi owns its fixed size.
	if st := r.rec.Find(nodeGroupType, "cluster-edgefs-target"); slices.Contains(st.IgnoreChanges, "scalingConfig.desiredSize") {
		t.Errorf("storage group ignoreChanges %v", st.IgnoreChanges)
	}
}

func TestAutoscaler(t *testing.T) {
	t.Parallel()
	r := run(t, "prod")
	rel := r.rec.Find("kubernetes:helm.sh/v3:Release", "cluster-autoscaler")
	if rel == nil {
		t.Fatal("no cluster-autoscaler release")
	}
	in := rel.Plain(false)
	values := in["values"].(map[string]any)
	if in["chart"] != "cluster-autoscaler" || in["version"] != "9.52.1" || in["namespace"] != "kube-system" {
		t.Errorf("release %v %v %v", in["chart"], in["version"], in["namespace"])
	}
	if values["image"].(map[string]any)["tag"] != "v1.35.2" || values["awsRegion"] != "us-west-2" ||
		values["autoDiscovery"].(map[string]any)["clusterName"] != "openneuro-prod" {
		t.Errorf("values %v", values)
	}
	sa := values["rbac"].(map[string]any)["serviceAccount"].(map[string]any)
	if sa["name"] != cluster.AutoscalerServiceAccount {
		t.Errorf("service account %v", sa["name"])
	}
	doc := cluster.AutoscalerPolicy("openneuro-prod")
	if cond := doc.Statement[1].Condition["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/openneuro-prod"]; len(cond) != 1 || cond[0] != "owned" {
		t.Errorf("resize statement is not limited to the cluster's groups: %v", doc.Statement[1].Condition)
	}
	for _, dep := range []string{"cluster-default", "cluster-edgefs-target"} {
		if !slices.Contains(rel.DependsOn, r.rec.Find(nodeGroupType, dep).URN) {
			t.Errorf("autoscaler does not wait for node group %s", dep)
		}
	}
	off := run(t, "prod", infratest.WithValue("cluster.autoscaler.enabled", false))
	if off.rec.Find("kubernetes:helm.sh/v3:Release", "cluster-autoscaler") != nil {
		t.Error("autoscaler installed while disabled")
	}
	if ng := off.rec.Find(nodeGroupType, "cluster-default"); len(ng.IgnoreChanges) != 0 {
		t.Errorf("without the autoscaler pulumi owns the size, ignoreChanges %v", ng.IgnoreChanges)
	}
}
