package stacks_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/bootstrap/setup"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// sourcedFacts are the account-specific values the committed stack files may carry, each with where
// it comes from. A value that looks real but has no source (an ARN typed from memory, a made-up
// suffix) is worse than none: it fails only at the first real `pulumi up`, after minutes of waiting.
var sourcedFacts = map[string]string{
	"arn:aws:acm:us-east-1:488777458602:certificate/6883342b-63ac-4466-b3f8-d9a8dd80bfaa": "OpenNeuroOrg/openneuro helm/openneuro/values.yaml, chart history (commit 04beeddda)",
	"arn:aws:acm:us-west-2:488777458602:certificate/d37b43e0-9af3-423a-86ef-0652e0332e33": "OpenNeuroOrg/openneuro helm/openneuro/values-production.yaml, chart history (commit 04beeddda)",
}

// bootstrapRole reports whether arn is a role the bootstrap project creates for this stack, in an
// account of the sourced facts: the README's first step creates it there.
func bootstrapRole(arn, stack string, accounts map[string]bool) bool {
	for account := range accounts {
		for _, name := range []string{setup.DeployRoleName(stack), setup.PreviewRoleName(stack), setup.AdminRoleName(stack)} {
			if arn == "arn:aws:iam::"+account+":role/"+name {
				return true
			}
		}
	}
	return false
}

var (
	arnInText     = regexp.MustCompile(`arn:aws[\w-]*:[^\s"',\]]+`)
	accountInText = regexp.MustCompile(`\b[0-9]{12}\b`)
)

// TestStackFilesCarryOnlySourcedFacts: every ARN in a committed stack file is a sourced fact or a
// role the bootstrap project creates in a sourced account, and every AWS account id appears only
// inside a sourced fact.
func TestStackFilesCarryOnlySourcedFacts(t *testing.T) {
	names, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	accounts := map[string]bool{}
	for fact := range sourcedFacts {
		for _, a := range accountInText.FindAllString(fact, -1) {
			accounts[a] = true
		}
	}
	for _, stack := range names {
		data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Pulumi."+stack+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, arn := range arnInText.FindAllString(line, -1) {
				if _, ok := sourcedFacts[arn]; !ok && !bootstrapRole(arn, stack, accounts) {
					t.Errorf("Pulumi.%s.yaml: %s has no recorded source; add it to sourcedFacts with where it comes from, or make it a required setting", stack, arn)
				}
			}
			for _, a := range accountInText.FindAllString(line, -1) {
				if !accounts[a] {
					t.Errorf("Pulumi.%s.yaml: account id %s appears in no sourced value", stack, a)
				}
			}
		}
	}
	// The sources themselves must still be what the stack files use.
	for fact := range sourcedFacts {
		used := false
		for _, stack := range names {
			data, _ := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Pulumi."+stack+".yaml"))
			used = used || strings.Contains(string(data), fact)
		}
		if !used {
			t.Errorf("sourcedFacts lists %s, which no stack file uses; remove it", fact)
		}
	}
}
