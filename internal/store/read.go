package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// ---- reading ----

func (t *Table) scanRows(rows *sql.Rows) ([]api.Object, error) {
	return t.scanCols(rows, len(t.Cols))
}

// scanCols reads rows holding the first n columns of t.Cols.
func (t *Table) scanCols(rows *sql.Rows, n int) ([]api.Object, error) {
	defer rows.Close()
	var out []api.Object
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		obj := make(api.Object, len(t.Cols)+8)
		for i := 0; i < n; i++ {
			c := &t.Cols[i]
			v, err := fromDB(c, vals[i])
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
			}
			obj[c.Attr] = v
			vals[i] = nil
		}
		if p, ok := obj["project_id"]; ok {
			obj["tenant_id"] = p
		}
		out = append(out, obj)
	}
	return out, rows.Err()
}

func fromDB(c *Column, v any) (any, error) {
	if v == nil {
		return cloneNull(c.Null), nil
	}
	switch c.Kind {
	case String:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
		return fmt.Sprint(v), nil
	case Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case []byte:
			return string(x) == "1" || string(x) == "true" || string(x) == "t", nil
		case string:
			return x == "1" || x == "true" || x == "t", nil
		}
	case Int:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case []byte:
			return strconv.ParseInt(string(x), 10, 64)
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case JSON:
		var s []byte
		switch x := v.(type) {
		case string:
			s = []byte(x)
		case []byte:
			s = x
		}
		switch string(s) {
		case "", "null":
			return cloneNull(c.Null), nil
		case "[]":
			return []any{}, nil
		case "{}":
			return map[string]any{}, nil
		}
		return api.DecodeJSON(s)
	}
	return nil, fmt.Errorf("cannot read %T as kind %d", v, c.Kind)
}

func cloneNull(v any) any {
	switch x := v.(type) {
	case []any:
		return append([]any{}, x...)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		return m
	}
	return v
}

// toDB converts an API value for a column.
func toDB(c *Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.Kind {
	case JSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case Bool:
		b, ok := api.ParseBool(v)
		if !ok {
			return nil, fmt.Errorf("not a boolean: %v", v)
		}
		return b, nil
	case Int:
		n, ok := pyfmt.Int(v)
		if !ok {
			return nil, fmt.Errorf("not an integer: %v", v)
		}
		return n, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	}
	return pyfmt.Str(v), nil
}

// scope returns the visibility condition for the caller in ctx.
func (t *Table) scope(ctx context.Context) (string, []any) {
	rc := reqctx.From(ctx)
	if t.NoScope || rc == nil || rc.IsAdmin || t.byAttr["project_id"] == nil {
		return "", nil
	}
	cond, args := "t.project_id = ?", []any{rc.ProjectID}
	if t.Shared != nil {
		if c, a := t.Shared(rc); c != "" {
			cond = "(" + cond + " OR " + c + ")"
			args = append(args, a...)
		}
	}
	return cond, args
}

// Get reads one visible row (api.Backend). On SQLite, an object read before
// is reused while no write has been committed since (by any process).
func (t *Table) Get(ctx context.Context, id string, fields []string) (api.Object, error) {
	ver, ok := t.DB.ChangeVersion()
	if !ok {
		return t.get(ctx, t.DB, id, false)
	}
	key := cacheKey(ctx, id)
	if obj, ok := t.cache.get(key, ver); ok {
		return shallowCopy(obj), nil
	}
	obj, err := t.get(ctx, t.DB, id, false)
	if err != nil {
		return nil, err
	}
	t.cache.put(key, ver, obj, sizeOf(obj))
	return shallowCopy(obj), nil
}

// GetTx reads one row inside a transaction, optionally locking it; the
// lock comes after its parents' (the table's Lock hooks: lock.go), as in
// the table's own writes.
func (t *Table) GetTx(ctx context.Context, tx *db.Tx, id string, lock bool) (api.Object, error) {
	if lock {
		if err := t.lockParents(&Op{Ctx: ctx, Tx: tx, Table: t, ID: id}); err != nil {
			return nil, err
		}
	}
	return t.get(ctx, tx, id, lock)
}

func (t *Table) get(ctx context.Context, q db.Querier, id string, lock bool) (api.Object, error) {
	where := "t.id = ?"
	args := []any{id}
	if c, a := t.scope(ctx); c != "" {
		where += " AND " + c
		args = append(args, a...)
	}
	query := "SELECT " + t.selCols + " FROM " + t.Name + " t WHERE " + where
	if tx, ok := q.(*db.Tx); ok && lock {
		query += tx.ForUpdate()
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	objs, err := t.scanRows(rows)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, t.Res.NotFoundErr(id)
	}
	if err := t.load(ctx, q, objs); err != nil {
		return nil, err
	}
	return objs[0], nil
}

func (t *Table) load(ctx context.Context, q db.Querier, objs []api.Object) error {
	if len(objs) == 0 {
		return nil
	}
	for _, h := range t.Hooks {
		if h.Load != nil {
			if err := h.Load(ctx, q, objs); err != nil {
				return err
			}
		}
	}
	return nil
}

// Load runs the table's loaders on rows read elsewhere.
func (t *Table) Load(ctx context.Context, q db.Querier, objs []api.Object) error {
	return t.load(ctx, q, objs)
}

// List runs a list query (api.Backend). On SQLite a result read before is
// reused while no write has been committed since (by any process); the
// objects in it are shared and must not be modified.
