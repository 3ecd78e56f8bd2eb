package dbimport_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/dbimport"
	"github.com/neutrino-os/neutrino/internal/dbimport/dbimporttest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// importFromPostgres imports a Neutron database kept in PostgreSQL: the
// reference's tables copied into PostgreSQL with the types Neutron's
// models have there (BOOLEAN, TIMESTAMP, ...) must import into the same
// rows as the MariaDB original.
func importFromPostgres(t *testing.T, my *db.DB) {
	pgURL := dbimporttest.Engine(t, "postgresql").URL(t)
	pg, err := db.Open(pgURL, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	copyToPostgres(t, my, pg)

	ctx := context.Background()
	var snaps [2]string
	for i, src := range []*db.DB{my, pg} {
		dst, err := db.Open("sqlite:///"+t.TempDir()+"/n.db", db.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dbimport.Import(ctx, src, dst, dbimport.Options{}); err != nil {
			t.Fatalf("import from %s: %v", src.Redacted, err)
		}
		snaps[i] = snapshot(t, dst)
		dst.Close()
	}
	if snaps[0] != snaps[1] {
		t.Fatalf("importing from PostgreSQL gave other rows than from MariaDB:\n%s", diffLines(snaps[0], snaps[1]))
	}
	importDNSAndNotes(t, pg)
}

// importDNSAndNotes adds to the copy what the recording lacks (the
// reference's default dns_domain stores no port DNS names) and what
// neutrino cannot import as it is: a port's dns_name shows once served
// with a dns_domain; a VLAN-transparent network is imported with a note.
func importDNSAndNotes(t *testing.T, pg *db.DB) {
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO portdnses (port_id, current_dns_name, current_dns_domain, previous_dns_name, previous_dns_domain, dns_name, dns_domain)
			SELECT id, '', '', '', '', 'web-1', '' FROM ports WHERE name = 'port-a1'`,
		`UPDATE networks SET vlan_transparent = true WHERE name = 'net-c'`,
	} {
		if _, err := pg.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	url := "sqlite:///" + t.TempDir() + "/dns.db"
	dst, err := db.Open(url, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := dbimport.Import(ctx, pg, dst, dbimport.Options{})
	dst.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "vlan_transparent") {
		t.Errorf("notes: %q, want one on vlan_transparent", rep.Notes)
	}
	set := testutil.ReferenceLike(nil)
	set["DEFAULT.dns_domain"] = "example.com."
	srv := testutil.StartServer(t, testutil.Options{DB: url, Set: set})
	l := testutil.Do(t, "GET", srv.URL+"/v2.0/ports?name=port-a1", nil).Expect(t, 200).List("ports")
	if len(l) != 1 || l[0]["dns_name"] != "web-1" {
		t.Fatalf("port-a1 after the import: %v", l)
	}
	if a, _ := l[0]["dns_assignment"].([]any); len(a) == 0 || a[0].(map[string]any)["fqdn"] != "web-1.example.com." {
		t.Errorf("port-a1's dns_assignment: %v", l[0]["dns_assignment"])
	}
}

// pgColumn is a column of the MariaDB source and its PostgreSQL type.
type pgColumn struct{ name, typ string }

// copyToPostgres copies every table of the MariaDB database into
// PostgreSQL.
func copyToPostgres(t *testing.T, my, pg *db.DB) {
	t.Helper()
	ctx := context.Background()
	rows, err := my.SQL.QueryContext(ctx, `SELECT table_name, column_name, data_type, column_type FROM information_schema.columns
		WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string][]pgColumn{}
	var order []string
	for rows.Next() {
		var table, col, dataType, colType string
		if err := rows.Scan(&table, &col, &dataType, &colType); err != nil {
			t.Fatal(err)
		}
		if tables[table] == nil {
			order = append(order, table)
		}
		tables[table] = append(tables[table], pgColumn{col, pgType(dataType, colType)})
	}
	rows.Close()
	tx, err := pg.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, table := range order {
		cols := tables[table]
		defs := make([]string, len(cols))
		for i, c := range cols {
			defs[i] = fmt.Sprintf("%q %s", c.name, c.typ)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %q (%s)", table, strings.Join(defs, ", "))); err != nil {
			t.Fatal(err)
		}
		for _, batch := range readRows(t, my, table, cols) {
			if _, err := tx.ExecContext(ctx, batch.sql, batch.args...); err != nil {
				t.Fatalf("copy %s: %v", table, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// pgType is the PostgreSQL type SQLAlchemy gives a Neutron column there.
func pgType(dataType, colType string) string {
	switch {
	case colType == "tinyint(1)":
		return "BOOLEAN"
	case strings.Contains(dataType, "int"):
		return "BIGINT"
	case dataType == "datetime" || dataType == "timestamp":
		return "TIMESTAMP"
	case dataType == "float" || dataType == "double" || dataType == "decimal":
		return "DOUBLE PRECISION"
	case strings.Contains(dataType, "blob") || strings.Contains(dataType, "binary"):
		return "BYTEA"
	}
	return "TEXT"
}

type insertBatch struct {
	sql  string
	args []any
}

// readRows reads a MariaDB table as PostgreSQL INSERTs of up to 500 rows.
func readRows(t *testing.T, my *db.DB, table string, cols []pgColumn) []insertBatch {
	t.Helper()
	rows, err := my.SQL.Query("SELECT * FROM `" + table + "`")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = strconv.Quote(c.name)
	}
	var out []insertBatch
	var cur *insertBatch
	var tuples []string
	flush := func() {
		if cur != nil {
			cur.sql = fmt.Sprintf("INSERT INTO %q (%s) VALUES %s", table, strings.Join(names, ", "), strings.Join(tuples, ", "))
			out = append(out, *cur)
			cur, tuples = nil, nil
		}
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if cur == nil {
			cur = &insertBatch{}
		}
		ph := make([]string, len(cols))
		for i, v := range vals {
			cur.args = append(cur.args, pgValue(t, v, cols[i].typ))
			ph[i] = "$" + strconv.Itoa(len(cur.args))
		}
		tuples = append(tuples, "("+strings.Join(ph, ", ")+")")
		if len(tuples) == 500 {
			flush()
		}
	}
	flush()
	return out
}

func pgValue(t *testing.T, v any, typ string) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if v == nil {
		return nil
	}
	s := fmt.Sprint(v)
	switch typ {
	case "BOOLEAN":
		return s != "0"
	case "BIGINT":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	case "TIMESTAMP":
		tm, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	return s
}
