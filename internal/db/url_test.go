package db

import (
	"strings"
	"testing"
)

func TestParseURLAsSQLAlchemy(t *testing.T) {
	for _, c := range []struct {
		raw                            string
		user, pw, host, port, database string
		q                              string
	}{
		{"mysql+pymysql://neutron:p#ss/w?rd %40x%zz@db.example:3307/neutron?charset=utf8", "neutron", "p#ss/w?rd @x%zz", "db.example", "3307", "neutron", "charset=utf8"},
		{"postgresql://u%3Aa:pa%3Ass@[::1]:5433/db", "u:a", "pa:ss", "::1", "5433", "db", ""},
		{"postgresql://u@/db?host=/var/run/postgresql", "u", "", "", "", "db", "host=%2Fvar%2Frun%2Fpostgresql"},
		{"mysql://root@127.0.0.1/n", "root", "", "127.0.0.1", "", "n", ""},
	} {
		u, ok := parseURL(c.raw)
		if !ok || u.user != c.user || u.password != c.pw || u.host != c.host || u.port != c.port || u.database != c.database || u.query.Encode() != c.q {
			t.Errorf("%q: %+v", c.raw, u)
		}
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"mysql+pymysql://neutron:p#ss/w?rd %40x@db:3306/neutron": "mysql+pymysql://neutron:***@db:3306/neutron",
		"postgresql://root@127.0.0.1/test":                       "postgresql://root@127.0.0.1/test",
		"sqlite:////var/lib/neutrino.db":                         "sqlite:////var/lib/neutrino.db",
		"mysql:/root:secret@x/db":                                "(not a database URL)",
	} {
		if got := redact(raw); got != want {
			t.Errorf("redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestOpenErrorRedacted: a password never shows in Open's errors, whatever
// it holds.
func TestOpenErrorRedacted(t *testing.T) {
	for _, raw := range []string{
		"mysql+pymysql://root:s3cr#t/x?y z@127.0.0.1:1/neutron",
		"postgresql://root:s3cr#t/x?y z@127.0.0.1:1/neutron",
		"mysql:/root:s3cr#t@x/db",
		"oracle://root:s3cr#t@x/db",
	} {
		_, err := Open(raw, Options{Retry: &RetryPolicy{}})
		if err == nil || strings.Contains(err.Error(), "s3cr") {
			t.Errorf("%q: %v", raw, err)
		}
	}
}
