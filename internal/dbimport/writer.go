package dbimport

import (
	"context"
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/db"
)

// Writer writes neutrino's rows in the import's one target transaction and
// counts them per table. Consecutive rows of one table are sent as
// multi-row INSERTs; they are flushed before a row of another table (so
// rows are written in the order they are given, parents before children),
// when the batch is full, before Tx is used, and after each importer.
type Writer struct {
	tx     *db.Tx
	counts map[string]int64
	first  []string // tables in the order of their first row
	notes  []string
	batch  struct {
		table, cols string
		ncols, rows int
		args        []any
	}
}

// maxBatchArgs bounds the values of one INSERT (SQLite allows 32766,
// PostgreSQL 65535).
const maxBatchArgs = 8000

func newWriter(tx *db.Tx) *Writer {
	return &Writer{tx: tx, counts: map[string]int64{}}
}

// Tx is the target transaction, with every row given so far written (for
// the allocators' own helpers, such as ipam.Insert; count their rows with
// Counted).
func (w *Writer) Tx(ctx context.Context) (*db.Tx, error) {
	return w.tx, w.flush(ctx)
}

// Insert writes one row; cols is the column list ("a, b, c") and vals
// its values in order.
func (w *Writer) Insert(ctx context.Context, table, cols string, vals ...any) error {
	b := &w.batch
	if b.rows > 0 && (b.table != table || b.cols != cols || len(b.args)+len(vals) > maxBatchArgs) {
		if err := w.flush(ctx); err != nil {
			return err
		}
	}
	b.table, b.cols, b.ncols = table, cols, len(vals)
	b.args = append(b.args, vals...)
	b.rows++
	w.Counted(table, 1)
	return nil
}

// flush writes the pending rows.
func (w *Writer) flush(ctx context.Context) error {
	b := &w.batch
	if b.rows == 0 {
		return nil
	}
	row := "(?" + strings.Repeat(", ?", b.ncols-1) + ")"
	q := "INSERT INTO " + b.table + " (" + b.cols + ") VALUES " + row + strings.Repeat(", "+row, b.rows-1)
	_, err := w.tx.Exec(ctx, q, b.args...)
	table := b.table
	b.rows, b.args = 0, b.args[:0]
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
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
