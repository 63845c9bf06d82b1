package cicheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/infratest"
)

type workflow struct {
	Name string `json:"name"`
	// On is the trigger map; YAML 1.1 reads the bare key `on` as the boolean true.
	On          map[string]any `json:"true"`
	Permissions map[string]any `json:"permissions"`
	Concurrency map[string]any `json:"concurrency"`
	Jobs        map[string]job `json:"jobs"`
}

type job struct {
	RunsOn         string            `json:"runs-on"`
	If             string            `json:"if"`
	Needs          any               `json:"needs"`
	Environment    string            `json:"environment"`
	Permissions    map[string]string `json:"permissions"`
	Concurrency    map[string]any    `json:"concurrency"`
	TimeoutMinutes int               `json:"timeout-minutes"`
	Strategy       struct {
		FailFast bool           `json:"fail-fast"`
		Matrix   map[string]any `json:"matrix"`
	} `json:"strategy"`
	Steps []step `json:"steps"`
}

type step struct {
	ID              string            `json:"id"`
	If              string            `json:"if"`
	Name            string            `json:"name"`
	Uses            string            `json:"uses"`
	Run             string            `json:"run"`
	With            map[string]any    `json:"with"`
	Env             map[string]string `json:"env"`
	ContinueOnError bool              `json:"continue-on-error"`
}

func loadWorkflows(t *testing.T) map[string]workflow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(infratest.RepoRoot(), ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	out := map[string]workflow{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var w workflow
		if err := yaml.UnmarshalStrict(data, &w); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if w.Name == "" || len(w.Jobs) == 0 || len(w.On) == 0 {
			t.Errorf("%s: no name, trigger or jobs", filepath.Base(f))
		}
		for name, j := range w.Jobs {
			if j.RunsOn == "" || len(j.Steps) == 0 {
				t.Errorf("%s/%s: no runs-on or no steps", filepath.Base(f), name)
			}
		}
		out[filepath.Base(f)] = w
	}
	return out
}

var pinned = regexp.MustCompile(`^[\w.-]+/[\w./-]+@v\d+\.\d+\.\d+$`)

func TestActionsArePinnedByVersion(t *testing.T) {
	for file, w := range loadWorkflows(t) {
		for name, j := range w.Jobs {
			for _, s := range j.Steps {
				if s.Uses != "" && !pinned.MatchString(s.Uses) {
					t.Errorf("%s/%s: %q is not pinned to a full version (owner/action@vX.Y.Z)", file, name, s.Uses)
				}
			}
		}
	}
}

var makeCall = regexp.MustCompile(`\bmake\s+([a-z][\w-]*)`)

func TestMakeTargetsExist(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(infratest.RepoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][\w-]*):`).FindAllStringSubmatch(string(data), -1) {
		targets[m[1]] = true
	}
	used := 0
	for file, w := range loadWorkflows(t) {
		for name, j := range w.Jobs {
			for _, s := range j.Steps {
				for _, m := range makeCall.FindAllStringSubmatch(s.Run, -1) {
					used++
					if !targets[m[1]] {
						t.Errorf("%s/%s runs `make %s`, which the Makefile does not define", file, name, m[1])
					}
				}
			}
		}
	}
	if used == 0 {
		t.Error("no workflow runs make; the pull-request workflow must run `make test`")
	}
}

func TestStacksExist(t *testing.T) {
	stacks, err := infratest.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for file, w := range loadWorkflows(t) {
		for name, j := range w.Jobs {
			var names []string
			if m, ok := j.Strategy.Matrix["stack"].([]any); ok {
				for _, s := range m {
					names = append(names, s.(string))
				}
			}
			for _, s := range j.Steps {
				if v, ok := s.With["stack-name"].(string); ok && !strings.Contains(v, "${{") {
					names = append(names, v)
				}
			}
			for _, n := range names {
				if !slices.Contains(stacks, n) {
					t.Errorf("%s/%s deploys stack %q, which has no Pulumi.%s.yaml", file, name, n, n)
				}
			}
		}
	}
	if opts := loadWorkflows(t)["destroy.yml"].On["workflow_dispatch"].(map[string]any)["inputs"].(map[string]any)["stack"].(map[string]any)["options"].([]any); len(opts) == 0 {
		t.Error("destroy.yml offers no stack")
	} else {
		for _, o := range opts {
			if !slices.Contains(stacks, o.(string)) {
				t.Errorf("destroy.yml offers stack %q, which has no Pulumi.%s.yaml", o, o)
			}
		}
	}
}

func TestAWSThroughOIDCOnly(t *testing.T) {
	for file, w := range loadWorkflows(t) {
		for name, j := range w.Jobs {
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
					continue
				}
				if s.With["role-to-assume"] == nil || s.With["aws-access-key-id"] != nil || s.With["aws-secret-access-key"] != nil {
					t.Errorf("%s/%s: AWS access must assume a role through OIDC, never static keys", file, name)
				}
				perm := j.Permissions["id-token"]
				if perm == "" {
					perm, _ = w.Permissions["id-token"].(string)
				}
				if perm != "write" {
					t.Errorf("%s/%s: OIDC needs permissions id-token: write", file, name)
				}
			}
		}
	}
}

func TestDeployGoesThroughProtectedEnvironment(t *testing.T) {
	deploy := loadWorkflows(t)["deploy.yml"]
	prod, staging := deploy.Jobs["prod"], deploy.Jobs["staging"]
	if prod.Environment != "production" || prod.Needs != "staging" {
		t.Errorf("prod must run after staging in the protected environment production; got environment %q needs %v", prod.Environment, prod.Needs)
	}
	if staging.Environment == "production" {
		t.Error("staging must not use the production environment")
	}
}

// TestDestroyRefusesProdWithoutConfirmation runs the guard step's script for real.
func TestDestroyRefusesProdWithoutConfirmation(t *testing.T) {
	var guard string
	for _, s := range loadWorkflows(t)["destroy.yml"].Jobs["destroy"].Steps {
		if s.Name == "Refuse prod without confirmation" {
			guard = s.Run
		}
	}
	if guard == "" {
		t.Fatal("destroy.yml has no guard step")
	}
	cases := []struct {
		stack, confirm string
		allowed        bool
	}{
		{"prod", "", false},
		{"prod", "staging", false},
		{"prod", "prod", true},
		{"staging", "", true},
	}
	for _, c := range cases {
		cmd := exec.Command("bash", "-e", "-c", guard)
		cmd.Env = append(os.Environ(), "STACK="+c.stack, "CONFIRM="+c.confirm)
		err := cmd.Run()
		if (err == nil) != c.allowed {
			t.Errorf("stack=%s confirm=%q: allowed=%v, want %v", c.stack, c.confirm, err == nil, c.allowed)
		}
	}
}

func TestPullRequestWorkflow(t *testing.T) {
	pr := loadWorkflows(t)["pull-request.yml"]
	if _, ok := pr.On["pull_request"]; !ok {
		t.Fatal("pull-request.yml must run on pull_request")
	}
	var runsTests bool
	for _, s := range pr.Jobs["test"].Steps {
		runsTests = runsTests || strings.Contains(s.Run, "make test")
	}
	if !runsTests {
		t.Error("the test job must run make test, the README's test command")
	}
	preview := pr.Jobs["preview"]
	if !strings.Contains(preview.If, "head.repo.full_name == github.repository") {
		t.Error("preview must be skipped for forks (no secrets there)")
	}
	var previews bool
	for _, s := range preview.Steps {
		if strings.HasPrefix(s.Uses, "pulumi/actions@") {
			previews = s.With["command"] == "preview" && s.With["comment-on-pr"] == true && s.With["diff"] == true
		}
	}
	if !previews {
		t.Error("preview must run pulumi preview --diff with comment-on-pr")
	}
	if pr.Permissions["contents"] != "read" || pr.Permissions["pull-requests"] != nil {
		t.Error("the fork-facing workflow must run with read-only permissions; render-comment.yml writes the comment")
	}
}
