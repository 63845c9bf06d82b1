package infratest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Golden compares got with testdata/<name> (relative to the test's package) and rewrites the file
// with -update. Golden files are never edited by hand: their diff is the reviewer's kubectl diff.
// A mismatch shows the unified diff from the file to the program's output.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		write(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run `make golden` to create it", err)
	}
	want = bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the program's output; if the change is intended, run `make golden` and review the diff:\n%s",
			path, Diff(path, "program output", want, got))
	}
}

// GoldenDiff keeps in testdata/<name> only how got differs from base, as a unified diff from
// baseName to gotName: for a stack whose render is nearly the same as another stack's full golden
// (e.g. staging's EdgeFS layer next to prod's), the file then shows just what varies. The caller
// checks base against its own golden; a mismatch here shows how the diff changed.
func GoldenDiff(t testing.TB, name, baseName, gotName string, base, got []byte) {
	t.Helper()
	Golden(t, name, []byte(Diff(baseName, gotName, base, got)))
}

// Diff is the unified diff (3 lines of context) from a to b, "" when they are equal.
func Diff(aName, bName string, a, b []byte) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b),
		FromFile: aName, ToFile: bName, Context: 3,
	})
	if err != nil {
		panic(err) // writing to a strings.Builder does not fail
	}
	return d
}

// lines splits text after each newline; a last line without one gets one, so the diff stays valid.
func lines(text []byte) []string {
	out := strings.SplitAfter(string(text), "\n")
	if out[len(out)-1] == "" {
		return out[:len(out)-1]
	}
	out[len(out)-1] += "\n"
	return out
}

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
