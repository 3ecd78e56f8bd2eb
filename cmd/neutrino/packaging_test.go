package main

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestStaticBuild: the README's build command gives a static binary (no
// ELF interpreter, no shared library).
func TestStaticBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("a full rebuild (-short)")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+(CGO_ENABLED=0 go build [^\n]*-o neutrino \./cmd/neutrino)\s*$`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no `CGO_ENABLED=0 go build ... -o neutrino ./cmd/neutrino` command")
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "-c", string(m[1]))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	// build into the temporary directory, not the work tree
	cmd.Args[2] = strings.Replace(cmd.Args[2], "-o neutrino", "-o "+filepath.Join(out, "neutrino"), 1)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, b)
	}
	f, err := elf.Open(filepath.Join(out, "neutrino"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("%s links dynamically (%v)", m[1], p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("shared libraries: %v", libs)
	}
}

// TestPackaging: the LICENSE is Apache-2.0 and the systemd unit is a
// notify service that reloads with SIGHUP and runs `neutrino serve`.
func TestPackaging(t *testing.T) {
	lic, err := os.ReadFile("../../LICENSE")
	if err != nil || !strings.Contains(string(lic), "Apache License") || !strings.Contains(string(lic), "Version 2.0, January 2004") || len(lic) < 11000 {
		t.Fatalf("LICENSE is not the Apache-2.0 text (%v)", err)
	}
	unit, err := os.ReadFile("../../packaging/systemd/neutrino.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	if keys["Type"] != "notify" || keys["ExecReload"] != "/bin/kill -HUP $MAINPID" ||
		!strings.HasPrefix(keys["ExecStart"], "/usr/bin/neutrino serve --config-file /etc/neutron/neutron.conf") {
		t.Fatalf("unit: %v", keys)
	}
}

// TestExampleConfigs: each example neutron.conf is complete: `db check`
// finds nothing ignored and nothing failing on a current database (noauth
// is the embedded example's one warning), and the embedded one serves.
func TestExampleConfigs(t *testing.T) {
	engines := testutil.Engines(t)
	for _, ex := range []struct {
		file, engine string
		code         int
	}{
		{"neutron-embedded.conf", "sqlite", 1},
		{"neutron-postgresql.conf", "postgresql", 0},
		{"neutron-mysql.conf", "mysql", 0},
	} {
		t.Run(ex.file, func(t *testing.T) {
			var url string
			for _, e := range engines {
				if e.Name == ex.engine {
					url = e.URL(t)
				}
			}
			if url == "" {
				t.Skipf("%s unreachable", ex.engine)
			}
			conf, _ := filepath.Abs("../../packaging/examples/" + ex.file)
			dir := t.TempDir()
			if _, errOut, code := runBin(t, dir, "db", "upgrade", "--config-file", conf, "--set", "database.connection="+url); code != 0 {
				t.Fatalf("db upgrade: %s", errOut)
			}
			out, errOut, code := runBin(t, dir, "db", "check", "--config-file", conf, "--set", "database.connection="+url)
			if code != ex.code || !strings.Contains(out, "neutrino acts on every option given") {
				t.Fatalf("db check: exit %d, want %d\n%s%s", code, ex.code, out, errOut)
			}
			if ex.engine != "sqlite" {
				return
			}
			port := freePort(t)
			p := start(t, nil, "--config-file", conf, "--set", "database.connection="+url,
				"--set", "DEFAULT.log_dir="+dir, "--set", fmt.Sprintf("DEFAULT.bind_port=%d", port))
			p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
			p.waitUp(t, 10*time.Second)
			waitFile(t, filepath.Join(dir, "neutrino.log"), "serving")
		})
	}
}
