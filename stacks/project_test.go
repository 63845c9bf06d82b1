package stacks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestPulumiCLIAcceptsProjectAndStackFiles loads Pulumi.yaml and every Pulumi.<stack>.yaml with the
// Pulumi SDK's own loaders, which apply the project schema and config declarations the CLI enforces.
func TestPulumiCLIAcceptsProjectAndStackFiles(t *testing.T) {
	root := stackconfig.RepoRoot()
	project, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatalf("the Pulumi CLI would reject Pulumi.yaml: %v", err)
	}
	if err := project.Validate(); err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	if project.Runtime.Name() != "go" {
		t.Errorf("runtime %q, want go", project.Runtime.Name())
	}
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	names, _ := stackconfig.Stacks()
	for _, stack := range names {
		if _, err := workspace.LoadProjectStack(sink, project, filepath.Join(root, "Pulumi."+stack+".yaml")); err != nil {
			t.Errorf("the Pulumi CLI would reject Pulumi.%s.yaml: %v", stack, err)
		}
	}
}
