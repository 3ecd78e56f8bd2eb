package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/neutrino-os/neutrino/internal/app"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/dbimport"
)

// dbImportCmd is `neutrino db import --from URL`: it copies a Neutron
// database into the configured one ([database] connection) and prints
// the rows written per table.
func dbImportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("db import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: neutrino db import --from URL [--force] [--dry-run] [--config-file F]...

Copies an OpenStack Neutron database (Zed or later; read in one read-only
transaction, never written) into neutrino's database, the one [database]
connection names: networks, segments and their allocations, subnets, ports,
security groups, address scopes, subnet pools, RBAC policies, quotas and
tags, with their ids, times and revision numbers. The target must be empty
unless --force, which replaces its contents. Prints the rows written per
table, and the Neutron tables holding rows neutrino does not import yet.

flags:
`)
		fs.PrintDefaults()
	}
	from := fs.String("from", "", "the Neutron database: mysql+pymysql://user:pass@host/neutron or postgresql://user:pass@host/neutron")
	force := fs.Bool("force", false, "replace the contents of a non-empty target")
	dry := fs.Bool("dry-run", false, "import in a transaction and roll it back (an empty target still gets the schema)")
	var f commonFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	c, err := f.load()
	if err != nil {
		fmt.Fprintln(stderr, "neutrino:", err)
		return 1
	}
	if c.String("database", "connection") == *from {
		fmt.Fprintln(stderr, "neutrino: db import: --from names the target database itself; import into another, empty database")
		return 1
	}
	src, err := db.Open(*from, db.Options{MaxOpenConns: 2})
	if err != nil {
		fmt.Fprintln(stderr, "neutrino: db import: source:", err)
		return 1
	}
	defer src.Close()
	dst, err := app.OpenDB(c)
	if err != nil {
		fmt.Fprintln(stderr, "neutrino: db import: target:", err)
		return 1
	}
	defer dst.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	rep, err := dbimport.Import(ctx, src, dst, dbimport.Options{Force: *force, DryRun: *dry})
	if err != nil {
		var ne *dbimport.NotEmptyError
		if errors.As(err, &ne) {
			fmt.Fprintln(stderr, "neutrino: db import:", dst.Redacted+":", err)
			return 1
		}
		fmt.Fprintln(stderr, "neutrino: db import:", err)
		return 1
	}
	printImportReport(stdout, rep, src.Redacted, dst.Redacted, *dry)
	return 0
}

func printImportReport(w io.Writer, rep *dbimport.Report, from, to string, dry bool) {
	verb := "imported"
	if dry {
		verb = "dry run (rolled back): would import"
	}
	fmt.Fprintf(w, "%s %s into %s\n", verb, from, to)
	if len(rep.Replaced) > 0 {
		var n int64
		for _, t := range rep.Replaced {
			n += t.Rows
		}
		fmt.Fprintf(w, "replaced the target's %d rows in %d tables (--force)\n", n, len(rep.Replaced))
	}
	var total int64
	for _, t := range rep.Written {
		fmt.Fprintf(w, "  %-28s %8d\n", t.Table, t.Rows)
		total += t.Rows
	}
	fmt.Fprintf(w, "  %-28s %8d\n", "total", total)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if len(rep.NotImported) > 0 {
		fmt.Fprintln(w, "not imported (neutrino has no such resource yet), Neutron tables with rows:")
		for _, t := range rep.NotImported {
			fmt.Fprintf(w, "  %-28s %8d\n", t.Table, t.Rows)
		}
	}
}
