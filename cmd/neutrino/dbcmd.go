package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
)

// dbCommand is a subcommand of `neutrino db`.
type dbCommand struct {
	name, summary, desc string
	run                 func(c *config.Config, stdout, stderr io.Writer) int
}

func dbCommands() []dbCommand {
	return []dbCommand{
		{"upgrade", "apply pending schema migrations",
			"Apply the pending schema migrations to the configured database (creating an SQLite\nfile if there is none). Idempotent; several neutrino hosts may run it at once.", dbUpgrade},
		{"version", "print the schema version (changes nothing)",
			"Print the schema version of the configured database and the version this binary\nneeds, as \"V (head H)\". It changes nothing: a missing SQLite file is reported,\nnot created.", dbVersion},
		{"check", "check that this neutrino can serve the configured database (like neutron-status upgrade check)",
			"Check, without changing anything, that this neutrino can serve with this\nconfiguration: the database answers and its schema is current, the policy files\nparse, the authentication options are complete, and which options, plugins and\ndrivers would be ignored, like neutron-status upgrade check. Exit status: 0 all\npassed, 1 warnings, 2 a failure.", dbCheck},
	}
}

func dbUsage(w io.Writer) {
	fmt.Fprint(w, "usage: neutrino db <command> [--config-file F]... [flags]\n\ncommands:\n")
	for _, c := range dbCommands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-8s %s\n", "import", "copy an OpenStack Neutron database into the configured one (docs/import.md)")
	fmt.Fprint(w, "\nRun \"neutrino db <command> --help\" for its flags.\n")
}

func dbCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "help" {
		if len(args) > 0 && isHelp(args[0]) {
			dbUsage(stdout)
			return 0
		}
		fmt.Fprintln(stderr, "neutrino db: which command?")
		dbUsage(stderr)
		return 2
	}
	if args[0] == "import" {
		return dbImportCmd(args[1:], stdout, stderr)
	}
	for _, sc := range dbCommands() {
		if sc.name != args[0] {
			continue
		}
		fs := newFlagSet("db "+sc.name, "[--config-file F]... [flags]", sc.desc)
		var f confFlags
		f.config(fs)
		f.database(fs)
		if code, ok := parseFlags(fs, args[1:], stdout, stderr); !ok {
			return code
		}
		c, err := f.load()
		if err != nil {
			fmt.Fprintln(stderr, "neutrino:", err)
			return 1
		}
		return sc.run(c, stdout, stderr)
	}
	fmt.Fprintf(stderr, "neutrino db: unknown command %q\n\n", args[0])
	dbUsage(stderr)
	return 2
}

func dbUpgrade(c *config.Config, stdout, stderr io.Writer) int {
	d, err := app.OpenDB(c)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	defer d.Close()
	ctx := context.Background()
	applied, err := d.Migrate(ctx, db.Schema())
	if err != nil {
		fmt.Fprintln(stderr, "neutrino: db upgrade:", err)
		return 1
	}
	v, _ := d.Version(ctx)
	fmt.Fprintf(stdout, "applied %d migration(s) %v; schema version %d (%s)\n", len(applied), applied, v, d.Redacted)
	return 0
}

// sqliteMissing reports the file of an SQLite URL that does not exist (so
// that reading commands do not create it).
func sqliteMissing(url string) (string, bool) {
	rest, ok := strings.CutPrefix(url, "sqlite://")
	if !ok {
		return "", false
	}
	path, _, _ := strings.Cut(rest, "?")
	if path == "" || path == "/" || path == "/:memory:" {
		return "", false
	}
	path = strings.TrimPrefix(path, "/")
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return path, true
	}
	return "", false
}

// schemaVersion reads the schema version without changing anything.
func schemaVersion(c *config.Config) (v int, where string, err error) {
	url := c.String("database", "connection")
	if path, missing := sqliteMissing(url); missing {
		return 0, path, fmt.Errorf("no database file %s", path)
	}
	d, err := app.OpenDB(c)
	if err != nil {
		return 0, url, err
	}
	defer d.Close()
	v, err = d.Version(context.Background())
	return v, d.Redacted, err
}

func dbVersion(c *config.Config, stdout, stderr io.Writer) int {
	if path, missing := sqliteMissing(c.String("database", "connection")); missing {
		fmt.Fprintf(stdout, "0 (head %d): no database file %s (nothing created)\n", db.Head(), path)
		return 0
	}
	v, where, err := schemaVersion(c)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	state := "up to date"
	if e := app.SchemaError(v, where); e != nil {
		state = e.Error()
	}
	fmt.Fprintf(stdout, "%d (head %d): %s\n", v, db.Head(), state)
	return 0
}
