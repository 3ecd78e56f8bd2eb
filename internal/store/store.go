// Package store is the generic SQL backend of the API layer (the REST
// "strategy" behind api.Backend): a Table maps a declared resource onto one
// SQL table, builds its filter, sort and keyset-pagination queries, runs
// every create/update/delete as one transaction, and calls the Hooks a
// plugin registers for what is specific to a resource (allocations, in-use
// checks, computed attributes).
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Kind is how a column's value is stored.
type Kind int

// Column kinds.
const (
	String Kind = iota
	Bool
	Int
	JSON // lists and dicts, stored as JSON text
)

// Column maps an API attribute onto a SQL column.
type Column struct {
	Attr string // API attribute name
	Name string // SQL column name (defaults to Attr)
	Kind Kind
	// Null is what a SQL NULL reads as (e.g. [] for a JSON list).
	Null any
	// Expr, when set, makes this a computed read-only column: an SQL
	// expression over the main table "t", read with the row.
	Expr string
	// Child makes this a read-only list of a child table's values (tags,
	// a port's security groups): a single-row read aggregates it in the
	// row's query (one query per show); a list reads the child table once
	// for all rows.
	Child *ChildList
}

// ChildList names a child table holding (key → value) rows.
type ChildList struct {
	Table, KeyCol, ValueCol string
}

// JSONListOf is a column expression reading a child table's values for
// the row as one JSON list (sorted), so that a show is one query and a
// list needs no per-child-table round trip.
func JSONListOf(d db.Dialect, table, valueCol, keyCol string) string {
	switch d {
	case db.Postgres:
		return "(SELECT json_agg(c." + valueCol + " ORDER BY c." + valueCol + ")::text FROM " + table + " c WHERE c." + keyCol + " = t.id)"
	case db.MySQL:
		return "(SELECT CONCAT('[', GROUP_CONCAT(JSON_QUOTE(c." + valueCol + ") ORDER BY c." + valueCol + " SEPARATOR ','), ']') FROM " + table + " c WHERE c." + keyCol + " = t.id)"
	}
	return "(SELECT json_group_array(v) FROM (SELECT c." + valueCol + " AS v FROM " + table + " c WHERE c." + keyCol + " = t.id ORDER BY c." + valueCol + "))"
}

// Hooks carry a resource's specific behaviour. Every hook but Load runs in
// the write transaction; the caller is reqctx.From(ctx).
type Hooks struct {
	// BeforeCreate may validate and complete obj (id and timestamps are set).
	BeforeCreate func(ctx context.Context, tx *db.Tx, obj api.Object) error
	// AfterCreate runs once the row exists (child rows, related revisions).
	AfterCreate func(ctx context.Context, tx *db.Tx, obj api.Object) error
	// BeforeUpdate sees the locked current state and may edit changes.
	BeforeUpdate func(ctx context.Context, tx *db.Tx, old, changes api.Object) error
	// AfterUpdate runs after the row is updated.
	AfterUpdate func(ctx context.Context, tx *db.Tx, old, changes api.Object) error
	// BeforeDelete refuses deletion (in use) or cleans up dependents.
	BeforeDelete func(ctx context.Context, tx *db.Tx, obj api.Object) error
	// AfterDelete runs after the row is gone (release allocations).
	AfterDelete func(ctx context.Context, tx *db.Tx, obj api.Object) error
	// Result adjusts the response of a create or update (req is the
	// request's item or changes), for attributes Neutron echoes from the
	// request without storing them as such.
	Result func(ctx context.Context, req, obj api.Object)
	// Load fills the computed attributes of objs (one query per child
	// table for the whole batch, never one per object).
	Load func(ctx context.Context, q db.Querier, objs []api.Object) error
}

// FilterFunc renders the SQL condition of a filter on a computed attribute;
// t is the main table's alias.
type FilterFunc func(ctx context.Context, values []any) (cond string, args []any)

// Table is the storage of one resource.
type Table struct {
	Name string
	Res  *api.Resource
	DB   *db.DB
	Cols []Column
	// Hooks run in registration order (the owning plugin's first).
	Hooks []Hooks
	// Std: the table has the standard attributes (created_at, updated_at,
	// revision_number) and tags.
	Std bool
	// InitialRevision is the revision_number a new row gets.
	InitialRevision int64
	// Filters handle filters on attributes that are not plain columns.
	Filters map[string]FilterFunc
	// Shared returns an extra visibility condition for non-admin callers
	// besides owning the row (RBAC sharing), or "".
	Shared func(rc *reqctx.Context) (cond string, args []any)
	// NoScope disables project scoping (resources visible to everyone).
	NoScope bool
	// Revisions returns how many times an update bumps revision_number
	// (Neutron bumps once per flushed change set, so it depends on which
	// tables an update touches). nil: once if changes is not empty.
	Revisions func(old, changes api.Object) int
	// IgnoreUnknownMarker pages as if no marker were given when the marker
	// names no row the caller can see (subnets, security groups and rules,
	// subnet pools, address scopes); otherwise it is the resource's 404
	// (networks, ports). Neutron's plugins differ.
	IgnoreUnknownMarker bool
	// Quota names the quota resource API creates count against ("" = none).
	Quota string
	// Quotas enforces Quota (set by the application).
	Quotas QuotaChecker

	byAttr   map[string]*Column
	selCols  string // every column, child lists aggregated (single-row reads)
	listCols string // without the child lists (lists load them per table)
	children []*Column
	cache    versionCache[api.Object]   // Get results
	lists    versionCache[[]api.Object] // List results
}

// Init prepares the table and installs it as the resource's backend.
func (t *Table) Init() *Table {
	if t.Std && t.byAttr == nil {
		t.Cols = append(t.Cols, Column{Attr: "tags", Kind: JSON, Null: []any{},
			Child: &ChildList{Table: "tags", KeyCol: "resource_id", ValueCol: "tag"}})
	}
	// child-list columns go last, so that list scans can leave them out
	sort.SliceStable(t.Cols, func(i, j int) bool { return t.Cols[i].Child == nil && t.Cols[j].Child != nil })
	t.byAttr = map[string]*Column{}
	t.cache.max, t.lists.max = maxCachedObjects, maxListedObjects
	var names, listNames []string
	t.children = t.children[:0]
	for i := range t.Cols {
		c := &t.Cols[i]
		if c.Name == "" {
			c.Name = c.Attr
		}
		t.byAttr[c.Attr] = c
		switch {
		case c.Child != nil:
			c.Expr = JSONListOf(t.DB.Dialect(), c.Child.Table, c.Child.ValueCol, c.Child.KeyCol)
			names = append(names, c.Expr)
			t.children = append(t.children, c)
		case c.Expr != "":
			names = append(names, c.Expr)
			listNames = append(listNames, c.Expr)
		default:
			names = append(names, "t."+quoteIdent(c.Name))
			listNames = append(listNames, "t."+quoteIdent(c.Name))
		}
	}
	t.selCols = strings.Join(names, ", ")
	t.listCols = strings.Join(listNames, ", ")
	if t.Res != nil && t.Res.Backend == nil {
		t.Res.Backend = t
	}
	return t
}

func quoteIdent(s string) string {
	// every column name we use is a plain identifier
	return s
}

// AddColumn adds a column (typically an Expr column of an extension) before
// Init.
func (t *Table) AddColumn(c Column) { t.Cols = append(t.Cols, c) }

// AddHooks registers more behaviour (e.g. an extension's attributes).
func (t *Table) AddHooks(h Hooks) { t.Hooks = append(t.Hooks, h) }

// QuotaChecker enforces quotas inside a create transaction.
type QuotaChecker interface {
	Check(ctx context.Context, tx *db.Tx, resource, project string, delta int) error
}

// Col returns the column of an attribute, or nil.
func (t *Table) Col(attr string) *Column { return t.byAttr[attr] }

// Now is the timestamp format of created_at/updated_at.
func Now() string { return time.Now().UTC().Format("2006-01-02T15:04:05Z") }

// NewID returns a random (v4) UUID.
func NewID() string { return uuid.NewString() }

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
		n, ok := api.PyInt(v)
		if !ok {
			return nil, fmt.Errorf("not an integer: %v", v)
		}
		return n, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	}
	return api.PyStr(v), nil
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
	t.cache.put(key, ver, obj, 1)
	return shallowCopy(obj), nil
}

// GetTx reads one row inside a transaction, optionally locking it.
func (t *Table) GetTx(ctx context.Context, tx *db.Tx, id string, lock bool) (api.Object, error) {
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
func (t *Table) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	ver, ok := t.DB.ChangeVersion()
	if !ok {
		return t.ListQ(ctx, t.DB, q)
	}
	key := listKey(ctx, q)
	if objs, ok := t.lists.get(key, ver); ok {
		return append(make([]api.Object, 0, len(objs)), objs...), nil
	}
	objs, err := t.ListQ(ctx, t.DB, q)
	if err != nil {
		return nil, err
	}
	t.lists.put(key, ver, append([]api.Object(nil), objs...), len(objs))
	return objs, nil
}

// ListQ runs a list query on q (the database or a transaction).
func (t *Table) ListQ(ctx context.Context, dbq db.Querier, q *api.Query) ([]api.Object, error) {
	var conds []string
	var args []any
	if c, a := t.scope(ctx); c != "" {
		conds = append(conds, c)
		args = append(args, a...)
	}
	var post []api.Filter
	for _, f := range q.Filters {
		attr := f.Attr
		if attr == "tenant_id" {
			attr = "project_id"
		}
		if fn, ok := t.Filters[attr]; ok {
			c, a := fn(ctx, f.Values)
			if c != "" {
				conds = append(conds, c)
				args = append(args, a...)
			}
			continue
		}
		col := t.byAttr[attr]
		if col == nil || col.Kind == JSON {
			post = append(post, f)
			continue
		}
		c, a := inCond("t."+col.Name, col, f.Values)
		conds = append(conds, c)
		args = append(args, a...)
	}
	if !q.Tags.Empty() {
		c, a := tagConds(q.Tags)
		conds = append(conds, c...)
		args = append(args, a...)
	}
	sorts := q.Sorts
	var order []string
	for _, s := range sorts {
		attr := s.Key
		if attr == "tenant_id" {
			attr = "project_id"
		}
		col := t.byAttr[attr]
		if col == nil {
			continue
		}
		asc := s.Asc != q.PageReverse
		order = append(order, orderTerm(dbq.Dialect(), "t."+col.Name, asc))
	}
	if q.Marker != "" && q.Limit > 0 {
		c, a, err := t.markerCond(ctx, dbq, q)
		if err != nil {
			return nil, err
		}
		if c != "" {
			conds = append(conds, c)
			args = append(args, a...)
		}
	}
	byID := len(order) == 0
	if byID {
		order = append(order, "t.id")
	}
	var objs []api.Object
	var err error
	if byID && q.Limit == 0 && q.Marker == "" && dbq == db.Querier(t.DB) && t.DB.Dialect() == db.SQLite {
		objs, err = t.scanPartitioned(ctx, conds, args)
	} else {
		objs, err = t.scan(ctx, dbq, conds, args, order, q.Limit, len(post) == 0, false)
	}
	if err != nil {
		return nil, err
	}
	if len(post) > 0 {
		objs = postFilter(objs, post)
		if q.Limit > 0 && len(objs) > q.Limit {
			objs = objs[:q.Limit]
		}
	}
	if q.PageReverse {
		for i, j := 0, len(objs)-1; i < j; i, j = i+1, j-1 {
			objs[i], objs[j] = objs[j], objs[i]
		}
	}
	if objs == nil {
		objs = []api.Object{}
	}
	return objs, nil
}

// scan runs one SELECT and loads the rows' computed attributes; keyRange
// is the id range of a partitioned whole-collection read ("" = open).
func (t *Table) scan(ctx context.Context, dbq db.Querier, conds []string, args []any, order []string, limit int, useLimit bool, whole bool, keyRange ...string) ([]api.Object, error) {
	from := " FROM " + t.Name + " t"
	if len(conds) > 0 {
		from += " WHERE " + strings.Join(conds, " AND ")
	}
	query := "SELECT " + t.listCols + from + " ORDER BY " + strings.Join(order, ", ")
	limited := limit > 0 && useLimit
	if limited {
		query += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := dbq.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	objs, err := t.scanCols(rows, len(t.Cols)-len(t.children))
	if err != nil {
		return nil, err
	}
	var all *rowSet // objs are every row of this set: children can be joined to it
	if !limited {
		all = &rowSet{"SELECT t.id" + from, args}
	}
	if err := t.loadChildren(ctx, dbq, objs, whole, keyRange, all); err != nil {
		return nil, err
	}
	if err := t.load(ctx, dbq, objs); err != nil {
		return nil, err
	}
	return objs, nil
}

// rowSet is a query selecting the ids of a set of rows.
type rowSet struct {
	query string
	args  []any
}

// loadChildren fills the child-list columns of objs: with one range scan
// of the child table when objs are every row of an id range (whole), with
// one semi-join when they are every row of a query (all), else by chunks
// of ids.
func (t *Table) loadChildren(ctx context.Context, q db.Querier, objs []api.Object, whole bool, keyRange []string, all *rowSet) error {
	if len(t.children) == 0 || len(objs) == 0 {
		return nil
	}
	byID := IndexByID(objs)
	for _, c := range t.children {
		for _, o := range objs {
			o[c.Attr] = []any{}
		}
		ch := c.Child
		add := func(rows *sql.Rows) error {
			defer rows.Close()
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					return err
				}
				if o := byID[k]; o != nil {
					o[c.Attr] = append(o[c.Attr].([]any), v)
				}
			}
			return rows.Err()
		}
		base := "SELECT " + ch.KeyCol + ", " + ch.ValueCol + " FROM " + ch.Table
		order := " ORDER BY " + ch.KeyCol + ", " + ch.ValueCol
		if whole && len(objs) > ChunkSize {
			var conds []string
			var args []any
			if len(keyRange) == 2 && keyRange[0] != "" {
				conds, args = append(conds, ch.KeyCol+" >= ?"), append(args, keyRange[0])
			}
			if len(keyRange) == 2 && keyRange[1] != "" {
				conds, args = append(conds, ch.KeyCol+" < ?"), append(args, keyRange[1])
			}
			query := base
			if len(conds) > 0 {
				query += " WHERE " + strings.Join(conds, " AND ")
			}
			rows, err := q.Query(ctx, query+order, args...)
			if err != nil {
				return err
			}
			if err := add(rows); err != nil {
				return err
			}
			continue
		}
		if all != nil && len(objs) > ChunkSize {
			rows, err := q.Query(ctx, base+" WHERE "+ch.KeyCol+" IN ("+all.query+")"+order, all.args...)
			if err != nil {
				return err
			}
			if err := add(rows); err != nil {
				return err
			}
			continue
		}
		err := ForChunks(IDs(objs), func(ph string, args []any) error {
			rows, err := q.Query(ctx, base+" WHERE "+ch.KeyCol+" IN ("+ph+")"+order, args...)
			if err != nil {
				return err
			}
			return add(rows)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// idPartitions split a whole-collection read in id order into ranges read
// concurrently on separate SQLite connections: ids are random UUIDs, so the
// ranges are even, and concatenated they are the id order.
var idPartitions = []string{"", "4", "8", "c", ""}

// scanPartitioned reads an unpaginated list in id order with one query
// per id range, in parallel (SQLite reads do not block each other in WAL
// mode; a big list is otherwise bound to one core).
func (t *Table) scanPartitioned(ctx context.Context, conds []string, args []any) ([]api.Object, error) {
	n := len(idPartitions) - 1
	whole := len(conds) == 0 // every row of each range: read children by range too
	parts := make([][]api.Object, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := append([]string{}, conds...)
		a := append([]any{}, args...)
		if lo := idPartitions[i]; lo != "" {
			c = append(c, "t.id >= ?")
			a = append(a, lo)
		}
		if hi := idPartitions[i+1]; hi != "" {
			c = append(c, "t.id < ?")
			a = append(a, hi)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			parts[i], errs[i] = t.scan(ctx, t.DB, c, a, []string{"t.id"}, 0, false, whole, idPartitions[i], idPartitions[i+1])
		}(i)
	}
	wg.Wait()
	var out []api.Object
	for i := range parts {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, parts[i]...)
	}
	return out, nil
}

func orderTerm(d db.Dialect, col string, asc bool) string {
	// NULLs sort first ascending, as on MySQL (the reference's engine).
	switch {
	case asc && d == db.Postgres:
		return col + " ASC NULLS FIRST"
	case !asc && d == db.Postgres:
		return col + " DESC NULLS LAST"
	case asc:
		return col + " ASC"
	}
	return col + " DESC"
}

// inCond renders "col IN (...)" for filter values converted to the column's
// kind; values that cannot be of that kind match nothing.
func inCond(expr string, col *Column, values []any) (string, []any) {
	var args []any
	hasNull := false
	for _, v := range values {
		if v == nil {
			hasNull = true
			continue
		}
		dv, err := toDB(col, v)
		if err != nil {
			continue
		}
		args = append(args, dv)
	}
	var parts []string
	if len(args) > 0 {
		parts = append(parts, expr+" IN ("+Placeholders(len(args))+")")
	}
	if hasNull {
		parts = append(parts, expr+" IS NULL")
	}
	if len(parts) == 0 {
		return "1 = 0", nil
	}
	if len(parts) == 1 {
		return parts[0], args
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

func tagConds(tf api.TagFilter) ([]string, []any) {
	var conds []string
	var args []any
	all := func(tags []string) (string, []any) {
		a := make([]any, 0, len(tags)+1)
		for _, tg := range dedupe(tags) {
			a = append(a, tg)
		}
		n := len(a)
		a = append(a, n)
		return "t.id IN (SELECT resource_id FROM tags WHERE tag IN (" + Placeholders(n) + ") GROUP BY resource_id HAVING COUNT(*) = ?)", a
	}
	anyOf := func(tags []string) (string, []any) {
		a := make([]any, 0, len(tags))
		for _, tg := range dedupe(tags) {
			a = append(a, tg)
		}
		return "t.id IN (SELECT resource_id FROM tags WHERE tag IN (" + Placeholders(len(a)) + "))", a
	}
	if len(tf.All) > 0 {
		c, a := all(tf.All)
		conds, args = append(conds, c), append(args, a...)
	}
	if len(tf.Any) > 0 {
		c, a := anyOf(tf.Any)
		conds, args = append(conds, c), append(args, a...)
	}
	if len(tf.NotAll) > 0 {
		c, a := all(tf.NotAll)
		conds, args = append(conds, "NOT "+c), append(args, a...)
	}
	if len(tf.NotAny) > 0 {
		c, a := anyOf(tf.NotAny)
		conds, args = append(conds, "NOT "+c), append(args, a...)
	}
	return conds, args
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// markerCond is the keyset condition "after the marker row" in the
// effective sort order (NULLs smallest).
func (t *Table) markerCond(ctx context.Context, dbq db.Querier, q *api.Query) (string, []any, error) {
	var cols []*Column
	var dirs []bool
	for _, s := range q.Sorts {
		attr := s.Key
		if attr == "tenant_id" {
			attr = "project_id"
		}
		if c := t.byAttr[attr]; c != nil {
			cols = append(cols, c)
			dirs = append(dirs, s.Asc != q.PageReverse)
		}
	}
	if len(cols) == 0 {
		return "", nil, nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = "t." + c.Name
	}
	// the marker must be visible to the caller (Neutron reads it with the
	// caller's context): another project's id is not found
	where, margs := "t.id = ?", []any{q.Marker}
	if c, a := t.scope(ctx); c != "" {
		where += " AND " + c
		margs = append(margs, a...)
	}
	rows, err := dbq.Query(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+t.Name+" t WHERE "+where, margs...)
	if err != nil {
		return "", nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	found := false
	if rows.Next() {
		found = true
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return "", nil, err
		}
	}
	rows.Close()
	if !found {
		if t.IgnoreUnknownMarker {
			return "", nil, nil
		}
		return "", nil, t.Res.NotFoundErr(q.Marker)
	}
	var ors []string
	var args []any
	for i := range cols {
		var ands []string
		for j := 0; j < i; j++ {
			if vals[j] == nil {
				ands = append(ands, names[j]+" IS NULL")
			} else {
				ands = append(ands, names[j]+" = ?")
				args = append(args, vals[j])
			}
		}
		// strictly after on key i
		switch {
		case vals[i] == nil && dirs[i]:
			ands = append(ands, names[i]+" IS NOT NULL")
		case vals[i] == nil && !dirs[i]:
			ands = append(ands, "1 = 0")
		case dirs[i]:
			ands = append(ands, names[i]+" > ?")
			args = append(args, vals[i])
		default:
			ands = append(ands, "("+names[i]+" < ? OR "+names[i]+" IS NULL)")
			args = append(args, vals[i])
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, nil
}

// postFilter applies filters on attributes that have no SQL form, by
// comparing the string forms of values.
func postFilter(objs []api.Object, fs []api.Filter) []api.Object {
	out := objs[:0]
	for _, o := range objs {
		ok := true
		for _, f := range fs {
			v, has := o[f.Attr]
			if !has {
				continue
			}
			match := false
			for _, want := range f.Values {
				if valueMatches(v, want) {
					match = true
					break
				}
			}
			if !match {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, o)
		}
	}
	return out
}

func valueMatches(v, want any) bool {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if api.PyStr(e) == api.PyStr(want) {
				return true
			}
		}
		return false
	}
	return api.PyStr(v) == api.PyStr(want)
}

// ---- writing ----

// Create inserts items in one transaction (api.Backend).
func (t *Table) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	var out []api.Object
	err := t.DB.Write(ctx, func(tx *db.Tx) error {
		out = out[:0]
		if err := t.checkQuota(ctx, tx, items); err != nil {
			return err
		}
		var ids []string
		for _, item := range items {
			obj, err := t.CreateTx(ctx, tx, item)
			if err != nil {
				return err
			}
			ids = append(ids, obj["id"].(string))
		}
		for i, id := range ids {
			o, err := t.readBack(ctx, tx, id)
			if err != nil {
				return err
			}
			t.result(ctx, items[i], o)
			out = append(out, o)
		}
		return nil
	})
	return out, err
}

func (t *Table) result(ctx context.Context, req, obj api.Object) {
	for _, h := range t.Hooks {
		if h.Result != nil {
			h.Result(ctx, req, obj)
		}
	}
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

// CreateTx inserts one item inside tx (hooks included) and returns the
// object as inserted (before loaders run).
func (t *Table) CreateTx(ctx context.Context, tx *db.Tx, item api.Object) (api.Object, error) {
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
	for _, h := range t.Hooks {
		if h.BeforeCreate != nil {
			if err := h.BeforeCreate(ctx, tx, obj); err != nil {
				return nil, err
			}
		}
	}
	if err := t.Insert(ctx, tx, obj); err != nil {
		return nil, err
	}
	for _, h := range t.Hooks {
		if h.AfterCreate != nil {
			if err := h.AfterCreate(ctx, tx, obj); err != nil {
				return nil, err
			}
		}
	}
	return obj, nil
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
		if err := t.UpdateTx(ctx, tx, id, changes, ifMatch); err != nil {
			return err
		}
		var err error
		out, err = t.readBack(ctx, tx, id)
		if err == nil {
			t.result(ctx, changes, out)
		}
		return err
	})
	return out, err
}

// UpdateTx applies changes to row id inside tx.
func (t *Table) UpdateTx(ctx context.Context, tx *db.Tx, id string, changes api.Object, ifMatch *int64) error {
	old, err := t.get(ctx, tx, id, true)
	if err != nil {
		return err
	}
	bumps := 0
	if t.Std {
		if t.Revisions != nil {
			bumps = t.Revisions(old, changes)
		} else if len(changes) > 0 {
			bumps = 1
		}
	}
	// Neutron checks If-Match when it flushes a change: an update that
	// changes nothing is not checked.
	if bumps > 0 {
		if err := checkRevision(old, ifMatch); err != nil {
			return err
		}
	}
	ch := make(api.Object, len(changes))
	for k, v := range changes {
		ch[k] = v
	}
	for _, h := range t.Hooks {
		if h.BeforeUpdate != nil {
			if err := h.BeforeUpdate(ctx, tx, old, ch); err != nil {
				return err
			}
		}
	}
	var sets []string
	var args []any
	for i := range t.Cols {
		c := &t.Cols[i]
		if c.Attr == "id" || c.Expr != "" {
			continue
		}
		v, ok := ch[c.Attr]
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
	if len(sets) > 0 {
		args = append(args, id)
		if _, err := tx.Exec(ctx, "UPDATE "+t.Name+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", args...); err != nil {
			return err
		}
	}
	for _, h := range t.Hooks {
		if h.AfterUpdate != nil {
			if err := h.AfterUpdate(ctx, tx, old, ch); err != nil {
				return err
			}
		}
	}
	return nil
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

// DeleteTx removes row id inside tx.
func (t *Table) DeleteTx(ctx context.Context, tx *db.Tx, id string, ifMatch *int64) error {
	old, err := t.get(ctx, tx, id, true)
	if err != nil {
		return err
	}
	if err := checkRevision(old, ifMatch); err != nil {
		return err
	}
	for _, h := range t.Hooks {
		if h.BeforeDelete != nil {
			if err := h.BeforeDelete(ctx, tx, old); err != nil {
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
			if err := h.AfterDelete(ctx, tx, old); err != nil {
				return err
			}
		}
	}
	return nil
}

// BumpRevision increments a row's revision_number (a change to a related
// resource, such as a new subnet on a network or a tag).
func (t *Table) BumpRevision(ctx context.Context, tx *db.Tx, id string) error {
	_, err := tx.Exec(ctx, "UPDATE "+t.Name+" SET revision_number = revision_number + 1, updated_at = ? WHERE id = ?", Now(), id)
	return err
}

// ---- tags (api.Tagger) ----

// GetTags lists a row's tags.
func (t *Table) GetTags(ctx context.Context, id string) ([]string, error) {
	rows, err := t.DB.Query(ctx, "SELECT tag FROM tags WHERE resource_id = ? ORDER BY tag", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		tags = append(tags, s)
	}
	return tags, rows.Err()
}

// ReplaceTags sets a row's tags.
func (t *Table) ReplaceTags(ctx context.Context, id string, tags []string) ([]string, error) {
	tags = dedupe(tags)
	err := t.DB.Write(ctx, func(tx *db.Tx) error {
		old, err := t.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if sameTags(old["tags"], tags) {
			return nil // nothing changes: no revision bump
		}
		if _, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ?", id); err != nil {
			return err
		}
		for _, tag := range tags {
			if _, err := tx.Exec(ctx, "INSERT INTO tags (resource_id, tag) VALUES (?, ?)", id, tag); err != nil {
				return err
			}
		}
		return t.BumpRevision(ctx, tx, id)
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(tags)
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

// AddTag adds one tag.
func (t *Table) AddTag(ctx context.Context, id, tag string) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := t.get(ctx, tx, id, true); err != nil {
			return err
		}
		pre, post := tx.Dialect().InsertIgnore()
		res, err := tx.Exec(ctx, pre+" INTO tags (resource_id, tag) VALUES (?, ?)"+post, id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return t.BumpRevision(ctx, tx, id)
	})
}

// RemoveTag removes one tag.
func (t *Table) RemoveTag(ctx context.Context, id, tag string) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := t.get(ctx, tx, id, true); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ? AND tag = ?", id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return api.TagNotFound(tag)
		}
		return t.BumpRevision(ctx, tx, id)
	})
}

// RemoveAllTags removes every tag.
func (t *Table) RemoveAllTags(ctx context.Context, id string) error {
	return t.DB.Write(ctx, func(tx *db.Tx) error {
		if _, err := t.get(ctx, tx, id, true); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM tags WHERE resource_id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return t.BumpRevision(ctx, tx, id)
	})
}

func sameTags(old any, tags []string) bool {
	list, _ := old.([]any)
	if len(list) != len(tags) {
		return false
	}
	have := map[string]bool{}
	for _, t := range list {
		have[api.PyStr(t)] = true
	}
	for _, t := range tags {
		if !have[t] {
			return false
		}
	}
	return true
}

// ---- helpers ----

// Placeholders returns "?, ?, ..." (n of them).
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// IDs returns the ids of objs.
func IDs(objs []api.Object) []string {
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i], _ = o["id"].(string)
	}
	return ids
}

// IndexByID maps id → object.
func IndexByID(objs []api.Object) map[string]api.Object {
	m := make(map[string]api.Object, len(objs))
	for _, o := range objs {
		if id, ok := o["id"].(string); ok {
			m[id] = o
		}
	}
	return m
}

// ChunkSize bounds the number of ids in one IN (...) list.
const ChunkSize = 500

// ForChunks calls fn for each chunk of ids with its placeholders and args.
func ForChunks(ids []string, fn func(placeholders string, args []any) error) error {
	for start := 0; start < len(ids); start += ChunkSize {
		end := min(start+ChunkSize, len(ids))
		args := make([]any, end-start)
		for i, id := range ids[start:end] {
			args[i] = id
		}
		if err := fn(Placeholders(len(args)), args); err != nil {
			return err
		}
	}
	return nil
}
