package cicheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/bootstrap/setup"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// pulumiJobs are the jobs that run pulumi with AWS credentials, keyed as runnableJobs, with the
// pulumi/actions step.
func pulumiJobs(t *testing.T) map[string]struct {
	job  job
	step step
} {
	t.Helper()
	out := map[string]struct {
		job  job
		step step
	}{}
	for name, j := range runnableJobs(t) {
		for _, s := range j.Steps {
			if strings.HasPrefix(s.Uses, "pulumi/actions@") {
				out[name] = struct {
					job  job
					step step
				}{j, s}
			}
		}
	}
	if len(out) < 4 {
		t.Fatalf("found %d pulumi jobs, want deploy staging and prod, destroy and preview", len(out))
	}
	return out
}

// TestOneConcurrencyGroupPerStack: deploys and destroys of a stack share one group, named after the
// stack, and never cancel a running update; no group spans stacks (prod waiting for approval must
// not hold up staging).
func TestOneConcurrencyGroupPerStack(t *testing.T) {
	workflows := loadWorkflows(t)
	for _, file := range []string{"deploy.yml", "destroy.yml", "pulumi-stack.yml"} {
		if len(workflows[file].Concurrency) != 0 {
			t.Errorf("%s has a workflow-wide concurrency group; it would serialise every stack", file)
		}
	}
	for key, pj := range pulumiJobs(t) {
		if pj.step.With["command"] == "preview" {
			continue
		}
		stack, _ := pj.step.With["stack-name"].(string)
		want := "pulumi-" + stack
		if strings.Contains(stack, "inputs.stack") {
			want = "pulumi-${{ inputs.stack }}"
		}
		if pj.job.Concurrency["group"] != want || pj.job.Concurrency["cancel-in-progress"] != false {
			t.Errorf("%s: concurrency %v, want group %s without cancel-in-progress", key, pj.job.Concurrency, want)
		}
	}
}

// TestPulumiCLIPinned: every pulumi/actions step installs the CLI of .pulumi.version, which is the
// version of the Pulumi SDK in go.mod (an older CLI rejects Pulumi.yaml's typed config).
func TestPulumiCLIPinned(t *testing.T) {
	root := stackconfig.RepoRoot()
	version, err := os.ReadFile(filepath.Join(root, ".pulumi.version"))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi/sdk/v3 v(\S+)`).FindSubmatch(gomod)
	if m == nil || strings.TrimSpace(string(version)) != string(m[1]) {
		t.Errorf(".pulumi.version %q, want the SDK version of go.mod %q", strings.TrimSpace(string(version)), m)
	}
	for key, pj := range pulumiJobs(t) {
		if pj.step.With["pulumi-version-file"] != ".pulumi.version" {
			t.Errorf("%s: pulumi/actions does not install the pinned CLI (pulumi-version-file: .pulumi.version)", key)
		}
	}
}

// TestJobsUseTheWholeSession: the deploy and destroy jobs ask for the deploy role's whole session,
// and the job ends before the credentials do. That the session covers the first up is
// infra's TestFirstUpFitsTheDeploySession.
func TestJobsUseTheWholeSession(t *testing.T) {
	for key, pj := range pulumiJobs(t) {
		if pj.step.With["command"] == "preview" {
			continue
		}
		var creds *step
		for _, s := range pj.job.Steps {
			if strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
				creds = &s
			}
		}
		if creds == nil {
			t.Fatalf("%s: no AWS credentials step", key)
		}
		session := fmt.Sprint(creds.With["role-duration-seconds"])
		if session != fmt.Sprint(setup.DeploySessionSeconds) {
			t.Errorf("%s: role-duration-seconds %s, want the deploy role's maximum %d", key, session, setup.DeploySessionSeconds)
		}
		if pj.job.TimeoutMinutes == 0 || pj.job.TimeoutMinutes*60 > setup.DeploySessionSeconds {
			t.Errorf("%s: timeout-minutes %d; the job must end before its %d s credentials do", key, pj.job.TimeoutMinutes, setup.DeploySessionSeconds)
		}
	}
}

// TestBootstrapRolesMatchTheWorkflows: the bootstrap project's deploy role of each stack trusts the
// environment the deploy job of that stack runs in.
func TestBootstrapRolesMatchTheWorkflows(t *testing.T) {
	jobs := runnableJobs(t)
	for _, s := range setup.Stacks {
		found := false
		for key, j := range jobs {
			if !strings.HasPrefix(key, "deploy.yml/") {
				continue
			}
			for _, st := range j.Steps {
				if st.With["stack-name"] == s.Name {
					found = true
					if j.Environment != s.Environment {
						t.Errorf("stack %s deploys in environment %q, its bootstrap role trusts %q", s.Name, j.Environment, s.Environment)
					}
				}
			}
		}
		if !found {
			t.Errorf("deploy.yml does not deploy the bootstrap project's stack %s", s.Name)
		}
	}
}

// TestStackRegionScript: the workflows' region of a stack is its stack file's aws:region.
func TestStackRegionScript(t *testing.T) {
	root := stackconfig.RepoRoot()
	names, _ := stackconfig.Stacks()
	for _, stack := range names {
		data, _ := os.ReadFile(filepath.Join(root, "Pulumi."+stack+".yaml"))
		var f struct {
			Config map[string]any `json:"config"`
		}
		if err := yaml.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		want, _ := f.Config["aws:region"].(string)
		cmd := exec.Command("bash", ".github/scripts/stack-region.sh", stack)
		cmd.Dir = root
		out, err := cmd.Output()
		if got := strings.TrimSpace(string(out)); want != "" && (err != nil || got != want) {
			t.Errorf("%s: script says %q (%v), the stack file %q", stack, got, err, want)
		}
		if want == "" && err == nil {
			t.Errorf("%s has no aws:region, yet the script printed %q", stack, out)
		}
	}
}

// stepRun returns the run script of the named step (or the step with the id) of a job.
func stepRun(t *testing.T, file, jobName, nameOrID string) string {
	t.Helper()
	for _, s := range loadWorkflows(t)[file].Jobs[jobName].Steps {
		if s.Name == nameOrID || s.ID == nameOrID {
			return s.Run
		}
	}
	t.Fatalf("%s/%s has no step %s", file, jobName, nameOrID)
	return ""
}

// TestPreviewRunsAsDocumented: the preview job is not gated on variables (it must run for every
// branch) and runs each stack in the preview environment its bootstrap preview role trusts, never a
// deploy environment; its first step picks the stack's preview role from repository variables, and
// says so when one is missing instead of skipping silently.
func TestPreviewRunsAsDocumented(t *testing.T) {
	preview := loadWorkflows(t)["pull-request.yml"].Jobs["preview"]
	if strings.Contains(preview.If, "vars.") || preview.Environment != "${{ matrix.environment }}" {
		t.Errorf("preview job if %q environment %q: it must run for every branch, in the matrix's preview environment", preview.If, preview.Environment)
	}
	include, _ := preview.Strategy.Matrix["include"].([]any)
	environments := map[string]string{}
	for _, entry := range include {
		m, _ := entry.(map[string]any)
		stack, _ := m["stack"].(string)
		environments[stack], _ = m["environment"].(string)
	}
	for _, s := range setup.Stacks {
		if environments[s.Name] != s.PreviewEnvironment || s.PreviewEnvironment == s.Environment || s.PreviewEnvironment == "" {
			t.Errorf("stack %s previews in environment %q; its preview role trusts %q, its deploy role %q", s.Name, environments[s.Name], s.PreviewEnvironment, s.Environment)
		}
	}
	if len(environments) != len(setup.Stacks) {
		t.Errorf("the preview matrix has %d stacks, the bootstrap %d", len(environments), len(setup.Stacks))
	}
	script := stepRun(t, "pull-request.yml", "preview", "target")
	for _, c := range []struct {
		stack, staging, prod, wantRole, notice string
	}{
		{"staging", "arn:aws:iam::1:role/openneuro-preview-staging", "arn:aws:iam::1:role/openneuro-preview-prod", "arn:aws:iam::1:role/openneuro-preview-staging", ""},
		{"prod", "arn:aws:iam::1:role/openneuro-preview-staging", "arn:aws:iam::1:role/openneuro-preview-prod", "arn:aws:iam::1:role/openneuro-preview-prod", ""},
		{"prod", "arn:aws:iam::1:role/openneuro-preview-staging", "", "", "::notice::no preview of prod: set the repository variable PREVIEW_ROLE_ARN_PROD"},
	} {
		outFile := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Dir = stackconfig.RepoRoot()
		cmd.Env = append(os.Environ(), "STACK="+c.stack, "ROLE_STAGING="+c.staging, "ROLE_PROD="+c.prod, "GITHUB_OUTPUT="+outFile)
		stdout, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", c.stack, err)
		}
		got, _ := os.ReadFile(outFile)
		region := map[string]string{"staging": "us-east-1", "prod": "us-west-2"}[c.stack]
		if string(got) != "role="+c.wantRole+"\nregion="+region+"\n" {
			t.Errorf("%s: outputs %q", c.stack, got)
		}
		if !strings.Contains(string(stdout), c.notice) {
			t.Errorf("%s: %q does not say %q", c.stack, stdout, c.notice)
		}
	}
	for _, s := range preview.Steps[2:] {
		if s.If != "steps.target.outputs.role != ''" {
			t.Errorf("preview step %s %s runs without a preview role", s.Name, s.Uses)
		}
	}
}

// fakeGH is a gh that answers the render-comment script from files and logs every call.
const fakeGH = `#!/usr/bin/env bash
echo "$*" >> "$FAKE_DIR/calls"
case "$1 $2" in
  "pr list") cat "$FAKE_DIR/prs" ;;
  "api repos/"*"/comments") cat "$FAKE_DIR/comments" ;;
  "api --method") echo '{}' ;;
esac
`

// TestRenderCommentFindsItsPRAndComment runs the comment step against a fake gh: the pull request
// comes from the head commit and must match the artifact's number, and the comment with the hidden
// marker is edited in place, or created.
func TestRenderCommentFindsItsPRAndComment(t *testing.T) {
	script := stepRun(t, "render-comment.yml", "comment", "Comment")
	cases := []struct {
		name, claimed, prs, comments string
		ok                           bool
		wantCall                     string
	}{
		{"first comment", "42", "42", "", true, "api --method POST repos/o/r/issues/42/comments -F body=@body.md"},
		{"edit in place", "42", "42", "1001", true, "api --method PATCH repos/o/r/issues/comments/1001 -F body=@body.md"},
		{"artifact claims another PR", "7", "42", "", false, ""},
		{"head commit in no open PR", "42", "", "", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			_ = os.Mkdir(bin, 0o755)
			if err := os.WriteFile(filepath.Join(bin, "gh"), []byte(fakeGH), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range map[string]string{"pr-number": c.claimed + "\n", "body.md": "### Offline render\n", "prs": c.prs, "comments": c.comments} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "-e", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_DIR="+dir, "REPO=o/r", "HEAD_SHA=0123456789abcdef0123456789abcdef01234567")
			out, err := cmd.CombinedOutput()
			if (err == nil) != c.ok {
				t.Fatalf("ok=%v, want %v: %s", err == nil, c.ok, out)
			}
			calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
			if !strings.Contains(string(calls), "pr list --repo o/r --state open --search 0123456789abcdef0123456789abcdef01234567") {
				t.Errorf("the pull request was not resolved from the head commit: %s", calls)
			}
			if c.wantCall != "" && !strings.Contains(string(calls), c.wantCall) {
				t.Errorf("calls %s, want %s", calls, c.wantCall)
			}
			if !c.ok && strings.Contains(string(calls), "--method") {
				t.Errorf("commented although the pull request did not match: %s", calls)
			}
			body, _ := os.ReadFile(filepath.Join(dir, "body.md"))
			if c.ok && !strings.HasPrefix(string(body), "<!-- openneuro-render-diff -->\n") {
				t.Errorf("the posted body carries no marker: %q", body)
			}
		})
	}
}
