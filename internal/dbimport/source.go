package dbimport

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/neutrino-os/neutrino/internal/db"
)

// Source is the Neutron database being imported, read in one read-only
// transaction (one consistent snapshot; nothing is ever written to it).
type Source struct {
	tx      *sql.Tx
	dialect db.Dialect
	tables  map[string]bool
	columns map[string]map[string]bool
}

// openSource begins the read-only snapshot transaction on src.
func openSource(ctx context.Context, src *db.DB) (*Source, error) {
	if src.Dialect() == db.SQLite {
		return nil, fmt.Errorf("the source must be Neutron's MySQL/MariaDB or PostgreSQL database, not SQLite")
	}
	tx, err := src.SQL.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("begin a read-only transaction on %s: %w", src.Redacted, err)
	}
	s := &Source{tx: tx, dialect: src.Dialect(), columns: map[string]map[string]bool{}}
	if err := s.loadCatalog(ctx); err != nil {
		tx.Rollback()
		return nil, err
	}
	return s, nil
}

// close ends the snapshot (a rollback: the transaction never wrote).
func (s *Source) close() { s.tx.Rollback() }

func (s *Source) loadCatalog(ctx context.Context) error {
	q := "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()"
	if s.dialect == db.Postgres {
		q = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
	}
	rows, err := s.tx.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read the source's catalog: %w", err)
	}
	defer rows.Close()
	s.tables = map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return err
		}
		t, c = strings.ToLower(t), strings.ToLower(c)
		s.tables[t] = true
		if s.columns[t] == nil {
			s.columns[t] = map[string]bool{}
		}
		s.columns[t][c] = true
	}
	return rows.Err()
}

// Has reports whether the source has the table.
func (s *Source) Has(table string) bool { return s.tables[table] }

// HasColumn reports whether the source's table has the column (columns
// added by releases after Zed are read only where they exist).
func (s *Source) HasColumn(table, col string) bool { return s.columns[table][col] }

// Tables lists the source's tables.
func (s *Source) Tables() []string {
	out := make([]string, 0, len(s.tables))
	for t := range s.tables {
		out = append(out, t)
	}
	return out
}

// Each runs a query on the snapshot and calls fn for every row. Queries
// use ? placeholders and `backquoted` identifiers (for the reserved words
// among Neutron's column names: order, limit); both are translated for
// PostgreSQL.
func (s *Source) Each(ctx context.Context, query string, fn func(r Row) error, args ...any) error {
	if s.dialect == db.Postgres {
		query = strings.ReplaceAll(query, "`", `"`)
		var b strings.Builder
		n := 0
		for _, c := range query {
			if c == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(c)
		}
		query = b.String()
	}
	rows, err := s.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%w\nquery: %s", err, query)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	idx := make(map[string]int, len(cols))
	for i, c := range cols {
		idx[strings.ToLower(c)] = i
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(Row{idx: idx, vals: vals}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count returns the number of rows of a source table.
func (s *Source) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := s.Each(ctx, "SELECT COUNT(*) AS n FROM `"+table+"`", func(r Row) error {
		n = r.Int("n")
		return nil
	})
	return n, err
}

// Row is one row of a source query, read by column name; the accessors
// smooth over what each engine's driver returns (MySQL: bytes and
// integers for strings and booleans; PostgreSQL: strings, bools, times).
type Row struct {
	idx  map[string]int
	vals []any
}

func (r Row) get(col string) any {
	i, ok := r.idx[col]
	if !ok {
		panic("dbimport: query has no column " + col)
	}
	return r.vals[i]
}

// Null reports whether the column is NULL.
func (r Row) Null(col string) bool { return r.get(col) == nil }

// Str is the column as a string ("" for NULL).
func (r Row) Str(col string) string {
	switch v := r.get(col).(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	default:
		return fmt.Sprint(v)
	}
}

// NStr is the column as a string, or nil for NULL (for nullable columns).
func (r Row) NStr(col string) any {
	if r.Null(col) {
		return nil
	}
	return r.Str(col)
}

// Int is the column as an integer (0 for NULL).
func (r Row) Int(col string) int64 {
	switch v := r.get(col).(type) {
	case int64:
		return v
	case int32:
		return int64(v)
	case float64:
		return int64(v)
	case bool:
		if v {
			return 1
		}
		return 0
	case nil:
		return 0
	default:
		n, _ := strconv.ParseInt(r.Str(col), 10, 64)
		return n
	}
}

// NInt is the column as an integer, or nil for NULL.
func (r Row) NInt(col string) any {
	if r.Null(col) {
		return nil
	}
	return r.Int(col)
}

// Bool is the column as a boolean (false for NULL; MySQL's TINYINT(1)
// and PostgreSQL's BOOLEAN alike).
func (r Row) Bool(col string) bool {
	switch v := r.get(col).(type) {
	case bool:
		return v
	case nil:
		return false
	case int64, int32, float64:
		return r.Int(col) != 0
	default:
		s := strings.ToLower(r.Str(col))
		return s == "1" || s == "t" || s == "true"
	}
}

// BoolOr is the column as a boolean, def for NULL.
func (r Row) BoolOr(col string, def bool) bool {
	if r.Null(col) {
		return def
	}
	return r.Bool(col)
}

// NBool is the column as a boolean, or nil for NULL.
func (r Row) NBool(col string) any {
	if r.Null(col) {
		return nil
	}
	return r.Bool(col)
}

// Time is a DATETIME column (naive UTC in Neutron) in neutrino's form
// (RFC 3339, UTC, whole seconds), or nil for NULL.
func (r Row) Time(col string) any {
	switch v := r.get(col).(type) {
	case nil:
		return nil
	case time.Time:
		return v.UTC().Format("2006-01-02T15:04:05Z")
	default:
		s := r.Str(col)
		if len(s) >= 19 {
			if t, err := time.Parse("2006-01-02 15:04:05", strings.Replace(s[:19], "T", " ", 1)); err == nil {
				return t.Format("2006-01-02T15:04:05Z")
			}
		}
		return s
	}
}
