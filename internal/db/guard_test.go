package db

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

func TestSchemaLimits(t *testing.T) {
	l := schemaLimits()
	for _, c := range []struct {
		table, col string
		want       colLimit
	}{
		{"ports", "binding_host_id", colLimit{chars: 255}},
		{"subnetpools", "name", colLimit{chars: 255}},
		{"networks", "id", colLimit{chars: 36}},
		{"networks", "created_at", colLimit{chars: 20}},
		{"networks", "mtu", colLimit{int32: true}},
		{"network_segments", "physical_network", colLimit{chars: 64}},
		{"quotas", "project_id", colLimit{chars: 255}},
	} {
		if got, ok := l[c.table][c.col]; !ok || got != c.want {
			t.Errorf("%s.%s: %+v (%v), want %+v", c.table, c.col, got, ok, c.want)
		}
	}
}

func TestWriteBindings(t *testing.T) {
	for _, c := range []struct {
		q    string
		want string // "arg:column" list
	}{
		{"INSERT INTO ports (id, name, binding_host_id, mtu_x) VALUES (?, ?, ?, ?)", "0:id 1:name 2:binding_host_id"},
		{"INSERT OR IGNORE INTO tags (resource_id, tag) VALUES (?, ?), (?, ?)", "0:resource_id 1:tag 2:resource_id 3:tag"},
		{`INSERT INTO network_segments (id, network_id, project_id, name, description, created_at, updated_at,
			revision_number, network_type) VALUES (?, ?, ?, ?, '', ?, ?, 0, ?)`, "0:id 1:network_id 2:project_id 3:name 4:created_at 5:updated_at 6:network_type"},
		{"INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", "0:project_id 1:resource"},
		{"UPDATE ports SET name = ?, revision_number = revision_number + ?, binding_host_id = ? WHERE id = ?", "0:name 2:binding_host_id"},
		{"UPDATE networks SET mtu = ? WHERE id = ?", "0:mtu"},
		{"INSERT INTO ports (id, name) VALUES (?, LOWER(?))", ""},
		{"SELECT name FROM ports WHERE id = ?", ""},
	} {
		var got []string
		for _, b := range writeBindings(c.q) {
			got = append(got, strings.Join([]string{itoa(b.arg), b.column}, ":"))
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%q: %q, want %q", c.q, strings.Join(got, " "), c.want)
		}
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

// TestGuardSQLite: on SQLite, which stores anything, the guard refuses what
// PostgreSQL and MySQL refuse, as a 400, before the row is written.
func TestGuardSQLite(t *testing.T) {
	d, err := Open("sqlite:///"+filepath.Join(t.TempDir(), "g.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Migrate(ctx, Schema()); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 256)
	for _, c := range []struct {
		q    string
		args []any
	}{
		{"INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)", []any{long, "network", 1}},
		{"INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)", []any{"p\x00", "network", 1}},
		{"INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)", []any{"p\xff", "network", 1}},
		{"SELECT COUNT(*) FROM quotas WHERE project_id = ?", []any{"\x00"}},
	} {
		err := d.Write(ctx, func(tx *Tx) error {
			if strings.HasPrefix(c.q, "SELECT") {
				rows, err := tx.Query(ctx, c.q, c.args...)
				if err == nil {
					rows.Close()
				}
				return err
			}
			_, err := tx.Exec(ctx, c.q, c.args...)
			return err
		})
		e, ok := nerr.As(err)
		if !ok || e.Status != http.StatusBadRequest {
			t.Errorf("%s %q: %v, want a 400", c.q, c.args, err)
		}
	}
	// 255 characters (510 bytes) fit
	if _, err := d.Exec(ctx, "INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)", long[2:], "network", 1); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM quotas").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows, %v", n, err)
	}
}
