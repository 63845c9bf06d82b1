package operations_test

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/infra/operations"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// TestBackupSelectsEveryDataVolume: every data-holding resource the render contains is selected by
// the backup plan (the EFS file system by ARN; every EBS claim of the app namespace by the CSI
// driver's tags), except redis, on purpose. A new volume cannot be added without a backup.
func TestBackupSelectsEveryDataVolume(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"staging", "prod"} {
		rec := infratest.Run(t, stack)
		var arns []string
		var ns, notLike string
		for _, sel := range rec.ByType("aws:backup/selection:Selection") {
			in := sel.Plain(false)
			for _, r := range in["resources"].([]any) {
				arns = append(arns, r.(string))
			}
			if conds, ok := in["conditions"].([]any); ok {
				c := conds[0].(map[string]any)
				ns = c["stringEquals"].([]any)[0].(map[string]any)["value"].(string)
				notLike = c["stringNotLikes"].([]any)[0].(map[string]any)["value"].(string)
			}
		}
		fss := rec.ByType("aws:efs/fileSystem:FileSystem")
		if len(fss) == 0 {
			t.Fatalf("%s: no file system in the render", stack)
		}
		for _, fs := range fss {
			if arn := fs.Outputs["arn"].StringValue(); !contains(arns, arn) {
				t.Errorf("%s: file system %s (%s) is not selected: %v", stack, fs.Name, arn, arns)
			}
		}
		if !contains(arns, "arn:aws:ec2:*:*:volume/*") {
			t.Errorf("%s: EBS volumes are not selected", stack)
		}
		claims := 0
		for _, m := range rec.Manifests(true) {
			for _, c := range claimsOf(m) {
				if c.StorageClass != "gp3" {
					continue // EFS claims live on the selected file system; EdgeFS NFS is instance store
				}
				claims++
				selected, _ := path.Match(notLike, c.Name)
				selected = c.Namespace == ns && !selected
				if redis := strings.Contains(c.Name, "-redis-"); redis == selected {
					t.Errorf("%s: claim %s/%s selected=%v; every EBS claim but redis's must be backed up", stack, c.Namespace, c.Name, selected)
				}
			}
		}
		if claims == 0 {
			t.Errorf("%s: no EBS claim found in the render; the check above checked nothing", stack)
		}
	}
}

type claim struct{ Namespace, Name, StorageClass string }

// claimsOf lists the volume claims an object makes: a PersistentVolumeClaim itself, or a
// StatefulSet's claims from its templates (<template>-<statefulset>-<ordinal>).
func claimsOf(m infratest.Manifest) []claim {
	spec, _ := m.Object["spec"].(map[string]any)
	switch m.Kind() {
	case "PersistentVolumeClaim":
		class, _ := spec["storageClassName"].(string)
		return []claim{{m.Namespace(), m.Name(), class}}
	case "StatefulSet":
		var out []claim
		replicas, _ := spec["replicas"].(float64)
		if r, ok := spec["replicas"].(int64); ok {
			replicas = float64(r)
		}
		tmpls, _ := spec["volumeClaimTemplates"].([]any)
		for _, t := range tmpls {
			tm := t.(map[string]any)
			name := tm["metadata"].(map[string]any)["name"].(string)
			class, _ := tm["spec"].(map[string]any)["storageClassName"].(string)
			for i := 0; i < int(replicas); i++ {
				out = append(out, claim{m.Namespace(), name + "-" + m.Name() + "-" + strconv.Itoa(i), class})
			}
		}
		return out
	}
	return nil
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

func TestBackupPlan(t *testing.T) {
	t.Parallel()
	rec := infratest.Run(t, "prod", infratest.WithValue("operations.backup.copyRegion", "us-east-2"))
	plan := rec.Find("aws:backup/plan:Plan", "operations-backup").Plain(false)
	rule := plan["rules"].([]any)[0].(map[string]any)
	if rule["schedule"] != "cron(0 5 * * ? *)" || rule["lifecycle"].(map[string]any)["deleteAfter"] != int64(35) {
		t.Errorf("rule %v", rule)
	}
	if cp := rule["copyActions"].([]any); len(cp) != 1 || cp[0].(map[string]any)["lifecycle"].(map[string]any)["deleteAfter"] != int64(35) {
		t.Errorf("copy actions %v", rule["copyActions"])
	}
	vault := rec.Find("aws:backup/vault:Vault", "operations-backup")
	if !vault.Protect || !vault.RetainOnDelete || vault.Plain(false)["kmsKeyArn"] == nil {
		t.Errorf("prod vault protect %v retain %v key %v", vault.Protect, vault.RetainOnDelete, vault.Plain(false)["kmsKeyArn"])
	}
	copyVault := rec.Find("aws:backup/vault:Vault", "operations-backup-copy")
	if copyVault == nil || !strings.Contains(copyVault.Provider, "operations-backup-copy-region") {
		t.Errorf("copy vault not in the copy region's provider: %+v", copyVault)
	}
	// A retained vault keeps its recovery points; an unprotected one (staging) must not stop a
	// destroy once it holds some.
	staging := infratest.Run(t, "staging", infratest.WithValue("operations.backup.copyRegion", "us-east-2"))
	for _, c := range []struct {
		rec   *infratest.Recorder
		stack string
		force bool
	}{{rec, "prod", false}, {staging, "staging", true}} {
		for _, name := range []string{"operations-backup", "operations-backup-copy"} {
			v := c.rec.Find("aws:backup/vault:Vault", name)
			if v == nil {
				t.Fatalf("%s: no vault %s", c.stack, name)
			}
			if got := v.Plain(false)["forceDestroy"]; got != c.force {
				t.Errorf("%s: vault %s forceDestroy %v, want %v", c.stack, name, got, c.force)
			}
		}
	}
	if efs := rec.Find("aws:efs/backupPolicy:BackupPolicy", "storage-efs-backup").Plain(false); efs["backupPolicy"].(map[string]any)["status"] != "DISABLED" {
		t.Errorf("EFS automatic backups still on next to the plan: %v", efs)
	}
}

func TestAlarms(t *testing.T) {
	t.Parallel()
	rec := infratest.Run(t, "prod", infratest.WithoutValue("operations.alarms.noSubscribers"), infratest.WithValue("operations.alarms.emails", []any{"ops@example.org", "oncall@example.org"}))
	if subs := rec.ByType("aws:sns/topicSubscription:TopicSubscription"); len(subs) != 2 || subs[0].Plain(false)["protocol"] != "email" {
		t.Fatalf("subscriptions %v", subs)
	}
	alarms := rec.ByType("aws:cloudwatch/metricAlarm:MetricAlarm")
	want := []string{"nodes-not-ready", "nodes-below-minimum", "redis-memory", "worker-restarts", "api-server-errors", "efs-throughput", "efs-growth", "alb-5xx",
		"unhealthy-openneuro-prod-api", "unhealthy-openneuro-prod-web"}
	if len(alarms) != len(want) {
		t.Errorf("%d alarms, want %d", len(alarms), len(want))
	}
	for _, key := range want {
		a := rec.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "operations-"+key)
		if a == nil {
			t.Errorf("no alarm %s", key)
			continue
		}
		in := a.Plain(false)
		name, desc := in["name"].(string), in["alarmDescription"].(string)
		if !strings.HasPrefix(name, "openneuro-prod: ") || !strings.Contains(desc, "Look:") || len(desc) > 1024 {
			t.Errorf("%s: name %q / description %q do not say what and where to look (or exceed 1024 characters)", key, name, desc)
		}
		if len(in["alarmActions"].([]any)) != 1 || len(in["okActions"].([]any)) != 1 {
			t.Errorf("%s: actions %v %v", key, in["alarmActions"], in["okActions"])
		}
	}
	below := rec.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "operations-nodes-below-minimum").Plain(false)
	if fmt.Sprint(below["threshold"]) != "6" || below["comparisonOperator"] != "LessThanThreshold" {
		t.Errorf("node minimum alarm: threshold %v (prod: 3 default + 3 storage)", below["threshold"])
	}
	alb := rec.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "operations-alb-5xx").Plain(false)
	q := alb["metricQueries"].([]any)[0].(map[string]any)["metric"].(map[string]any)
	if lbDim := q["dimensions"].(map[string]any)["LoadBalancer"]; !strings.HasPrefix(lbDim.(string), "app/") {
		t.Errorf("ALB alarm dimension %v", lbDim)
	}
	// One unhealthy-targets alarm per target group of the ALB: the group the controller tagged
	// for that Service (ingress.k8s.aws/resource), together with the ALB, as the metric requires.
	for _, svc := range []string{"openneuro-prod-api", "openneuro-prod-web"} {
		in := rec.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "operations-unhealthy-"+svc).Plain(false)
		m := in["metricQueries"].([]any)[0].(map[string]any)["metric"].(map[string]any)
		dims := m["dimensions"].(map[string]any)
		if m["metricName"] != "UnHealthyHostCount" || m["namespace"] != "AWS/ApplicationELB" || m["stat"] != "Maximum" {
			t.Errorf("%s: metric %v", svc, m)
		}
		tg, _ := dims["TargetGroup"].(string)
		if !strings.HasPrefix(tg, "targetgroup/") || dims["LoadBalancer"] != q["dimensions"].(map[string]any)["LoadBalancer"] {
			t.Errorf("%s: dimensions %v, want the target group's and the ALB's", svc, dims)
		}
		if in["comparisonOperator"] != "GreaterThanThreshold" || fmt.Sprint(in["threshold"]) != "0" || fmt.Sprint(in["evaluationPeriods"]) != "3" {
			t.Errorf("%s: %v %v over %v periods", svc, in["comparisonOperator"], in["threshold"], in["evaluationPeriods"])
		}
	}
	if api, web := rec.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "operations-unhealthy-openneuro-prod-api").Plain(false), rec.Find("aws:cloudwatch/metricAlarm:MetricAlarm", "operations-unhealthy-openneuro-prod-web").Plain(false); fmt.Sprint(api["metricQueries"]) == fmt.Sprint(web["metricQueries"]) {
		t.Error("the API's and the web's alarms watch the same target group")
	}
	// An alarm on a pod watches a workload the program runs (Container Insights names pods after
	// their StatefulSet or Deployment); a renamed workload would leave it without data forever.
	statefulSets := map[string]bool{}
	for _, r := range rec.ByType("kubernetes:apps/v1:StatefulSet") {
		meta, _ := r.Plain(false)["metadata"].(map[string]any)
		statefulSets[fmt.Sprint(meta["name"])] = true
	}
	for _, a := range alarms {
		for _, q := range a.Plain(false)["metricQueries"].([]any) {
			m, _ := q.(map[string]any)["metric"].(map[string]any)
			dims, _ := m["dimensions"].(map[string]any)
			podName, _ := dims["PodName"].(string)
			if podName == "" {
				continue
			}
			if !statefulSets[podName] {
				t.Errorf("%s watches pods %q, but no StatefulSet of the program has that name", a.Name, podName)
			}
		}
	}
	if off := infratest.Run(t, "prod", infratest.WithValue("operations.alarms.enabled", false)); len(off.ByType("aws:cloudwatch/metricAlarm:MetricAlarm")) != 0 {
		t.Error("alarms created while disabled")
	}
}

func TestContainerInsights(t *testing.T) {
	t.Parallel()
	rec := infratest.Run(t, "prod")
	cw := rec.Find("aws:eks/addon:Addon", "operations-cloudwatch").Plain(false)
	if cw["addonName"] != "amazon-cloudwatch-observability" || cw["addonVersion"] != "v4.10.0-eksbuild.1" || cw["serviceAccountRoleArn"] == nil {
		t.Errorf("cloudwatch add-on %v", cw)
	}
	role := rec.Find("aws:iam/role:Role", "operations-cloudwatch-role").Plain(false)
	if !strings.Contains(role["assumeRolePolicy"].(string), "system:serviceaccount:amazon-cloudwatch:cloudwatch-agent") {
		t.Errorf("IRSA trust %v", role["assumeRolePolicy"])
	}
	for key, name := range operations.ContainerInsightsLogGroups("openneuro-prod") {
		lg := rec.Find("aws:cloudwatch/logGroup:LogGroup", "operations-logs-"+key).Plain(false)
		if lg["name"] != name || lg["retentionInDays"] != int64(30) {
			t.Errorf("log group %s: %v", key, lg)
		}
	}
	if ms := rec.Find("aws:eks/addon:Addon", "operations-metrics-server").Plain(false); ms["addonVersion"] != "v0.8.1-eksbuild.1" {
		t.Errorf("metrics-server %v", ms)
	}
}
