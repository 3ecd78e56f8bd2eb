package dbimport_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/dbimport"
	"github.com/neutrino-os/neutrino/internal/dbimport/dbimporttest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// answers are the reference's recorded GET answers.
type answers struct {
	Answers []struct {
		Path   string         `json:"path"`
		Status int            `json:"status"`
		Body   map[string]any `json:"body"`
	} `json:"answers"`
}

func readAnswers(t *testing.T) *answers {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dbimporttest.Testdata(), "answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var a answers
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

// TestRoundTrip imports the reference's database into neutrino on every
// engine, serves it, and checks that every GET (list and show of every
// resource) answers what the reference answered; that a second import is
// refused and a forced one gives the same rows; that a copy of the source
// in PostgreSQL imports the same; that db upgrade refuses the Neutron
// database; and that the source is left untouched by all of it. (One test:
// loading the dump takes seconds.)
func TestRoundTrip(t *testing.T) {
	srcURL, src := dbimporttest.LoadReference(t)
	before := checksums(t, src)
	want := readAnswers(t)
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			dst, err := db.Open(url, db.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer dst.Close()
			rep, err := dbimport.Import(context.Background(), src, dst, dbimport.Options{})
			if err != nil {
				t.Fatalf("import from %s: %v", srcURL, err)
			}
			checkReport(t, rep)
			checkIdempotent(t, src, dst)
			srv := testutil.StartServer(t, testutil.Options{DB: url, Set: testutil.ReferenceLike(nil)})
			compareAnswers(t, srv.URL, want)
			checkWritable(t, srv.URL)
		})
	}
	t.Run("from-postgresql", func(t *testing.T) { importFromPostgres(t, src) })
	t.Run("upgrade-refuses-neutron", func(t *testing.T) { upgradeRefusesNeutron(t, src) })
	if after := checksums(t, src); after != before {
		t.Fatalf("the import changed the source database:\n%s", diffLines(before, after))
	}
}

// checkIdempotent imports into dst a second time: refused without Force,
// leaving the rows as they are; with Force, the same rows again.
func checkIdempotent(t *testing.T, src, dst *db.DB) {
	t.Helper()
	ctx := context.Background()
	first := snapshot(t, dst)
	_, err := dbimport.Import(ctx, src, dst, dbimport.Options{})
	var ne *dbimport.NotEmptyError
	if !errors.As(err, &ne) {
		t.Fatalf("second import: got %v, want a NotEmptyError", err)
	}
	if got := snapshot(t, dst); got != first {
		t.Fatal("a refused import changed the target")
	}
	rep, err := dbimport.Import(ctx, src, dst, dbimport.Options{Force: true})
	if err != nil {
		t.Fatalf("forced import: %v", err)
	}
	if len(rep.Replaced) == 0 {
		t.Error("forced import: nothing reported replaced")
	}
	if got := snapshot(t, dst); got != first {
		t.Fatalf("a forced second import gave other rows:\n%s", diffLines(first, got))
	}
}

// checkReport checks the counts of the recorded scenario.
func checkReport(t *testing.T, rep *dbimport.Report) {
	t.Helper()
	got := map[string]int64{}
	for _, c := range rep.Written {
		got[c.Table] = c.Rows
	}
	for table, n := range map[string]int64{"networks": 12, "network_segments": 13, "segment_allocations": 13, "subnets": 9,
		"ipallocationpools": 10, "ports": 14, "ipallocations": 23, "securitygroups": 7, "securitygrouprules": 28,
		"address_scopes": 3, "subnetpools": 3, "rbac_policies": 9, "quotas": 5, "tags": 9} {
		if got[table] != n {
			t.Errorf("report: %s: %d rows, want %d", table, got[table], n)
		}
	}
	notImported := map[string]bool{}
	for _, c := range rep.NotImported {
		notImported[c.Table] = true
	}
	for _, table := range []string{"routers", "floatingips", "trunks", "qos_policies", "address_groups"} {
		if !notImported[table] && !written(rep, table) {
			t.Errorf("report: %s neither imported nor reported as not imported", table)
		}
	}
	if len(rep.Notes) > 0 {
		t.Errorf("notes on a clean reference database: %q", rep.Notes)
	}
}

func written(rep *dbimport.Report, table string) bool {
	for _, c := range rep.Written {
		if c.Table == table {
			return true
		}
	}
	return false
}

// upgradeRefusesNeutron: `db upgrade` (db.Migrate) on a Neutron database
// refuses, pointing at db import, and creates nothing.
func upgradeRefusesNeutron(t *testing.T, src *db.DB) {
	before := tableList(t, src)
	_, err := src.Migrate(context.Background(), db.Schema())
	var fe *db.ForeignSchemaError
	if !errors.As(err, &fe) || !fe.Neutron {
		t.Fatalf("got %v, want a ForeignSchemaError for a Neutron database", err)
	}
	if !strings.Contains(err.Error(), "neutrino db import --from") {
		t.Errorf("the message does not point at db import: %v", err)
	}
	if after := tableList(t, src); after != before {
		t.Fatalf("db upgrade created tables:\n%s", diffLines(before, after))
	}
}
