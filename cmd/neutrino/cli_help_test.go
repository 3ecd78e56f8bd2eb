package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBin runs the neutrino binary in dir and returns its stdout, stderr
// and exit code.
func runBin(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestHelp: `neutrino --help` lists the subcommands and exits 0,
// `--version` prints the version, and each subcommand's --help exits 0
// with its own flags only.
func TestHelp(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, _, code := runBin(t, dir, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, c := range []string{"serve", "db", "policy", "bench", "ovn-db-sync", "config-doc", "version"} {
			if !strings.Contains(out, "\n  "+c+" ") {
				t.Fatalf("%v does not list %s:\n%s", args, c, out)
			}
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, _, code := runBin(t, dir, args...)
		if code != 0 || !strings.HasPrefix(out, "neutrino "+Version+" ") {
			t.Fatalf("%v: exit %d, %q", args, code, out)
		}
	}
	type want struct {
		args      []string
		has, lack []string
	}
	for _, w := range []want{
		{[]string{"serve", "--help"}, []string{"--bind-port", "--config-file", "--set", "--debug", "--log-file", "--use-json", "--auto-migrate", "SIGHUP"}, []string{"--format", "--endpoint"}},
		{[]string{"--bind-port", "1", "--help"}, []string{"usage: neutrino serve"}, nil},
		{[]string{"db", "--help"}, []string{"upgrade", "version", "check", "import"}, []string{"--bind-port"}},
		{[]string{"db", "upgrade", "--help"}, []string{"--config-file", "--database-connection", "--set"}, []string{"--bind-port", "--api-workers", "--auto-migrate", "--format"}},
		{[]string{"db", "version", "--help"}, []string{"--config-file", "changes nothing"}, []string{"--bind-port", "--debug"}},
		{[]string{"db", "check", "--help"}, []string{"--config-file", "neutron-status"}, []string{"--bind-port"}},
		{[]string{"policy", "--help"}, []string{"--format", "--config-file"}, []string{"--bind-port", "--database-connection"}},
		{[]string{"bench", "--help"}, []string{"--endpoint", "--clients"}, []string{"--config-file"}},
		{[]string{"config-doc", "--help"}, []string{"usage: neutrino config-doc"}, []string{"--config-file"}},
		{[]string{"help", "db"}, []string{"usage: neutrino db"}, nil},
	} {
		out, errOut, code := runBin(t, dir, w.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", w.args, code, out, errOut)
		}
		for _, s := range w.has {
			if !strings.Contains(out, s) {
				t.Errorf("%v lacks %q:\n%s", w.args, s, out)
			}
		}
		for _, s := range w.lack {
			if strings.Contains(out, s) {
				t.Errorf("%v shows %q, not its flag:\n%s", w.args, s, out)
			}
		}
	}
	// mistakes exit 2 with the usage on stderr
	for _, args := range [][]string{{"frobnicate"}, {"db"}, {"db", "downgrade"}, {"db", "version", "--bind-port", "1"}, {"serve", "extra"}} {
		_, errOut, code := runBin(t, dir, args...)
		if code != 2 || !strings.Contains(errOut, "usage") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("help created files: %v", ents)
	}
}

// TestDBVersionNoSideEffects: `db version` and `db check` on the embedded
// default create no database; `db upgrade` does, then version reports head.
func TestDBVersionNoSideEffects(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runBin(t, dir, "db", "version")
	if code != 0 || !strings.HasPrefix(out, "0 (head ") || !strings.Contains(out, "nothing created") {
		t.Fatalf("db version: exit %d, %q %q", code, out, errOut)
	}
	out, _, code = runBin(t, dir, "db", "check")
	if code != 2 || !strings.Contains(out, "Result: Failure") || !strings.Contains(out, "to create it") {
		t.Fatalf("db check on no database: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "neutrino.db")); !os.IsNotExist(err) {
		t.Fatalf("db version/check created neutrino.db (%v)", err)
	}
	if _, _, code = runBin(t, dir, "db", "upgrade"); code != 0 {
		t.Fatal("db upgrade failed")
	}
	out, _, code = runBin(t, dir, "db", "version")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("db version after upgrade: %d %q", code, out)
	}
	// noauth is a warning, nothing fails
	out, _, code = runBin(t, dir, "db", "check")
	if code != 1 || strings.Contains(out, "Failure") || !strings.Contains(out, "noauth") {
		t.Fatalf("db check after upgrade: exit %d\n%s", code, out)
	}
}
