package dbimport

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/db"
)

// versionTable is neutrino's schema bookkeeping, never imported into nor
// cleared.
const versionTable = "neutrino_schema_version"

// NotEmptyError refuses an import into a target that holds data.
type NotEmptyError struct {
	Database string       // the target's URL, without password
	Tables   []TableCount // its non-empty tables
}

func (e *NotEmptyError) Error() string {
	var parts []string
	for _, t := range e.Tables {
		parts = append(parts, fmt.Sprintf("%s (%d)", t.Table, t.Rows))
	}
	return "the target database " + e.Database + " is not empty: " + strings.Join(parts, ", ") +
		"; import into an empty database, or replace its contents with --force"
}

// targetTables lists neutrino's tables in the target, sorted.
func targetTables(ctx context.Context, tx *db.Tx) ([]string, error) {
	var q string
	switch tx.Dialect() {
	case db.SQLite:
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	case db.Postgres:
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	default:
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
	}
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if t != versionTable {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, rows.Err()
}

// heldRows counts the rows of the target's non-empty tables.
func heldRows(ctx context.Context, tx *db.Tx, tables []string) ([]TableCount, error) {
	var out []TableCount
	for _, t := range tables {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		if n > 0 {
			out = append(out, TableCount{Table: t, Rows: n})
		}
	}
	return out, nil
}

// clearTarget deletes every row of the target's tables: first the tables
// no importer writes (they can only refer to imported ones), then the
// imported ones, children before parents (the reverse of the write order).
func clearTarget(ctx context.Context, tx *db.Tx, tables []string) error {
	owned := map[string]bool{}
	var order []string
	for _, im := range Importers() {
		for _, t := range im.Writes {
			owned[t] = true
			order = append(order, t)
		}
	}
	var del []string
	for _, t := range tables {
		if !owned[t] {
			del = append(del, t)
		}
	}
	have := map[string]bool{}
	for _, t := range tables {
		have[t] = true
	}
	for i := len(order) - 1; i >= 0; i-- {
		if have[order[i]] {
			del = append(del, order[i])
		}
	}
	for _, t := range del {
		if _, err := tx.Exec(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	return nil
}
