package infra_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/deploygraph"
	"github.com/openneuro/openneuro-infra/internal/infratest"
)

// TestCurrentGenerationNeedsNoEFS: a current-generation stack keeps datasets on the workers' EBS
// disks and redis on gp3, so the program creates no EFS file system, mount target, security group,
// EFS CSI add-on, efs class, EFS alarm or EFS backup selection, and exports no file system id; the
// EBS driver, the gp3 class and the backup of the EBS volumes stay, and the worker StatefulSet waits
// for the EBS driver and its class (its claims are deleted before them).
func TestCurrentGenerationNeedsNoEFS(t *testing.T) {
	rec, outs := stackOutputs(t, infratest.CurrentStack, infratest.Current()...)
	for _, r := range rec.Resources() {
		if strings.HasPrefix(r.Type, "aws:efs/") {
			t.Errorf("%s %s in the current generation", r.Type, r.Name)
		}
	}
	if sg := rec.Find("aws:ec2/securityGroup:SecurityGroup", "storage-efs"); sg != nil {
		t.Error("the EFS security group exists")
	}
	var ebs *infratest.Resource
	for _, a := range rec.ByType("aws:eks/addon:Addon") {
		switch a.Plain(false)["addonName"] {
		case "aws-efs-csi-driver":
			t.Error("the EFS CSI add-on exists")
		case "aws-ebs-csi-driver":
			ebs = &a
		}
	}
	if ebs == nil {
		t.Fatal("no EBS CSI add-on")
	}
	var classes []string
	for _, c := range rec.ByType("kubernetes:storage.k8s.io/v1:StorageClass") {
		classes = append(classes, c.Plain(false)["metadata"].(map[string]any)["name"].(string))
	}
	if !slices.Equal(classes, []string{"gp3"}) {
		t.Errorf("storage classes %v, want [gp3]", classes)
	}
	for _, a := range rec.ByType("aws:cloudwatch/metricAlarm:MetricAlarm") {
		if strings.Contains(a.Name, "efs") {
			t.Errorf("EFS alarm %s", a.Name)
		}
	}
	var selections []string
	for _, s := range rec.ByType("aws:backup/selection:Selection") {
		selections = append(selections, s.Plain(false)["name"].(string))
	}
	if !slices.Equal(selections, []string{"dataset-volumes"}) {
		t.Errorf("backup selections %v, want [dataset-volumes] (the EBS volumes of the namespace)", selections)
	}
	if _, ok := outs["efsFileSystemId"]; ok {
		t.Error("the stack exports an EFS file system id")
	}
	workers := rec.Find("kubernetes:apps/v1:StatefulSet", "openneuro-dataset-worker")
	if workers == nil {
		t.Fatal("no dataset workers")
	}
	if !dependsOn(deploygraph.FromResources(rec.Resources()).Requires(), *workers, *ebs) {
		t.Error("the dataset workers (and so their claims) do not wait for the EBS CSI driver")
	}
}
