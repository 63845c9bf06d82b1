package stacks_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestAddonBuildsPerKubernetesVersion: every supported version gets its own row of builds (kube-proxy
// of the same minor version), and a version without a row is rejected with the supported ones named.
func TestAddonBuildsPerKubernetesVersion(t *testing.T) {
	versions := stacks.SupportedKubernetesVersions()
	if len(versions) == 0 || versions[len(versions)-1] < stacks.DefaultKubernetesVersion {
		t.Fatalf("supported versions %v do not include the default %s", versions, stacks.DefaultKubernetesVersion)
	}
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			cfg, err := load("prod", stackconfig.WithValue("cluster.kubernetesVersion", version))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := stacks.AddonBuildsFor(version)
			got := stacks.AddonBuilds{KubeProxy: cfg.Cluster.KubeProxyVersion, VpcCni: cfg.Cluster.VpcCniVersion,
				EFSCSIDriver: cfg.Storage.EFSCSIDriverVersion, EBSCSIDriver: cfg.Storage.EBSCSIDriverVersion,
				MetricsServer: cfg.Operations.Metrics.MetricsServerVersion, CloudWatchObservability: cfg.Operations.Metrics.CloudWatchAddonVersion}
			if got != want {
				t.Errorf("builds %+v, want %+v", got, want)
			}
			if !strings.HasPrefix(want.KubeProxy, "v"+version+".") {
				t.Errorf("kube-proxy %s is not a build of Kubernetes %s", want.KubeProxy, version)
			}
		})
	}
	_, err := load("prod", stackconfig.WithValue("cluster.kubernetesVersion", "1.36"))
	want := `cluster.kubernetesVersion: "1.36" is not supported: stacks/addons.go has no verified EKS add-on builds for it; use one of ` + strings.Join(versions, ", ")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("want %q, got %v", want, err)
	}
	// One clear message, not one per add-on left without a default.
	if err != nil && strings.Contains(err.Error(), "is not a pinned version") {
		t.Errorf("an unsupported version also reports empty add-on builds:\n%v", err)
	}
}

// TestREADMESupportedRange: every Kubernetes version range the README states is the table's.
func TestREADMESupportedRange(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	versions := stacks.SupportedKubernetesVersions()
	want := versions[0] + "-" + versions[len(versions)-1]
	ranges := regexp.MustCompile(`\b1\.[0-9]+-1\.[0-9]+\b`).FindAllString(string(data), -1)
	if len(ranges) == 0 {
		t.Fatal("the README states no supported Kubernetes range")
	}
	for _, r := range ranges {
		if r != want {
			t.Errorf("the README says %s; the supported range is %s (stacks/addons.go)", r, want)
		}
	}
}
