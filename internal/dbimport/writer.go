package dbimport

import (
	"context"
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/db"
)

// Writer writes neutrino's rows in the import's one target transaction and
// counts them per table.
type Writer struct {
	tx     *db.Tx
	counts map[string]int64
	first  []string // tables in the order of their first row
	notes  []string
	sqls   map[string]string
}

func newWriter(tx *db.Tx) *Writer {
	return &Writer{tx: tx, counts: map[string]int64{}, sqls: map[string]string{}}
}

// Tx is the target transaction (for the allocators' own helpers, such as
// ipam.Insert; count their rows with Counted).
func (w *Writer) Tx() *db.Tx { return w.tx }

// Insert writes one row; cols is the column list ("a, b, c") and vals
// its values in order.
func (w *Writer) Insert(ctx context.Context, table, cols string, vals ...any) error {
	key := table + "\x00" + cols
	q, ok := w.sqls[key]
	if !ok {
		n := strings.Count(cols, ",") + 1
		q = "INSERT INTO " + table + " (" + cols + ") VALUES (?" + strings.Repeat(", ?", n-1) + ")"
		w.sqls[key] = q
	}
	if _, err := w.tx.Exec(ctx, q, vals...); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	w.Counted(table, 1)
	return nil
}

// Counted adds n rows written to table by other means.
func (w *Writer) Counted(table string, n int64) {
	if _, seen := w.counts[table]; !seen {
		w.first = append(w.first, table)
	}
	w.counts[table] += n
}

// Note records something the operator should know about the import (a
// row that could not be imported as it is, and what was done instead).
func (w *Writer) Note(format string, args ...any) {
	w.notes = append(w.notes, fmt.Sprintf(format, args...))
}
