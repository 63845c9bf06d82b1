package cicheck

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
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
	// Uses, With and Secrets call a reusable workflow instead of running steps.
	Uses    string         `json:"uses"`
	With    map[string]any `json:"with"`
	Secrets any            `json:"secrets"`
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

// loadWorkflows parses every workflow. Whether they are valid GitHub Actions workflows at all
// (keys, types, expressions, action inputs, the shell of run: scripts) is actionlint's job in `make
// lint`; these tests check what is particular to this project.
func loadWorkflows(t *testing.T) map[string]workflow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(stackconfig.RepoRoot(), ".github", "workflows", "*.yml"))
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
		if err := yaml.Unmarshal(data, &w); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		out[filepath.Base(f)] = w
	}
	return out
}

// reusable reports whether a workflow only runs when another one calls it.
func (w workflow) reusable() bool {
	_, called := w.On["workflow_call"]
	return called && len(w.On) == 1
}

const localWorkflow = "./.github/workflows/"

// runnableJobs are the jobs that run when each workflow is triggered, by "<file>/<job>": the jobs
// of the workflows themselves, and for a job that calls a reusable workflow of this repository, the
// called jobs with the caller's inputs in place of ${{ inputs.* }}, the caller's needs, and the
// called workflow's permissions (capped by the caller's, which TestAWSThroughOIDCOnly checks).
func runnableJobs(t *testing.T) map[string]job {
	t.Helper()
	workflows := loadWorkflows(t)
	out := map[string]job{}
	for file, w := range workflows {
		if w.reusable() {
			continue
		}
		for name, j := range w.Jobs {
			if j.Uses == "" {
				out[file+"/"+name] = j
				continue
			}
			called, ok := workflows[strings.TrimPrefix(j.Uses, localWorkflow)]
			if !strings.HasPrefix(j.Uses, localWorkflow) || !ok {
				t.Fatalf("%s/%s calls %s, which is not a workflow of this repository", file, name, j.Uses)
			}
			for calledName, cj := range called.Jobs {
				cj = withInputs(t, cj, j.With)
				cj.Needs = j.Needs
				if cj.Permissions == nil {
					cj.Permissions = map[string]string{}
					for k, v := range called.Permissions {
						cj.Permissions[k] = fmt.Sprint(v)
					}
				}
				out[file+"/"+name+"/"+calledName] = cj
			}
		}
	}
	return out
}

var inputRef = regexp.MustCompile(`\$\{\{\s*inputs\.([\w-]+)\s*\}\}`)

// withInputs replaces every ${{ inputs.NAME }} in a called job with the caller's value of NAME.
func withInputs(t *testing.T, j job, inputs map[string]any) job {
	t.Helper()
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	data = inputRef.ReplaceAllFunc(data, func(ref []byte) []byte {
		name := string(inputRef.FindSubmatch(ref)[1])
		v, ok := inputs[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		quoted, _ := json.Marshal(fmt.Sprint(v))
		return quoted[1 : len(quoted)-1]
	})
	if len(missing) > 0 {
		t.Fatalf("the caller does not pass the inputs %v", missing)
	}
	var out job
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// usesLine is a `uses:` line of a workflow: what it uses and the comment after it.
var usesLine = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(.*?))?\s*$`)

// pinnedAction is an action pinned to a full commit SHA.
var pinnedAction = regexp.MustCompile(`^([\w.-]+/[\w.-]+)(/[\w./-]+)?@([0-9a-f]{40})$`)

// TestActionsArePinnedBySHA: every action is pinned to a full commit SHA (a tag can be moved to other
// code; a commit cannot), with the release it is in a comment (`uses: owner/action@<sha> # vX.Y.Z`),
// and every workflow uses the same commit of an action, so a bump is one consistent change.
// Reusable workflows of this repository are called by path.
func TestActionsArePinnedBySHA(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(stackconfig.RepoRoot(), ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	type pin struct{ sha, version, where string }
	pins := map[string]pin{}
	lines := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			m := usesLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			lines++
			where := fmt.Sprintf("%s:%d", filepath.Base(f), i+1)
			ref, comment := m[1], m[2]
			if strings.HasPrefix(ref, localWorkflow) {
				continue
			}
			a := pinnedAction.FindStringSubmatch(ref)
			if a == nil || !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(comment) {
				t.Errorf("%s: %q is not pinned as owner/action@<40-hex commit> # vX.Y.Z", where, strings.TrimSpace(line))
				continue
			}
			if p, ok := pins[a[1]]; ok && (p.sha != a[3] || p.version != comment) {
				t.Errorf("%s: %s@%s # %s, but %s uses %s # %s", where, a[1], a[3], comment, p.where, p.sha, p.version)
			}
			pins[a[1]] = pin{a[3], comment, where}
		}
	}
	// Every uses the parser sees was on a line of its own, so none escaped the check.
	parsed := 0
	for _, w := range loadWorkflows(t) {
		for _, j := range w.Jobs {
			if j.Uses != "" {
				parsed++
			}
			for _, s := range j.Steps {
				if s.Uses != "" {
					parsed++
				}
			}
		}
	}
	if parsed != lines || lines == 0 {
		t.Errorf("%d uses: lines, %d uses in the parsed workflows; write each as its own `uses:` line", lines, parsed)
	}
}

var makeCall = regexp.MustCompile(`\bmake\s+([a-z][\w-]*)`)

func TestMakeTargetsExist(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(stackconfig.RepoRoot(), "Makefile"))
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
	stacks, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	deployed := 0
	for name, j := range runnableJobs(t) {
		var names []string
		if m, ok := j.Strategy.Matrix["stack"].([]any); ok {
			for _, s := range m {
				names = append(names, s.(string))
			}
		}
		if include, ok := j.Strategy.Matrix["include"].([]any); ok {
			for _, entry := range include {
				if s, ok := entry.(map[string]any)["stack"].(string); ok {
					names = append(names, s)
				}
			}
		}
		for _, s := range j.Steps {
			if v, ok := s.With["stack-name"].(string); ok && !strings.Contains(v, "${{") {
				names = append(names, v)
			}
		}
		for _, n := range names {
			deployed++
			if !slices.Contains(stacks, n) {
				t.Errorf("%s deploys stack %q, which has no Pulumi.%s.yaml", name, n, n)
			}
		}
	}
	if deployed < 4 {
		t.Errorf("%d stacks named by the workflows, want deploy's staging and prod and the preview matrix", deployed)
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

// TestAWSThroughOIDCOnly: AWS access assumes a role with GitHub's OIDC token, never static keys, and
// the job may ask for the token: its own permissions (a called workflow's) and its caller's, which cap
// them, grant id-token: write.
func TestAWSThroughOIDCOnly(t *testing.T) {
	workflows := loadWorkflows(t)
	grants := func(perms map[string]any) bool { return perms["id-token"] == "write" }
	jobs := runnableJobs(t)
	for key, j := range jobs {
		file, name, _ := strings.Cut(key, "/")
		caller := workflows[file]
		for _, s := range j.Steps {
			if !strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
				continue
			}
			if s.With["role-to-assume"] == nil || s.With["aws-access-key-id"] != nil || s.With["aws-secret-access-key"] != nil {
				t.Errorf("%s: AWS access must assume a role through OIDC, never static keys", key)
			}
			own := j.Permissions["id-token"] == "write" || (len(j.Permissions) == 0 && grants(caller.Permissions))
			callerJob := caller.Jobs[strings.Split(name, "/")[0]]
			capped := callerJob.Uses == "" || callerJob.Permissions["id-token"] == "write" || (len(callerJob.Permissions) == 0 && grants(caller.Permissions))
			if !own || !capped {
				t.Errorf("%s: OIDC needs permissions id-token: write (granted by the job: %v, by its caller: %v)", key, own, capped)
			}
		}
	}
}

func TestDeployGoesThroughProtectedEnvironment(t *testing.T) {
	jobs := runnableJobs(t)
	prod, staging := jobs["deploy.yml/prod/pulumi"], jobs["deploy.yml/staging/pulumi"]
	if prod.Environment != "production" || prod.Needs != "staging" {
		t.Errorf("prod must run after staging in the protected environment production; got environment %q needs %v", prod.Environment, prod.Needs)
	}
	if staging.Environment == "production" {
		t.Error("staging must not use the production environment")
	}
}

// TestDestroyRefusesProdWithoutConfirmation runs the guard step's script for real, and checks that the
// destroy waits for the job that runs it.
func TestDestroyRefusesProdWithoutConfirmation(t *testing.T) {
	var guard, guardJob string
	destroy := loadWorkflows(t)["destroy.yml"]
	for name, j := range destroy.Jobs {
		for _, s := range j.Steps {
			if s.Name == "Refuse prod without confirmation" {
				guard, guardJob = s.Run, name
			}
		}
	}
	if guard == "" {
		t.Fatal("destroy.yml has no guard step")
	}
	destroys := 0
	for key, j := range runnableJobs(t) {
		for _, s := range j.Steps {
			if strings.HasPrefix(key, "destroy.yml/") && strings.HasPrefix(s.Uses, "pulumi/actions@") {
				destroys++
				if s.With["command"] != "destroy" || j.Needs != guardJob {
					t.Errorf("%s: command %v needs %v; want destroy after the guard job %s", key, s.With["command"], j.Needs, guardJob)
				}
			}
		}
	}
	if destroys != 1 {
		t.Errorf("destroy.yml runs pulumi %d times, want once", destroys)
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
