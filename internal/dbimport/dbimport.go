// Package dbimport moves an existing cloud's state from an OpenStack
// Neutron database (Zed or later, on MySQL/MariaDB or PostgreSQL) into
// neutrino's schema, for `neutrino db import`.
//
// The source is only read, in one read-only transaction; the target gets
// neutrino's schema and then every row in one transaction, so that an
// import either happens completely or not at all. Ids, names,
// descriptions, creation and update times and revision numbers are kept,
// so that neutrino answers what Neutron answered.
//
// Each group of resources is an Importer in its own file (networks.go,
// subnets.go, ports.go, ...), registered from init with the Neutron tables
// it reads and the neutrino tables it writes; the tags and RBAC importers
// collect what the others declare taggable or shareable. A resource
// neutrino gains is one more file.
package dbimport

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/neutrino-os/neutrino/internal/db"
)

// Importer moves one group of resources from Neutron's tables into
// neutrino's. Each lives in its own file of this package and registers
// itself from init; a new resource (routers, floating IPs, QoS, trunks...)
// is one more file.
type Importer struct {
	Name string
	// Order places the importer: lower runs first, so that rows are
	// written after the rows they refer to (foreign keys). In use: 10
	// address scopes and subnet pools, 30 networks, 40 subnets, 50
	// security groups, 60 ports, 65 QoS and flavors, 66 routers and
	// floating IPs, 67 what builds on them, 70 trunks, 80 RBAC policies,
	// 85 quotas, 90 tags.
	Order int
	// Reads are the Neutron tables it reads; a non-empty source table no
	// importer reads (nor ignoredTables) is reported as not imported.
	Reads []string
	// Writes are the neutrino tables it writes, parents first (the
	// report's order; --force clears them in the reverse order).
	Writes []string
	// Tagged are Neutron tables (with id and standard_attr_id columns)
	// whose rows' tags the tags importer copies.
	Tagged []string
	// RBAC maps Neutron RBAC tables to neutrino's object_type for the
	// rbac_policies importer.
	RBAC map[string]string
	// Run copies the rows.
	Run func(ctx context.Context, s *Source, w *Writer) error
}

var importers []Importer

// Register adds an importer (from init).
func Register(im Importer) {
	for _, o := range importers {
		if o.Name == im.Name {
			panic("dbimport: importer " + im.Name + " registered twice")
		}
	}
	importers = append(importers, im)
	sort.SliceStable(importers, func(i, j int) bool { return importers[i].Order < importers[j].Order })
}

// Importers returns the registered importers in run order.
func Importers() []Importer { return importers }

// Options tune an import.
type Options struct {
	// Force replaces the contents of a non-empty target.
	Force bool
	// DryRun rolls the target transaction back at the end (the schema is
	// still created in an empty target).
	DryRun bool
}

// TableCount is a number of rows of a table.
type TableCount struct {
	Table string
	Rows  int64
}

// Report says what an import did.
type Report struct {
	// Written counts the rows written per neutrino table, in write order.
	Written []TableCount
	// Replaced counts the rows the target held before (Force).
	Replaced []TableCount
	// NotImported are the source's non-empty tables no importer reads
	// (resources neutrino does not have yet).
	NotImported []TableCount
	// Notes are rows imported differently from the source, and why.
	Notes []string
}

var errDryRun = errors.New("dry run")

// Import copies the Neutron database src into neutrino's schema in dst:
// src is read in one read-only transaction; dst gets neutrino's schema
// (migrations) and then every row in one transaction. A dst holding data
// is refused (*NotEmptyError) unless opt.Force, which replaces its
// contents, so that importing twice gives the same result.
func Import(ctx context.Context, src, dst *db.DB, opt Options) (*Report, error) {
	s, err := openSource(ctx, src)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := checkNeutron(s); err != nil {
		return nil, fmt.Errorf("%s: %w", src.Redacted, err)
	}
	if _, err := dst.Migrate(ctx, db.Schema()); err != nil {
		return nil, fmt.Errorf("prepare the target %s: %w", dst.Redacted, err)
	}
	var rep *Report
	err = dst.Write(ctx, func(tx *db.Tx) error {
		rep = &Report{}
		tables, err := targetTables(ctx, tx)
		if err != nil {
			return err
		}
		held, err := heldRows(ctx, tx, tables)
		if err != nil {
			return err
		}
		if len(held) > 0 {
			if !opt.Force {
				return &NotEmptyError{Database: dst.Redacted, Tables: held}
			}
			if err := clearTarget(ctx, tx, tables); err != nil {
				return err
			}
			rep.Replaced = held
		}
		w := newWriter(tx)
		for _, im := range importers {
			if err := im.Run(ctx, s, w); err != nil {
				return fmt.Errorf("import %s: %w", im.Name, err)
			}
			if err := w.flush(ctx); err != nil {
				return fmt.Errorf("import %s: %w", im.Name, err)
			}
		}
		rep.Written, rep.Notes = w.report(), w.notes
		if opt.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, err
	}
	if rep.NotImported, err = notImported(ctx, s); err != nil {
		return nil, err
	}
	return rep, nil
}

// report lists the counts in the importers' declared order (zeros
// included), then any other table written.
func (w *Writer) report() []TableCount {
	var out []TableCount
	seen := map[string]bool{}
	for _, im := range importers {
		for _, t := range im.Writes {
			if !seen[t] {
				seen[t] = true
				out = append(out, TableCount{Table: t, Rows: w.counts[t]})
			}
		}
	}
	for _, t := range w.first {
		if !seen[t] {
			out = append(out, TableCount{Table: t, Rows: w.counts[t]})
		}
	}
	return out
}
