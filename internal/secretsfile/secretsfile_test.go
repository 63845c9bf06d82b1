package secretsfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

func TestExampleFileIsCurrent(t *testing.T) {
	path := filepath.Join(stackconfig.RepoRoot(), "stacks", "secrets.example.yaml")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Example() {
		t.Errorf("%s is out of date; run `make generate`", path)
	}
	values, err := Parse(got)
	if err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	if len(values) != 0 {
		t.Errorf("the example carries values: %v", values)
	}
	for _, spec := range stacks.SecretSpecs {
		if !strings.Contains(string(got), "\n"+string(spec.Key)+":") {
			t.Errorf("the example lacks %s", spec.Key)
		}
		mark := "# REQUIRED: "
		if spec.Only != "" {
			mark = "# REQUIRED in app.generation " + string(spec.Only) + " (leave it empty in the other): "
		}
		if spec.Required && !strings.Contains(string(got), mark+spec.Description) {
			t.Errorf("the example does not mark %s as required", spec.Key)
		}
	}
}

func TestParseAndCommands(t *testing.T) {
	file := []byte("JWT_SECRET: s3cret\nMONGO_URL: 'mongodb://u:p@h/db'\nGOOGLE_CLIENT_ID: \"\"\nDATALAD_SSH_KEY: |\n  -----BEGIN OPENSSH PRIVATE KEY-----\n  abc\n  -----END OPENSSH PRIVATE KEY-----\n")
	values, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	cmds := Commands("staging", "", values)
	if len(cmds) != 3 {
		t.Fatalf("want 3 commands (empty values skipped), got %d", len(cmds))
	}
	want := "pulumi config set --secret --stack staging openneuro:JWT_SECRET"
	if got := strings.Join(cmds[0].Args, " "); got != want {
		t.Errorf("first command %q, want %q", got, want)
	}
	for _, c := range cmds {
		for _, a := range c.Args {
			if strings.Contains(a, "s3cret") || strings.Contains(a, "mongodb://") || strings.Contains(a, "abc") {
				t.Errorf("a secret value is on the command line: %v", c.Args)
			}
		}
	}
	if !strings.HasSuffix(cmds[2].Stdin, "-----END OPENSSH PRIVATE KEY-----\n") || cmds[2].Args[6] != "openneuro:DATALAD_SSH_KEY" {
		t.Errorf("the SSH key is not passed whole on stdin: %q", cmds[2].Stdin)
	}
}

func TestParseRejectsUnknownAndNonStrings(t *testing.T) {
	_, err := Parse([]byte("JWT_SECRT: x\nDOI_PREFIX: 10.18112\n"))
	if err == nil {
		t.Fatal("parse accepted a misspelt key and a number")
	}
	for _, want := range []string{"JWT_SECRT is not a secret of this program", "DOI_PREFIX must be a string; quote it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
