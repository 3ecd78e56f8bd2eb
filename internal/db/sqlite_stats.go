package db

import (
	"context"
	"fmt"
	"strings"
)

// tuneSQLite writes fixed planner statistics (sqlite_stat1) describing
// every table as large and every index as selective. SQLite plans from
// ANALYZE data; without it (or with the stats of a young, small database)
// it prefers scanning a table in primary-key order over using the index of
// a filter, which costs a full scan per API list request as the table
// grows. API queries filter on selective columns, so we say so, once, for
// all indexes — https://sqlite.org/optoverview.html#manual_control_of_query_plans_using_sqlite_stat_tables
func (d *DB) tuneSQLite(ctx context.Context) error {
	if d.engine != SQLite {
		return nil
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "ANALYZE sqlite_schema"); err != nil {
		return fmt.Errorf("create sqlite_stat1: %w", err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'")
	if err != nil {
		return err
	}
	type index struct{ name, table string }
	var idx []index
	for rows.Next() {
		var i index
		if err := rows.Scan(&i.name, &i.table); err != nil {
			rows.Close()
			return err
		}
		idx = append(idx, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var stmts []string
	stmts = append(stmts, "DELETE FROM sqlite_stat1")
	for _, i := range idx {
		var ncol int
		var unique int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM pragma_index_info(?)", i.name).Scan(&ncol); err != nil {
			return err
		}
		conn.QueryRowContext(ctx, "SELECT \"unique\" FROM pragma_index_list(?) WHERE name = ?", i.table, i.name).Scan(&unique)
		parts := []string{"1000000"}
		per := 100
		for k := 0; k < ncol; k++ {
			if k == ncol-1 && unique == 1 {
				per = 1
			}
			parts = append(parts, fmt.Sprint(max(per, 1)))
			per /= 10
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('%s', '%s', '%s')",
			strings.ReplaceAll(i.table, "'", "''"), strings.ReplaceAll(i.name, "'", "''"), strings.Join(parts, " ")))
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("sqlite_stat1: %w", err)
		}
	}
	_, err = conn.ExecContext(ctx, "ANALYZE sqlite_schema")
	return err
}
