package db

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ForeignSchemaError refuses to migrate a database that holds tables
// neutrino did not create, such as OpenStack Neutron's own database:
// creating neutrino's tables there would fail half-way (both have a
// networks table) and leave stray tables behind.
type ForeignSchemaError struct {
	Database string   // the URL, without password
	Neutron  bool     // it is a Neutron database (alembic_version)
	Tables   []string // the tables in the way
}

func (e *ForeignSchemaError) Error() string {
	if e.Neutron {
		return fmt.Sprintf("%s is an OpenStack Neutron database (it has Neutron's alembic_version table): neutrino does not convert it in place, and changed nothing. "+
			"Create an empty database for neutrino, point [database] connection at it, and copy Neutron's data into it with "+
			"`neutrino db import --from <this database's URL>` (Neutron's database is only read)", e.Database)
	}
	return fmt.Sprintf("%s holds tables neutrino did not create (%s) and no neutrino schema version: "+
		"neutrino changed nothing; use an empty database", e.Database, strings.Join(e.Tables, ", "))
}

var createTableRE = regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?(\w+)`)

// checkForeign returns a *ForeignSchemaError when the database has no
// neutrino schema version yet but holds Neutron's tables or tables by the
// names neutrino's migrations create.
func (d *DB) checkForeign(ctx context.Context, ms []Migration) error {
	if !d.tableMissing(ctx) {
		return nil
	}
	tables, err := d.tableNames(ctx)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, m := range ms {
		for _, s := range m.Stmts {
			if g := createTableRE.FindStringSubmatch(s); g != nil {
				mine[strings.ToLower(g[1])] = true
			}
		}
	}
	e := &ForeignSchemaError{Database: d.Redacted}
	for _, t := range tables {
		switch {
		case t == "alembic_version":
			e.Neutron = true
			e.Tables = append(e.Tables, t)
		case mine[t]:
			e.Tables = append(e.Tables, t)
		}
	}
	if len(e.Tables) == 0 {
		return nil
	}
	sort.Strings(e.Tables)
	if len(e.Tables) > 6 {
		e.Tables = append(e.Tables[:6], fmt.Sprintf("and %d more", len(e.Tables)-6))
	}
	return e
}

// tableNames lists the database's tables (lower case).
func (d *DB) tableNames(ctx context.Context) ([]string, error) {
	var q string
	switch d.engine {
	case SQLite:
		q = "SELECT name FROM sqlite_master WHERE type = 'table'"
	case Postgres:
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	default:
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	}
	rows, err := d.SQL.QueryContext(ctx, q)
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
		out = append(out, strings.ToLower(t))
	}
	return out, rows.Err()
}
