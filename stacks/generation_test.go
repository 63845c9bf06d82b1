package stacks_test

import (
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestGenerationDefaults: a stack without app.generation deploys the current OpenNeuro; the stack
// files of today's deployments name the 2020 generation and keep its defaults.
func TestGenerationDefaults(t *testing.T) {
	fresh, err := load(stackconfig.CurrentStack, stackconfig.Current(stackconfig.WithoutValue("app.generation"), stackconfig.WithoutValue("app.replicas"))...)
	if err != nil {
		t.Fatal(err)
	}
	o := fresh.OpenNeuro
	checks := []struct {
		name      string
		got, want any
	}{
		{"generation", o.Generation, stacks.GenCurrent},
		{"version", o.Version, "v5.5.1"},
		{"server image", o.Images.Server, "openneuro/server:v5.5.1"},
		{"app image", o.Images.App, "openneuro/app:v5.5.1"},
		{"datalad-service image", o.Images.DataladService, "openneuro/datalad-service:v5.5.1"},
		{"indexer image", o.Images.Indexer, "openneuro/indexer:v5.5.1"},
		{"redis image", o.Images.Redis, "redis:8.2.3"},
		{"no content image", o.Images.Content, ""},
		{"no dataset store", o.DatasetStore, stacks.DatasetStore("")},
		{"in-cluster GRAPHQL_URI", o.GraphQLURI, "http://openneuro-staging-api:8111/crn/graphql"},
		{"workers", o.Workers, 4},
		{"worker disk", o.WorkerDiskSize, "256Gi"},
		{"worker zone", o.WorkerZone, stackconfig.CurrentWorkerZone},
		{"api replicas (production chart)", o.Replicas.API, 4},
		{"web replicas (production chart)", o.Replicas.Web, 3},
		{"api requests", o.Resources.API.Requests, stacks.Quantities{CPU: "250m", Memory: "1Gi"}},
		{"web requests", o.Resources.Web.Requests, stacks.Quantities{CPU: "100m", Memory: "128Mi"}},
		{"worker requests", o.Resources.Worker.Requests, stacks.Quantities{CPU: "2", Memory: "4Gi"}},
		{"taskiq requests", o.Resources.TaskiqWorker.Requests, stacks.Quantities{CPU: "2", Memory: "16Gi"}},
		{"scheduler requests", o.Resources.Scheduler.Requests, stacks.Quantities{CPU: "500m", Memory: "2Gi"}},
		{"indexer requests = limits", o.Resources.Indexer.Requests, o.Resources.Indexer.Limits},
		{"redis requests", o.Resources.Redis.Requests, stacks.Quantities{CPU: "1", Memory: "2Gi"}},
		{"secrets follow the generation", fresh.Secrets.Generation(), stacks.GenCurrent},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, stack := range []string{"staging", "prod", "local"} {
		cfg, err := load(stack)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.OpenNeuro.Generation != stacks.Gen2020 || cfg.OpenNeuro.Version != "v3.14.2" || cfg.OpenNeuro.Images.Redis != "redis:7.4.2" {
			t.Errorf("%s: generation %q version %q redis %q, want the 2020 stack it was", stack, cfg.OpenNeuro.Generation, cfg.OpenNeuro.Version, cfg.OpenNeuro.Images.Redis)
		}
	}
}

// TestWorkerZoneDefaultsToTheFirstZoneName: with zone names the workers go to the first one.
func TestWorkerZoneDefaultsToTheFirstZoneName(t *testing.T) {
	cfg, err := load(stackconfig.CurrentStack, stackconfig.Current(stackconfig.WithoutValue("app.workerZone"),
		stackconfig.WithValue("network.availabilityZones", []any{"us-east-1b", "us-east-1c", "us-east-1d"}))...)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OpenNeuro.WorkerZone != "us-east-1b" {
		t.Errorf("worker zone %q, want us-east-1b", cfg.OpenNeuro.WorkerZone)
	}
}

// TestWorkersFitInTheirZone: every worker runs in app.workerZone, so the default group's sure share
// of nodes there (minSize over three zones) must hold them; one r5.2xlarge holds one worker pod of
// the production requests.
func TestWorkersFitInTheirZone(t *testing.T) {
	sized := func(n int) []stackconfig.Option {
		return stackconfig.Current(stackconfig.WithValue("cluster.defaultNodeGroup.minSize", n),
			stackconfig.WithValue("cluster.defaultNodeGroup.desiredSize", n))
	}
	_, err := load(stackconfig.CurrentStack, sized(9)...)
	want := "cluster.defaultNodeGroup.minSize: the 4 dataset workers all run in app.workerZone, where 3 of the group's 9 nodes are sure to be"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "set minSize (and desiredSize) to at least 12") {
		t.Errorf("4 workers on 9 x r5.2xlarge over 3 zones: got %v, want %q ... at least 12", err, want)
	}
	if _, err := load(stackconfig.CurrentStack, sized(12)...); err != nil {
		t.Errorf("4 workers on 12 x r5.2xlarge: %v", err)
	}
}

// TestGenerationErrors: every new validation error, each naming its key and the fix.
func TestGenerationErrors(t *testing.T) {
	cur := stackconfig.Current
	cases := []struct {
		name  string
		stack string
		opts  []stackconfig.Option
		want  string
	}{
		{"2020 version in the current generation", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.version", "v3.14.2")),
			`app.version: v3.14.2 does not belong to app.generation current, which covers v5.0.0 to v5.5.x; set app.generation to "2020"`},
		{"current version in the 2020 generation", "prod", []stackconfig.Option{stackconfig.WithValue("app.version", "v5.5.1")},
			`app.version: v5.5.1 does not belong to app.generation 2020, which covers v3.14.x; set app.generation to "current"`},
		{"v3.15 is in neither", "prod", []stackconfig.Option{stackconfig.WithValue("app.version", "v3.15.0")},
			"app.version: v3.15.0 does not belong to app.generation 2020, which covers v3.14.x; set app.version to a release of v3.14.x"},
		{"v4 is not validated", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.version", "v4.47.7")),
			"app.version: v4.47.7 does not belong to app.generation current, which covers v5.0.0 to v5.5.x"},
		{"a later v5 minor is not validated", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.version", "v5.6.0")),
			"app.version: v5.6.0 does not belong to app.generation current"},
		{"unknown generation", "prod", []stackconfig.Option{stackconfig.WithValue("app.generation", "2026")},
			`app.generation: "2026" is not allowed; use current`},
		{"Celery-era keys in current", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.replicas.dataladService", 2), stackconfig.WithValue("app.resources.flower.requests.cpu", "50m")),
			`app.replicas.dataladService: only applies to app.generation "2020"`},
		{"flower resources in current", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.resources.flower.requests.cpu", "50m")),
			`app.resources.flower: only applies to app.generation "2020"`},
		{"EFS dataset store in current", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.datasetStore", "efs")),
			`app.datasetStore: only applies to app.generation "2020"`},
		{"content image in current", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.contentVersion", "v1.0.1")),
			`app.contentVersion: only applies to app.generation "2020"`},
		{"EdgeFS in current", stackconfig.CurrentStack, cur(stackconfig.WithValue("cluster.edgefsNodeGroup.enabled", true), stackconfig.WithValue("cluster.edgefsNodeGroup.minSize", 3), stackconfig.WithValue("cluster.edgefsNodeGroup.maxSize", 3)),
			"edgefs.enabled: EdgeFS only serves the shared datasets volume"},
		{"shared volume size in current", stackconfig.CurrentStack, cur(stackconfig.WithValue("storage.datasetsSize", "1Ti")),
			"storage.datasetsSize: configures the shared datasets volume of app.generation \"2020\""},
		{"worker zone in 2020", "prod", []stackconfig.Option{stackconfig.WithValue("app.workerZone", "us-west-2a")},
			"app.workerZone: only applies to app.generation current"},
		{"worker disk in 2020", "prod", []stackconfig.Option{stackconfig.WithValue("app.workerDiskSize", "1Ti")},
			"app.workerDiskSize: only applies to app.generation current"},
		{"taskiq resources in 2020", "prod", []stackconfig.Option{stackconfig.WithValue("app.resources.taskiqWorker.requests.cpu", "1")},
			"app.resources.taskiqWorker: only applies to app.generation current"},
		{"tracking ids in 2020", "prod", []stackconfig.Option{stackconfig.WithValue("app.googleTrackingIds", "G-1")},
			"app.googleTrackingIds: only applies to app.generation current"},
		{"worker zone outside the cluster", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.workerZone", "us-east-1f"),
			stackconfig.WithValue("network.availabilityZones", []any{"us-east-1a", "us-east-1b", "us-east-1c"})),
			"app.workerZone: us-east-1f is not one of the cluster's zones [us-east-1a us-east-1b us-east-1c]"},
		{"worker zone by ID", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.workerZone", "use1-az1")),
			`app.workerZone: "use1-az1" is not a zone name`},
		{"no worker zone with zone IDs", stackconfig.CurrentStack, cur(stackconfig.WithoutValue("app.workerZone")),
			"app.workerZone: is required when network.availabilityZones are zone IDs"},
		{"disk larger than gp3", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.workerDiskSize", "20Ti")),
			"app.workerDiskSize: 20Ti is above the 16Ti an EBS gp3 volume holds"},
		{"disk size not a quantity", stackconfig.CurrentStack, cur(stackconfig.WithValue("app.workerDiskSize", "lots")),
			`app.workerDiskSize: "lots" is not a Kubernetes quantity`},
		{"protected disks deleted with their claims", stackconfig.CurrentStack, cur(stackconfig.WithValue("storage.protect", true)),
			"storage.reclaimPolicy: is Delete while storage.protect is true; the dataset workers' EBS disks would be deleted with their claims: use Retain"},
		{"worker pod larger than a node", stackconfig.CurrentStack, cur(stackconfig.WithValue("cluster.defaultNodeGroup.instanceType", "m5a.large")),
			"cluster.defaultNodeGroup.instanceType: a m5a.large node leaves"},
		{"2020 mail secrets do not satisfy current", stackconfig.CurrentStack, cur(stackconfig.WithoutValue("CRN_SERVER_MAIL_API_KEY")),
			"openneuro:CRN_SERVER_MAIL_API_KEY: is required"},
		{"GCS backup keys required in current", stackconfig.CurrentStack, cur(stackconfig.WithoutValue("GCP_S3_BACKUP_BUCKET")),
			"openneuro:GCP_S3_BACKUP_BUCKET: is required"},
		{"GitHub login needs its id", stackconfig.CurrentStack, cur(stackconfig.WithoutValue("GITHUB_CLIENT_ID")),
			"openneuro:GITHUB_CLIENT_ID: is required because GITHUB_CLIENT_SECRET is set"},
		{"exports need the token in current", stackconfig.CurrentStack, cur(stackconfig.WithoutValue("DATALAD_GITHUB_TOKEN"), stackconfig.WithValue("app.githubExportsEnabled", true)),
			"app.githubExportsEnabled: is true but the secrets DATALAD_GITHUB_TOKEN are not set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(c.stack, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestOtherGenerationSecretsAreIgnored: the 2020 mail and flower secrets are not required of a
// current stack, and 2020 stacks need none of the current ones.
func TestOtherGenerationSecretsAreIgnored(t *testing.T) {
	var current []stackconfig.Option
	for _, key := range []string{"CRN_SERVER_MAIL_SERVICE", "CRN_SERVER_MAIL_USER", "CRN_SERVER_MAIL_URL", "CRN_SERVER_MAIL_PASS", "FLOWER_BASIC_AUTH"} {
		current = append(current, stackconfig.WithoutValue(key))
	}
	if _, err := load(stackconfig.CurrentStack, stackconfig.Current(current...)...); err != nil {
		t.Errorf("current stack without the 2020 secrets: %v", err)
	}
	var old []stackconfig.Option
	for _, spec := range stacks.SecretSpecs {
		if spec.Only == stacks.GenCurrent {
			old = append(old, stackconfig.WithoutValue(string(spec.Key)))
		}
	}
	if _, err := load("prod", old...); err != nil {
		t.Errorf("2020 stack without the current secrets: %v", err)
	}
}
