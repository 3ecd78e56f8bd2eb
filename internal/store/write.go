package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// ---- writing ----

// Op is one write of one row. The hooks of that write share it, so what a
// Before hook learns reaches the After hook and the Result through the Op,
// never through the object or the table: concurrent writes of one row each
// have their own.
type Op struct {
	Ctx   context.Context
	Tx    *db.Tx
	Table *Table
	// ID is the row's id.
	ID string
	// Old is the stored state (update, delete), read with a row lock.
	Old api.Object
	// New is the object being created (create) or the changes being
	// applied (update); hooks may complete or edit it.
	New api.Object
	// Request is the request's item (create) or changes (update) as the
	// API prepared them, before any hook ran.
	Request api.Object
	// Stored is the row as written, read back in the transaction (nil
	// until someone needs it: see Op.Result).
	Stored api.Object

	vals     map[any]any
	creating bool
}

// Creating reports whether op creates its row (Lock hooks run before
// op.Old is read, so op.Old cannot tell).
func (o *Op) Creating() bool { return o.creating }

// Set keeps a value for the rest of the operation under key (use an
// unexported key type of the package, as for context values).
func (o *Op) Set(key, v any) {
	if o.vals == nil {
		o.vals = map[any]any{}
	}
	o.vals[key] = v
}

// Value returns what Set kept under key, or nil.
func (o *Op) Value(key any) any { return o.vals[key] }

// Result reads the row as written (once per operation).
func (o *Op) Result() (api.Object, error) {
	if o.Stored != nil {
		return o.Stored, nil
	}
	obj, err := o.Table.readBack(o.Ctx, o.Tx, o.ID)
	if err != nil {
		return nil, err
	}
	o.Stored = obj
	return obj, nil
}

// Create inserts items in one transaction (api.Backend).
func (t *Table) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	if err := t.prepareQuota(ctx, items); err != nil {
		return nil, err
	}
	var out []api.Object
	err := t.DB.Write(ctx, func(tx *db.Tx) error {
		out = out[:0]
		if err := t.checkQuota(ctx, tx, items); err != nil {
			return err
		}
		ops := make([]*Op, 0, len(items))
		for _, item := range items {
			op, err := t.create(ctx, tx, item)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		for _, op := range ops {
			o, err := t.answer(op)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

// answer is the API's answer to a create or update: the stored row (a copy
// when the events already hold it) adjusted by the Result hooks.
func (t *Table) answer(op *Op) (api.Object, error) {
	shared := op.Stored != nil
	o, err := op.Result()
	if err != nil {
		return nil, err
	}
	if shared {
		o = copyObject(o)
	}
	for _, h := range t.Hooks {
		if h.Result != nil {
			h.Result(op, o)
		}
	}
	return o, nil
}

func copyObject(o api.Object) api.Object {
	c := make(api.Object, len(o))
	for k, v := range o {
		c[k] = v
	}
	return c
}

// prepareQuota lets the quota engine prepare the projects' quota locks
// before the transaction.
func (t *Table) prepareQuota(ctx context.Context, items []api.Object) error {
	if t.Quota == "" || t.Quotas == nil {
		return nil
	}
	done := map[string]bool{}
	for _, it := range items {
		p, _ := it["project_id"].(string)
		if !done[p] {
			done[p] = true
			if err := t.Quotas.Prepare(ctx, t.Quota, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkQuota counts API creates against the projects' quotas (Neutron's
// reservation), before any row is written.
func (t *Table) checkQuota(ctx context.Context, tx *db.Tx, items []api.Object) error {
	if t.Quota == "" || t.Quotas == nil {
		return nil
	}
	per := map[string]int{}
	var order []string
	for _, it := range items {
		p, _ := it["project_id"].(string)
		if per[p] == 0 {
			order = append(order, p)
		}
		per[p]++
	}
	for _, p := range order {
		if err := t.Quotas.Check(ctx, tx, t.Quota, p, per[p]); err != nil {
			return err
		}
	}
	return nil
}

// readBack reads a row just written, ignoring the caller's scope (the
// caller may have created it for another project as admin).
func (t *Table) readBack(ctx context.Context, tx *db.Tx, id string) (api.Object, error) {
	return t.get(reqctx.With(ctx, &reqctx.Context{IsAdmin: true}), tx, id, false)
}

// CreateTx inserts one item inside tx (hooks and events included) and
// returns the object as inserted (before loaders run).
func (t *Table) CreateTx(ctx context.Context, tx *db.Tx, item api.Object) (api.Object, error) {
	op, err := t.create(ctx, tx, item)
	if err != nil {
		return nil, err
	}
	return op.New, nil
}

func (t *Table) create(ctx context.Context, tx *db.Tx, item api.Object) (*Op, error) {
	obj := make(api.Object, len(item)+8)
	for k, v := range item {
		obj[k] = v
	}
	if _, ok := obj["id"]; !ok || obj["id"] == nil {
		obj["id"] = NewID()
	}
	if t.Std {
		now := Now()
		obj["created_at"], obj["updated_at"] = now, now
		obj["revision_number"] = t.InitialRevision
	}
	op := &Op{Ctx: ctx, Tx: tx, Table: t, ID: obj["id"].(string), New: obj, Request: item, creating: true}
	if err := t.lockParents(op); err != nil {
		return nil, err
	}
	if err := t.publish(op, events.BeforeCreate); err != nil {
		return nil, err
	}
	for _, h := range t.Hooks {
		if h.BeforeCreate != nil {
			if err := h.BeforeCreate(op); err != nil {
				return nil, err
			}
		}
	}
	if err := t.Insert(ctx, tx, obj); err != nil {
		return nil, err
	}
	for _, h := range t.Hooks {
		if h.AfterCreate != nil {
			if err := h.AfterCreate(op); err != nil {
				return nil, err
			}
		}
	}
	return op, t.committed(op, events.PrecommitCreate, events.AfterCreate)
}

// Insert writes obj's column values as a new row.
func (t *Table) Insert(ctx context.Context, tx *db.Tx, obj api.Object) error {
	names := make([]string, 0, len(t.Cols))
	args := make([]any, 0, len(t.Cols))
	for i := range t.Cols {
		c := &t.Cols[i]
		if c.Expr != "" {
			continue
		}
		v, ok := obj[c.Attr]
		if !ok {
			continue
		}
		dv, err := toDB(c, v)
		if err != nil {
			return nerr.InvalidInput(fmt.Sprintf("invalid value for %s: %v", c.Attr, err))
		}
		names = append(names, c.Name)
		args = append(args, dv)
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+t.Name+" ("+strings.Join(names, ", ")+") VALUES ("+Placeholders(len(names))+")", args...)
	return err
}

// Update changes one row in one transaction (api.Backend).
func (t *Table) Update(ctx context.Context, id string, changes api.Object, ifMatch *int64) (api.Object, error) {
	var out api.Object
	err := t.DB.Write(ctx, func(tx *db.Tx) error {
		op, err := t.update(ctx, tx, id, changes, ifMatch)
		if err != nil {
			return err
		}
		out, err = t.answer(op)
		return err
	})
	return out, err
}

// UpdateTx applies changes to row id inside tx (hooks and events included).
func (t *Table) UpdateTx(ctx context.Context, tx *db.Tx, id string, changes api.Object, ifMatch *int64) error {
	_, err := t.update(ctx, tx, id, changes, ifMatch)
	return err
}

func (t *Table) update(ctx context.Context, tx *db.Tx, id string, changes api.Object, ifMatch *int64) (*Op, error) {
	op := &Op{Ctx: ctx, Tx: tx, Table: t, ID: id, New: copyObject(changes), Request: changes}
	if err := t.lockParents(op); err != nil {
		return nil, err
	}
	old, err := t.get(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	bumps := t.bumps(old, changes)
	// Neutron checks If-Match when it flushes a change: an update that
	// changes nothing is not checked.
	if bumps > 0 {
		if err := checkRevision(old, ifMatch); err != nil {
			return nil, err
		}
	}
	op.Old = old
	if err := t.publish(op, events.BeforeUpdate); err != nil {
		return nil, err
	}
	for _, h := range t.Hooks {
		if h.BeforeUpdate != nil {
			if err := h.BeforeUpdate(op); err != nil {
				return nil, err
			}
		}
	}
	if err := t.writeChanges(op, bumps); err != nil {
		return nil, err
	}
	for _, h := range t.Hooks {
		if h.AfterUpdate != nil {
			if err := h.AfterUpdate(op); err != nil {
				return nil, err
			}
		}
	}
	return op, t.committed(op, events.PrecommitUpdate, events.AfterUpdate)
}

// bumps is how many revisions an update adds.
func (t *Table) bumps(old, changes api.Object) int {
	switch {
	case !t.Std:
		return 0
	case t.Revisions != nil:
		return t.Revisions(old, changes)
	case len(changes) > 0:
		return 1
	}
	return 0
}

// writeChanges writes the columns of op.New (and the revision bumps).
func (t *Table) writeChanges(op *Op, bumps int) error {
	var sets []string
	var args []any
	for i := range t.Cols {
		c := &t.Cols[i]
		if c.Attr == "id" || c.Expr != "" {
			continue
		}
		v, ok := op.New[c.Attr]
		if !ok {
			continue
		}
		dv, err := toDB(c, v)
		if err != nil {
			return nerr.InvalidInput(fmt.Sprintf("invalid value for %s: %v", c.Attr, err))
		}
		sets = append(sets, c.Name+" = ?")
		args = append(args, dv)
	}
	if bumps > 0 {
		sets = append(sets, "updated_at = ?", "revision_number = revision_number + ?")
		args = append(args, Now(), bumps)
	}
	if len(sets) == 0 {
		return nil
	}
	args = append(args, op.ID)
	_, err := op.Tx.Exec(op.Ctx, "UPDATE "+t.Name+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", args...)
	return err
}

func checkRevision(old api.Object, ifMatch *int64) error {
	if ifMatch == nil {
		return nil
	}
	cur, _ := old["revision_number"].(int64)
	if cur != *ifMatch {
		return nerr.Typed(412, "RevisionNumberConstraintFailed", "Constrained to %d, but current revision is %d", *ifMatch, cur)
	}
	return nil
}

// Delete removes one row in one transaction (api.Backend).
func (t *Table) Delete(ctx context.Context, id string, ifMatch *int64) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		return t.DeleteTx(ctx, tx, id, ifMatch)
	})
}

// DeleteTx removes row id inside tx (hooks and events included).
func (t *Table) DeleteTx(ctx context.Context, tx *db.Tx, id string, ifMatch *int64) error {
	op := &Op{Ctx: ctx, Tx: tx, Table: t, ID: id}
	if err := t.lockParents(op); err != nil {
		return err
	}
	old, err := t.get(ctx, tx, id, true)
	if err != nil {
		return err
	}
	if err := checkRevision(old, ifMatch); err != nil {
		return err
	}
	op.Old = old
	if err := t.publish(op, events.BeforeDelete); err != nil {
		return err
	}
	for _, h := range t.Hooks {
		if h.BeforeDelete != nil {
			if err := h.BeforeDelete(op); err != nil {
				return err
			}
		}
	}
	if t.Std {
		if _, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ?", id); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+t.Name+" WHERE id = ?", id); err != nil {
		return err
	}
	for _, h := range t.Hooks {
		if h.AfterDelete != nil {
			if err := h.AfterDelete(op); err != nil {
				return err
			}
		}
	}
	return t.committed(op, events.PrecommitDelete, events.AfterDelete)
}

// ---- events ----

// EventResource is the resource name the table's events carry.
func (t *Table) EventResource() string {
	if t.Event != "" {
		return t.Event
	}
	if t.Res != nil {
		return t.Res.Name
	}
	return t.Name
}

// publish sends a BEFORE event of op to the subscribers.
func (t *Table) publish(op *Op, ev events.Event) error {
	res := t.EventResource()
	if !t.Bus.Has(res, ev) {
		return nil
	}
	return t.Bus.Publish(res, ev, op.payload(nil))
}

// committed publishes the PRECOMMIT event of op now and its AFTER event
// once the transaction commits, both with the row as stored.
func (t *Table) committed(op *Op, pre, after events.Event) error {
	res := t.EventResource()
	hasPre, hasAfter := t.Bus.Has(res, pre), t.Bus.Has(res, after)
	if !hasPre && !hasAfter {
		return nil
	}
	var stored api.Object
	if op.Old == nil || op.New != nil {
		var err error
		if stored, err = op.Result(); err != nil {
			return err
		}
	}
	if hasPre {
		if err := t.Bus.Publish(res, pre, op.payload(stored)); err != nil {
			return err
		}
	}
	if hasAfter {
		t.Bus.PublishAfterCommit(op.Tx, res, after, op.payload(stored))
	}
	return nil
}

// payload is op as an event payload; stored replaces New once written.
func (op *Op) payload(stored api.Object) *events.Payload {
	p := &events.Payload{Ctx: op.Ctx, Tx: op.Tx, ID: op.ID, Old: op.Old, New: op.New, Request: op.Request}
	if stored != nil {
		p.New = stored
	}
	return p
}

// BumpRevision increments a row's revision_number (a change to a related
// resource, such as a new subnet on a network or a tag).
func (t *Table) BumpRevision(ctx context.Context, tx *db.Tx, id string) error {
	_, err := tx.Exec(ctx, "UPDATE "+t.Name+" SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?", Now(), id)
	return err
}
