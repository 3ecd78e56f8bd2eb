package db

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Migration is one schema version. Statements use portable type tokens that
// Translate turns into each engine's DDL:
//
//	{id} VARCHAR(36)   {str:N} VARCHAR(N)   {text} TEXT   {bool} BOOLEAN
//	{int} INTEGER      {bigint} BIGINT      {ts} VARCHAR(20) (RFC 3339, UTC)
//	{table} the engine's table options, after the closing parenthesis of
//	        every CREATE TABLE (InnoDB and utf8mb4_bin on MySQL, WITHOUT
//	        ROWID on SQLite: every table needs a PRIMARY KEY)
type Migration struct {
	Version int
	Name    string
	Stmts   []string
}

var tokenRE = regexp.MustCompile(`\{(id|str:\d+|text|bool|int|bigint|ts|table)\}`)

// Translate renders a migration statement for the engine.
func (d Dialect) Translate(stmt string) string {
	return tokenRE.ReplaceAllStringFunc(stmt, func(tok string) string {
		t := tok[1 : len(tok)-1]
		switch {
		case t == "id":
			return "VARCHAR(36)"
		case strings.HasPrefix(t, "str:"):
			return "VARCHAR(" + t[4:] + ")"
		case t == "text":
			if d == MySQL {
				return "MEDIUMTEXT"
			}
			return "TEXT"
		case t == "bool":
			return "BOOLEAN"
		case t == "int":
			return "INTEGER"
		case t == "bigint":
			return "BIGINT"
		case t == "ts":
			return "VARCHAR(20)"
		case t == "table":
			switch d {
			case MySQL:
				return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
			case SQLite:
				// the primary key is the table's B-tree: one search per
				// lookup by id, and id-ordered scans read rows in order
				return " WITHOUT ROWID"
			}
			return ""
		}
		return tok
	})
}

const versionTable = "neutrino_schema_version"

// Version returns the applied schema version (0 for an empty database).
func (d *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := d.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM "+versionTable).Scan(&v)
	if err != nil {
		if d.tableMissing(ctx) {
			return 0, nil
		}
		return 0, err
	}
	return v, nil
}

func (d *DB) tableMissing(ctx context.Context) bool {
	var q string
	switch d.engine {
	case SQLite:
		q = "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?"
	case Postgres:
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name=?"
	default:
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name=?"
	}
	var n int
	if err := d.QueryRow(ctx, q, versionTable).Scan(&n); err != nil {
		return false
	}
	return n == 0
}

// Migrate applies every migration of ms the database has not recorded (in
// version order), holding an engine-level lock so
// that several neutrino processes starting together apply each one once.
// It returns the versions applied.
func (d *DB) Migrate(ctx context.Context, ms []Migration) ([]int, error) {
	unlock, err := d.migrationLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := d.checkForeign(ctx, ms); err != nil {
		return nil, err
	}
	if _, err := d.Exec(ctx, d.engine.Translate("CREATE TABLE IF NOT EXISTS "+versionTable+
		" (version {int} PRIMARY KEY, name {str:255} NOT NULL, applied_at {ts} NOT NULL){table}")); err != nil {
		return nil, fmt.Errorf("create %s: %w", versionTable, err)
	}
	done, err := d.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.Version] = true
	}
	for v := range done {
		if !known[v] {
			return nil, fmt.Errorf("database schema has version %d, which this binary does not know (a newer neutrino migrated it)", v)
		}
	}
	var applied []int
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		if err := d.apply(ctx, m); err != nil {
			return applied, fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	if err := d.tuneSQLite(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// appliedVersions returns the versions recorded in the version table.
func (d *DB) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := d.Query(ctx, "SELECT version FROM "+versionTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

// Pending returns the migrations of ms that the database has not applied.
func (d *DB) Pending(ctx context.Context, ms []Migration) ([]Migration, error) {
	if d.tableMissing(ctx) {
		return ms, nil
	}
	done, err := d.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, m := range ms {
		if !done[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}

func (d *DB) apply(ctx context.Context, m Migration) error {
	stx, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer stx.Rollback()
	// Another process may have applied it meanwhile (SQLite has no
	// session lock; its IMMEDIATE transaction serializes this check).
	var done int
	if err := stx.QueryRowContext(ctx, d.Rebind("SELECT COUNT(*) FROM "+versionTable+" WHERE version = ?"), m.Version).Scan(&done); err != nil {
		return err
	}
	if done > 0 {
		return nil
	}
	for _, s := range m.Stmts {
		if _, err := stx.ExecContext(ctx, d.engine.Translate(s)); err != nil {
			return fmt.Errorf("%w\nstatement: %s", err, d.engine.Translate(s))
		}
	}
	if _, err := stx.ExecContext(ctx, d.Rebind("INSERT INTO "+versionTable+" (version, name, applied_at) VALUES (?, ?, ?)"),
		m.Version, m.Name, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return stx.Commit()
}

func (d *DB) migrationLock(ctx context.Context) (func(), error) {
	switch d.engine {
	case Postgres:
		conn, err := d.SQL.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7426398)"); err != nil {
			conn.Close()
			return nil, err
		}
		return func() {
			conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7426398)")
			conn.Close()
		}, nil
	case MySQL:
		conn, err := d.SQL.Conn(ctx)
		if err != nil {
			return nil, err
		}
		var got int
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('neutrino_migrate', 120)").Scan(&got); err != nil || got != 1 {
			conn.Close()
			if err == nil {
				err = fmt.Errorf("timed out waiting for the migration lock")
			}
			return nil, err
		}
		return func() {
			conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK('neutrino_migrate')")
			conn.Close()
		}, nil
	}
	d.writeSem <- struct{}{}
	return func() { <-d.writeSem }, nil
}
