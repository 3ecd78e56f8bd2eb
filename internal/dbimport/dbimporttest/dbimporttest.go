// Package dbimporttest gives tests the reference Neutron database that
// internal/dbimport/testdata records (a mysqldump of a reference Neutron
// filled through its API, see testdata/record.sh), loaded into a scratch
// MariaDB database.
package dbimporttest

import (
	"bufio"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// Testdata is the path of internal/dbimport/testdata.
func Testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// Engine returns the test engine of that name (testutil.Engines), or
// skips when it is unreachable (Engines fails the test under CI=true).
func Engine(t *testing.T, name string) testutil.Engine {
	t.Helper()
	for _, e := range testutil.Engines(t) {
		if e.Name == name {
			return e
		}
	}
	t.Skipf("%s unreachable", name)
	return testutil.Engine{}
}

// LoadReference loads the reference's dump into a fresh MariaDB database
// (dropped when the test ends) and returns its URL and the database
// opened.
func LoadReference(t *testing.T) (string, *db.DB) {
	t.Helper()
	url := Engine(t, "mysql").URL(t)
	d, err := db.Open(url, db.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	f, err := os.Open(filepath.Join(Testdata(), "neutron-zed.sql.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := d.SQL.Conn(ctx) // the dump's session variables need one connection
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// mysqldump writes no raw newline inside a value: a statement ends
	// with the line that ends with ';'
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var stmt strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if stmt.Len() == 0 && (line == "" || strings.HasPrefix(line, "--")) {
			continue
		}
		stmt.WriteString(line)
		stmt.WriteByte('\n')
		if strings.HasSuffix(line, ";") {
			if _, err := conn.ExecContext(ctx, stmt.String()); err != nil {
				t.Fatalf("load the reference dump: %v\n%.300s", err, stmt.String())
			}
			stmt.Reset()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return url, d
}
