package ovn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// Transact runs operations as one OVSDB transaction. It waits for the connection first (the whole
// call is bounded by the configured timeout when ctx has no deadline) and turns failed operations
// into an error naming them. A transaction cut off by a dropped connection is not retried: it may
// or may not have been committed, so the caller must check (or repair later).
func (c *Client) Transact(ctx context.Context, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if err := c.WaitConnected(ctx); err != nil {
		return nil, err
	}
	res, err := c.ovsdb.Transact(ctx, ops...)
	if err != nil {
		return nil, fmt.Errorf("ovn: %s transaction: %w", c.name, err)
	}
	if opErrs, err := ovsdb.CheckOperationResults(res, ops); err != nil {
		msgs := make([]string, 0, len(opErrs))
		for _, e := range opErrs {
			op := e.Operation()
			msgs = append(msgs, fmt.Sprintf("%s %s: %v", op.Op, op.Table, e))
		}
		if len(msgs) == 0 {
			msgs = append(msgs, err.Error())
		}
		return res, &TxnError{DB: c.name, Errors: opErrs, msg: strings.Join(msgs, "; ")}
	}
	return res, nil
}

// TxnError is a transaction the server refused; Errors holds the failed operations' errors
// (ovsdb.ConstraintViolation, ovsdb.ReferentialIntegrityViolation, ...), empty when the whole
// commit failed.
type TxnError struct {
	DB     string
	Errors []ovsdb.OperationError
	msg    string
}

func (e *TxnError) Error() string { return fmt.Sprintf("ovn: %s transaction failed: %s", e.DB, e.msg) }

// Txn collects operations for one transaction. Operations are built when Commit runs (libovsdb
// builds them against the connection's schema and cache), so a Txn can be prepared while the
// client is still connecting. The first error stops the build.
type Txn struct {
	c     *Client
	steps []func(client.API) ([]ovsdb.Operation, error)
}

// Txn starts a transaction on c.
func (c *Client) Txn() *Txn { return &Txn{c: c} }

// Step adds operations built by f from the libovsdb API.
func (t *Txn) Step(f func(api client.API) ([]ovsdb.Operation, error)) *Txn {
	t.steps = append(t.steps, f)
	return t
}

// Create inserts rows (of any tables). A model whose UUID field holds a name that is not a UUID (see NamedUUID)
// gets a named UUID that other operations of the transaction can reference, and whose real UUID
// Commit reports.
func (t *Txn) Create(models ...model.Model) *Txn {
	return t.Step(func(api client.API) ([]ovsdb.Operation, error) {
		var ops []ovsdb.Operation
		for _, m := range models { // libovsdb wants one table per Create call
			o, err := api.Create(m)
			if err != nil {
				return nil, err
			}
			ops = append(ops, o...)
		}
		return ops, nil
	})
}

// Update sets the given fields (pointers into m; all non-default fields when none) of the row
// that m identifies by its UUID or one of its table's indexes.
func (t *Txn) Update(m model.Model, fields ...any) *Txn {
	return t.Step(func(api client.API) ([]ovsdb.Operation, error) { return api.Where(m).Update(m, fields...) })
}

// UpdateWhere sets the given fields of m on every row matching all conditions.
func (t *Txn) UpdateWhere(m model.Model, conds []model.Condition, fields ...any) *Txn {
	return t.Step(func(api client.API) ([]ovsdb.Operation, error) {
		return api.WhereAll(m, conds...).Update(m, fields...)
	})
}

// Mutate applies mutations (insert into or delete from sets and maps, ...) to the row m identifies.
func (t *Txn) Mutate(m model.Model, mutations ...model.Mutation) *Txn {
	return t.Step(func(api client.API) ([]ovsdb.Operation, error) { return api.Where(m).Mutate(m, mutations...) })
}

// Delete removes the row m identifies by its UUID or an index.
func (t *Txn) Delete(m model.Model) *Txn {
	return t.Step(func(api client.API) ([]ovsdb.Operation, error) { return api.Where(m).Delete() })
}

// DeleteWhere removes every row of m's table matching all conditions.
func (t *Txn) DeleteWhere(m model.Model, conds ...model.Condition) *Txn {
	return t.Step(func(api client.API) ([]ovsdb.Operation, error) { return api.WhereAll(m, conds...).Delete() })
}

// Ops adds ready-made operations.
func (t *Txn) Ops(ops ...ovsdb.Operation) *Txn {
	return t.Step(func(client.API) ([]ovsdb.Operation, error) { return ops, nil })
}

// Commit builds the operations and runs them as one transaction. It returns the real UUID of
// every row created under a named UUID, keyed by that name.
func (t *Txn) Commit(ctx context.Context) (map[string]string, error) {
	ctx, cancel := t.c.withTimeout(ctx)
	defer cancel()
	if err := t.c.WaitConnected(ctx); err != nil {
		return nil, err
	}
	var ops []ovsdb.Operation
	for _, f := range t.steps {
		o, err := f(t.c.ovsdb)
		if err != nil {
			return nil, fmt.Errorf("ovn: %s transaction: %w", t.c.name, err)
		}
		ops = append(ops, o...)
	}
	res, err := t.c.Transact(ctx, ops...)
	if err != nil {
		return nil, err
	}
	named := map[string]string{}
	for i, op := range ops {
		if op.Op == ovsdb.OperationInsert && op.UUIDName != "" && i < len(res) {
			named[op.UUIDName] = res[i].UUID.GoUUID
		}
	}
	return named, nil
}

// NamedUUID turns a name into a named UUID usable in a model's UUID field and in references
// to it within one transaction (letters, digits and underscores only, starting with a letter).
func NamedUUID(name string) string {
	var b strings.Builder
	b.WriteString("u")
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// IsNotFound reports whether err says a row is not in the cache.
func IsNotFound(err error) bool { return errors.Is(err, client.ErrNotFound) }
