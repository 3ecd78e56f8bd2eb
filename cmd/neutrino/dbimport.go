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

const dbImportUsage = `usage: neutrino db import --from URL [--force] [--dry-run] [--config-file F]...

Copies an OpenStack Neutron database (Zed or later; read in one read-only
transaction, never written) into neutrino's database, the one [database]
connection names: networks, segments and their allocations, subnets, ports,
security groups, address scopes, subnet pools, RBAC policies, quotas and
tags, with their ids, times and revision numbers. The target must be empty
unless --force, which replaces its contents. Prints the rows written per
table, and the Neutron tables holding rows neutrino does not import yet.
See docs/import.md.

flags:
`

// dbImportCmd is `neutrino db import --from URL`: it copies a Neutron
// database into the configured one ([database] connection) and prints
// the rows written per table.
func dbImportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("db import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, dbImportUsage); fs.PrintDefaults() }
	from := fs.String("from", "", "the Neutron database: mysql+pymysql://user:pass@host/neutron or postgresql://user:pass@host/neutron")
	var opt dbimport.Options
	fs.BoolVar(&opt.Force, "force", false, "replace the contents of a non-empty target")
	fs.BoolVar(&opt.DryRun, "dry-run", false, "import in a transaction and roll it back (an empty target still gets the schema)")
	// the configuration flags that matter here (the target database)
	var f confFlags
	f.config(fs)
	f.database(fs)
	f.workers = -1
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *from == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "neutrino: db import: "+format+"\n", args...)
		return 1
	}
	c, err := f.load()
	if err != nil {
		return fail("%v", err)
	}
	if c.String("database", "connection") == *from {
		return fail("--from names the target database itself; import into another, empty database")
	}
	src, err := db.Open(*from, db.Options{MaxOpenConns: 2})
	if err != nil {
		return fail("source: %v", err)
	}
	defer src.Close()
	dst, err := app.OpenDB(c)
	if err != nil {
		return fail("target: %v", err)
	}
	defer dst.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	rep, err := dbimport.Import(ctx, src, dst, opt)
	if err != nil {
		return fail("%v", err)
	}
	printImportReport(stdout, rep, src.Redacted, dst.Redacted, opt.DryRun)
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
