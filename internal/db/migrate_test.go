package db

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateAppliesEveryUnrecordedVersion: versions are applied by set,
// not by a high-water mark, so a range registered later (an L3 migration
// numbered below the OVN ones a database already has) is still applied;
// a recorded version the binary does not know refuses to run.
func TestMigrateAppliesEveryUnrecordedVersion(t *testing.T) {
	ctx := context.Background()
	d, err := Open("sqlite:///"+filepath.Join(t.TempDir(), "m.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m := func(v int) Migration {
		return Migration{Version: v, Name: "t", Stmts: []string{"CREATE TABLE t" + string(rune('0'+v)) + " (id {id} NOT NULL PRIMARY KEY){table}"}}
	}
	if got, err := d.Migrate(ctx, []Migration{m(1), m(5)}); err != nil || len(got) != 2 {
		t.Fatalf("first: %v %v", got, err)
	}
	p, err := d.Pending(ctx, []Migration{m(1), m(3), m(5)})
	if err != nil || len(p) != 1 || p[0].Version != 3 {
		t.Fatalf("pending %v %v", p, err)
	}
	if got, err := d.Migrate(ctx, []Migration{m(1), m(3), m(5)}); err != nil || len(got) != 1 || got[0] != 3 {
		t.Fatalf("second: %v %v", got, err)
	}
	if _, err := d.Exec(ctx, "INSERT INTO t3 (id) VALUES ('x')"); err != nil {
		t.Fatalf("table of version 3: %v", err)
	}
	if _, err := d.Migrate(ctx, []Migration{m(1), m(3)}); err == nil || !strings.Contains(err.Error(), "version 5") {
		t.Fatalf("unknown recorded version: %v", err)
	}
}
