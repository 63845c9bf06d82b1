package stacks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
	"github.com/openneuro/openneuro-infra/stacks"
)

// TestSecretKeysAreSpelledOnce: the program's code names a secret only by its stacks.SecretKey
// constant. A key spelt as a string elsewhere (a typo there would compile and silently read
// nothing) fails here. Tests may spell keys: they set config the way an operator does.
func TestSecretKeysAreSpelledOnce(t *testing.T) {
	keys := map[string]bool{}
	for _, spec := range stacks.SecretSpecs {
		keys[string(spec.Key)] = true
	}
	root := stackconfig.RepoRoot()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || rel == filepath.Join("stacks", "secretkeys.go") {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && keys[s] {
					t.Errorf("%s spells the secret key %q; use its stacks.SecretKey constant (stacks/secretkeys.go)", rel, s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
