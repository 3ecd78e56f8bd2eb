package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sharedRef matches a path into the workplace's shared directory, which a
// fresh clone does not have (spelt in pieces so that this line does not).
var sharedRef = regexp.MustCompile(`(\.\./)+` + "shared/|/work/" + "shared")

// TestSelfContained: what CI and the tests run uses only the repository:
// .ci/run, the harness scripts, every script under a testdata directory and
// the code (not the comments) of every test refer to nothing in the shared directory,
// and every script .ci/run calls exists in the repository.
func TestSelfContained(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, code bool) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			trim := strings.TrimSpace(line)
			if code && strings.HasPrefix(trim, "//") || !code && strings.HasPrefix(trim, "#") {
				continue
			}
			if sharedRef.MatchString(line) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d depends on the shared directory: %s", rel, i+1, trim)
			}
		}
	}
	check(filepath.Join(root, ".ci/run"), false)
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "golden" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case strings.HasSuffix(path, "_test.go"):
			check(path, true)
		case strings.HasPrefix(rel, "scripts/harness/"),
			strings.Contains(rel, "testdata/") && strings.HasSuffix(path, ".sh"):
			check(path, false)
		}
		return nil
	})
	ci, err := os.ReadFile(filepath.Join(root, ".ci/run"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^[^#\n]*?\b((?:scripts|internal)/[\w./-]+\.sh)`).FindAllStringSubmatch(string(ci), -1) {
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Errorf(".ci/run calls %s, which the repository lacks", m[1])
		}
	}
}
