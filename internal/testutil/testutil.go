// Package testutil starts real neutrino servers for tests: in-process on an
// httptest listener, on any of the three database engines.
package testutil

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	_ "github.com/neutrino-os/neutrino/internal/plugins"
)

// Server is a running neutrino.
type Server struct {
	URL string
	App *app.App
}

// Options configure StartServer.
type Options struct {
	// DB is a database URL; "" = a fresh SQLite file in t.TempDir().
	DB string
	// Set are option overrides "group.name" → value.
	Set map[string]string
	// Files are config files to load.
	Files []string
	// Log receives the server log (nil: discarded).
	Log io.Writer
}

// StartServer runs neutrino in-process with the embedded default profile
// (unless Files are given) and stops it when the test ends.
func StartServer(t testing.TB, o Options) *Server {
	t.Helper()
	a, err := NewApp(t, o)
	if err != nil {
		t.Fatalf("start neutrino: %v", err)
	}
	ts := httptest.NewServer(a.Server.Handler())
	t.Cleanup(func() { ts.Close() })
	return &Server{URL: ts.URL, App: a}
}

// NewApp builds a neutrino application as StartServer does, without
// serving it, and returns the start-up error (closed when the test ends).
func NewApp(t testing.TB, o Options) (*app.App, error) {
	t.Helper()
	if o.DB == "" {
		o.DB = "sqlite:///" + filepath.Join(t.TempDir(), "neutrino.db")
	}
	// a small pool per test server: tests run several servers at once on
	// the shared database servers, whose connection limits are global
	over := map[string]string{"database.connection": o.DB, "database.max_pool_size": "8"}
	for k, v := range o.Set {
		over[k] = v
	}
	c, err := config.Load(o.Files, nil, over)
	if err != nil {
		return nil, err
	}
	if err := app.ApplyDefaultProfile(c); err != nil {
		return nil, err
	}
	w := o.Log
	if w == nil {
		w = io.Discard
		if os.Getenv("NEUTRINO_TEST_LOG") != "" {
			w = os.Stderr // every server's log, to debug a test
		}
	}
	a, err := app.New(c, slog.New(slog.NewTextHandler(w, nil)), true)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { a.Close() })
	return a, nil
}

// Engine is a database engine tests can run on.
type Engine struct {
	Name string
	// URL returns a fresh, empty database URL for t (dropped at the end).
	URL func(t testing.TB) string
}

// Engines returns SQLite plus PostgreSQL and MySQL/MariaDB when reachable.
// With CI=true an unreachable engine fails the test instead of skipping.
func Engines(t testing.TB) []Engine {
	out := []Engine{{Name: "sqlite", URL: func(t testing.TB) string {
		return "sqlite:///" + filepath.Join(t.TempDir(), "neutrino.db")
	}}}
	if e, ok := postgres(t); ok {
		out = append(out, e)
	}
	if e, ok := mysql(t); ok {
		out = append(out, e)
	}
	return out
}

// RequireEngine reports an unreachable engine: a skip locally, a failure
// under CI=true.
func RequireEngine(t testing.TB, name string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s unreachable under CI=true: %v", name, err)
	}
	t.Logf("skipping %s: unreachable: %v", name, err)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func dbName(t testing.TB) string {
	n := strings.ToLower(fmt.Sprintf("nt_%d_%s", time.Now().UnixNano()%1e9, sanitize(t.Name())))
	if len(n) > 60 {
		n = n[:60]
	}
	return n
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func postgres(t testing.TB) (Engine, bool) {
	admin := env("NEUTRINO_TEST_PG", "postgres://root@127.0.0.1:5432/test?sslmode=disable")
	db, err := sql.Open("pgx", admin)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		RequireEngine(t, "postgresql", err)
		return Engine{}, false
	}
	return Engine{Name: "postgresql", URL: func(t testing.TB) string {
		name := dbName(t)
		if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatalf("create database: %v", err)
		}
		t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
		u := strings.Replace(admin, "/test?", "/"+name+"?", 1)
		return strings.Replace(u, "postgres://", "postgresql://", 1)
	}}, true
}

func mysql(t testing.TB) (Engine, bool) {
	dsn := env("NEUTRINO_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test")
	db, err := sql.Open("mysql", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		RequireEngine(t, "mysql", err)
		return Engine{}, false
	}
	base := env("NEUTRINO_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")
	return Engine{Name: "mysql", URL: func(t testing.TB) string {
		name := dbName(t)
		if _, err := db.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
			t.Fatalf("create database: %v", err)
		}
		t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS " + name) })
		return base + "/" + name
	}}, true
}
