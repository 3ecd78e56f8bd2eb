package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// pgCluster is a PostgreSQL instance of the test's own (initdb into a
// temporary directory, its own port), so that a fault test can stop and
// restart it without disturbing the shared server other tests use.
type pgCluster struct {
	bin, dir, log string
	port          int
}

// pgBin finds the directory of initdb/pg_ctl.
func pgBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// startPGCluster creates and starts a cluster with a trusted superuser
// "root"; it is stopped and removed when the test ends. It needs root
// (the server runs as the postgres user); without it, or without the
// PostgreSQL binaries, the test is skipped unless CI=true.
func startPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	bin := pgBin()
	if bin == "" || os.Geteuid() != 0 {
		msg := fmt.Sprintf("own PostgreSQL cluster needs root and initdb (bin %q, euid %d)", bin, os.Geteuid())
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir, err := os.MkdirTemp("", "neutrino-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c := &pgCluster{bin: bin, dir: dir, log: filepath.Join(dir, "server.log"), port: freePort(t)}
	t.Cleanup(func() {
		c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	if out, err := c.asPostgres(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "root", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v %s", err, out)
	}
	c.start(t)
	db, err := sql.Open("pgx", c.adminURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE neutrino"); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *pgCluster) asPostgres(name string, args ...string) *exec.Cmd {
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
}

func (c *pgCluster) pgctl(args ...string) ([]byte, error) {
	full := append([]string{"-D", filepath.Join(c.dir, "data"), "-w", "-t", "60"}, args...)
	return c.asPostgres(filepath.Join(c.bin, "pg_ctl"), full...).CombinedOutput()
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c max_connections=200", c.port, c.dir)
	if out, err := c.pgctl("start", "-l", c.log, "-o", opts); err != nil {
		logs, _ := os.ReadFile(c.log)
		t.Fatalf("pg_ctl start: %v %s\n%s", err, out, logs)
	}
}

// stop stops the server ("fast": clients are disconnected, "immediate":
// as a crash).
func (c *pgCluster) stop(t *testing.T, mode string) {
	t.Helper()
	if out, err := c.pgctl("stop", "-m", mode); err != nil {
		t.Fatalf("pg_ctl stop: %v %s", err, out)
	}
}

func (c *pgCluster) adminURL(db string) string {
	return fmt.Sprintf("postgres://root@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// url is the neutrino connection URL of the cluster's database.
func (c *pgCluster) url() string {
	return fmt.Sprintf("postgresql://root@127.0.0.1:%d/neutrino", c.port)
}

// query runs a single-value query on the neutrino database.
func (c *pgCluster) query(t *testing.T, q string, dest any) {
	t.Helper()
	db, err := sql.Open("pgx", c.adminURL("neutrino"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.QueryRowContext(ctx, q).Scan(dest); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
