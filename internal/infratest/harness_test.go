package infratest_test

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// program registers a small tree that exercises everything the recorder keeps.
func program(ctx *pulumi.Context) error {
	cfg, err := stacks.Load(ctx)
	if err != nil {
		return err
	}
	comp := &struct{ pulumi.ResourceState }{}
	if err := ctx.RegisterComponentResource("openneuro:test:Component", "comp", comp); err != nil {
		return err
	}
	provider, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String("{}")}, pulumi.Parent(comp))
	if err != nil {
		return err
	}
	ns, err := corev1.NewNamespace(ctx, "comp-ns", &corev1.NamespaceArgs{
		Metadata: metav1.ObjectMetaArgs{Name: pulumi.String("openneuro")},
	}, pulumi.Parent(comp), pulumi.Provider(provider))
	if err != nil {
		return err
	}
	_, err = corev1.NewSecret(ctx, "comp-secret", &corev1.SecretArgs{
		Metadata:   metav1.ObjectMetaArgs{Namespace: ns.Metadata.Name()},
		StringData: pulumi.StringMap{"JWT_SECRET": cfg.Secrets.Get("JWT_SECRET")},
	}, pulumi.Parent(comp), pulumi.Provider(provider), pulumi.Protect(true), pulumi.RetainOnDelete(true))
	return err
}

func TestRecorderKeepsEverything(t *testing.T) {
	rec := infratest.Run(t, "staging", infratest.WithProgram(program))
	secret := rec.Find("kubernetes:core/v1:Secret", "comp-secret")
	ns := rec.Find("kubernetes:core/v1:Namespace", "comp-ns")
	comp := rec.Find("openneuro:test:Component", "comp")
	if secret == nil || ns == nil || comp == nil {
		t.Fatalf("missing resources: %+v", rec.Resources())
	}
	if secret.Parent != comp.URN {
		t.Errorf("parent %q, want %q", secret.Parent, comp.URN)
	}
	if !strings.HasPrefix(secret.Provider, "urn:pulumi:staging::openneuro::openneuro:test:Component$pulumi:providers:kubernetes::k8s::") {
		t.Errorf("provider reference %q", secret.Provider)
	}
	if !secret.Protect || !secret.RetainOnDelete {
		t.Errorf("protect=%v retainOnDelete=%v, want both", secret.Protect, secret.RetainOnDelete)
	}
	if got := secret.PropertyDependencies["metadata"]; len(got) != 1 || got[0] != ns.URN {
		t.Errorf("metadata property dependencies %v, want [%s]", got, ns.URN)
	}
	if want := "urn:pulumi:staging::openneuro::openneuro:test:Component$kubernetes:core/v1:Secret::comp-secret"; secret.URN != want {
		t.Errorf("URN %q, want %q", secret.URN, want)
	}
	if comp.Custom || !secret.Custom {
		t.Error("component/custom flags are wrong")
	}
}

func TestManifestsAndRedaction(t *testing.T) {
	rec := infratest.Run(t, "staging", infratest.WithProgram(program))
	manifests := rec.Manifests(true)
	if len(manifests) != 2 {
		t.Fatalf("want 2 manifests (Namespace, Secret), got %d", len(manifests))
	}
	secret := manifests[1]
	if secret.Kind() != "Secret" || secret.APIVersion() != "v1" || secret.Namespace() != "openneuro" {
		t.Errorf("secret manifest identity: %s %s %s", secret.APIVersion(), secret.Kind(), secret.Namespace())
	}
	if !strings.HasPrefix(secret.Name(), "comp-secret-") {
		t.Errorf("an unnamed object gets the provider's auto-name, got %q", secret.Name())
	}
	data := secret.Object["stringData"].(map[string]any)
	if data["JWT_SECRET"] != infratest.Redacted {
		t.Errorf("redacted manifest shows %v", data["JWT_SECRET"])
	}
	plain := rec.Manifests(false)[1].Object["stringData"].(map[string]any)
	if plain["JWT_SECRET"] != stackconfig.SecretPlaceholders()["JWT_SECRET"] {
		t.Errorf("unredacted manifest shows %v, want the placeholder", plain["JWT_SECRET"])
	}
	for _, r := range rec.Records() {
		if r.Type == "kubernetes:core/v1:Secret" && r.Inputs["stringData"].(map[string]any)["JWT_SECRET"] != infratest.Redacted {
			t.Error("resources.json records must redact secrets")
		}
	}
}

func TestWithValueAndWithoutValue(t *testing.T) {
	var got *stacks.Config
	load := infratest.WithProgram(func(ctx *pulumi.Context) error {
		var err error
		got, err = stacks.Load(ctx)
		return err
	})
	infratest.Run(t, "staging", load, infratest.WithValue("app.replicas.api", 7), infratest.WithoutValue("app.googleTrackingId"))
	if got.OpenNeuro.Replicas.API != 7 || got.OpenNeuro.Hostname != "openneuro.staging.sqm.io" || got.OpenNeuro.GoogleTrackingID != "" {
		t.Errorf("options not applied on top of the stack file: %+v", got.OpenNeuro.Replicas)
	}
}

func TestSharedRunIsOneRunThatCallersCannotChange(t *testing.T) {
	t.Parallel()
	var memo infratest.Memo[*infratest.Recorder]
	var computed int
	get := func() *infratest.Recorder {
		return memo.Get(t, "staging", func() *infratest.Recorder {
			computed++
			return infratest.Run(t, "staging", infratest.WithProgram(program))
		})
	}
	a, b := get(), get()
	if a != b || computed != 1 {
		t.Fatalf("two asks computed %d runs, want 1 shared", computed)
	}
	secret := a.Find("kubernetes:core/v1:Secret", "comp-secret")
	secret.Inputs["stringData"] = resource.NewProperty("changed")
	secret.DependsOn[0] = "changed"
	a.Resources()[0].Inputs["changed"] = resource.NewProperty(true)
	again := b.Find("kubernetes:core/v1:Secret", "comp-secret")
	if again.Inputs["stringData"].IsString() || again.DependsOn[0] == "changed" {
		t.Error("a caller changed the shared recorder through a returned resource")
	}
	if _, ok := b.Resources()[0].Inputs["changed"]; ok {
		t.Error("a caller changed the shared recorder through Resources()")
	}
	first := infratest.RunShared(t, "local")
	if second := infratest.RunShared(t, "local"); first != second {
		t.Error("RunShared ran the stack twice")
	}
}

func TestDiffShowsOnlyWhatVaries(t *testing.T) {
	t.Parallel()
	got := infratest.Diff("prod.golden.yaml", "staging", []byte("a: 1\nb: 2\nc: 3\n"), []byte("a: 1\nb: 20\nc: 3\n"))
	want := "--- prod.golden.yaml\n+++ staging\n@@ -1,3 +1,3 @@\n a: 1\n-b: 2\n+b: 20\n c: 3\n"
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if d := infratest.Diff("a", "b", []byte("same\n"), []byte("same\n")); d != "" {
		t.Errorf("equal inputs give %q, want no diff", d)
	}
}
