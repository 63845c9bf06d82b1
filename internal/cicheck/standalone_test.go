package cicheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// internalDocument matches a citation of a document users of this repository do not have: the
// team's working notes (shared/..., DESIGN.md, STYLE.md, the reference and review files).
var internalDocument = regexp.MustCompile(`shared/|DESIGN\.md|STYLE\.md|STYLE practice|reference/(openneuro-chart|openneuro-current|deploy-times|rook-edgefs)\.md|review-[a-z]+\.md`)

// TestRepositoryStandsAlone: no file, output or document of the repository cites a document its
// users do not have; sources are cited upstream. And it carries a licence, MIT as OpenNeuro's own.
func TestRepositoryStandsAlone(t *testing.T) {
	root := stackconfig.RepoRoot()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == ".git" || rel == "out" || strings.HasPrefix(d.Name(), ".cache") {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil || strings.ContainsRune(string(data[:min(len(data), 512)]), 0) {
			return err // unreadable, or binary
		}
		if rel == "internal/cicheck/standalone_test.go" {
			return nil
		}
		for i, line := range strings.Split(string(data), "\n") {
			if m := internalDocument.FindString(line); m != "" {
				t.Errorf("%s:%d cites %q, which users of the repository do not have; cite the upstream source", rel, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	license, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	if err != nil || !strings.HasPrefix(string(license), "The MIT License (MIT)") || !strings.Contains(string(license), "Permission is hereby granted, free of charge") {
		t.Errorf("LICENSE is missing or not the MIT licence: %v", err)
	}
}
