package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/dbimport/dbimporttest"
)

// neutrino runs the binary and returns its output and exit code.
func neutrino(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestDBImport imports the reference Neutron's database with the command
// an operator runs, is refused a second time, replaces with --force, and
// serves the result to the openstack CLI. db upgrade on the Neutron
// database refuses and points at db import.
func TestDBImport(t *testing.T) {
	src, srcDB := dbimporttest.LoadReference(t)
	target := "sqlite:///" + filepath.Join(t.TempDir(), "n.db")

	out, code := neutrino(t, "db", "import", "--from", src, "--database-connection", target)
	if code != 0 || !strings.Contains(out, "networks") || !strings.Contains(out, "routers") {
		t.Fatalf("db import: exit %d:\n%s", code, out)
	}
	want := map[string]string{"ports": "14", "routers": "1", "floatingips": "2"}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && want[f[0]] != "" && f[1] != want[f[0]] {
			t.Errorf("db import reports %s %s, want %s:\n%s", f[1], f[0], want[f[0]], out)
		}
	}
	if out, code = neutrino(t, "db", "import", "--from", src, "--database-connection", target); code != 1 || !strings.Contains(out, "not empty") {
		t.Fatalf("second db import: exit %d, want 1 and a refusal:\n%s", code, out)
	}
	if out, code = neutrino(t, "db", "import", "--from", src, "--database-connection", target, "--force"); code != 0 || !strings.Contains(out, "replaced") {
		t.Fatalf("db import --force: exit %d:\n%s", code, out)
	}
	if out, code = neutrino(t, "db", "import", "--database-connection", target); code != 2 || !strings.Contains(out, "--from") {
		t.Fatalf("db import without --from: exit %d, want 2 and the usage:\n%s", code, out)
	}

	out, code = neutrino(t, "db", "upgrade", "--database-connection", src)
	if code != 1 || !strings.Contains(out, "neutrino db import --from") {
		t.Fatalf("db upgrade of a Neutron database: exit %d, want 1 and a pointer to db import:\n%s", code, out)
	}
	var n int
	if err := srcDB.SQL.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'neutrino%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("db upgrade left %d neutrino tables in the Neutron database (%v)", n, err)
	}
	if _, err := db.Open(target, db.Options{}); err != nil {
		t.Fatal(err)
	}

	requireOpenstackCLI(t)
	p := start(t, nil, "--database-connection", target)
	p.waitUp(t, 10*time.Second)
	net := jsonObj(t, openstack(t, p, "network", "show", "net-a1", "-f", "json"))
	if net["description"] != "first network" || net["revision_number"] != float64(8) || !strings.Contains(strings.Join(anyStrings(net["tags"]), ","), "red") {
		t.Errorf("network show net-a1 after the import: %v", net)
	}
	port := jsonObj(t, openstack(t, p, "port", "show", "port-a1", "-f", "json"))
	if port["mac_address"] != "fa:16:3e:11:22:33" || port["binding_host_id"] != "compute-1" || len(anyList(port["extra_dhcp_opts"])) != 3 {
		t.Errorf("port show port-a1 after the import: %v", port)
	}
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func anyStrings(v any) []string {
	var out []string
	for _, e := range anyList(v) {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}
