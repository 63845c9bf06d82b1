package infra_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// updateBaseline rewrites the data-holding baseline: a release step (CHANGELOG.md, "Cutting a
// release"), never a fix for a failing guard.
var updateBaseline = flag.Bool("update-data-baseline", false, "rewrite testdata/dataholding/ from the working tree (at a release only)")

// replaceInputs are, per type of data-holding resource, the inputs whose change makes its provider
// replace the resource (delete it and create a new one):
//   - Kubernetes: pulumi-kubernetes v4.32.0 provider/pkg/provider/diff.go (every kind's
//     metadata.name and metadata.namespace, plus the kind's own list; a Patch resource has only the
//     two, provider.go "Patch resources can be updated in place for all other properties");
//   - AWS: terraform-provider-aws v5.100.0 (bridged by pulumi-aws v6.83), the arguments with
//     ForceNew of each resource;
//   - eks:index:Cluster: the arguments pulumi-eks v3.9.1 (nodejs/eks/cluster/cluster.ts) passes
//     to its aws.eks.Cluster's ForceNew arguments (name, roleArn, the service CIDR, the IP family,
//     the encryption config).
var replaceInputs = map[string][]string{
	"kubernetes:core/v1:PersistentVolumeClaim": {"metadata.name", "metadata.namespace",
		"spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"},
	"kubernetes:core/v1:PersistentVolumeClaimPatch": {"metadata.name", "metadata.namespace"},
	"kubernetes:core/v1:PersistentVolume": {"metadata.name", "spec.awsElasticBlockStore", "spec.azureDisk",
		"spec.azureFile", "spec.cephfs", "spec.cinder", "spec.csi", "spec.fc", "spec.flexVolume", "spec.flocker",
		"spec.gcePersistentDisk", "spec.glusterfs", "spec.hostPath", "spec.iscsi", "spec.local", "spec.nfs",
		"spec.photonPersistentDisk", "spec.portworxVolume", "spec.quobyte", "spec.rbd", "spec.scaleIO",
		"spec.storageos", "spec.vsphereVolume"},
	"kubernetes:apps/v1:StatefulSet": {"metadata.name", "metadata.namespace", "spec.podManagementPolicy",
		"spec.revisionHistoryLimit", "spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"},
	// Deleting a namespace deletes every claim in it; deleting the CRD deletes every Cluster.
	"kubernetes:core/v1:Namespace":                                {"metadata.name"},
	"kubernetes:edgefs.rook.io/v1:Cluster":                        {"metadata.name", "metadata.namespace"},
	"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": {"metadata.name"},
	"aws:efs/fileSystem:FileSystem": {"availabilityZoneName", "creationToken", "encrypted", "kmsKeyId",
		"performanceMode"},
	"aws:efs/accessPoint:AccessPoint": {"fileSystemId", "posixUser", "rootDirectory"},
	"aws:efs/mountTarget:MountTarget": {"fileSystemId", "subnetId", "ipAddress"},
	"aws:kms/key:Key":                 {"customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"},
	"aws:backup/vault:Vault":          {"name", "kmsKeyArn"},
	"eks:index:Cluster":               {"name", "serviceRole", "kubernetesServiceIpAddressRange", "ipFamily", "encryptionConfigKeyArn"},
	"aws:eks/nodeGroup:NodeGroup": {"amiType", "capacityType", "clusterName", "diskSize", "instanceTypes",
		"nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "subnetIds", "launchTemplate.id",
		"launchTemplate.name", "remoteAccess"},
}

// holdsData says which resources of those types hold data: all of them, but for node groups only
// the storage group (its NVMe holds EdgeFS's data; the default group's nodes hold nothing).
func holdsData(r infratest.Resource) bool {
	if _, ok := replaceInputs[r.Type]; !ok {
		return false
	}
	return r.Type != "aws:eks/nodeGroup:NodeGroup" || r.Name == "cluster-edgefs-target"
}

// dataVariants are the renders the guard covers: every stack file, and the current generation.
func dataVariants(t *testing.T) map[string][]infratest.Option {
	variants := map[string][]infratest.Option{"current": infratest.Current()}
	for _, s := range stacks(t) {
		variants[s] = nil
	}
	return variants
}

// heldData is a data-holding resource as the guard records it: its type and the values of the
// inputs that would replace it.
type heldData struct {
	Type   string         `json:"type"`
	Inputs map[string]any `json:"inputs,omitempty"`
}

// baseline is what the guard compares a render with: the data-holding resources by URN, and the
// URN of every Kubernetes object by the object's identity ("<apiVersion> <kind> <namespace>/<name>").
type baseline struct {
	Held    map[string]heldData `json:"held"`
	Objects map[string]string   `json:"objects"`
}

func heldDataOf(r infratest.Resource, paths []string) heldData {
	h := heldData{Type: r.Type, Inputs: map[string]any{}}
	plain := r.Plain(true)
	for _, p := range paths {
		if v, ok := lookup(plain, p); ok {
			h.Inputs[p] = v
		}
	}
	return h
}

// lookup is the value at a dotted path of plain inputs.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// TestDataHoldingResourcesKeepTheirIdentity guards what holds data against the one thing an
// update must never do to it: replace or delete it. Against the baseline rendered from the last
// release (testdata/dataholding/<stack>.yaml), every data-holding resource of every stack's render
// must still be there under its URN or an alias of it, with every input that would make its
// provider replace it unchanged (an input in the resource's ignoreChanges is never sent again,
// so it does not count), unless CHANGELOG.md documents its migration (a "### Migrations" item of
// the unreleased section that names the resource in backticks).
func TestDataHoldingResourcesKeepTheirIdentity(t *testing.T) {
	t.Parallel()
	migrations := documentedMigrations(t)
	for variant, opts := range dataVariants(t) {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			rec := infratest.Run(t, variantStack(variant), opts...)
			path := baselinePath(variant)
			if *updateBaseline {
				writeBaseline(t, path, heldNow(rec))
				return
			}
			for _, v := range dataViolations(rec, readBaseline(t, path), migrations) {
				t.Error(v)
			}
		})
	}
}

// TestDataGuardCatchesWhatWouldReplace: the guard fails a render that moves the application to
// another namespace (the namespace and every namespaced object, the claims among them, would be
// replaced), and lets a documented migration through.
func TestDataGuardCatchesWhatWouldReplace(t *testing.T) {
	t.Parallel()
	base := readBaseline(t, baselinePath("local"))
	moved := infratest.Run(t, "local", infratest.WithValue("app.namespace", "openneuro-moved"))
	got := strings.Join(dataViolations(moved, base, nil), "\n")
	for _, want := range []string{
		"openneuro-namespace: metadata.name changes from openneuro to openneuro-moved",
		"openneuro-redis: metadata.namespace changes from openneuro to openneuro-moved",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the guard does not report %q; it reports:\n%s", want, got)
		}
	}
	if left := dataViolations(moved, base, map[string]bool{"openneuro-namespace": true}); strings.Contains(strings.Join(left, "\n"), "openneuro-namespace:") {
		t.Errorf("a documented migration of openneuro-namespace is still reported: %v", left)
	}

	// A baseline in which the redis StatefulSet had another logical name: the render renames it
	// without an alias.
	renamed := baseline{Held: map[string]heldData{}, Objects: map[string]string{}}
	for id, urn := range base.Objects {
		if strings.HasSuffix(urn, "::openneuro-redis") {
			urn = strings.TrimSuffix(urn, "openneuro-redis") + "openneuro-redis-old"
		}
		renamed.Objects[id] = urn
	}
	got = strings.Join(dataViolations(infratest.RunShared(t, "local"), renamed, nil), "\n")
	if want := "openneuro-redis-old: the object apps/v1 StatefulSet openneuro/openneuro-local-redis-master moves"; !strings.Contains(got, want) {
		t.Errorf("the guard does not report %q; it reports:\n%s", want, got)
	}
}

func variantStack(variant string) string {
	if variant == "current" {
		return infratest.CurrentStack
	}
	return variant
}

func baselinePath(variant string) string {
	return filepath.Join("testdata", "dataholding", variant+".yaml")
}

// heldNow records a render as a baseline.
func heldNow(rec *infratest.Recorder) baseline {
	now := baseline{Held: map[string]heldData{}, Objects: map[string]string{}}
	for _, r := range rec.Resources() {
		if holdsData(r) {
			now.Held[r.URN] = heldDataOf(r, replaceInputs[r.Type])
		}
		if id, ok := objectIdentity(r); ok {
			now.Objects[id] = r.URN
		}
	}
	return now
}

// objectIdentity is what names a Kubernetes object in its cluster: its API version, kind,
// namespace and name.
func objectIdentity(r infratest.Resource) (string, bool) {
	if !r.IsKubernetesObject() {
		return "", false
	}
	in := r.Plain(false)
	md, _ := in["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	if name == "" {
		return "", false
	}
	ns, _ := md["namespace"].(string)
	return fmt.Sprintf("%v %v %s/%s", in["apiVersion"], in["kind"], ns, name), true
}

// dataViolations lists what the render would do to the baseline's resources that loses their
// data: a data-holding resource that nothing answers to by URN or alias (the up deletes it), or
// whose input that replaces it changed; a resource named in migrations is left out. And, for any
// Kubernetes object, a new URN without an alias of the old one: the provider, which creates by
// server-side apply, would take the object over under the new name and then delete it under the
// old one.
func dataViolations(rec *infratest.Recorder, base baseline, migrations map[string]bool) []string {
	byURN := map[string]infratest.Resource{}
	for _, r := range rec.Resources() {
		byURN[r.URN] = r
		for _, alias := range r.AliasURNs {
			byURN[alias] = r
		}
	}
	var out []string
	for _, r := range rec.Resources() {
		id, ok := objectIdentity(r)
		if !ok {
			continue
		}
		if old, was := base.Objects[id]; was && old != r.URN && !slices.Contains(r.AliasURNs, old) && !migrations[resourceName(old)] {
			out = append(out, fmt.Sprintf("%s: the object %s moves from %s to %s without an alias; the up would take it over "+
				"under the new name and delete it under the old one", resourceName(old), id, old, r.URN))
		}
	}
	for urn, was := range base.Held {
		name := resourceName(urn)
		if migrations[name] {
			continue
		}
		r, ok := byURN[urn]
		if !ok {
			out = append(out, fmt.Sprintf("%s: gone from the render, so the next up deletes it (%s); keep it, give its new "+
				"identity an alias, or document its migration in CHANGELOG.md", name, urn))
			continue
		}
		plain := r.Plain(true)
		for _, p := range replaceInputs[r.Type] {
			if ignored(r, p) {
				continue
			}
			before, hadIt := was.Inputs[p]
			after, hasIt := lookup(plain, p)
			if hadIt != hasIt || !reflect.DeepEqual(asJSON(before), asJSON(after)) {
				out = append(out, fmt.Sprintf("%s: %s changes from %s to %s, which makes the provider replace it (%s); "+
					"keep the input, ignore its changes, or document the migration in CHANGELOG.md",
					name, p, show(before, hadIt), show(after, hasIt), r.URN))
			}
		}
	}
	sort.Strings(out)
	return out
}

// asJSON is v as JSON decodes it (every number a float64), so that a value read back from the
// baseline compares equal to the render's.
func asJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return v
	}
	return out
}

// ignored reports whether path is within one of the resource's ignoreChanges.
func ignored(r infratest.Resource, path string) bool {
	for _, ig := range r.IgnoreChanges {
		if path == ig || strings.HasPrefix(path, ig+".") {
			return true
		}
	}
	return false
}

func show(v any, ok bool) string {
	if !ok {
		return "(unset)"
	}
	return fmt.Sprintf("%v", v)
}

// resourceName is the logical name at the end of a URN.
func resourceName(urn string) string { return urn[strings.LastIndex(urn, "::")+2:] }

func readBaseline(t *testing.T, path string) baseline {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rendered at each release: go test ./infra -run TestDataHolding -update-data-baseline)", err)
	}
	var out baseline
	if err := yaml.UnmarshalStrict(b, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(out.Held) == 0 || len(out.Objects) == 0 {
		t.Fatalf("%s lists no data-holding resource or no object", path)
	}
	return out
}

func writeBaseline(t *testing.T, path string, now baseline) {
	t.Helper()
	b, err := yaml.Marshal(now)
	if err != nil {
		t.Fatal(err)
	}
	head := "# This render at the last release: its data-holding resources with the inputs that would\n" +
		"# replace them, and the URN of every Kubernetes object (infra/dataholding_test.go).\n" +
		"# Rewritten at each release only.\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte(head), b...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// migrationItem is a bullet of a "### Migrations" list that names a resource first, in backticks.
var migrationItem = regexp.MustCompile("^- `([^`]+)`")

// documentedMigrations are the resources whose migration the unreleased section of CHANGELOG.md
// documents (the text before the first released version's heading).
func documentedMigrations(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	inMigrations := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "## ") && !strings.HasPrefix(line, "## Unreleased"):
			return out
		case strings.HasPrefix(line, "### "):
			inMigrations = strings.TrimSpace(line) == "### Migrations"
		case inMigrations:
			if m := migrationItem.FindStringSubmatch(line); m != nil {
				out[m[1]] = true
			}
		}
	}
	return out
}
