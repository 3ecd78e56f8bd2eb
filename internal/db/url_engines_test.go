package db_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestMySQLPasswordSpecialCharacters: a password holding # / ? % and a
// space, written as SQLAlchemy reads it (only what must be is
// percent-encoded), connects; the password never shows in Redacted.
func TestMySQLPasswordSpecialCharacters(t *testing.T) {
	dsn := os.Getenv("NEUTRINO_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/test"
	}
	admin, err := sql.Open("mysql", dsn)
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		testutil.RequireEngine(t, "mysql", err)
		return
	}
	defer admin.Close()
	const pw = "p#ss/w?rd %x@1"
	for _, q := range []string{
		"DROP USER IF EXISTS 'nt_pw_test'@'127.0.0.1'",
		"CREATE USER 'nt_pw_test'@'127.0.0.1' IDENTIFIED BY '" + pw + "'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { admin.Exec("DROP USER IF EXISTS 'nt_pw_test'@'127.0.0.1'") })
	raw := "mysql+pymysql://nt_pw_test:" + strings.ReplaceAll(pw, "@", "%40") + "@127.0.0.1:3306/"
	d, err := db.Open(raw, db.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer d.Close()
	var user string
	if err := d.QueryRow(context.Background(), "SELECT CURRENT_USER()").Scan(&user); err != nil || !strings.HasPrefix(user, "nt_pw_test@") {
		t.Fatalf("user %q %v", user, err)
	}
	if strings.Contains(d.Redacted, "rd %x") || !strings.Contains(d.Redacted, "nt_pw_test:***@127.0.0.1") {
		t.Fatalf("redacted %q", d.Redacted)
	}
	// the wrong password is refused, and not shown either
	_, err = db.Open("mysql+pymysql://nt_pw_test:wr#ng pw@127.0.0.1:3306/", db.Options{})
	if err == nil || strings.Contains(err.Error(), "wr#ng") {
		t.Fatalf("wrong password: %v", err)
	}
}
