package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/db"
)

// The lock order. Every write transaction takes its row locks in one
// order, parents before children, so that two writes never wait for each
// other in a circle (a deadlock, which PostgreSQL and InnoDB break by
// failing one of them):
//
//	quota_usages rows (store.Table.Create, before any row)
//	→ the network (Hooks.Lock of its children: subnets, segments, ports)
//	→ subnet pools (a subnet's prefix)
//	→ subnets (foreign keys of ipallocations)
//	→ ports (their own row; foreign keys of trunks, bindings)
//	→ trunks
//
// A table whose rows belong to a parent (a port's network) declares a
// Hooks.Lock that locks the parent row; the store runs it first in every
// create, update and delete of the table, before the row's own lock and
// before any other hook or event, and before the row lock of GetTx(…,
// true) (member actions, other plugins locking the row). Foreign keys take shared locks on the
// parents they name when a child row is written, so a parent must be
// locked before its children are written, never after.
//
// docs/ARCHITECTURE.md ("Lock order") lists who locks what.

// LockMode is the strength of a parent row lock.
type LockMode int

// Lock modes.
const (
	// Shared keeps the row from being deleted or locked exclusively
	// until the transaction ends; any number of writers may hold it (a
	// port create on a network).
	Shared LockMode = iota
	// Exclusive is the row lock an update or delete of the row takes (a
	// subnet create, which bumps its network's revision).
	Exclusive
)

// lockSuffix is the locking clause of a SELECT in mode; "" on SQLite,
// whose write transactions exclude each other.
func lockSuffix(d db.Dialect, mode LockMode) string {
	switch {
	case d == db.SQLite:
		return ""
	case mode == Exclusive:
		return " FOR UPDATE"
	case d == db.Postgres:
		// KEY SHARE: what a foreign key check takes, so that writers of
		// children never wait for each other, nor for an update of the
		// row that leaves its key alone
		return " FOR KEY SHARE"
	}
	return " LOCK IN SHARE MODE"
}

// LockRow locks row id of table in tx in mode and reports whether it
// exists (after waiting for the lock: a row deleted by the transaction
// that held it is gone).
func LockRow(ctx context.Context, tx *db.Tx, table, id string, mode LockMode) (bool, error) {
	var got string
	err := tx.QueryRow(ctx, "SELECT id FROM "+table+" WHERE id = ?"+lockSuffix(tx.Dialect(), mode), id).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ParentLock is a Hooks.Lock for a table whose rows name their parent in
// column col (e.g. a port's network_id): it locks the parent row of
// table parent in mode. A create names the parent in its item; an update
// or delete reads it from the row (without a lock: the column never
// changes). A missing parent or row is left to the write's own checks.
func ParentLock(parent, col string, mode LockMode) func(op *Op) error {
	return func(op *Op) error {
		var id string
		if op.creating {
			id, _ = op.New[col].(string)
		} else {
			var err error
			if id, err = parentOf(op, col); err != nil {
				return err
			}
		}
		if id == "" {
			return nil
		}
		_, err := LockRow(op.Ctx, op.Tx, parent, id, mode)
		return err
	}
}

// parentOf reads column col of the op's row ("" when the row is gone).
func parentOf(op *Op, col string) (string, error) {
	var id sql.NullString
	err := op.Tx.QueryRow(op.Ctx, "SELECT "+col+" FROM "+op.Table.Name+" WHERE id = ?", op.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id.String, err
}

// lockParents runs the table's Lock hooks (first in every write).
func (t *Table) lockParents(op *Op) error {
	for _, h := range t.Hooks {
		if h.Lock != nil {
			if err := h.Lock(op); err != nil {
				return err
			}
		}
	}
	return nil
}
