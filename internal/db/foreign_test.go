package db

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateRefusesForeignSchema: a database holding Neutron's tables, or
// tables by the names neutrino creates, is refused before anything is
// created; an empty or neutrino database migrates.
func TestMigrateRefusesForeignSchema(t *testing.T) {
	ctx := context.Background()
	ms := []Migration{{Version: 1, Name: "t", Stmts: []string{"CREATE TABLE networks (id {id} NOT NULL PRIMARY KEY){table}"}}}
	open := func(setup ...string) *DB {
		d, err := Open("sqlite:///"+filepath.Join(t.TempDir(), "x.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		for _, s := range setup {
			if _, err := d.Exec(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	for _, c := range []struct {
		name    string
		setup   []string
		neutron bool
	}{
		{"neutron", []string{"CREATE TABLE alembic_version (version_num VARCHAR(32))", "CREATE TABLE networks (id VARCHAR(36))"}, true},
		{"stray", []string{"CREATE TABLE networks (id VARCHAR(36))"}, false},
	} {
		d := open(c.setup...)
		_, err := d.Migrate(ctx, ms)
		var fe *ForeignSchemaError
		if !errors.As(err, &fe) || fe.Neutron != c.neutron {
			t.Fatalf("%s: got %v, want a ForeignSchemaError (Neutron %v)", c.name, err, c.neutron)
		}
		if c.neutron && !strings.Contains(err.Error(), "neutrino db import --from") {
			t.Errorf("%s: the message does not point at db import: %v", c.name, err)
		}
		if !d.tableMissing(ctx) {
			t.Errorf("%s: the refused migration created %s", c.name, versionTable)
		}
	}
	d := open("CREATE TABLE unrelated (id INTEGER PRIMARY KEY)")
	for i := 0; i < 2; i++ {
		if _, err := d.Migrate(ctx, ms); err != nil {
			t.Fatalf("migration %d of a database without foreign tables: %v", i+1, err)
		}
	}
}
