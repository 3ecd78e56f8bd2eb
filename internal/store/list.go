package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

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
	t.lists.put(key, ver, append([]api.Object(nil), objs...), sizeOfAll(objs))
	return objs, nil
}

// ListQ runs a list query on q (the database or a transaction).
func (t *Table) ListQ(ctx context.Context, dbq db.Querier, q *api.Query) ([]api.Object, error) {
	ctx = context.WithValue(ctx, listingKey{}, true)
	conds, args, post := t.listConds(ctx, q)
	order := t.orderTerms(dbq.Dialect(), q)
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

// listConds is the WHERE of a list: the caller's scope, the filters with
// an SQL form and the tag filters; post are the filters applied to the
// rows read (attributes without a column, or JSON ones).
func (t *Table) listConds(ctx context.Context, q *api.Query) (conds []string, args []any, post []api.Filter) {
	if c, a := t.scope(ctx); c != "" {
		conds = append(conds, c)
		args = append(args, a...)
	}
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
	return conds, args, post
}

// orderTerms is the ORDER BY of a list: the sort keys with a column, in
// the effective direction (reversed for page_reverse).
func (t *Table) orderTerms(d db.Dialect, q *api.Query) []string {
	var order []string
	for _, s := range q.Sorts {
		attr := s.Key
		if attr == "tenant_id" {
			attr = "project_id"
		}
		col := t.byAttr[attr]
		if col == nil {
			continue
		}
		asc := s.Asc != q.PageReverse
		order = append(order, orderTerm(d, "t."+col.Name, asc))
	}
	return order
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
			defer func() {
				// a panic on this goroutine would kill the process
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic reading %s: %v", t.Name, p)
				}
			}()
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
	var names []string
	var dirs []bool
	for _, s := range q.Sorts {
		attr := s.Key
		if attr == "tenant_id" {
			attr = "project_id"
		}
		if c := t.byAttr[attr]; c != nil {
			names = append(names, "t."+c.Name)
			dirs = append(dirs, s.Asc != q.PageReverse)
		}
	}
	if len(names) == 0 {
		return "", nil, nil
	}
	vals, found, err := t.markerValues(ctx, dbq, q.Marker, names)
	if err != nil {
		return "", nil, err
	}
	if !found {
		if t.IgnoreUnknownMarker {
			return "", nil, nil
		}
		return "", nil, t.Res.NotFoundErr(q.Marker)
	}
	c, args := afterRow(names, dirs, vals)
	return c, args, nil
}

// markerValues reads the sort columns of the marker row. The marker must
// be visible to the caller (Neutron reads it with the caller's context):
// another project's id is not found.
func (t *Table) markerValues(ctx context.Context, dbq db.Querier, marker string, names []string) ([]any, bool, error) {
	where, margs := "t.id = ?", []any{marker}
	if c, a := t.scope(ctx); c != "" {
		where += " AND " + c
		margs = append(margs, a...)
	}
	rows, err := dbq.Query(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+t.Name+" t WHERE "+where, margs...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	found := false
	if rows.Next() {
		found = true
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return vals, found, nil
}

// afterRow is the condition "strictly after the row with vals" on the
// columns names in directions dirs (true: ascending), NULLs smallest.
func afterRow(names []string, dirs []bool, vals []any) (string, []any) {
	var ors []string
	var args []any
	for i := range names {
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
	return "(" + strings.Join(ors, " OR ") + ")", args
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
			if pyfmt.Str(e) == pyfmt.Str(want) {
				return true
			}
		}
		return false
	}
	return pyfmt.Str(v) == pyfmt.Str(want)
}

type listingKey struct{}

// IsList reports whether loaders run for a list (Neutron extends a list's
// items with its bulk extenders, which differ from a show's here and
// there, e.g. trunk_details without the sub-ports' MAC addresses).
func IsList(ctx context.Context) bool {
	b, _ := ctx.Value(listingKey{}).(bool)
	return b
}
